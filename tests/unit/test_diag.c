/* test_diag.c - smtp-auth-test's rule table: observations in, finding
 * codes and exit status out, for each of the 20 failure modes of issue 4
 * and the healthy session; plus the report formats. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "diagfmt.h"

/* ---- building observations */

static void
stage(struct mf_diag_report *r, enum mf_diag_stage_id id, int ok,
      enum mf_err_kind err, int code, const char *enh, const char *text)
{
	struct mf_diag_stage *s = &r->stage[id];

	s->done = 1;
	s->ok = ok;
	s->ms = 12;
	s->err = ok ? MF_OK : err;
	s->code = code;
	mf_strlcpy(s->enhanced, enh, sizeof(s->enhanced));
	mf_strlcpy(s->text, text, sizeof(s->text));
	if (!ok)
		mf_strlcpy(s->msg, text[0] ? text : "failed", sizeof(s->msg));
}

static void
mech(struct mf_diag_report *r, const char *name, int ok, enum mf_err_kind err,
     int code, const char *enh, const char *text, const char *sasl_error)
{
	struct mf_diag_mech *m = &r->mech[r->nmech++];

	memset(m, 0, sizeof(*m));
	mf_strlcpy(m->name, name, sizeof(m->name));
	m->result = ok ? MF_DIAG_MECH_OK : MF_DIAG_MECH_FAILED;
	m->err = ok ? MF_OK : err;
	m->code = code;
	mf_strlcpy(m->enhanced, enh, sizeof(m->enhanced));
	mf_strlcpy(m->text, text, sizeof(m->text));
	mf_strlcpy(m->sasl_error, sasl_error, sizeof(m->sasl_error));
	r->stage[MF_DIAG_AUTH].done = 1;
	r->stage[MF_DIAG_AUTH].ok |= ok;
}

static void
caps(struct mf_smtp_caps *c, int starttls, const char *auth)
{
	memset(c, 0, sizeof(*c));
	c->esmtp = 1;
	c->starttls = starttls;
	mf_strlcpy(c->auth, auth, sizeof(c->auth));
	mf_strlcpy(c->raw, "PIPELINING\nSIZE 10240000", sizeof(c->raw));
}

/* A report for a submission server on 587 (STARTTLS), user given. */
static struct mf_diag_report *
fresh(void)
{
	struct mf_diag_report *r = calloc(1, sizeof(*r));

	cr_assert_not_null(r);
	mf_diag_report_init(r);
	mf_strlcpy(r->host, "mail.example.test", sizeof(r->host));
	mf_strlcpy(r->port, "587", sizeof(r->port));
	mf_strlcpy(r->verify_name, "mail.example.test", sizeof(r->verify_name));
	r->tls_used = MF_TLS_STARTTLS;
	r->user_given = 1;
	return r;
}

/* Greeting and EHLO worked in clear; STARTTLS offered, AUTH only after. */
static void
up_to_ehlo(struct mf_diag_report *r)
{
	stage(r, MF_DIAG_CONNECT, 1, MF_OK, 0, "", "");
	stage(r, MF_DIAG_BANNER, 1, MF_OK, 220, "", "mail.example.test ESMTP");
	stage(r, MF_DIAG_EHLO, 1, MF_OK, 250, "", "mail.example.test");
	r->have_caps_before = 1;
	caps(&r->caps_before, 1, "");
}

static void
tls_facts(struct mf_diag_report *r, int ok)
{
	r->tls_attempted = 1;
	r->tls_ok = ok;
	r->tls.handshake_done = ok;
	r->tls.verified = ok;
	mf_strlcpy(r->tls.version, "TLS1.3", sizeof(r->tls.version));
	mf_strlcpy(r->tls.checked_name, "mail.example.test",
	           sizeof(r->tls.checked_name));
	r->tls.chain_len = 1;
	mf_strlcpy(r->tls.chain[0].subject, "CN=mail.example.test",
	           sizeof(r->tls.chain[0].subject));
	mf_strlcpy(r->tls.chain[0].issuer, "CN=Test CA",
	           sizeof(r->tls.chain[0].issuer));
	mf_strlcpy(r->tls.chain[0].sans, "DNS:mail.example.test",
	           sizeof(r->tls.chain[0].sans));
	r->tls.chain[0].not_before = 1577836800;   /* 2020-01-01 */
	r->tls.chain[0].not_after = 1580428800;    /* 2020-01-31 */
}

/* Everything up to EHLO after a good STARTTLS; AUTH offered. */
static void
up_to_auth(struct mf_diag_report *r)
{
	up_to_ehlo(r);
	stage(r, MF_DIAG_STARTTLS, 1, MF_OK, 220, "2.0.0", "go ahead");
	tls_facts(r, 1);
	stage(r, MF_DIAG_EHLO_TLS, 1, MF_OK, 250, "", "mail.example.test");
	r->have_caps_after = 1;
	caps(&r->caps_after, 0, "PLAIN LOGIN SCRAM-SHA-256");
}

static void
starttls_fails(struct mf_diag_report *r, enum mf_err_kind kind)
{
	up_to_ehlo(r);
	stage(r, MF_DIAG_STARTTLS, 0, kind, 220, "2.0.0", "go ahead");
	tls_facts(r, 0);
}

/* ---- the 20 modes, one setup each */

static void
m01_auth_needs_starttls(struct mf_diag_report *r)
{
	r->tls_used = MF_TLS_NONE;
	r->tls_req = MF_TLS_NONE;
	up_to_ehlo(r);
}

static void
m02_implicit_port(struct mf_diag_report *r)
{
	stage(r, MF_DIAG_CONNECT, 1, MF_OK, 0, "", "");
	stage(r, MF_DIAG_BANNER, 0, MF_E_TIMEOUT, 0, "", "timed out");
	r->probe_kind = 1;
	r->probe_ok = 1;
	stage(r, MF_DIAG_PROBE, 1, MF_OK, 220, "", "mail ESMTP");
	mf_strlcpy(r->port, "465", sizeof(r->port));
}

static void
m03_plaintext_port_tls(struct mf_diag_report *r)
{
	r->tls_used = MF_TLS_IMPLICIT;
	stage(r, MF_DIAG_CONNECT, 0, MF_E_TLS, 0, "", "not a TLS server");
	r->tls_attempted = 1;
	mf_strlcpy(r->tls.plaintext_seen, "220 mail.example.test ESMTP",
	           sizeof(r->tls.plaintext_seen));
}

static void
m04_no_starttls(struct mf_diag_report *r)
{
	up_to_ehlo(r);
	caps(&r->caps_before, 0, "PLAIN LOGIN CRAM-MD5");
	r->auth_withheld = 1;
}

static void
m05_tls_454(struct mf_diag_report *r)
{
	up_to_ehlo(r);
	stage(r, MF_DIAG_STARTTLS, 0, MF_E_TEMP, 454, "4.7.0", "TLS not available");
}

static void
m06_name(struct mf_diag_report *r)
{
	starttls_fails(r, MF_E_TLS_VERIFY);
	r->tls.name_mismatch = 1;
	mf_strlcpy(r->tls.chain[0].sans, "DNS:wrong.example.net",
	           sizeof(r->tls.chain[0].sans));
}

static void
m07_expired(struct mf_diag_report *r)
{
	starttls_fails(r, MF_E_TLS_VERIFY);
	r->tls.expired = 1;
}

static void
m07_not_yet(struct mf_diag_report *r)
{
	starttls_fails(r, MF_E_TLS_VERIFY);
	r->tls.not_yet_valid = 1;
}

static void
m08_untrusted(struct mf_diag_report *r)
{
	starttls_fails(r, MF_E_TLS_VERIFY);
	r->tls.unknown_ca = 1;
	r->tls.chain[0].self_signed = 1;
}

static void
m09_version(struct mf_diag_report *r)
{
	r->tls_used = MF_TLS_IMPLICIT;
	stage(r, MF_DIAG_CONNECT, 0, MF_E_TLS, 0, "", "handshake failed");
	r->tls_attempted = 1;
	r->probe_kind = 2;
	r->probe_ok = 1;
	mf_strlcpy(r->probe_version, "TLS1.0", sizeof(r->probe_version));
}

static void
m10_bad_creds(struct mf_diag_report *r)
{
	up_to_auth(r);
	mech(r, "PLAIN", 0, MF_E_AUTH, 535, "5.7.8", "Authentication failed", "");
}

static void
m11_app_password(struct mf_diag_report *r)
{
	up_to_auth(r);
	mech(r, "PLAIN", 0, MF_E_AUTH, 534, "5.7.9",
	     "Application-specific password required", "");
}

static void
m12_encryption_required(struct mf_diag_report *r)
{
	up_to_auth(r);
	mech(r, "PLAIN", 0, MF_E_AUTH, 538, "5.7.11",
	     "Encryption required for requested authentication mechanism", "");
}

static void
m13_mech_unsupported(struct mf_diag_report *r)
{
	up_to_auth(r);
	mech(r, "CRAM-MD5", 0, MF_E_UNSUPPORTED, 504, "5.7.4",
	     "Unrecognized authentication type", "");
	mech(r, "PLAIN", 1, MF_OK, 235, "2.7.0", "ok", "");
}

static void
m14_oauth(struct mf_diag_report *r)
{
	up_to_auth(r);
	mech(r, "XOAUTH2", 0, MF_E_AUTH, 535, "5.7.8", "Username and Password "
	     "not accepted", "status 401 (invalid_token), scope "
	     "https://mail.google.com/");
}

static void
m15_sender(struct mf_diag_report *r)
{
	up_to_auth(r);
	mech(r, "PLAIN", 1, MF_OK, 235, "2.7.0", "ok", "");
	r->from_given = 1;
	stage(r, MF_DIAG_MAIL, 0, MF_E_PERM, 553, "5.7.1", "<bob@example.test>: "
	      "Sender address rejected: not owned by user alice");
}

static void
m15_sender_at_rcpt(struct mf_diag_report *r)
{
	up_to_auth(r);
	mech(r, "PLAIN", 1, MF_OK, 235, "2.7.0", "ok", "");
	stage(r, MF_DIAG_MAIL, 1, MF_OK, 250, "2.1.0", "Ok");
	stage(r, MF_DIAG_RCPT, 0, MF_E_PERM, 553, "5.7.1", "<bob@example.test>: "
	      "Sender address rejected: not owned by user alice");
}

static void
m16_busy(struct mf_diag_report *r)
{
	stage(r, MF_DIAG_CONNECT, 1, MF_OK, 0, "", "");
	stage(r, MF_DIAG_BANNER, 0, MF_E_TEMP, 421, "4.3.2", "Service not available");
}

static void
m16_greylisted(struct mf_diag_report *r)
{
	up_to_auth(r);
	mech(r, "PLAIN", 1, MF_OK, 235, "2.7.0", "ok", "");
	stage(r, MF_DIAG_MAIL, 1, MF_OK, 250, "2.1.0", "ok");
	stage(r, MF_DIAG_RCPT, 0, MF_E_TEMP, 451, "4.7.1", "Greylisted, try later");
}

static void
m17_refused(struct mf_diag_report *r)
{
	stage(r, MF_DIAG_CONNECT, 0, MF_E_CONNECT, 0, "", "Connection refused");
	r->stage[MF_DIAG_CONNECT].sys_errno = ECONNREFUSED;
}

static void
m17_timeout(struct mf_diag_report *r)
{
	stage(r, MF_DIAG_CONNECT, 0, MF_E_TIMEOUT, 0, "", "timed out");
}

static void
m17_dns(struct mf_diag_report *r)
{
	stage(r, MF_DIAG_CONNECT, 0, MF_E_NOHOST, 0, "", "Name or service not known");
}

static void
m18_ehlo(struct mf_diag_report *r)
{
	stage(r, MF_DIAG_CONNECT, 1, MF_OK, 0, "", "");
	stage(r, MF_DIAG_BANNER, 1, MF_OK, 220, "", "mail ESMTP");
	stage(r, MF_DIAG_EHLO, 0, MF_E_PERM, 501, "5.5.2", "Helo command rejected: "
	      "need fully-qualified hostname");
}

static void
m19_closed(struct mf_diag_report *r)
{
	up_to_auth(r);
	mech(r, "PLAIN", 0, MF_E_CLOSED, 0, "", "connection closed by the server", "");
}

static void
m19_garbage(struct mf_diag_report *r)
{
	stage(r, MF_DIAG_CONNECT, 1, MF_OK, 0, "", "");
	stage(r, MF_DIAG_BANNER, 1, MF_OK, 220, "", "mail ESMTP");
	stage(r, MF_DIAG_EHLO, 0, MF_E_PROTO, 0, "", "malformed reply \"HTTP/1.1 400\"");
}

static void
m20_plaintext_only(struct mf_diag_report *r)
{
	r->tls_used = MF_TLS_NONE;
	r->tls_req = MF_TLS_NONE;
	up_to_ehlo(r);
	caps(&r->caps_before, 0, "PLAIN LOGIN");
	mech(r, "PLAIN", 1, MF_OK, 235, "2.7.0", "ok", "");
}

struct mode {
	const char *name;
	void (*setup)(struct mf_diag_report *);
	enum mf_diag_code code;       /* must be present */
	int exit_code;                /* the tool's exit status */
	enum mf_diag_severity sev;    /* of that finding */
};

static const struct mode modes[] = {
	{ "1 AUTH only after STARTTLS", m01_auth_needs_starttls,
	  MF_DIAG_AUTH_NEEDS_STARTTLS, 69, MF_DIAG_ERROR },
	{ "2 implicit-TLS port in clear", m02_implicit_port,
	  MF_DIAG_IMPLICIT_TLS_PORT, 69, MF_DIAG_ERROR },
	{ "3 TLS on a plaintext port", m03_plaintext_port_tls,
	  MF_DIAG_PLAINTEXT_PORT_TLS, 69, MF_DIAG_ERROR },
	{ "4 no STARTTLS", m04_no_starttls, MF_DIAG_NO_STARTTLS, 69, MF_DIAG_ERROR },
	{ "5 454 TLS not available", m05_tls_454, MF_DIAG_TLS_UNAVAILABLE_454,
	  75, MF_DIAG_ERROR },
	{ "6 name mismatch", m06_name, MF_DIAG_CERT_NAME_MISMATCH, 69,
	  MF_DIAG_ERROR },
	{ "7 expired", m07_expired, MF_DIAG_CERT_EXPIRED, 69, MF_DIAG_ERROR },
	{ "7 not yet valid", m07_not_yet, MF_DIAG_CERT_NOT_YET_VALID, 69,
	  MF_DIAG_ERROR },
	{ "8 unknown CA", m08_untrusted, MF_DIAG_CERT_UNTRUSTED, 69, MF_DIAG_ERROR },
	{ "9 TLS version", m09_version, MF_DIAG_TLS_VERSION_MISMATCH, 69,
	  MF_DIAG_ERROR },
	{ "10 535 bad credentials", m10_bad_creds, MF_DIAG_AUTH_BAD_CREDENTIALS,
	  77, MF_DIAG_ERROR },
	{ "11 534 app password", m11_app_password, MF_DIAG_AUTH_APP_PASSWORD,
	  77, MF_DIAG_ERROR },
	{ "12 538 encryption required", m12_encryption_required,
	  MF_DIAG_AUTH_ENCRYPTION_REQUIRED, 69, MF_DIAG_ERROR },
	{ "13 504 then next works", m13_mech_unsupported,
	  MF_DIAG_AUTH_MECH_UNSUPPORTED, 0, MF_DIAG_WARNING },
	{ "14 OAuth error", m14_oauth, MF_DIAG_OAUTH_ERROR, 77, MF_DIAG_ERROR },
	{ "15 sender not authorized", m15_sender, MF_DIAG_SENDER_NOT_AUTHORIZED,
	  77, MF_DIAG_ERROR },
	{ "15 sender refused at RCPT (Postfix)", m15_sender_at_rcpt,
	  MF_DIAG_SENDER_NOT_AUTHORIZED, 77, MF_DIAG_ERROR },
	{ "16 421 busy", m16_busy, MF_DIAG_SERVER_BUSY_421, 75, MF_DIAG_ERROR },
	{ "16 451 greylisted", m16_greylisted, MF_DIAG_GREYLISTED, 75,
	  MF_DIAG_ERROR },
	{ "17 refused", m17_refused, MF_DIAG_CONN_REFUSED, 75, MF_DIAG_ERROR },
	{ "17 timeout", m17_timeout, MF_DIAG_CONN_TIMEOUT, 75, MF_DIAG_ERROR },
	{ "17 DNS", m17_dns, MF_DIAG_DNS_FAILURE, 69, MF_DIAG_ERROR },
	{ "18 EHLO name", m18_ehlo, MF_DIAG_EHLO_NAME_REJECTED, 69, MF_DIAG_ERROR },
	{ "19 closed", m19_closed, MF_DIAG_CONN_CLOSED, 75, MF_DIAG_ERROR },
	{ "19 garbage", m19_garbage, MF_DIAG_GARBAGE_REPLY, 76, MF_DIAG_ERROR },
	{ "20 plaintext only", m20_plaintext_only, MF_DIAG_PLAINTEXT_AUTH_ONLY, 0,
	  MF_DIAG_WARNING },
};

static const struct mf_diag_finding *
find(const struct mf_diag_report *r, enum mf_diag_code c)
{
	size_t i;

	for (i = 0; i < r->nfinding; i++)
		if (r->finding[i].code == c)
			return &r->finding[i];
	return NULL;
}

static void
codes(const struct mf_diag_report *r, char *out, size_t n)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < r->nfinding; i++) {
		size_t len = strlen(out);

		snprintf(out + len, n - len, "%s ",
		         mf_diag_code_name(r->finding[i].code));
	}
}

Test(diag, each_failure_mode_gives_its_code_and_exit_status)
{
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct mf_diag_report *r = fresh();
		const struct mf_diag_finding *f;
		char got[512];

		modes[i].setup(r);
		mf_diag_analyze(r);
		codes(r, got, sizeof(got));
		f = find(r, modes[i].code);
		cr_expect_not_null(f, "mode %s: expected %s, got [%s]", modes[i].name,
		                   mf_diag_code_name(modes[i].code), got);
		cr_expect_eq(r->exit_code, modes[i].exit_code,
		             "mode %s: exit %d, expected %d [%s]", modes[i].name,
		             r->exit_code, modes[i].exit_code, got);
		if (f != NULL) {
			cr_expect_eq(f->severity, modes[i].sev, "mode %s: severity",
			             modes[i].name);
			cr_expect(f->what[0] && f->why[0] && f->fix[0],
			          "mode %s: what/why/fix must all be said", modes[i].name);
		}
		if (modes[i].sev == MF_DIAG_ERROR)
			cr_expect(strstr(r->verdict, "FAIL ") == r->verdict,
			          "mode %s: verdict '%s'", modes[i].name, r->verdict);
		mf_diag_report_free(r);
		free(r);
	}
}

/* The AUTH findings name the mechanism, quote the server and then say
 * what the reply means (one sentence each, lib/diagrules.c mech_said). */
Test(diag, auth_findings_quote_the_reply_and_say_what_it_means)
{
	static const struct {
		void (*setup)(struct mf_diag_report *);
		enum mf_diag_code code;
		const char *tail;
	} t[] = {
		{ m10_bad_creds, MF_DIAG_AUTH_BAD_CREDENTIALS,
		  ": the server refused the user name or the password." },
		{ m11_app_password, MF_DIAG_AUTH_APP_PASSWORD,
		  ": the server wants a stronger mechanism or an "
		  "application-specific password." },
		{ m12_encryption_required, MF_DIAG_AUTH_ENCRYPTION_REQUIRED,
		  ": this mechanism is only allowed over an encrypted "
		  "connection." },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mf_diag_report *r = fresh();
		const struct mf_diag_finding *f;
		size_t wl, tl = strlen(t[i].tail);

		t[i].setup(r);
		mf_diag_analyze(r);
		f = find(r, t[i].code);
		cr_assert_not_null(f, "case %zu", i);
		wl = strlen(f->what);
		cr_expect(strncmp(f->what, "AUTH PLAIN was answered \"", 25) == 0,
		          "case %zu: %s", i, f->what);
		cr_expect(wl > tl && strcmp(f->what + wl - tl, t[i].tail) == 0,
		          "case %zu: %s", i, f->what);
		mf_diag_report_free(r);
		free(r);
	}
}

Test(diag, healthy_session_has_no_error_and_exits_0)
{
	struct mf_diag_report *r = fresh();
	size_t i;

	up_to_auth(r);
	mech(r, "PLAIN", 1, MF_OK, 235, "2.7.0", "ok", "");
	mech(r, "LOGIN", 1, MF_OK, 235, "2.7.0", "ok", "");
	mech(r, "SCRAM-SHA-256", 1, MF_OK, 235, "2.7.0", "ok", "");
	mf_diag_analyze(r);
	for (i = 0; i < r->nfinding; i++)
		cr_expect_neq(r->finding[i].severity, MF_DIAG_ERROR, "%s",
		              mf_diag_code_name(r->finding[i].code));
	cr_expect_eq(r->exit_code, 0);
	cr_expect(strncmp(r->verdict, "OK:", 3) == 0, "%s", r->verdict);
	cr_expect(strstr(r->verdict, "SCRAM-SHA-256") != NULL, "%s", r->verdict);
	mf_diag_report_free(r);
	free(r);
}

Test(diag, without_user_reports_up_to_auth_and_exits_0)
{
	struct mf_diag_report *r = fresh();

	r->user_given = 0;
	up_to_auth(r);
	mf_diag_analyze(r);
	cr_expect_not_null(find(r, MF_DIAG_NO_USER));
	cr_expect_eq(r->exit_code, 0);
	mf_diag_report_free(r);
	free(r);
}

Test(diag, mech_504_without_a_working_one_is_an_error)
{
	struct mf_diag_report *r = fresh();
	const struct mf_diag_finding *f;

	up_to_auth(r);
	mech(r, "CRAM-MD5", 0, MF_E_UNSUPPORTED, 504, "5.7.4", "Unrecognized", "");
	mf_diag_analyze(r);
	f = find(r, MF_DIAG_AUTH_MECH_UNSUPPORTED);
	cr_assert_not_null(f);
	cr_expect_eq(f->severity, MF_DIAG_ERROR);
	cr_expect_eq(r->exit_code, 69);
	mf_diag_report_free(r);
	free(r);
}

Test(diag, no_starttls_with_plaintext_only_mechs_says_both)
{
	struct mf_diag_report *r = fresh();

	up_to_ehlo(r);
	caps(&r->caps_before, 0, "PLAIN LOGIN");
	r->auth_withheld = 1;
	mf_diag_analyze(r);
	cr_expect_not_null(find(r, MF_DIAG_NO_STARTTLS));
	cr_expect_not_null(find(r, MF_DIAG_PLAINTEXT_AUTH_ONLY));
	cr_expect_eq(r->exit_code, 69);
	mf_diag_report_free(r);
	free(r);
}

Test(diag, name_mismatch_lists_certificate_names_and_checked_name)
{
	struct mf_diag_report *r = fresh();
	const struct mf_diag_finding *f;

	m06_name(r);
	mf_diag_analyze(r);
	f = find(r, MF_DIAG_CERT_NAME_MISMATCH);
	cr_assert_not_null(f);
	cr_expect(strstr(f->what, "wrong.example.net") != NULL, "%s", f->what);
	cr_expect(strstr(f->what, "mail.example.test") != NULL, "%s", f->what);
	cr_expect_null(find(r, MF_DIAG_CERT_UNTRUSTED), "name only, not CA");
	mf_diag_report_free(r);
	free(r);
}

Test(diag, expired_certificate_shows_dates)
{
	struct mf_diag_report *r = fresh();
	const struct mf_diag_finding *f;

	m07_expired(r);
	mf_diag_analyze(r);
	f = find(r, MF_DIAG_CERT_EXPIRED);
	cr_assert_not_null(f);
	cr_expect(strstr(f->what, "2020-01-31") != NULL, "%s", f->what);
	mf_diag_report_free(r);
	free(r);
}

Test(diag, insecure_turns_certificate_errors_into_warnings)
{
	struct mf_diag_report *r = fresh();
	const struct mf_diag_finding *f;

	up_to_auth(r);
	r->insecure = 1;
	r->tls.expired = 1;
	mech(r, "PLAIN", 1, MF_OK, 235, "2.7.0", "ok", "");
	mf_diag_analyze(r);
	f = find(r, MF_DIAG_CERT_EXPIRED);
	cr_assert_not_null(f);
	cr_expect_eq(f->severity, MF_DIAG_WARNING);
	cr_expect_not_null(find(r, MF_DIAG_TLS_INSECURE));
	cr_expect_eq(r->exit_code, 0);
	mf_diag_report_free(r);
	free(r);
}

Test(diag, provider_hints_for_google_and_microsoft)
{
	struct mf_diag_report *r = fresh();
	const struct mf_diag_finding *f;

	mf_strlcpy(r->host, "smtp.gmail.com", sizeof(r->host));
	m10_bad_creds(r);
	mf_diag_analyze(r);
	f = find(r, MF_DIAG_AUTH_BAD_CREDENTIALS);
	cr_assert_not_null(f);
	cr_expect(strstr(f->fix, "app password") != NULL, "%s", f->fix);
	mf_diag_report_free(r);
	free(r);

	r = fresh();
	mf_strlcpy(r->host, "smtp.office365.com", sizeof(r->host));
	up_to_auth(r);
	mech(r, "LOGIN", 0, MF_E_AUTH, 535, "5.7.139", "Authentication "
	     "unsuccessful, SmtpClientAuthentication is disabled for the Tenant.", "");
	mf_diag_analyze(r);
	f = find(r, MF_DIAG_AUTH_BAD_CREDENTIALS);
	cr_assert_not_null(f);
	cr_expect(strstr(f->fix, "Authenticated SMTP") != NULL, "%s", f->fix);
	mf_diag_report_free(r);
	free(r);
}

Test(diag, tls_handshake_failure_with_version_alert)
{
	struct mf_diag_report *r = fresh();

	starttls_fails(r, MF_E_TLS);
	mf_strlcpy(r->tls.alert, "Protocol version", sizeof(r->tls.alert));
	mf_diag_analyze(r);
	cr_expect_not_null(find(r, MF_DIAG_TLS_VERSION_MISMATCH));
	cr_expect_eq(r->exit_code, 69);
	mf_diag_report_free(r);
	free(r);
}

Test(diag, old_tls_version_negotiated_is_a_warning)
{
	struct mf_diag_report *r = fresh();
	const struct mf_diag_finding *f;

	up_to_auth(r);
	mf_strlcpy(r->tls.version, "TLS1.0", sizeof(r->tls.version));
	mech(r, "PLAIN", 1, MF_OK, 235, "2.7.0", "ok", "");
	mf_diag_analyze(r);
	f = find(r, MF_DIAG_TLS_VERSION_MISMATCH);
	cr_assert_not_null(f);
	cr_expect_eq(f->severity, MF_DIAG_WARNING);
	cr_expect_eq(r->exit_code, 0);
	mf_diag_report_free(r);
	free(r);
}

Test(diag, implicit_port_silence_without_tls_is_no_banner)
{
	struct mf_diag_report *r = fresh();

	m02_implicit_port(r);
	r->probe_ok = 0;
	mf_diag_analyze(r);
	cr_expect_null(find(r, MF_DIAG_IMPLICIT_TLS_PORT));
	cr_expect_not_null(find(r, MF_DIAG_NO_BANNER));
	cr_expect_eq(r->exit_code, 75);
	mf_diag_report_free(r);
	free(r);
}

Test(diag, our_own_bad_settings_are_not_blamed_on_the_server)
{
	struct mf_diag_report *r = fresh();

	up_to_ehlo(r);
	stage(r, MF_DIAG_STARTTLS, 0, MF_E_CONFIG, 220, "2.0.0", "go ahead");
	mf_strlcpy(r->stage[MF_DIAG_STARTTLS].msg, "no CA certificates loaded "
	           "from /nonexistent", sizeof(r->stage[0].msg));
	mf_diag_analyze(r);
	cr_expect_not_null(find(r, MF_DIAG_CLIENT_CONFIG));
	cr_expect_eq(r->exit_code, 78);
	cr_expect(strstr(r->verdict, "/nonexistent") != NULL, "%s", r->verdict);
	mf_diag_report_free(r);
	free(r);
}

Test(diag, every_code_has_a_distinct_name)
{
	int i, k;

	for (i = 1; i < MF_DIAG_NCODES; i++) {
		const char *n = mf_diag_code_name((enum mf_diag_code)i);

		cr_expect_str_neq(n, "?", "code %d has no name", i);
		for (k = 1; k < i; k++)
			cr_expect_str_neq(n, mf_diag_code_name((enum mf_diag_code)k));
	}
	cr_expect_str_eq(mf_diag_code_name(MF_DIAG_NCODES), "?");
}

Test(diag, quit_after_words)
{
	enum mf_diag_stage_id id;

	cr_expect_eq(mf_diag_stage_parse("tls", &id), 0);
	cr_expect_eq(id, MF_DIAG_EHLO_TLS);
	cr_expect_eq(mf_diag_stage_parse("rcpt", &id), 0);
	cr_expect_eq(id, MF_DIAG_RCPT);
	cr_expect_eq(mf_diag_stage_parse("data", &id), -1);
	cr_expect_eq(mf_diag_stage_parse(NULL, &id), -1);
}

Test(diagfmt, text_and_json_carry_the_codes)
{
	struct mf_diag_report *r = fresh();
	struct mf_buf b = MF_BUF_INIT(1 << 20);
	struct mf_err e;

	m10_bad_creds(r);
	mf_buf_puts(&r->transcript, "~> AUTH PLAIN ********\n", NULL);
	mf_diag_analyze(r);
	cr_assert_eq(mf_diagfmt_text(r, &b, &e), 0);
	cr_expect(strstr(b.data, "DIAGNOSIS") != NULL);
	cr_expect(strstr(b.data, "[ERROR] AUTH_BAD_CREDENTIALS") != NULL, "%s", b.data);
	cr_expect(strstr(b.data, "VERDICT: FAIL AUTH_BAD_CREDENTIALS") != NULL);
	mf_buf_reset(&b);
	cr_assert_eq(mf_diagfmt_json(r, &b, &e), 0);
	cr_expect(b.data[0] == '{');
	cr_expect(strstr(b.data, "\"codes\":[\"AUTH_BAD_CREDENTIALS\"]") != NULL,
	          "%s", b.data);
	cr_expect(strstr(b.data, "\"exit\":77") != NULL);
	cr_expect(strstr(b.data, "\"~> AUTH PLAIN ********\"") != NULL);
	mf_buf_reset(&b);
	cr_assert_eq(mf_diagfmt_verdict(r, &b, &e), 0);
	cr_expect(strncmp(b.data, "FAIL AUTH_BAD_CREDENTIALS", 25) == 0);
	mf_buf_free(&b);
	mf_diag_report_free(r);
	free(r);
}

/* issue 12: the host in both forms in the report, and in --json the wire
 * form under "host" with "host_unicode" beside it. */
Test(diagfmt, idn_host_in_both_forms)
{
	struct mf_diag_report *r = fresh();
	struct mf_buf b = MF_BUF_INIT(1 << 20);
	struct mf_err e;

	mf_strlcpy(r->host, "BÜCHER.example", sizeof(r->host));
	m10_bad_creds(r);
	mf_diag_analyze(r);
	cr_assert_eq(mf_diagfmt_text(r, &b, &e), 0);
	cr_expect_not_null(strstr(b.data, "\nsmtp-auth-test bücher.example "
	    "(xn--bcher-kva.example) port 587"), "%s", b.data);
	mf_buf_reset(&b);
	cr_assert_eq(mf_diagfmt_json(r, &b, &e), 0);
	cr_expect_not_null(strstr(b.data, "\"host\":\"xn--bcher-kva.example\","
	    "\"host_unicode\":\"bücher.example\","), "%s", b.data);
	mf_buf_reset(&b);
	mf_strlcpy(r->host, "mail.example.test", sizeof(r->host));
	cr_assert_eq(mf_diagfmt_json(r, &b, &e), 0);
	cr_expect_null(strstr(b.data, "host_unicode"), "%s", b.data);
	mf_buf_free(&b);
	mf_diag_report_free(r);
	free(r);
}

Test(diagfmt, server_text_cannot_drive_the_terminal)
{
	struct mf_diag_report *r = fresh();
	struct mf_buf b = MF_BUF_INIT(1 << 20);
	struct mf_err e;

	up_to_auth(r);
	mech(r, "PLAIN", 0, MF_E_AUTH, 535, "5.7.8", "bad\x1b[2Jclear", "");
	mf_diag_analyze(r);
	cr_assert_eq(mf_diagfmt_text(r, &b, &e), 0);
	cr_expect(strchr(b.data, '\x1b') == NULL);
	mf_buf_free(&b);
	mf_diag_report_free(r);
	free(r);
}

/* AUTH only after STARTTLS: the fix names the server's own knob when the
 * banner or EHLO says which server it is, generic text otherwise. */
Test(diag, auth_needs_starttls_names_the_product_knob)
{
	static const struct {
		const char *banner, *ehlo, *product, *knob;
	} t[] = {
		{ "mail.example.test ESMTP Postfix (Debian/GNU)", "mail", "Postfix",
		  "smtpd_tls_auth_only" },
		{ "mail.example.test ESMTP Exim 4.96 Sun, 06 Dec 2026", "mail",
		  "Exim", "auth_advertise_hosts" },
		{ "mail.example.test ESMTP OpenSMTPD", "mail", "OpenSMTPD",
		  "built in" },
		{ "mail.example.test Dovecot ready.", "mail", "Dovecot submission",
		  "disable_plaintext_auth" },
		{ "EX01.corp.test Microsoft ESMTP MAIL Service ready", "EX01",
		  "Microsoft Exchange", "BasicAuthRequireTLS" },
		{ "mail.example.test ESMTP Sendmail 8.17.1/8.17.1", "mail",
		  "Sendmail", "AUTH_OPTIONS" },
		{ "mail.example.test ESMTP ready", "mail.example.test Hello Exim",
		  "Exim", "auth_advertise_hosts" },
		{ "mail.example.test ESMTP ready", "mail", NULL,
		  "This is a server setting" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mf_diag_report *r = fresh();
		const struct mf_diag_finding *f;
		const char *p;

		m01_auth_needs_starttls(r);
		mf_strlcpy(r->stage[MF_DIAG_BANNER].text, t[i].banner,
		           sizeof(r->stage[MF_DIAG_BANNER].text));
		mf_strlcpy(r->stage[MF_DIAG_EHLO].text, t[i].ehlo,
		           sizeof(r->stage[MF_DIAG_EHLO].text));
		mf_diag_analyze(r);
		p = mf_diag_product(r);
		if (t[i].product == NULL)
			cr_expect_null(p, "case %zu: %s", i, p);
		else
			cr_expect(p != NULL && strcmp(p, t[i].product) == 0,
			          "case %zu: %s", i, p ? p : "(none)");
		f = find(r, MF_DIAG_AUTH_NEEDS_STARTTLS);
		cr_assert_not_null(f, "case %zu", i);
		cr_expect(strstr(f->fix, t[i].knob) != NULL, "case %zu: %s", i,
		          f->fix);
		cr_expect(strstr(f->why, "smtpd_tls_auth_only") == NULL,
		          "case %zu: Postfix terms in the why: %s", i, f->why);
		if (t[i].product == NULL || strcmp(t[i].product, "Postfix") != 0)
			cr_expect(strstr(f->fix, "smtpd_tls_auth_only") == NULL,
			          "case %zu: %s", i, f->fix);
		free(r);
	}
}

/* ---- mf_diag_run against a scripted SMTP server ----
 *
 * The server is a child process on 127.0.0.1 (a free port) that plays one
 * connection: for each step it reads a line when `expect` is set (and
 * fails unless the line starts with it), then sends `say`.  Every line it
 * read goes to a file the test reads afterwards: what the diagnosis sent.
 * It stops by itself (alarm) and at the client's close. */

struct step {
	const char *expect;     /* line prefix, or NULL: just send */
	const char *say;        /* reply, or NULL */
};

static char sent_path[64];

static int
read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;

	while (n + 1 < len && read(fd, &c, 1) == 1) {
		buf[n++] = c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	return (int)n;
}

static void
serve(int c, const struct step *st, size_t nst, FILE *log)
{
	char line[2048];
	size_t i;

	for (i = 0; i < nst; i++) {
		if (st[i].expect != NULL) {
			if (read_line(c, line, sizeof(line)) <= 0)
				_exit(3);
			fputs(line, log);
			if (strncmp(line, st[i].expect, strlen(st[i].expect)) != 0)
				_exit(2);
		}
		if (st[i].say != NULL &&
		    write(c, st[i].say, strlen(st[i].say)) == -1)
			_exit(1);
	}
	/* what comes after the script (QUIT) is only recorded */
	while (read_line(c, line, sizeof(line)) > 0) {
		fputs(line, log);
		if (strncmp(line, "QUIT", 4) == 0 &&
		    write(c, "221 2.0.0 bye\r\n", 15) == -1)
			_exit(1);
	}
}

static pid_t
smtp_peer(const struct step *st, size_t nst, char *port, size_t portlen)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	FILE *log;
	int ls, c, fd;
	pid_t pid;

	mf_strlcpy(sent_path, "/tmp/mf-diag-sent-XXXXXX", sizeof(sent_path));
	fd = mkstemp(sent_path);
	cr_assert_neq(fd, -1);
	close(fd);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_neq(ls, -1);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(ls, 1), 0);
	cr_assert_eq(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
	snprintf(port, portlen, "%u", (unsigned)ntohs(a.sin_port));
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		alarm(10);
		log = fopen(sent_path, "w");
		c = accept(ls, NULL, NULL);
		if (log == NULL || c == -1)
			_exit(1);
		serve(c, st, nst, log);
		fclose(log);
		_exit(0);
	}
	close(ls);
	return pid;
}

/* Reap the server: 0 when it saw every line it expected. */
static int
peer_status(pid_t pid)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void
sent_lines(char *out, size_t outlen)
{
	FILE *f = fopen(sent_path, "r");
	size_t n;

	cr_assert_not_null(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(sent_path);
}

static void
run_params(struct mf_diag_params *p, const char *port)
{
	memset(p, 0, sizeof(*p));
	p->conn.host = "127.0.0.1";
	p->conn.port = port;
	p->conn.tls = MF_TLS_NONE;
	p->ehlo_name = "client.test";
	p->conn.cred.user = "joe";
	p->conn.cred.source.password = "wrong-secret";
	p->mechs = "PLAIN";
	p->quit_after = MF_DIAG_NSTAGES;
	p->conn.timeout_ms = 5000;
	p->banner_wait_ms = 5000;
}

static int
has_finding(const struct mf_diag_report *r, enum mf_diag_code c)
{
	size_t i;

	for (i = 0; i < r->nfinding; i++)
		if (r->finding[i].code == c)
			return 1;
	return 0;
}

Test(diag_run, refused_auth_is_explained_as_bad_credentials)
{
	/* base64("\0joe\0wrong-secret"), RFC 4616 */
	static const struct step st[] = {
		{ NULL, "220 fake.test ESMTP\r\n" },
		{ "EHLO client.test", "250-fake.test\r\n250 AUTH PLAIN LOGIN\r\n" },
		{ "AUTH PLAIN AGpvZQB3cm9uZy1zZWNyZXQ=",
		  "535 5.7.8 Authentication credentials invalid\r\n" },
	};
	struct mf_diag_params p;
	struct mf_diag_report r;
	struct mf_err e = {0};
	char port[8], sent[4096];
	pid_t pid;

	pid = smtp_peer(st, sizeof(st) / sizeof(st[0]), port, sizeof(port));
	run_params(&p, port);
	mf_diag_report_init(&r);
	cr_assert_eq(mf_diag_run(&p, &r, &e), 0, "%s", e.msg);
	cr_expect_eq(peer_status(pid), 0, "the server did not see what it "
	    "expected");
	sent_lines(sent, sizeof(sent));
	cr_expect(strstr(sent, "AUTH PLAIN ") != NULL, "sent: %s", sent);
	/* the observation: AUTH answered 535 5.7.8 */
	cr_expect(r.stage[MF_DIAG_AUTH].done);
	cr_expect_not(r.stage[MF_DIAG_AUTH].ok);
	cr_expect_eq(r.stage[MF_DIAG_AUTH].code, 535);
	cr_expect_str_eq(r.stage[MF_DIAG_AUTH].enhanced, "5.7.8");
	cr_assert_eq(r.nmech, 1);
	cr_expect_str_eq(r.mech[0].name, "PLAIN");
	/* the explanation and the exit status (77: credentials refused) */
	cr_expect(has_finding(&r, MF_DIAG_AUTH_BAD_CREDENTIALS),
	    "verdict: %s", r.verdict);
	cr_expect_eq(r.exit_code, 77);
	/* the secret never reaches the report's transcript */
	cr_expect_null(strstr(r.transcript.data ? r.transcript.data : "",
	    "AGpvZQB3cm9uZy1zZWNyZXQ="));
	cr_expect_null(strstr(r.transcript.data ? r.transcript.data : "",
	    "wrong-secret"));
	mf_diag_report_free(&r);
}

Test(diag_run, auth_not_offered_is_found_without_sending_the_secret)
{
	static const struct step st[] = {
		{ NULL, "220 fake.test ESMTP\r\n" },
		{ "EHLO client.test", "250-fake.test\r\n250 SIZE 1000\r\n" },
	};
	struct mf_diag_params p;
	struct mf_diag_report r;
	struct mf_err e = {0};
	char port[8], sent[4096];
	pid_t pid;

	pid = smtp_peer(st, sizeof(st) / sizeof(st[0]), port, sizeof(port));
	run_params(&p, port);
	p.mechs = NULL;         /* every offered one we implement: none */
	mf_diag_report_init(&r);
	cr_assert_eq(mf_diag_run(&p, &r, &e), 0, "%s", e.msg);
	cr_expect_eq(peer_status(pid), 0);
	sent_lines(sent, sizeof(sent));
	cr_expect_null(strstr(sent, "AUTH"), "sent: %s", sent);
	cr_expect(has_finding(&r, MF_DIAG_AUTH_NOT_OFFERED), "verdict: %s",
	    r.verdict);
	cr_expect_neq(r.exit_code, 0);
	mf_diag_report_free(&r);
}
