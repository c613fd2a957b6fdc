/* test_sasl_exchange.c - the one SASL exchange (mf_sasl_exchange) as each
 * protocol drives it: SMTP (RFC 4954), POP3 (RFC 5034) and IMAP (RFC 3501
 * §6.2.2, SASL-IR RFC 4959), each over a scripted transport through the
 * protocol's public calls.  Every case runs for all three descriptors:
 * success with the RFC vectors, refusal, a refusal in mid-exchange, too
 * many rounds, an oversized challenge, a challenge that is not base64. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "imap.h"
#include "memtransport.h"
#include "pop3.h"
#include "sasl.h"
#include "sasl_vectors.h"
#include "smtp.h"

#define MAXCHUNKS 64

/* One scripted conversation: what the server sends (one chunk per read)
 * and the exchange lines the client must send. */
struct conv {
	char *chunks[MAXCHUNKS];
	size_t n;
	struct mf_buf want;      /* the client's lines from the command on */
	char written[1 << 17];   /* what the client sent, before free */
};

enum proto { P_SMTP, P_POP3, P_IMAP };
static const char *const pname[] = { "SMTP", "POP3", "IMAP" };

static void
add(struct conv *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	cr_assert_lt(c->n, MAXCHUNKS);
	va_start(ap, fmt);
	cr_assert_neq(vasprintf(&s, fmt, ap), -1);
	va_end(ap);
	c->chunks[c->n++] = s;
}

static void
want(struct conv *c, const char *fmt, ...)
{
	va_list ap;
	char line[8192];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cr_assert_eq(mf_buf_printf(&c->want, NULL, "%s\r\n", line), 0);
}

static const char *
b64(const char *raw)
{
	static char out[4][4096];
	static int k;
	struct mf_buf b = MF_BUF_INIT(4096);

	k = (k + 1) % 4;
	cr_assert_eq(mf_base64_encode(raw, strlen(raw), &b, NULL), 0);
	snprintf(out[k], sizeof(out[k]), "%s", b.data ? b.data : "");
	mf_buf_free(&b);
	return out[k];
}

/* The session before the exchange: POP3 greeting and CAPA, IMAP greeting
 * and CAPABILITY (with SASL-IR unless no_ir). */
static void
begin(struct conv *c, enum proto p, const char *mech, int no_ir)
{
	memset(c, 0, sizeof(*c));
	mf_buf_init(&c->want, 1 << 17);
	if (p == P_POP3) {
		add(c, "+OK fake ready\r\n");
		add(c, "+OK\r\nSASL %s\r\n.\r\n", mech);
	} else if (p == P_IMAP) {
		add(c, "* OK fake ready\r\n");
		add(c, "* CAPABILITY IMAP4rev1%s AUTH=%s\r\nA1 OK done\r\n",
		    no_ir ? "" : " SASL-IR", mech);
	}
}

/* How each protocol's server speaks: a challenge (printf format), success
 * (IMAP: then the CAPABILITY the client asks for after login), refusal,
 * the answer to "*"; and the client's command word. */
static const struct {
	const char *chal, *ok, *fail, *cancelled, *cmd;
} fl[] = {
	[P_SMTP] = { "334 %s\r\n", "235 2.7.0 ok\r\n",
	    "535 5.7.8 bad credentials\r\n", "501 5.7.0 cancelled\r\n",
	    "AUTH" },
	[P_POP3] = { "+ %s\r\n", "+OK logged in\r\n",
	    "-ERR [AUTH] bad credentials\r\n", "-ERR cancelled\r\n", "AUTH" },
	[P_IMAP] = { "+ %s\r\n",
	    "A2 OK logged in\r\n* CAPABILITY IMAP4rev1\r\nA3 OK\r\n",
	    "A2 NO [AUTHENTICATIONFAILED] bad credentials\r\n",
	    "A2 BAD cancelled\r\n", "A2 AUTHENTICATE" },
};

static void
chal(struct conv *c, enum proto p, const char *b64text)
{
	add(c, fl[p].chal, b64text);
}

#define ok(c, p)        add((c), "%s", fl[(p)].ok)
#define fail(c, p)      add((c), "%s", fl[(p)].fail)
#define cancelled(c, p) add((c), "%s", fl[(p)].cancelled)

static void
want_cmd(struct conv *c, enum proto p, const char *mech, const char *ir)
{
	want(c, "%s %s%s%s", fl[p].cmd, mech, ir ? " " : "", ir ? ir : "");
}

struct who {
	const char *user, *secret, *authzid;
	const char *nonce;    /* the client nonce of a vector (tests only) */
};

/* Run the protocol's authentication over the script; c->written gets
 * what the client sent. */
static int
run(struct conv *c, enum proto p, const char *mech, const struct who *w,
    char *why, size_t whylen, struct mf_err *e)
{
	struct memt m;
	struct mf_transport *t;
	struct mf_auth a;
	int rc = -1;

	/* POP3 and IMAP take the account, the secret from its source */
	memset(&a, 0, sizeof(a));
	a.user = w->user;
	a.authzid = w->authzid;
	a.mech = mech;
	a.source.password = w->secret;
	a.test_nonce = w->nonce;

	t = memt_transport(&m, (const char *const *)c->chunks, c->n);
	cr_assert_not_null(t);
	mf_err_clear(e);
	if (why != NULL)
		why[0] = '\0';
	if (p == P_SMTP) {
		struct mf_smtp_params sp;
		struct mf_sasl_params q;
		struct mf_smtp_reply r;
		struct mf_smtp *s;

		memset(&sp, 0, sizeof(sp));
		sp.conn.host = "mx.test";
		cr_assert_not_null(s = mf_smtp_new(&sp, e));
		cr_assert_eq(mf_smtp_attach(s, t, e), 0);
		memset(&q, 0, sizeof(q));
		q.user = w->user;
		q.authzid = w->authzid;
		if (mf_sasl_secret_is_token(mech))
			q.token = w->secret;
		else
			q.password = w->secret;
		q.test_nonce = w->nonce;
		rc = mf_smtp_auth(s, mech, &q, &r, why, whylen, e);
		snprintf(c->written, sizeof(c->written), "%s",
		    m.written.data ? m.written.data : "");
		mf_smtp_free(s);
	} else if (p == P_POP3) {
		struct mf_conn cp;
		struct mf_pop3 *s;

		memset(&cp, 0, sizeof(cp));
		cp.host = "pop.test";
		cp.port = "110";
		s = mf_pop3_attach(t, &cp, e);
		cr_assert_not_null(s, "%s", e->msg);
		rc = mf_pop3_auth(s, &a, NULL, 0, e);
		snprintf(c->written, sizeof(c->written), "%s",
		    m.written.data ? m.written.data : "");
		mf_pop3_free(s);
	} else {
		struct mf_conn ip;
		struct mf_imap *s;

		memset(&ip, 0, sizeof(ip));
		ip.host = "imap.test";
		ip.cred = a;
		s = mf_imap_attach(t, &ip, e);
		cr_assert_not_null(s, "%s", e->msg);
		rc = mf_imap_login(s, &ip, e);
		snprintf(c->written, sizeof(c->written), "%s",
		    m.written.data ? m.written.data : "");
		mf_imap_abandon(s);
		mf_imap_free(s);
	}
	mf_buf_free(&m.written);
	return rc;
}

/* The client sent exactly the wanted exchange, and nothing after it but
 * (IMAP) the next tagged command. */
static void
check_sent(struct conv *c, enum proto p)
{
	const char *w = c->want.data ? c->want.data : "";
	const char *at = strstr(c->written, w), *rest;

	cr_assert_not_null(at, "%s: want\n%s\ngot\n%s", pname[p], w,
	    c->written);
	rest = at + strlen(w);
	cr_assert(*rest == '\0' || (p == P_IMAP && strncmp(rest, "A3 ", 3) == 0),
	    "%s: sent after the exchange: %s", pname[p], rest);
}

static void
done(struct conv *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->chunks[i]);
	mf_buf_free(&c->want);
}

static const struct who alice = { "alice", "s3cret", NULL, NULL };

/* ---- success ---- */

/* RFC 4616 §4 shape: initial response on the command line. */
Test(sasl_exchange, plain_initial_response)
{
	struct conv c;
	struct mf_err e;
	enum proto p;

	for (p = P_SMTP; p <= P_IMAP; p++) {
		begin(&c, p, "PLAIN", 0);
		ok(&c, p);
		want_cmd(&c, p, "PLAIN", "AGFsaWNlAHMzY3JldA==");
		cr_assert_eq(run(&c, p, "PLAIN", &alice, NULL, 0, &e), 0,
		    "%s: %s", pname[p], e.msg);
		check_sent(&c, p);
		done(&c);
	}
}

/* IMAP without SASL-IR, and POP3 past 255 octets (RFC 5034 §4): the
 * initial response follows the server's empty challenge. */
Test(sasl_exchange, initial_response_after_empty_challenge)
{
	static const struct who longpw = { "alice", "s3cret-that-is-very-long-"
	    "s3cret-that-is-very-long-s3cret-that-is-very-long-s3cret-that-is-"
	    "very-long-s3cret-that-is-very-long-s3cret-that-is-very-long-s3cret"
	    "-that-is-very-long-s3cret-that-is-very-long-end", NULL, NULL };
	char raw[512];
	struct conv c;
	struct mf_err e;

	begin(&c, P_IMAP, "PLAIN", 1);
	chal(&c, P_IMAP, "");
	ok(&c, P_IMAP);
	want_cmd(&c, P_IMAP, "PLAIN", NULL);
	want(&c, "AGFsaWNlAHMzY3JldA==");
	cr_assert_eq(run(&c, P_IMAP, "PLAIN", &alice, NULL, 0, &e), 0, "%s",
	    e.msg);
	check_sent(&c, P_IMAP);
	done(&c);

	snprintf(raw, sizeof(raw), "%c%s%c%s", 0, "alice", 0, longpw.secret);
	begin(&c, P_POP3, "PLAIN", 0);
	chal(&c, P_POP3, "");
	ok(&c, P_POP3);
	want_cmd(&c, P_POP3, "PLAIN", NULL);
	{
		struct mf_buf b = MF_BUF_INIT(4096);
		size_t n = 2 + strlen("alice") + strlen(longpw.secret);

		cr_assert_eq(mf_base64_encode(raw, n, &b, NULL), 0);
		cr_assert_gt(strlen("AUTH PLAIN ") + b.len, 255);
		want(&c, "%s", b.data);
		mf_buf_free(&b);
	}
	cr_assert_eq(run(&c, P_POP3, "PLAIN", &longpw, NULL, 0, &e), 0, "%s",
	    e.msg);
	check_sent(&c, P_POP3);
	done(&c);
}

/* An empty initial response is "=" (RFC 4954 §4, RFC 5034 §4, RFC 4959). */
Test(sasl_exchange, empty_initial_response_is_equals)
{
	struct conv c;
	struct mf_err e;
	enum proto p;

	for (p = P_SMTP; p <= P_IMAP; p++) {
		begin(&c, p, "EXTERNAL", 0);
		ok(&c, p);
		want_cmd(&c, p, "EXTERNAL", "=");
		cr_assert_eq(run(&c, p, "EXTERNAL", &alice, NULL, 0, &e), 0,
		    "%s: %s", pname[p], e.msg);
		check_sent(&c, p);
		done(&c);
	}
}

/* RFC 2195 §2: the CRAM-MD5 example, a mechanism without an initial
 * response; accepted, then (the server ending the exchange after our
 * answer) refused with nothing more sent. */
Test(sasl_exchange, cram_md5_rfc2195_accepted_and_refused)
{
	static const struct who tim = { "tim", "tanstaaftanstaaf", NULL, NULL };
	struct conv c;
	struct mf_err e;
	enum proto p;
	int refuse;

	for (refuse = 0; refuse <= 1; refuse++)
	for (p = P_SMTP; p <= P_IMAP; p++) {
		begin(&c, p, "CRAM-MD5", 0);
		chal(&c, p, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1j"
		    "aS5uZXQ+");
		add(&c, "%s", refuse ? fl[p].fail : fl[p].ok);
		want_cmd(&c, p, "CRAM-MD5", NULL);
		want(&c, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
		cr_assert_eq(run(&c, p, "CRAM-MD5", &tim, NULL, 0, &e),
		    refuse ? -1 : 0, "%s: %s", pname[p], e.msg);
		if (refuse)
			cr_assert_eq(e.kind, MF_E_AUTH, "%s: kind %d", pname[p],
			    e.kind);
		check_sent(&c, p);
		done(&c);
	}
}

/* RFC 7677 §3 (and RFC 5802 §5): two challenges, the second answered with
 * an empty line, the server's signature checked before success counts. */
Test(sasl_exchange, scram_vectors_over_smtp)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		const struct scram_vec *v = &scram_vecs[i];
		struct who w = { v->user, "pencil", NULL, v->nonce };
		struct conv c;
		struct mf_err e;

		begin(&c, P_SMTP, v->mech, 0);
		chal(&c, P_SMTP, b64(v->server_first));
		chal(&c, P_SMTP, b64(v->server_final));
		ok(&c, P_SMTP);
		want_cmd(&c, P_SMTP, v->mech, b64(v->client_first));
		want(&c, "%s", b64(v->client_final));
		want(&c, "");
		cr_assert_eq(run(&c, P_SMTP, v->mech, &w, NULL, 0, &e), 0,
		    "%s: %s", v->mech, e.msg);
		check_sent(&c, P_SMTP);
		done(&c);

		/* success without the server's proof: refused */
		begin(&c, P_SMTP, v->mech, 0);
		chal(&c, P_SMTP, b64(v->server_first));
		ok(&c, P_SMTP);
		cr_assert_eq(run(&c, P_SMTP, v->mech, &w, NULL, 0, &e), -1);
		cr_assert_eq(e.kind, MF_E_AUTH);
		cr_assert(strstr(e.msg, "server signature") != NULL, "%s", e.msg);
		done(&c);
	}
}

/* RFC 7677 §3 over POP3 or IMAP: the test nonce rides in struct mf_auth
 * (a.test_nonce) through mf_pop3_auth / mf_imap_login to the exchange,
 * as the password does.  The exact client-final-message goes out and the
 * correct server signature is success; a wrong signature is refused with
 * "*" (the cancel's answer read) before any success counts. */
static void
scram_vector_over(enum proto p)
{
	const struct scram_vec *v = &scram_vecs[1];
	struct who w = { v->user, "pencil", NULL, v->nonce };
	char wrong[128];
	struct conv c;
	struct mf_err e;

	cr_assert_str_eq(v->mech, "SCRAM-SHA-256");
	cr_assert_str_eq(v->nonce, "rOprNGfwEbeRWgbNEkqO");
	begin(&c, p, v->mech, 0);
	chal(&c, p, b64(v->server_first));
	chal(&c, p, b64(v->server_final));
	ok(&c, p);
	want_cmd(&c, p, v->mech, b64(v->client_first));
	want(&c, "%s", b64(v->client_final));
	want(&c, "");
	cr_assert_eq(run(&c, p, v->mech, &w, NULL, 0, &e), 0, "%s: %s",
	    pname[p], e.msg);
	check_sent(&c, p);
	cr_assert_not_null(strstr(c.written, b64(v->client_final)));
	done(&c);

	/* the RFC's signature with its first character changed */
	snprintf(wrong, sizeof(wrong), "%s", v->server_final);
	wrong[2] = wrong[2] == 'A' ? 'B' : 'A';
	begin(&c, p, v->mech, 0);
	chal(&c, p, b64(v->server_first));
	chal(&c, p, b64(wrong));
	cancelled(&c, p);
	want_cmd(&c, p, v->mech, b64(v->client_first));
	want(&c, "%s", b64(v->client_final));
	want(&c, "*");
	cr_assert_eq(run(&c, p, v->mech, &w, NULL, 0, &e), -1, "%s",
	    pname[p]);
	cr_assert_eq(e.kind, MF_E_AUTH, "%s: kind %d %s", pname[p], e.kind,
	    e.msg);
	cr_assert(strstr(e.msg, "wrong server signature") != NULL, "%s: %s",
	    pname[p], e.msg);
	check_sent(&c, p);
	done(&c);
}

Test(sasl_exchange, scram_vectors_over_pop3)
{
	scram_vector_over(P_POP3);
}

Test(sasl_exchange, scram_vectors_over_imap)
{
	scram_vector_over(P_IMAP);
}

/* ---- refusals ---- */

Test(sasl_exchange, refused)
{
	struct conv c;
	struct mf_err e;
	enum proto p;

	for (p = P_SMTP; p <= P_IMAP; p++) {
		begin(&c, p, "PLAIN", 0);
		fail(&c, p);
		want_cmd(&c, p, "PLAIN", "AGFsaWNlAHMzY3JldA==");
		cr_assert_eq(run(&c, p, "PLAIN", &alice, NULL, 0, &e), -1);
		cr_assert_eq(e.kind, MF_E_AUTH, "%s: kind %d", pname[p], e.kind);
		cr_assert(strstr(e.reply, "bad credentials") != NULL, "%s: %s",
		    pname[p], e.reply);
		cr_assert(strstr(e.msg, "s3cret") == NULL);
		check_sent(&c, p);
		done(&c);
	}
}

/* RFC 7628 §3.2.2: an OAuth error challenge is decoded into the message
 * and answered as the RFC asks; the refusal follows. */
Test(sasl_exchange, oauth_error_decoded_in_the_message)
{
	static const struct who tok = { "alice", "ya29.tok", NULL, NULL };
	const char *json = "{\"status\":\"invalid_token\",\"scope\":"
	    "\"example_scope\"}";
	char why[512];
	struct conv c;
	struct mf_err e;
	enum proto p;

	for (p = P_SMTP; p <= P_IMAP; p++) {
		begin(&c, p, "OAUTHBEARER", 0);
		chal(&c, p, b64(json));
		fail(&c, p);
		/* the command carries host= and port= as each protocol
		 * knows them (RFC 7628 §3.1); the answer is a lone ^A */
		want(&c, "AQ==");
		cr_assert_eq(run(&c, p, "OAUTHBEARER", &tok, why, sizeof(why),
		    &e), -1);
		cr_assert(strstr(e.msg, "invalid_token") != NULL, "%s: %s",
		    pname[p], e.msg);
		cr_assert(strstr(e.msg, "ya29.tok") == NULL);
		if (p == P_SMTP)
			cr_assert(strstr(why, "example_scope") != NULL, "%s", why);
		done(&c);
	}
}

/* ---- a bad exchange: cancelled with "*", the cancel's reply read ---- */

Test(sasl_exchange, too_many_rounds)
{
	static const struct who tok = { "alice", "ya29.tok", NULL, NULL };
	struct conv c;
	struct mf_err e;
	enum proto p;
	int i;

	for (p = P_SMTP; p <= P_IMAP; p++) {
		begin(&c, p, "XOAUTH2", 0);
		want_cmd(&c, p, "XOAUTH2", b64("user=alice\001auth=Bearer "
		    "ya29.tok\001\001"));
		for (i = 0; i <= MF_SASL_ROUNDS; i++) {
			chal(&c, p, "e30=");
			if (i < MF_SASL_ROUNDS)
				want(&c, "");
		}
		want(&c, "*");
		cancelled(&c, p);
		cr_assert_eq(run(&c, p, "XOAUTH2", &tok, NULL, 0, &e), -1);
		cr_assert_eq(e.kind, MF_E_PROTO, "%s: %s", pname[p], e.msg);
		cr_assert(strstr(e.msg, "too many") != NULL, "%s", e.msg);
		check_sent(&c, p);
		done(&c);
	}
}

Test(sasl_exchange, challenge_not_base64)
{
	struct conv c;
	struct mf_err e;
	enum proto p;

	for (p = P_SMTP; p <= P_IMAP; p++) {
		begin(&c, p, "CRAM-MD5", 0);
		chal(&c, p, "not base64!");
		cancelled(&c, p);
		want_cmd(&c, p, "CRAM-MD5", NULL);
		want(&c, "*");
		cr_assert_eq(run(&c, p, "CRAM-MD5", &alice, NULL, 0, &e), -1);
		cr_assert_eq(e.kind, MF_E_PROTO, "%s: %s", pname[p], e.msg);
		cr_assert(strstr(e.msg, "not base64") != NULL, "%s", e.msg);
		check_sent(&c, p);
		done(&c);
	}
}

/* A challenge past every limit (the protocol's line limit or the
 * exchange's MF_SASL_PAYLOAD_MAX): an error, never an answer. */
Test(sasl_exchange, oversized_challenge)
{
	static char big[100 * 1024];
	struct conv c;
	struct mf_err e;
	enum proto p;

	memset(big, 'A', sizeof(big) - 1);
	for (p = P_SMTP; p <= P_IMAP; p++) {
		begin(&c, p, "CRAM-MD5", 0);
		chal(&c, p, big);
		cancelled(&c, p);
		want_cmd(&c, p, "CRAM-MD5", NULL);
		cr_assert_eq(run(&c, p, "CRAM-MD5", &alice, NULL, 0, &e), -1);
		cr_assert(e.kind == MF_E_PROTO || e.kind == MF_E_LIMIT,
		    "%s: kind %d %s", pname[p], e.kind, e.msg);
		cr_assert_not_null(strstr(c.written, c.want.data));
		cr_assert_null(strstr(c.written, "AAAA"), "%s answered",
		    pname[p]);
		done(&c);
	}
}
