/* test_pop3.c - the pure POP3 parsers: status lines, the multi-line decoder
 * (dot-stuffing, CRLF -> LF, limits, partial input), CAPA, UIDL, LIST,
 * APOP. */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"
#include "pop3.h"

/* ---- status lines ---- */

struct status_case {
	const char *line;
	int want;
	const char *text;
};

static const struct status_case status_cases[] = {
	{ "+OK", 1, "" },
	{ "+OK ready", 1, "ready" },
	{ "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>", 1,
	  "POP3 server ready <1896.697170952@dbc.mtview.ca.us>" },
	{ "-ERR", 0, "" },
	{ "-ERR [IN-USE] locked", 0, "[IN-USE] locked" },
	{ "+OKAY", -1, NULL },
	{ "-ERROR x", -1, NULL },
	{ "+ok", -1, NULL },
	{ "", -1, NULL },
	{ "+ abc", -1, NULL },
	{ "* OK IMAP", -1, NULL },
	{ "220 smtp ready", -1, NULL },
};

Test(pop3, status_lines)
{
	size_t i;

	for (i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
		const char *text = NULL;
		int r = mf_pop3_status(status_cases[i].line, &text);

		cr_assert_eq(r, status_cases[i].want, "line '%s': %d",
		    status_cases[i].line, r);
		if (status_cases[i].text != NULL)
			cr_assert_str_eq(text, status_cases[i].text);
	}
}

Test(pop3, resp_code)
{
	char code[32];

	mf_pop3_resp_code("[IN-USE] busy", code, sizeof(code));
	cr_assert_str_eq(code, "IN-USE");
	mf_pop3_resp_code("[SYS/TEMP] later", code, sizeof(code));
	cr_assert_str_eq(code, "SYS/TEMP");
	mf_pop3_resp_code("no code", code, sizeof(code));
	cr_assert_str_eq(code, "");
	mf_pop3_resp_code("[unterminated", code, sizeof(code));
	cr_assert_str_eq(code, "");
}

/* ---- multi-line decoder ---- */

/* Feed `in` in pieces of `step` bytes; returns 0 and the decoded text in
 * out, with *rest = bytes after the terminator, or -1. */
static int
decode(const char *in, size_t n, size_t step, size_t max_line,
       unsigned long long max_total, struct mf_buf *out, size_t *rest,
       struct mf_err *e)
{
	struct mf_pop3_ml m;
	char chunk[7];
	size_t pos = 0, take, olen;
	ssize_t used;

	mf_pop3_ml_init(&m, max_line, max_total);
	while (!m.done && pos < n) {
		take = n - pos < step ? n - pos : step;
		used = mf_pop3_ml_feed(&m, in + pos, take, chunk, sizeof(chunk),
		    &olen, e);
		if (used < 0)
			return -1;
		mf_buf_append(out, chunk, olen, NULL);
		pos += (size_t)used;
	}
	*rest = n - pos;
	return m.done ? 0 : 1;
}

struct ml_case {
	const char *name;
	const char *in;
	const char *want;
	size_t rest;
};

static const struct ml_case ml_cases[] = {
	{ "empty body", ".\r\n", "", 0 },
	{ "two lines", "a\r\nb\r\n.\r\n", "a\nb\n", 0 },
	{ "dot-stuffed", "..x\r\n...\r\n..\r\n.\r\n", ".x\n..\n.\n", 0 },
	{ "dot not at line start", "a.b\r\n a.\r\n.\r\n", "a.b\n a.\n", 0 },
	{ "blank lines kept", "h: v\r\n\r\nbody\r\n\r\n.\r\n",
	  "h: v\n\nbody\n\n", 0 },
	{ "lone CR kept", "a\rb\r\n.\r\n", "a\rb\n", 0 },
	{ "CR CR LF", "a\r\r\n.\r\n", "a\r\n", 0 },
	{ "bare LF lines", "a\nb\n.\n", "a\nb\n", 0 },
	{ "pipelined rest", "x\r\n.\r\n+OK next\r\n", "x\n", 10 },
	{ "stuffed dot then CR", ".\rx\r\n.\r\n", "\rx\n", 0 },
	{ "NUL byte passes", "a\0b\r\n.\r\n", "a\0b\n", 0 },
};

Test(pop3, multiline_table)
{
	static const size_t steps[] = { 1, 2, 3, 5, 1000 };
	size_t i, k, rest, inlen, wantlen;

	for (i = 0; i < sizeof(ml_cases) / sizeof(ml_cases[0]); i++) {
		const struct ml_case *c = &ml_cases[i];

		/* the NUL case needs explicit lengths */
		inlen = strcmp(c->name, "NUL byte passes") == 0 ? 8 : strlen(c->in);
		wantlen = strcmp(c->name, "NUL byte passes") == 0 ? 4 : strlen(c->want);
		for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			struct mf_buf out = MF_BUF_INIT(4096);
			struct mf_err e;

			cr_assert_eq(decode(c->in, inlen, steps[k], 1000, 100000,
			    &out, &rest, &e), 0, "%s step %zu", c->name, steps[k]);
			cr_assert_eq(out.len, wantlen, "%s step %zu: len %zu",
			    c->name, steps[k], out.len);
			cr_assert(memcmp(out.data ? out.data : "", c->want,
			    wantlen) == 0, "%s step %zu", c->name, steps[k]);
			cr_assert_eq(rest, c->rest, "%s step %zu rest", c->name,
			    steps[k]);
			mf_buf_free(&out);
		}
	}
}

Test(pop3, multiline_partial_input_not_done)
{
	struct mf_buf out = MF_BUF_INIT(4096);
	struct mf_err e;
	size_t rest;

	/* a reply cut before its "." line is not complete */
	cr_assert_eq(decode("a\r\nb\r\n", 6, 2, 100, 1000, &out, &rest, &e), 1);
	cr_assert_eq(decode("a\r\n.", 4, 1, 100, 1000, &out, &rest, &e), 1);
	cr_assert_eq(decode("a\r\n.\r", 5, 1, 100, 1000, &out, &rest, &e), 1);
	mf_buf_free(&out);
}

Test(pop3, multiline_line_limit)
{
	struct mf_buf out = MF_BUF_INIT(100000);
	char in[64];
	struct mf_err e;
	size_t rest;

	memset(in, 'x', sizeof(in));
	/* 10 bytes allowed: a 10-byte line passes, an 11-byte line fails */
	cr_assert_eq(decode("0123456789\r\n.\r\n", 15, 3, 10, 1000, &out,
	    &rest, &e), 0);
	cr_assert_eq(decode("0123456789A\r\n.\r\n", 16, 3, 10, 1000, &out,
	    &rest, &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	/* an endless line without any line end fails too */
	cr_assert_eq(decode(in, sizeof(in), 7, 10, 1000, &out, &rest, &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	mf_buf_free(&out);
}

/* Feed all of in at once into one large output buffer (the bulk path of
 * a body read), as pop-fetch does; 0 done, 1 not done, -1 error. */
static int
decode_big(const char *in, size_t n, size_t max_line, struct mf_buf *out,
           struct mf_err *e)
{
	static char big[16384];
	struct mf_pop3_ml m;
	size_t pos = 0, olen;
	ssize_t used;

	mf_pop3_ml_init(&m, max_line, 1000000);
	while (!m.done && pos < n) {
		used = mf_pop3_ml_feed(&m, in + pos, n - pos, big, sizeof(big),
		    &olen, e);
		if (used < 0)
			return -1;
		mf_buf_append(out, big, olen, NULL);
		pos += (size_t)used;
	}
	return m.done ? 0 : 1;
}

/* Long lines, stuffed dots and lone CRs decode the same whether the
 * bytes come one at a time into a 7-byte buffer or all at once into a
 * large one; the line limit holds on the bulk path too. */
Test(pop3, multiline_bulk_matches_bytewise)
{
	struct mf_buf in = MF_BUF_INIT(200000), a = MF_BUF_INIT(200000);
	struct mf_buf b = MF_BUF_INIT(200000);
	struct mf_err e;
	size_t i, k, rest;

	for (i = 0; i < 300; i++) {
		if (i % 7 == 0)
			mf_buf_puts(&in, "..", NULL);
		for (k = 0; k < i; k++)
			mf_buf_putc(&in, (char)('a' + (i + k) % 26), NULL);
		if (i % 11 == 0)
			mf_buf_puts(&in, "\rcr", NULL);
		mf_buf_puts(&in, "\r\n", NULL);
	}
	mf_buf_puts(&in, ".\r\n", NULL);
	cr_assert_eq(decode(in.data, in.len, 1, 1000, 1000000, &a, &rest, &e), 0);
	cr_assert_eq(decode_big(in.data, in.len, 1000, &b, &e), 0, "%s", e.msg);
	cr_assert_eq(a.len, b.len);
	cr_assert(memcmp(a.data, b.data, a.len) == 0);
	/* around the longest line (297 letters and "\rcr": 300 bytes), both
	 * paths agree on where the limit is */
	for (k = 296; k <= 304; k++) {
		int ra, rb;
		mf_buf_free(&a);
		mf_buf_free(&b);
		mf_buf_init(&a, 200000);
		mf_buf_init(&b, 200000);
		ra = decode(in.data, in.len, 1, k, 1000000, &a, &rest, &e);
		rb = decode_big(in.data, in.len, k, &b, &e);
		cr_assert_eq(ra, rb, "limit %zu", k);
		cr_assert_eq(rb, k < 300 ? -1 : 0, "limit %zu", k);
		if (rb == -1)
			cr_assert_eq(e.kind, MF_E_LIMIT);
	}
	mf_buf_free(&in);
	mf_buf_free(&a);
	mf_buf_free(&b);
}

Test(pop3, multiline_total_limit)
{
	struct mf_buf out = MF_BUF_INIT(100000);
	struct mf_err e;
	size_t rest;

	cr_assert_eq(decode("abc\r\nabc\r\n.\r\n", 13, 100, 100, 8, &out, &rest,
	    &e), 0);
	cr_assert_eq(decode("abc\r\nabc\r\nabc\r\n.\r\n", 18, 100, 100, 8,
	    &out, &rest, &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	mf_buf_free(&out);
}

/* ---- CAPA ---- */

Test(pop3, capa_lines)
{
	static const char *lines[] = { "TOP", "UIDL", "RESP-CODES",
	    "PIPELINING", "AUTH-RESP-CODE", "USER", "STLS",
	    "SASL PLAIN LOGIN SCRAM-SHA-256", "IMPLEMENTATION Dovecot" };
	struct mf_pop3_capa c;
	size_t i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		mf_pop3_capa_line(&c, lines[i]);
	cr_assert(c.top && c.uidl && c.resp_codes && c.pipelining &&
	    c.auth_resp_code && c.user && c.stls);
	cr_assert_str_eq(c.sasl, "PLAIN LOGIN SCRAM-SHA-256");

	memset(&c, 0, sizeof(c));
	mf_pop3_capa_line(&c, "stls");         /* case-insensitive */
	mf_pop3_capa_line(&c, "UIDLX");        /* not UIDL */
	mf_pop3_capa_line(&c, "PIPELINING2");
	cr_assert(c.stls);
	cr_assert(!c.uidl && !c.pipelining);
}

/* ---- UIDL / LIST ---- */

struct uidl_case {
	const char *line;
	int ok;
	unsigned long num;
	const char *uid;
};

static const struct uidl_case uidl_cases[] = {
	{ "1 whqtswO00WBw418f9t5JxYwZ", 1, 1, "whqtswO00WBw418f9t5JxYwZ" },
	{ "2 QhdPYR:00WBw1Ph7x7", 1, 2, "QhdPYR:00WBw1Ph7x7" },
	{ "17 a/b,c:d!~", 1, 17, "a/b,c:d!~" },
	{ "0 abc", 0, 0, NULL },
	{ "1", 0, 0, NULL },
	{ "1 ", 0, 0, NULL },
	{ "x abc", 0, 0, NULL },
	{ "1 ab c", 0, 0, NULL },
	{ "1 ab\tc", 0, 0, NULL },
	{ "1 ab\x7f", 0, 0, NULL },
	{ "99999999999 a", 0, 0, NULL },
	{ "-1 a", 0, 0, NULL },
};

Test(pop3, uidl_lines)
{
	size_t i;

	for (i = 0; i < sizeof(uidl_cases) / sizeof(uidl_cases[0]); i++) {
		const struct uidl_case *c = &uidl_cases[i];
		char uid[MF_POP3_UID_MAX + 1];
		unsigned long num = 0;
		struct mf_err e;
		int r = mf_pop3_parse_uidl(c->line, &num, uid, sizeof(uid), &e);

		cr_assert_eq(r == 0, c->ok, "'%s'", c->line);
		if (c->ok) {
			cr_assert_eq(num, c->num);
			cr_assert_str_eq(uid, c->uid);
		} else {
			cr_assert_eq(e.kind, MF_E_PROTO);
		}
	}
}

Test(pop3, uidl_too_long)
{
	char line[MF_POP3_UID_MAX + 16], uid[MF_POP3_UID_MAX + 1];
	unsigned long num;
	struct mf_err e;

	line[0] = '1';
	line[1] = ' ';
	memset(line + 2, 'u', MF_POP3_UID_MAX);
	line[2 + MF_POP3_UID_MAX] = '\0';
	cr_assert_eq(mf_pop3_parse_uidl(line, &num, uid, sizeof(uid), &e), 0);
	line[2 + MF_POP3_UID_MAX] = 'u';
	line[3 + MF_POP3_UID_MAX] = '\0';
	cr_assert_eq(mf_pop3_parse_uidl(line, &num, uid, sizeof(uid), &e), -1);
}

Test(pop3, list_lines)
{
	unsigned long num;
	unsigned long long size;
	struct mf_err e;

	cr_assert_eq(mf_pop3_parse_list("1 120", &num, &size, &e), 0);
	cr_assert_eq(num, 1);
	cr_assert_eq(size, 120);
	cr_assert_eq(mf_pop3_parse_list("2 200 extra", &num, &size, &e), 0);
	cr_assert_eq(size, 200);
	cr_assert_eq(mf_pop3_parse_list("3 5000000000", &num, &size, &e), 0);
	cr_assert_eq(size, 5000000000ULL);
	cr_assert_eq(mf_pop3_parse_list("1", &num, &size, &e), -1);
	cr_assert_eq(mf_pop3_parse_list("1 x", &num, &size, &e), -1);
	cr_assert_eq(mf_pop3_parse_list("1 12x", &num, &size, &e), -1);
	cr_assert_eq(mf_pop3_parse_list("0 12", &num, &size, &e), -1);
	cr_assert_eq(mf_pop3_parse_list("1 99999999999999999999999", &num,
	    &size, &e), -1);
}

/* ---- APOP (RFC 1939 §7 example) ---- */

Test(pop3, apop_rfc1939_example)
{
	char ts[256], digest[33];
	struct mf_err e;

	cr_assert_eq(mf_pop3_greeting_timestamp("POP3 server ready "
	    "<1896.697170952@dbc.mtview.ca.us>", ts, sizeof(ts)), 0);
	cr_assert_str_eq(ts, "<1896.697170952@dbc.mtview.ca.us>");
	cr_assert_eq(mf_pop3_apop_digest(ts, "tanstaaf", digest, &e), 0);
	cr_assert_str_eq(digest, "c4c9334bac560ecc979e58001b3e22fb");
	cr_assert_eq(mf_pop3_greeting_timestamp("Dovecot ready.", ts,
	    sizeof(ts)), -1);
	cr_assert_eq(mf_pop3_greeting_timestamp("ready <no-at-sign>", ts,
	    sizeof(ts)), -1);
}
