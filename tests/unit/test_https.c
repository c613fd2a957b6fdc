/* Unit tests: the HTTP/1.1 response parser under the HTTPS fetch (status,
 * Content-Type, chunked coding per RFC 9112 §7.1), with hostile input. */
#include <criterion/criterion.h>
#include <string.h>

#include "https.h"

struct resp_case {
	const char *raw;
	int ret;             /* 0 or -1 */
	int status;
	const char *ctype;
	const char *body;    /* on success */
};

Test(https, parse_table)
{
	static const struct resp_case cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<a/>", 0,
		  200, "text/xml", "<a/>" },
		{ "HTTP/1.0 200 OK\r\n\r\n", 0, 200, "", "" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n", 0, 200, "", "abcde" },
		{ "HTTP/1.1 301 Moved\r\nLocation: https://evil/\r\n\r\n", -1,
		  301, "", NULL },
		{ "HTTP/1.1 404 Not Found\r\n\r\n", -1, 404, "", NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Type: text/plain", -1, 0, "", NULL },
		{ "HTTP/1.1 2x0 OK\r\n\r\n", -1, 0, "", NULL },
		{ "SMTP 220 hello\r\n\r\n", -1, 0, "", NULL },
		{ "", -1, 0, "", NULL },
		/* chunk sizes that point past the end, or overflow */
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "ffff\r\nabc\r\n0\r\n\r\n", -1, 200, "", NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "ffffffffffffffffff\r\nabc\r\n0\r\n\r\n", -1, 200, "", NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "3\r\nabc", -1, 200, "", NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "zz\r\n", -1, 200, "", NULL },
	};
	struct mf_https_response resp;
	struct mf_err e;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mf_buf raw = MF_BUF_INIT(4096), body = MF_BUF_INIT(4096);

		cr_assert_eq(mf_buf_puts(&raw, cases[i].raw, NULL), 0);
		mf_err_clear(&e);
		cr_assert_eq(mf_https_parse(&raw, &body, &resp, &e),
		    cases[i].ret, "case %zu", i);
		cr_assert_eq(resp.status, cases[i].status, "case %zu", i);
		cr_assert_str_eq(resp.content_type, cases[i].ctype, "case %zu", i);
		if (cases[i].ret == 0)
			cr_assert_str_eq(body.len ? body.data : "", cases[i].body,
			    "case %zu", i);
		else
			cr_assert_neq(e.msg[0], '\0', "case %zu", i);
		mf_buf_free(&raw);
		mf_buf_free(&body);
	}
}

/* A body larger than the caller's limit is refused, not truncated. */
Test(https, body_limit)
{
	struct mf_buf raw = MF_BUF_INIT(8192), body = MF_BUF_INIT(16);
	struct mf_err e;

	cr_assert_eq(mf_buf_puts(&raw, "HTTP/1.1 200 OK\r\n\r\n"
	    "0123456789abcdef0123", NULL), 0);
	cr_assert_eq(mf_https_parse(&raw, &body, NULL, &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	mf_buf_free(&raw);
	mf_buf_free(&body);
}
