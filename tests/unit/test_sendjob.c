/* Unit tests: mailsend's modes without a server -- composing or taking a
 * ready message, the envelope, --dry-run output, sendmail options,
 * defaults (RFC 8314 §3.3), batch and queue failures reported per
 * message. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "sendjob.h"

static struct mf_sendjob_params p;
static struct mf_settings st;
static char dir[64];

static void
setup(void)
{
	memset(&p, 0, sizeof(p));
	memset(&st, 0, sizeof(st));
	st.tls = MF_TLS_NONE;        /* no TLS session file */
	mf_strlcpy(dir, "/tmp/mf-sendjob-XXXXXX", sizeof(dir));
	cr_assert_not_null(mkdtemp(dir));
	setenv("XDG_STATE_HOME", dir, 1);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static char *
dry(struct mf_sendjob *j)
{
	struct mf_buf out = MF_BUF_INIT(1 << 20);
	struct mf_err e;

	cr_assert_eq(mf_sendjob_dry_run(j, &out, &e), 0, "%s", e.msg);
	return mf_buf_take(&out);
}

TestSuite(sendjob, .init = setup, .fini = teardown);

Test(sendjob, composed_message_and_envelope)
{
	struct mf_sendjob *j;
	struct mf_err e;
	char *out;

	p.from = "alice@example.test";
	p.to[p.nto++] = "Bob <bob@example.test>";
	p.bcc[p.nbcc++] = "carol@example.test";
	p.subject = "hello";
	p.body = "hi there";
	j = mf_sendjob_new(&p, &st, NULL, &e);
	cr_assert_not_null(j);
	cr_assert_eq(mf_sendjob_prepare(j, &e), 0, "%s", e.msg);
	out = dry(j);
	cr_assert(strncmp(out, "MAIL FROM:<alice@example.test>\n"
	    "RCPT TO:<bob@example.test>\nRCPT TO:<carol@example.test>\n\n",
	    strlen("MAIL FROM:<alice@example.test>\nRCPT TO:<bob@example.test>\n"
	    "RCPT TO:<carol@example.test>\n\n")) == 0, "%s", out);
	cr_assert(strstr(out, "Subject: hello\r\n") != NULL, "%s", out);
	cr_assert(strstr(strstr(out, "\n\n"), "carol") == NULL,
	    "Bcc must not reach the header: %s", out);
	free(out);
	mf_sendjob_free(j);
}

Test(sendjob, ready_message_with_t_takes_header_recipients)
{
	char path[128];
	struct mf_sendjob *j;
	struct mf_err e;
	char *out;

	snprintf(path, sizeof(path), "%s/msg", dir);
	write_file(path, "From: Alice <alice@example.test>\nTo: bob@example.test\n"
	    "Bcc: hidden@example.test\nSubject: cron\n\nbody\n");
	p.message = path;
	p.read_rcpts = 1;
	j = mf_sendjob_new(&p, &st, NULL, &e);
	cr_assert_eq(mf_sendjob_prepare(j, &e), 0, "%s", e.msg);
	out = dry(j);
	cr_assert(strstr(out, "MAIL FROM:<alice@example.test>\n") == out, "%s", out);
	cr_assert(strstr(out, "RCPT TO:<bob@example.test>\n") != NULL, "%s", out);
	cr_assert(strstr(out, "RCPT TO:<hidden@example.test>\n") != NULL);
	cr_assert(strstr(out, "Bcc:") == NULL, "%s", out);
	cr_assert(strstr(out, "Message-ID:") != NULL, "%s", out);
	free(out);
	mf_sendjob_free(j);
}

Test(sendjob, missing_sender_or_recipients_are_usage_errors)
{
	struct mf_sendjob *j;
	struct mf_err e;

	p.to[p.nto++] = "bob@example.test";
	p.subject = "x";
	j = mf_sendjob_new(&p, &st, NULL, &e);
	cr_assert_eq(mf_sendjob_prepare(j, &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
	cr_expect(strstr(e.msg, "no sender") != NULL, "%s", e.msg);
	mf_sendjob_free(j);

	memset(&p, 0, sizeof(p));
	p.from = "alice@example.test";
	p.subject = "x";
	p.body = "y";
	j = mf_sendjob_new(&p, &st, NULL, &e);
	cr_assert_eq(mf_sendjob_prepare(j, &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
	cr_expect_str_eq(e.msg, "no recipients");
	mf_sendjob_free(j);
}

Test(sendjob, header_injection_is_refused)
{
	struct mf_sendjob *j;
	struct mf_err e;

	p.from = "alice@example.test";
	p.to[p.nto++] = "bob@example.test";
	p.subject = "x\r\nBcc: y@example.test";
	j = mf_sendjob_new(&p, &st, NULL, &e);
	cr_assert_eq(mf_sendjob_prepare(j, &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE, "%s", e.msg);
	mf_sendjob_free(j);
}

Test(sendjob, options_and_sendmail_flags)
{
	static const struct {
		const char *ret;
		int ok;
	} t[] = { { NULL, 1 }, { "full", 1 }, { "HDRS", 1 }, { "all", 0 } };
	const char *v[MF_SENDJOB_LIST_MAX];
	size_t n = 0, i;
	struct mf_err e;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p.dsn_ret = t[i].ret;
		cr_expect_eq(mf_sendjob_check(&p, &e) == 0, t[i].ok, "%s",
		    t[i].ret ? t[i].ret : "NULL");
	}
	for (i = 0; i < MF_SENDJOB_LIST_MAX; i++)
		cr_assert_eq(mf_sendjob_push(v, &n, "a@b", "--to", &e), 0);
	cr_assert_eq(mf_sendjob_push(v, &n, "a@b", "--to", &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
	cr_expect_str_eq(e.msg, "too many --to options");
	mf_sendjob_sendmail_o(&p, "em");
	cr_expect_eq(p.dot_ok, 0);
	mf_sendjob_sendmail_o(&p, "i");
	cr_expect_eq(p.dot_ok, 1);
	cr_expect(mf_sendjob_is_sendmail("/usr/sbin/sendmail"));
	cr_expect(mf_sendjob_is_sendmail("sendmail"));
	cr_expect_not(mf_sendjob_is_sendmail("/usr/bin/mailsend"));
	cr_expect_not(mf_sendjob_is_sendmail("sendmail.real"));
}

Test(sendjob, defaults_follow_the_port)
{
	static const struct {
		const char *port;
		enum mf_tls_mode tls, want_tls;
		const char *want_port;
	} t[] = {
		{ "", MF_TLS_UNSET, MF_TLS_STARTTLS, "587" },
		{ "", MF_TLS_IMPLICIT, MF_TLS_IMPLICIT, "465" },
		{ "465", MF_TLS_UNSET, MF_TLS_IMPLICIT, "465" },
		{ "2525", MF_TLS_AUTO, MF_TLS_STARTTLS, "2525" },
		{ "25", MF_TLS_NONE, MF_TLS_NONE, "25" },
	};
	struct mf_err e;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&st, 0, sizeof(st));
		mf_strlcpy(st.port, t[i].port, sizeof(st.port));
		mf_strlcpy(st.host, "smtp.example.test", sizeof(st.host));
		st.tls = t[i].tls;
		cr_assert_eq(mf_sendjob_settle(&st, 1, &e), 0);
		cr_expect_eq(st.tls, t[i].want_tls, "case %zu", i);
		cr_expect_str_eq(st.port, t[i].want_port, "case %zu", i);
	}
	memset(&st, 0, sizeof(st));
	cr_expect_eq(mf_sendjob_settle(&st, 0, &e), 0);
	cr_expect_eq(mf_sendjob_settle(&st, 1, &e), -1);
	cr_expect_eq(e.kind, MF_E_CONFIG);
}

struct seen {
	int n, failed;
	char what[4][256];
};

static void
record(void *arg, const char *what, const struct mf_sendjob_result *res,
       int status, const struct mf_err *e)
{
	struct seen *s = arg;

	(void)status;
	if (res == NULL && e != NULL)
		s->failed++;
	if (s->n < 4)
		mf_strlcpy(s->what[s->n], what, sizeof(s->what[0]));
	s->n++;
}

/* Each message of a batch is reported, a bad one does not stop the rest;
 * with no server reachable every message fails on its own. */
Test(sendjob, batch_reports_every_message)
{
	char sub[128], path[192];
	struct mf_sendjob *j;
	struct seen s;
	struct mf_err e;

	snprintf(sub, sizeof(sub), "%s/batch", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/1", sub);
	write_file(path, "From: a@example.test\nTo: b@example.test\n\nx\n");
	snprintf(path, sizeof(path), "%s/2", sub);
	write_file(path, "Subject: no sender, no recipient\n\nx\n");
	mf_strlcpy(st.host, "127.0.0.1", sizeof(st.host));
	mf_strlcpy(st.port, "1", sizeof(st.port));   /* nothing listens */
	st.timeout_ms = 2000;
	memset(&s, 0, sizeof(s));
	j = mf_sendjob_new(&p, &st, NULL, &e);
	cr_assert_eq(mf_sendjob_batch(j, sub, record, &s, &e), 0, "%s", e.msg);
	cr_expect_eq(s.n, 2);
	cr_expect_eq(s.failed, 2);
	cr_expect(strstr(s.what[0], "/1") != NULL, "%s", s.what[0]);
	cr_expect(strstr(s.what[1], "/2") != NULL, "%s", s.what[1]);
	snprintf(path, sizeof(path), "%s/nosuch", dir);
	cr_expect_eq(mf_sendjob_batch(j, path, record, &s, &e), -1);
	mf_sendjob_free(j);
}

static void
line(void *arg, const char *l)
{
	struct seen *s = arg;

	if (s->n < 4)
		mf_strlcpy(s->what[s->n], l, sizeof(s->what[0]));
	s->n++;
}

/* A prepared message is queued, listed, and kept by a flush that cannot
 * reach the server. */
Test(sendjob, enqueue_list_and_deferred_flush)
{
	struct mf_sendjob *j;
	struct mf_queue_stats qs;
	struct seen s;
	struct mf_err e;
	char id[96], qdir[1024];

	p.from = "alice@example.test";
	p.to[p.nto++] = "bob@example.test";
	p.subject = "queued";
	p.body = "later";
	mf_strlcpy(st.host, "127.0.0.1", sizeof(st.host));
	mf_strlcpy(st.port, "1", sizeof(st.port));
	st.timeout_ms = 2000;
	j = mf_sendjob_new(&p, &st, NULL, &e);
	cr_assert_eq(mf_sendjob_prepare(j, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_sendjob_enqueue(j, id, sizeof(id), qdir, sizeof(qdir),
	    &e), 0, "%s", e.msg);
	cr_expect(strncmp(qdir, dir, strlen(dir)) == 0, "%s", qdir);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(mf_sendjob_list(j, line, &s, &e), 0);
	cr_assert_eq(s.n, 1);
	cr_expect(strncmp(s.what[0], id, strlen(id)) == 0, "%s", s.what[0]);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(mf_sendjob_flush(j, record, &s, &qs, &e), 0, "%s", e.msg);
	cr_expect_eq(s.failed, 1);
	cr_expect_eq(qs.deferred, 1);
	cr_expect_eq(qs.last_status, 75);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(mf_sendjob_list(j, line, &s, &e), 0);
	cr_expect_eq(s.n, 1, "a deferred message stays queued");
	mf_sendjob_free(j);
}

Test(sendjob, local_recipients_through_aliases)
{
	struct mf_sendjob *j;
	struct mf_err e;
	char path[128];
	char *out;
	const char *want = "MAIL FROM:<cron@example.test>\n"
	    "RCPT TO:<admin@example.test>\nRCPT TO:<ops@example.test>\n"
	    "RCPT TO:<bob@example.test>\n\n";

	snprintf(path, sizeof(path), "%s/aliases", dir);
	write_file(path, "root: admin@example.test, ops@example.test\n");
	p.from = "cron@example.test";
	p.args = (char *const[]){ "root", "bob@example.test", NULL };
	p.nargs = 2;
	p.body = "x";
	/* no aliases setting: refused before any connection, EX_NOUSER */
	j = mf_sendjob_new(&p, &st, NULL, &e);
	cr_assert_not_null(j);
	cr_expect_eq(mf_sendjob_prepare(j, &e), -1);
	cr_expect_eq(e.kind, MF_E_NOUSER);
	cr_expect_eq(mf_err_exit_code(&e), 67);
	cr_expect(strstr(e.msg, "'root'") && strstr(e.msg, "aliases"), "%s",
	    e.msg);
	mf_sendjob_free(j);
	st.aliases = path;
	j = mf_sendjob_new(&p, &st, NULL, &e);
	cr_assert_eq(mf_sendjob_prepare(j, &e), 0, "%s", e.msg);
	out = dry(j);
	cr_expect(strncmp(out, want, strlen(want)) == 0, "%s", out);
	free(out);
	mf_sendjob_free(j);
	/* mapped names only: no default, "daemon" is refused */
	p.args = (char *const[]){ "daemon", NULL };
	p.nargs = 1;
	j = mf_sendjob_new(&p, &st, NULL, &e);
	cr_expect_eq(mf_sendjob_prepare(j, &e), -1);
	cr_expect_eq(e.kind, MF_E_NOUSER);
	cr_expect(strstr(e.msg, "'aliases' setting") != NULL, "%s", e.msg);
	mf_sendjob_free(j);
}

/* RFC 2033 §4.2: with LMTP each recipient has its own reply after the
 * data; the worst decides the exit status, a RCPT refusal counts too. */
Test(sendjob, lmtp_outcome_per_recipient_and_worst_exit)
{
	static const struct {
		int rcpt, data, want_kind, want_after;
	} t[] = {
		{ 250, 250, MF_OK, 1 },
		{ 250, 452, MF_E_TEMP, 1 },
		{ 250, 550, MF_E_PERM, 1 },
		{ 550, 0, MF_E_PERM, 0 },
		{ 451, 0, MF_E_TEMP, 0 },
	};
	struct mf_smtp_rcpt_result rr[5];
	const char *names[5] = { "a@x", "b@x", "c@x", "d@x", "e@x" };
	struct mf_sendjob_result res;
	const char *enh, *text;
	int code, after;
	size_t i;

	memset(rr, 0, sizeof(rr));
	memset(&res, 0, sizeof(res));
	for (i = 0; i < 5; i++) {
		rr[i].code = t[i].rcpt;
		rr[i].data_code = t[i].data;
		snprintf(rr[i].data_text, sizeof(rr[i].data_text), "data %zu", i);
		snprintf(rr[i].text, sizeof(rr[i].text), "rcpt %zu", i);
	}
	res.smtp.rcpt = rr;
	res.rcpts = names;
	res.nrcpts = 5;
	for (i = 0; i < 5; i++) {
		cr_expect_eq(mf_sendjob_rcpt_outcome(&res, i, &code, &enh, &text,
		    &after), (enum mf_err_kind)t[i].want_kind, "recipient %zu", i);
		cr_expect_eq(after, t[i].want_after, "recipient %zu", i);
		cr_expect_eq(code, after ? t[i].data : t[i].rcpt);
		cr_expect_eq(text[0], after ? 'd' : 'r');
	}
	cr_expect_eq(mf_sendjob_exit(&res, 1), 69);
	cr_expect_eq(mf_sendjob_exit(&res, 0), 0, "SMTP: the message was sent");
	res.nrcpts = 2;
	cr_expect_eq(mf_sendjob_exit(&res, 1), 75);
	res.nrcpts = 1;
	cr_expect_eq(mf_sendjob_exit(&res, 1), 0);
}

/* Issue 14.6: the TLS session cache key changes with each of host, port,
 * TLS mode, SNI, trust file, pin, --insecure, client certificate, its key
 * and the name checked, so no session is resumed across any of them; the
 * same settings give the same key (or nothing would ever resume). */
Test(sendjob, session_key_covers_endpoint_and_trust)
{
	static const char *const what[] = { "base", "host", "port", "tls mode",
	    "sni", "trust file", "pin", "insecure", "client cert", "client key",
	    "checked name" };
	enum { N = sizeof(what) / sizeof(what[0]) };
	char key[N][40], again[40];
	struct mf_settings s;
	size_t i, k;

	cr_assert_eq(mf_sendjob_session_key(&st, key[0], 32), -1,
	    "a key needs 33 bytes");
	for (i = 0; i < N; i++) {
		memset(&s, 0, sizeof(s));
		mf_strlcpy(s.host, "mail.example.test", sizeof(s.host));
		mf_strlcpy(s.port, "587", sizeof(s.port));
		s.tls = MF_TLS_STARTTLS;
		s.tlsp.verify_name = "mail.example.test";
		s.tlsp.ca_file = "/etc/mailflow/ca.pem";
		switch (i) {
		case 1: mf_strlcpy(s.host, "mx.example.test", sizeof(s.host));
			break;
		case 2: mf_strlcpy(s.port, "465", sizeof(s.port)); break;
		case 3: s.tls = MF_TLS_IMPLICIT; break;
		case 4: s.tlsp.sni = "other.example.test"; break;
		case 5: s.tlsp.ca_file = "/etc/mailflow/other-ca.pem"; break;
		case 6: s.tlsp.fingerprint = "sha256/AAAA"; break;
		case 7: s.tlsp.insecure = 1; break;
		case 8: s.tlsp.cert_file = "/home/a/client.pem"; break;
		case 9: s.tlsp.key_file = "/home/a/client.key"; break;
		case 10: s.tlsp.verify_name = "mx.example.test"; break;
		}
		cr_assert_eq(mf_sendjob_session_key(&s, key[i], sizeof(key[i])),
		    0, "%s", what[i]);
		cr_assert_eq(strlen(key[i]), 32, "%s", what[i]);
		cr_assert_eq(strspn(key[i], "0123456789abcdef"), 32, "%s",
		    what[i]);
		cr_assert_eq(mf_sendjob_session_key(&s, again, sizeof(again)), 0);
		cr_assert_str_eq(key[i], again, "%s: not deterministic",
		    what[i]);
		for (k = 0; k < i; k++)
			cr_assert_str_neq(key[i], key[k], "%s and %s share a "
			    "TLS session cache key", what[i], what[k]);
	}
}

/* --dry-run shows the envelope as lib/smtp.c formats it for the wire
 * (mf_smtp_format_mail/_rcpt, as the send path does): a UTF-8 domain as
 * A-labels, a UTF-8 local part with SMTPUTF8; no parameter that depends
 * on what a server offers (--dsn-notify goes only to a DSN server). */
Test(sendjob, dry_run_envelope_is_the_wire_form)
{
	struct mf_sendjob *j;
	struct mf_err e;
	char *out;

	p.from = "j\xc3\xb6" "e@example.test";
	p.to[p.nto++] = "bob@b\xc3\xbc" "cher.example";
	p.body = "x";
	p.dsn_notify = "NEVER";
	j = mf_sendjob_new(&p, &st, NULL, &e);
	cr_assert_not_null(j, "%s", e.msg);
	cr_assert_eq(mf_sendjob_prepare(j, &e), 0, "%s", e.msg);
	out = dry(j);
	cr_expect(strncmp(out, "MAIL FROM:<j\xc3\xb6" "e@example.test> SMTPUTF8\n"
	    "RCPT TO:<bob@xn--bcher-kva.example>\n\n",
	    strlen("MAIL FROM:<j\xc3\xb6" "e@example.test> SMTPUTF8\n"
	    "RCPT TO:<bob@xn--bcher-kva.example>\n\n")) == 0, "%s", out);
	free(out);
	mf_sendjob_free(j);
}
