/* Unit tests: SMTP reply parser, wire normalisation (dot-stuffing, line
 * endings, SMTP smuggling inputs), EHLO capabilities, pipelined writes. */
#include <criterion/criterion.h>
#include <string.h>

#include "smtp.h"
#include "transport.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a scripted transport that records every write() separately ---- */

struct script {
	const char *const *replies;   /* one per read() */
	size_t n, next;
	struct mf_buf out;            /* all bytes written */
	size_t writes;                /* write() calls */
	size_t write_len[64];
};

static ssize_t
s_read(void *ctx, void *buf, size_t n, int timeout_ms, struct mf_err *e)
{
	struct script *s = ctx;
	size_t len;

	(void)timeout_ms;
	if (s->next >= s->n)
		return mf_err_set(e, MF_E_CLOSED, "eof"), 0;
	len = strlen(s->replies[s->next]);
	cr_assert_leq(len, n);
	memcpy(buf, s->replies[s->next++], len);
	return (ssize_t)len;
}

static int
s_write(void *ctx, const void *buf, size_t n, int timeout_ms, struct mf_err *e)
{
	struct script *s = ctx;

	(void)timeout_ms;
	if (s->writes < N(s->write_len))
		s->write_len[s->writes] = n;
	s->writes++;
	return mf_buf_append(&s->out, buf, n, e);
}

static int s_fd(void *ctx) { (void)ctx; return -1; }
static void s_close(void *ctx) { (void)ctx; }

static const struct mf_transport_ops s_ops = {
	.read = s_read, .write = s_write, .pending = NULL, .fd = s_fd,
	.close = s_close,
};

static struct script sc;

static struct mf_smtp *
session(const char *const *replies, size_t n)
{
	struct mf_smtp_params p;
	struct mf_err e;
	struct mf_smtp *s;

	memset(&sc, 0, sizeof(sc));
	sc.replies = replies;
	sc.n = n;
	mf_buf_init(&sc.out, 1 << 20);
	memset(&p, 0, sizeof(p));
	p.conn.host = "mx.test";
	p.ehlo_name = "client.test";
	s = mf_smtp_new(&p, &e);
	cr_assert_not_null(s);
	cr_assert_eq(mf_smtp_attach(s, mf_transport_new(&s_ops, &sc, 0), &e), 0);
	return s;
}

/* ---- reply lines ---- */

Test(smtp, reply_line_table)
{
	static const struct {
		const char *line;
		int ret, code;
		const char *text;
	} t[] = {
		{ "250 ok", 0, 250, "ok" },
		{ "250-PIPELINING", 1, 250, "PIPELINING" },
		{ "220", 0, 220, "" },
		{ "354 go", 0, 354, "go" },
		{ "550 5.1.1 no such user", 0, 550, "5.1.1 no such user" },
		{ "25 short", -1, 0, NULL },
		{ "2500 long", -1, 0, NULL },
		{ "abc def", -1, 0, NULL },
		{ "250_x", -1, 0, NULL },
		{ "650 bad class", -1, 0, NULL },
		{ "190 bad class", -1, 0, NULL },
		{ "", -1, 0, NULL },
	};
	size_t i;

	for (i = 0; i < N(t); i++) {
		int code = 0;
		const char *text = NULL;
		int r = mf_smtp_parse_reply_line(t[i].line, strlen(t[i].line),
		    &code, &text);
		cr_expect_eq(r, t[i].ret, "%s: %d", t[i].line, r);
		if (t[i].ret >= 0) {
			cr_expect_eq(code, t[i].code, "%s", t[i].line);
			cr_expect_str_eq(text, t[i].text, "%s", t[i].line);
		}
	}
}

Test(smtp, reply_kind)
{
	cr_expect_eq(mf_smtp_reply_kind(250), MF_OK);
	cr_expect_eq(mf_smtp_reply_kind(354), MF_OK);
	cr_expect_eq(mf_smtp_reply_kind(421), MF_E_TEMP);
	cr_expect_eq(mf_smtp_reply_kind(554), MF_E_PERM);
	cr_expect_eq(mf_smtp_reply_kind(0), MF_E_PROTO);
	cr_expect_eq(mf_smtp_reply_kind(999), MF_E_PROTO);
}

Test(smtp, multiline_reply_enhanced_split_across_reads)
{
	const char *r[] = { "250-first 2.0", ".0 x\r\n250-2.0.0 second\r", "\n250 ",
	    "third\r\n" };
	struct mf_smtp *s = session(r, N(r));
	struct mf_smtp_reply rep;
	struct mf_err e;

	cr_assert_eq(mf_smtp_read_reply(s, &rep, &e), 0, "%s", e.msg);
	cr_expect_eq(rep.code, 250);
	cr_expect_eq(rep.nlines, 3);
	cr_expect_str_eq(rep.text, "first 2.0.0 x\nsecond\nthird");
	mf_smtp_free(s);
}

Test(smtp, enhanced_code_split)
{
	const char *r[] = { "550-5.7.1 relay\r\n550 5.7.1 denied\r\n" };
	struct mf_smtp *s = session(r, N(r));
	struct mf_smtp_reply rep;
	struct mf_err e;

	cr_assert_eq(mf_smtp_read_reply(s, &rep, &e), 0);
	cr_expect_str_eq(rep.enhanced, "5.7.1");
	cr_expect_str_eq(rep.text, "relay\ndenied");
	mf_smtp_free(s);
}

Test(smtp, malformed_and_mixed_codes_are_protocol_errors)
{
	const char *bad[][1] = { { "250-a\r\n251 b\r\n" }, { "hello\r\n" },
	    { "25\r\n" } };
	size_t i;

	for (i = 0; i < N(bad); i++) {
		struct mf_smtp *s = session(bad[i], 1);
		struct mf_smtp_reply rep;
		struct mf_err e;
		cr_expect_eq(mf_smtp_read_reply(s, &rep, &e), -1, "%s", bad[i][0]);
		cr_expect_eq(e.kind, MF_E_PROTO, "%s", bad[i][0]);
		cr_expect_eq(mf_smtp_usable(s), 0);
		mf_smtp_free(s);
	}
}

Test(smtp, ehlo_capabilities)
{
	const char *r[] = { "250-mx.test hi\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
	    "250-AUTH PLAIN LOGIN\r\n250-AUTH=LOGIN CRAM-MD5\r\n250-8BITMIME\r\n"
	    "250-DSN\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n250-STARTTLS\r\n"
	    "250 ENHANCEDSTATUSCODES\r\n" };
	struct mf_smtp *s = session(r, N(r));
	struct mf_smtp_reply rep;
	const struct mf_smtp_caps *c;
	struct mf_err e;

	cr_assert_eq(mf_smtp_ehlo(s, &rep, &e), 0, "%s", e.msg);
	c = mf_smtp_caps(s);
	cr_expect(c->esmtp && c->pipelining && c->size && c->eightbitmime &&
	    c->dsn && c->smtputf8 && c->chunking && c->starttls &&
	    c->enhancedstatuscodes);
	cr_expect_eq(c->size_max, 1000);
	cr_expect_str_eq(c->auth, "PLAIN LOGIN CRAM-MD5");
	cr_expect_str_eq(sc.out.data, "EHLO client.test\r\n");
	mf_smtp_free(s);
}

Test(smtp, helo_fallback)
{
	const char *r[] = { "502 what\r\n", "250 hello\r\n" };
	struct mf_smtp *s = session(r, N(r));
	struct mf_smtp_reply rep;
	struct mf_err e;

	cr_assert_eq(mf_smtp_ehlo(s, &rep, &e), 0);
	cr_expect_eq(mf_smtp_caps(s)->esmtp, 0);
	cr_expect_str_eq(sc.out.data, "EHLO client.test\r\nHELO client.test\r\n");
	mf_smtp_free(s);
}

/* ---- wire form ---- */

Test(smtp, normalise_table)
{
	static const struct {
		const char *in, *stuffed, *plain;
	} t[] = {
		{ "a\n.\nb", "a\r\n..\r\nb\r\n", "a\r\n.\r\nb\r\n" },
		{ "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n", "a\r\n.\r\nb\r\n" },
		/* SMTP smuggling: "\n.\n" and "\r.\r" never make "\r\n.\r\n". */
		{ "x\n.\r\ny", "x\r\n..\r\ny\r\n", "x\r\n.\r\ny\r\n" },
		{ "x\r.\ry", "x\r\n..\r\ny\r\n", "x\r\n.\r\ny\r\n" },
		{ "bare\rcr", "bare\r\ncr\r\n", "bare\r\ncr\r\n" },
		{ "no final newline", "no final newline\r\n", "no final newline\r\n" },
		{ ".start", "..start\r\n", ".start\r\n" },
		{ "..two", "...two\r\n", "..two\r\n" },
		{ "a\r\r\nb", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n" },
		{ "", "", "" },
		{ "\n", "\r\n", "\r\n" },
	};
	size_t i;

	for (i = 0; i < N(t); i++) {
		struct mf_buf b = MF_BUF_INIT(4096);
		struct mf_err e;
		cr_assert_eq(mf_smtp_normalise(t[i].in, strlen(t[i].in), 1, &b, &e), 0);
		cr_expect_str_eq(b.data ? b.data : "", t[i].stuffed, "stuffed %zu", i);
		mf_buf_reset(&b);
		cr_assert_eq(mf_smtp_normalise(t[i].in, strlen(t[i].in), 0, &b, &e), 0);
		cr_expect_str_eq(b.data ? b.data : "", t[i].plain, "plain %zu", i);
		/* Whatever the input, the data never contains CRLF.CRLF. */
		mf_buf_reset(&b);
		mf_smtp_normalise(t[i].in, strlen(t[i].in), 1, &b, &e);
		cr_expect_null(b.data ? strstr(b.data, "\r\n.\r\n") : NULL, "%zu", i);
		mf_buf_free(&b);
	}
}

Test(smtp, word_in)
{
	cr_expect(mf_smtp_word_in("PLAIN LOGIN", "login"));
	cr_expect(mf_smtp_word_in("PLAIN,CRAM-MD5", "CRAM-MD5"));
	cr_expect(!mf_smtp_word_in("PLAIN LOGIN", "LOG"));
	cr_expect(!mf_smtp_word_in("", "PLAIN"));
}

/* ---- sending ---- */

static const char *caps_reply =
    "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250 8BITMIME\r\n";

Test(smtp, pipelined_group_is_one_write)
{
	const char *r[] = { caps_reply,
	    "250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no\r\n354 go\r\n",
	    "250 2.0.0 queued\r\n" };
	struct mf_smtp *s = session(r, N(r));
	struct mf_smtp_reply rep;
	struct mf_smtp_rcpt_result rr[2];
	struct mf_smtp_result res = { .rcpt = rr };
	const char *rc[] = { "a@x.test", "b@x.test" };
	struct mf_smtp_envelope env = { .from = "f@x.test", .rcpts = rc, .nrcpts = 2 };
	struct mf_err e;
	const char *msg = "Subject: t\n\n.hidden\n";

	cr_assert_eq(mf_smtp_ehlo(s, &rep, &e), 0);
	sc.writes = 0;
	mf_buf_reset(&sc.out);
	cr_assert_eq(mf_smtp_send_message(s, &env, msg, strlen(msg), &res, &e), 0,
	    "%s", e.msg);
	cr_expect_eq(res.accepted, 1);
	cr_expect_eq(rr[1].code, 550);
	cr_expect_str_eq(rr[1].enhanced, "5.1.1");
	cr_expect_eq(res.final.code, 250);
	/* write 1: the group, write 2: the data with its dot. */
	cr_expect_eq(sc.writes, 2);
	cr_expect_str_eq(sc.out.data, "MAIL FROM:<f@x.test> SIZE=24\r\n"
	    "RCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n"
	    "Subject: t\r\n\r\n..hidden\r\n.\r\n");
	mf_smtp_free(s);
}

Test(smtp, size_refused_before_mail)
{
	const char *r[] = { "250-mx.test\r\n250 SIZE 10\r\n" };
	struct mf_smtp *s = session(r, N(r));
	struct mf_smtp_reply rep;
	struct mf_smtp_result res = { 0 };
	const char *rc[] = { "a@x.test" };
	struct mf_smtp_envelope env = { .from = "f@x.test", .rcpts = rc, .nrcpts = 1 };
	struct mf_err e;

	cr_assert_eq(mf_smtp_ehlo(s, &rep, &e), 0);
	mf_buf_reset(&sc.out);
	cr_expect_eq(mf_smtp_send_message(s, &env, "0123456789abc", 13, &res, &e), -1);
	cr_expect_eq(e.kind, MF_E_PERM);
	cr_expect_eq(sc.out.len, 0, "sent: %s", sc.out.data);
	mf_smtp_free(s);
}

Test(smtp, bdat_with_chunking_not_stuffed)
{
	const char *r[] = { "250-mx.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n",
	    "250 ok\r\n250 ok\r\n250 queued\r\n" };
	struct mf_smtp *s = session(r, N(r));
	struct mf_smtp_reply rep;
	struct mf_smtp_result res = { 0 };
	const char *rc[] = { "a@x.test" };
	struct mf_smtp_envelope env = { .from = "", .rcpts = rc, .nrcpts = 1 };
	struct mf_err e;

	cr_assert_eq(mf_smtp_ehlo(s, &rep, &e), 0);
	sc.writes = 0;
	mf_buf_reset(&sc.out);
	cr_assert_eq(mf_smtp_send_message(s, &env, ".a\n.\n", 5, &res, &e), 0, "%s", e.msg);
	cr_expect_eq(sc.writes, 1);
	cr_expect_str_eq(sc.out.data, "MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\n"
	    "BDAT 7 LAST\r\n.a\r\n.\r\n");
	mf_smtp_free(s);
}

Test(smtp, all_rcpts_refused_temp_then_rset)
{
	const char *r[] = { caps_reply,
	    "250 ok\r\n451 4.3.0 later\r\n503 5.5.1 no rcpts\r\n", "250 reset\r\n" };
	struct mf_smtp *s = session(r, N(r));
	struct mf_smtp_reply rep;
	struct mf_smtp_result res = { 0 };
	const char *rc[] = { "a@x.test" };
	struct mf_smtp_envelope env = { .from = "f@x.test", .rcpts = rc, .nrcpts = 1 };
	struct mf_err e;

	cr_assert_eq(mf_smtp_ehlo(s, &rep, &e), 0);
	cr_expect_eq(mf_smtp_send_message(s, &env, "x", 1, &res, &e), -1);
	cr_expect_eq(e.kind, MF_E_TEMP);
	cr_expect_eq(e.reply_code, 451);
	cr_expect_neq(strstr(sc.out.data, "RSET\r\n"), NULL);
	mf_smtp_free(s);
}

Test(smtp, injection_in_address_refused)
{
	const char *r[] = { caps_reply };
	struct mf_smtp *s = session(r, N(r));
	struct mf_smtp_reply rep;
	struct mf_smtp_result res = { 0 };
	const char *rc[] = { "a@x.test>\r\nRCPT TO:<evil@x.test" };
	struct mf_smtp_envelope env = { .from = "f@x.test", .rcpts = rc, .nrcpts = 1 };
	struct mf_err e;

	cr_assert_eq(mf_smtp_ehlo(s, &rep, &e), 0);
	mf_buf_reset(&sc.out);
	cr_expect_eq(mf_smtp_send_message(s, &env, "x", 1, &res, &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
	cr_expect_eq(sc.out.len, 0);
	mf_smtp_free(s);
}

/* RFC 3461 §4: ENVID in xtext; one that does not fit the MAIL line is
 * an error before anything is sent, never a cut ENVID. */
Test(smtp, envid_xtext_and_never_cut)
{
	static char big[201];
	const char *r[] = { "250-mx.test\r\n250-PIPELINING\r\n250 DSN\r\n",
	    "250 ok\r\n250 ok\r\n354 go\r\n", "250 queued\r\n" };
	struct mf_smtp *s = session(r, N(r));
	struct mf_smtp_reply rep;
	struct mf_smtp_result res = { 0 };
	const char *rc[] = { "a@x.test" };
	struct mf_smtp_envelope env = { .from = "f@x.test", .rcpts = rc,
	    .nrcpts = 1, .envid = big };
	const char *mail = "MAIL FROM:<f@x.test> ENVID=a+2Bb+3Dc+20d+01\r\n";
	struct mf_err e;

	cr_assert_eq(mf_smtp_ehlo(s, &rep, &e), 0);
	memset(big, '+', sizeof(big) - 1);   /* 600 bytes as xtext */
	mf_buf_reset(&sc.out);
	cr_expect_eq(mf_smtp_send_message(s, &env, "x", 1, &res, &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
	cr_expect(strstr(e.msg, "ENVID") != NULL, "%s", e.msg);
	cr_expect_eq(sc.out.len, 0, "sent: %s", sc.out.data);
	env.envid = "a+b=c d\001";
	cr_assert_eq(mf_smtp_send_message(s, &env, "x", 1, &res, &e), 0, "%s",
	    e.msg);
	cr_expect(strncmp(sc.out.data, mail, strlen(mail)) == 0, "%s",
	    sc.out.data);
	mf_smtp_free(s);
}

/* The name after EHLO is never cut: one too long is refused at once. */
Test(smtp, ehlo_name_too_long_refused)
{
	static char name[300];
	struct mf_smtp_params p;
	struct mf_smtp *s;
	struct mf_err e;

	memset(name, 'a', sizeof(name) - 1);
	memset(&p, 0, sizeof(p));
	p.conn.host = "mx.test";
	p.ehlo_name = name;
	cr_expect_null(mf_smtp_new(&p, &e));
	cr_expect_eq(e.kind, MF_E_USAGE);
	name[255] = '\0';
	cr_assert_not_null(s = mf_smtp_new(&p, &e), "%s", e.msg);
	mf_smtp_free(s);
}

/* ---- STARTTLS in two steps (mxprobe times them apart) ---- */

Test(smtp, starttls_command_needs_the_offer)
{
	const char *r[] = { "250 mx.test\r\n" };
	struct mf_smtp *s = session(r, N(r));
	struct mf_smtp_reply rep;
	struct mf_err e;

	cr_assert_eq(mf_smtp_ehlo(s, &rep, &e), 0);
	cr_expect_eq(mf_smtp_starttls_command(s, &rep, &e), -1);
	cr_expect_eq(e.kind, MF_E_UNSUPPORTED);
	cr_expect_str_eq(sc.out.data, "EHLO client.test\r\n");
	mf_smtp_free(s);
}

Test(smtp, starttls_command_refused_and_accepted)
{
	static const struct {
		const char *reply;
		int code, rc;
		enum mf_err_kind kind;
	} t[] = {
		{ "454 4.7.0 TLS not available\r\n", 454, -1, MF_E_TEMP },
		{ "502 5.5.1 no\r\n", 502, -1, MF_E_PERM },
		{ "220 2.0.0 go ahead\r\n", 220, 0, MF_OK },
	};
	size_t i;

	for (i = 0; i < N(t); i++) {
		const char *r[] = { "250-mx.test\r\n250 STARTTLS\r\n", t[i].reply };
		struct mf_smtp *s = session(r, N(r));
		struct mf_smtp_reply rep;
		struct mf_err e;

		mf_err_clear(&e);
		cr_assert_eq(mf_smtp_ehlo(s, &rep, &e), 0);
		cr_expect_eq(mf_smtp_starttls_command(s, &rep, &e), t[i].rc,
		    "case %zu", i);
		if (t[i].rc == -1)
			cr_expect_eq(e.kind, t[i].kind, "case %zu: %s", i, e.msg);
		cr_expect_eq(rep.code, t[i].code, "case %zu", i);
		cr_expect_str_eq(sc.out.data, "EHLO client.test\r\nSTARTTLS\r\n");
		mf_smtp_free(s);
	}
}

/* Multi-line replies shown as one line: no double blanks, no stray lines
 * (Exim answers BDAT LAST with "250- 269 byte chunk, total 269" and
 * "250 OK id=..."). */
Test(smtp, reply_as_one_readable_line)
{
	static const struct { const char *in, *want; } t[] = {
		{ " 269 byte chunk, total 269\nOK id=1rXyZa-000123-AB",
		  "269 byte chunk, total 269; OK id=1rXyZa-000123-AB" },
		{ "relay\ndenied", "relay; denied" },
		{ "one  two\t three ", "one two three" },
		{ "\n\nonly\n", "only" },
		{ "", "" },
	};
	const char *r[] = { "250- 269 byte chunk, total 269\r\n"
	    "250 OK id=1rXyZa-000123-AB\r\n" };
	struct mf_smtp *s = session(r, N(r));
	struct mf_smtp_reply rep;
	struct mf_err e;
	char out[128], small[8];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_expect_str_eq(mf_smtp_reply_line(t[i].in, out, sizeof(out)),
		    t[i].want, "case %zu", i);
	cr_expect_str_eq(mf_smtp_reply_line("abc\ndefgh", small, sizeof(small)),
	    "abc; de");
	cr_assert_eq(mf_smtp_read_reply(s, &rep, &e), 0, "%s", e.msg);
	cr_expect_str_eq(mf_smtp_reply_line(rep.text, out, sizeof(out)),
	    "269 byte chunk, total 269; OK id=1rXyZa-000123-AB");
	mf_smtp_free(s);
}
