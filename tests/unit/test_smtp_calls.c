/* test_smtp_calls.c - the envelope's command lines as smtp.c owns them
 * (mf_smtp_format_mail / _rcpt: the send path and mailsend --dry-run use
 * the same text) and the typed calls of a diagnosis (mf_smtp_mail, _rcpt,
 * _rset) over a scripted server (mf_smtp_attach on memtransport.h): the
 * exact bytes written, and arguments that would break a command line (CR,
 * LF) refused before anything is sent.  A NUL ends a C string, so what
 * follows one never reaches the wire. */
#include <criterion/criterion.h>
#include <string.h>

#include "memtransport.h"
#include "smtp.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct memt mt;
static struct mf_smtp *s;

static void
teardown(void)
{
	mf_smtp_free(s);
	s = NULL;
	mf_buf_free(&mt.written);
}

TestSuite(smtp_calls, .fini = teardown, .timeout = 10);

/* ---- the formatters ---- */

struct mail_case {
	const char *from;
	int caps;                /* 0: NULL (no server), 1: SIZE 8BITMIME DSN */
	int eightbit;
	const char *want;        /* NULL: refused with kind */
	enum mf_err_kind kind;
};

static const struct mail_case mail_cases[] = {
	{ "alice@example.test", 0, 0, "MAIL FROM:<alice@example.test>", 0 },
	{ "", 0, 0, "MAIL FROM:<>", 0 },               /* RFC 5321 §4.5.5 */
	{ "alice@example.test", 1, 1, "MAIL FROM:<alice@example.test> "
	  "SIZE=1234 BODY=8BITMIME RET=HDRS ENVID=id+2B1", 0 },
	{ "alice@example.test", 0, 1, "MAIL FROM:<alice@example.test>", 0 },
	/* the domain as A-labels (RFC 5891 §4) */
	{ "bob@b\xc3\xbc" "cher.example", 0, 0,
	  "MAIL FROM:<bob@xn--bcher-kva.example>", 0 },
	/* a UTF-8 local part only travels under SMTPUTF8 (RFC 6531 §3.3),
	 * whatever the server offers */
	{ "j\xc3\xb6" "e@example.test", 0, 0,
	  "MAIL FROM:<j\xc3\xb6" "e@example.test> SMTPUTF8", 0 },
	{ "a\r\nRSET\r\n@example.test", 0, 0, NULL, MF_E_USAGE },
	{ "a\n@example.test", 1, 0, NULL, MF_E_USAGE },
	{ "a@example.test\0\r\nRSET", 0, 0, "MAIL FROM:<a@example.test>", 0 },
};

Test(smtp_calls, format_mail_table)
{
	struct mf_smtp_caps caps;
	char out[MF_SMTP_CMD_MAX];
	size_t i;

	memset(&caps, 0, sizeof(caps));
	caps.size = caps.eightbitmime = caps.dsn = 1;
	for (i = 0; i < N(mail_cases); i++) {
		const struct mail_case *c = &mail_cases[i];
		struct mf_smtp_envelope env = { .from = c->from,
		    .eightbit = c->eightbit, .dsn_ret = "HDRS", .envid = "id+1" };
		struct mf_err e = {0};
		int r = mf_smtp_format_mail(c->caps ? &caps : NULL, &env, 1234,
		    out, sizeof(out), &e);

		if (c->want == NULL) {
			cr_expect_eq(r, -1, "case %zu accepted: %s", i, out);
			cr_expect_eq(e.kind, c->kind, "case %zu: %s", i, e.msg);
			continue;
		}
		cr_expect_eq(r, 0, "case %zu: %s", i, e.msg);
		cr_expect_str_eq(out, c->want, "case %zu", i);
	}
}

Test(smtp_calls, format_mail_too_long)
{
	struct mf_smtp_envelope env = { .from = "alice@example.test" };
	struct mf_err e = {0};
	char out[20];

	cr_expect_eq(mf_smtp_format_mail(NULL, &env, 0, out, sizeof(out), &e),
	    -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
}

Test(smtp_calls, format_rcpt_table)
{
	const char *rc[] = { "bob@example.test", "carol@b\xc3\xbc" "cher.example",
	    "x\r\nDATA@example.test" };
	struct mf_smtp_envelope env = { .from = "", .rcpts = rc, .nrcpts = 3,
	    .dsn_notify = "SUCCESS,FAILURE" };
	struct mf_smtp_caps caps;
	struct mf_err e = {0};
	char out[MF_SMTP_CMD_MAX];

	memset(&caps, 0, sizeof(caps));
	cr_assert_eq(mf_smtp_format_rcpt(NULL, &env, 0, out, sizeof(out), &e),
	    0);
	cr_expect_str_eq(out, "RCPT TO:<bob@example.test>");
	cr_assert_eq(mf_smtp_format_rcpt(&caps, &env, 1, out, sizeof(out), &e),
	    0);
	cr_expect_str_eq(out, "RCPT TO:<carol@xn--bcher-kva.example>");
	caps.dsn = 1;               /* RFC 3461 §4.1 */
	cr_assert_eq(mf_smtp_format_rcpt(&caps, &env, 0, out, sizeof(out), &e),
	    0);
	cr_expect_str_eq(out, "RCPT TO:<bob@example.test> NOTIFY=SUCCESS,FAILURE");
	cr_expect_eq(mf_smtp_format_rcpt(NULL, &env, 2, out, sizeof(out), &e),
	    -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
	cr_expect_eq(mf_smtp_format_rcpt(NULL, &env, 3, out, sizeof(out), &e),
	    -1);
	cr_expect_eq(e.kind, MF_E_INTERNAL);
}

/* ---- the typed calls of a diagnosis ---- */

static void
attach(const char *const *r, size_t n)
{
	struct mf_smtp_params p;
	struct mf_err e = {0};

	memset(&p, 0, sizeof(p));
	p.conn.host = "mx.test";
	p.ehlo_name = "client.test";
	s = mf_smtp_new(&p, &e);
	cr_assert_not_null(s);
	cr_assert_eq(mf_smtp_attach(s, memt_transport(&mt, r, n), &e), 0,
	    "%s", e.msg);
}

Test(smtp_calls, mail_rcpt_rset_exact_bytes)
{
	static const char *const r[] = {
		"250 2.1.0 ok\r\n", "550 5.1.1 no such user\r\n", "250 reset\r\n",
	};
	struct mf_smtp_reply rep;
	struct mf_err e = {0};

	attach(r, N(r));
	cr_assert_eq(mf_smtp_mail(s, "alice@example.test", &rep, &e), 0, "%s",
	    e.msg);
	cr_expect_eq(rep.code, 250);
	cr_expect_str_eq(rep.enhanced, "2.1.0");
	/* a refusal is a reply read: the caller judges the code */
	cr_assert_eq(mf_smtp_rcpt(s, "nobody@example.test", &rep, &e), 0, "%s",
	    e.msg);
	cr_expect_eq(rep.code, 550);
	cr_assert_eq(mf_smtp_rset(s, &rep, &e), 0, "%s", e.msg);
	cr_expect_eq(rep.code, 250);
	cr_expect_str_eq(mt.written.data, "MAIL FROM:<alice@example.test>\r\n"
	    "RCPT TO:<nobody@example.test>\r\nRSET\r\n");
}

Test(smtp_calls, mail_and_rcpt_wire_form)
{
	static const char *const r[] = { "250 ok\r\n", "250 ok\r\n" };
	struct mf_smtp_reply rep;
	struct mf_err e = {0};

	attach(r, N(r));
	cr_assert_eq(mf_smtp_mail(s, "", &rep, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_smtp_rcpt(s, "bob@b\xc3\xbc" "cher.example", &rep, &e),
	    0, "%s", e.msg);
	cr_expect_str_eq(mt.written.data, "MAIL FROM:<>\r\n"
	    "RCPT TO:<bob@xn--bcher-kva.example>\r\n");
}

Test(smtp_calls, line_breaks_refused_nothing_sent)
{
	static const char *const r[] = { "250 ok\r\n" };
	struct mf_smtp_reply rep;
	struct mf_err e = {0};

	attach(r, N(r));
	cr_expect_eq(mf_smtp_mail(s, "a\r\nRCPT TO:<x@y>\r\n@example.test",
	    &rep, &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE, "%s", e.msg);
	cr_expect_eq(mf_smtp_rcpt(s, "b@example.test\rDATA", &rep, &e), -1);
	cr_expect_eq(mf_smtp_rcpt(s, "b\n@example.test", &rep, &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE, "%s", e.msg);
	cr_expect_eq(mt.written.len, 0, "sent: %s", mt.written.data);
	/* what follows a NUL is not part of the argument */
	cr_assert_eq(mf_smtp_mail(s, "a@example.test\0\r\nRSET", &rep, &e), 0,
	    "%s", e.msg);
	cr_expect_str_eq(mt.written.data, "MAIL FROM:<a@example.test>\r\n");
}
