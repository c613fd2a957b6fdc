/* diag.c - smtp-auth-test's session walk: run the submission session
 * step by step through smtp.h and record what happened in the report.
 *
 * The walk only records observations; it keeps going as far as it safely
 * can so that the rules (diagrules.c) see the whole picture. */
#include "diag.h"
#include "tlsport.h"
#include "buf.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sasl.h"
#include "sock.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_BANNER_MS 5000
/* For the version probe: what a current client refuses, allowed once to
 * learn what the server speaks (RFC 8996 deprecates TLS 1.0 and 1.1). */
#define LEGACY_PRIORITY "NORMAL:+VERS-TLS1.1:+VERS-TLS1.0:%COMPAT"

struct run {
	const struct mf_diag_params *p;
	struct mf_diag_report *r;
	struct mf_transcript *tr;
	struct mf_smtp_params sp;
	int timeout_ms;
	int banner_ms;
	int mail_done;
	struct mf_secret secret;    /* for every AUTH of this run; wiped at end */
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
on_line(void *arg, enum mf_tx_dir dir, int tls, const char *line)
{
	struct run *ru = arg;

	/* A full transcript buffer only loses the tail of the record. */
	(void)mf_buf_printf(&ru->r->transcript, NULL, "%s %s\n",
	                    mf_transcript_marker(dir, tls), line);
	if (ru->p->line_fn != NULL)
		ru->p->line_fn(ru->p->line_arg, dir, tls, line);
}

static void
copy_reply(int code, const char *enh, const char *text, int *ocode,
           char *oenh, size_t enhlen, char *otext, size_t textlen)
{
	*ocode = code;
	mf_strlcpy(oenh, enh, enhlen);
	mf_strlcpy(otext, text, textlen);
}

/* Record a finished step: rc 0 worked; the reply (if one was read) or the
 * error's reply says what the server answered. */
static void
stage_done(struct run *ru, enum mf_diag_stage_id id, long t0, int rc,
           const struct mf_smtp_reply *rep, const struct mf_err *e)
{
	struct mf_diag_stage *s = &ru->r->stage[id];

	s->done = 1;
	s->ms = now_ms() - t0;
	s->ok = rc == 0;
	if (rep != NULL && rep->code != 0)
		copy_reply(rep->code, rep->enhanced, rep->text, &s->code,
		           s->enhanced, sizeof(s->enhanced), s->text, sizeof(s->text));
	else if (rc != 0 && e->reply_code != 0)
		copy_reply(e->reply_code, e->enhanced, e->reply, &s->code,
		           s->enhanced, sizeof(s->enhanced), s->text, sizeof(s->text));
	if (rc != 0) {
		s->err = e->kind;
		s->sys_errno = e->sys_errno;
		mf_strlcpy(s->msg, e->msg, sizeof(s->msg));
	}
}

static void
session_params(struct run *ru, enum mf_tls_mode mode)
{
	const struct mf_diag_params *p = ru->p;
	struct mf_smtp_params *sp = &ru->sp;

	memset(sp, 0, sizeof(*sp));
	sp->conn = p->conn;
	sp->conn.port = ru->r->port;
	sp->conn.tls = mode;
	/* A diagnosis judges the certificate the server shows now: it never
	 * resumes a session (issue 14.6), whatever the caller passed. */
	sp->conn.tlsp.session_file = NULL;
	if (sp->conn.tlsp.verify_name == NULL && !sp->conn.tlsp.insecure)
		sp->conn.tlsp.verify_name = p->conn.host;
	memset(&sp->conn.sock, 0, sizeof(sp->conn.sock));
	sp->conn.sock.connect_timeout_ms = ru->timeout_ms;
	sp->conn.sock.io_timeout_ms = ru->timeout_ms;
	sp->conn.tr = ru->tr;
	sp->conn.timeout_ms = ru->timeout_ms;
	sp->ehlo_name = p->ehlo_name;
	sp->quit_reply = 1;     /* the transcript shows the whole dialogue */
}

/* A fresh session up to where AUTH can start (for the next mechanism and
 * for the probes), with the given TLS settings. */
static struct mf_smtp *
open_session(struct run *ru, const struct mf_smtp_params *sp,
             enum mf_tls_mode tls, struct mf_tls_info *info, struct mf_err *e)
{
	struct mf_smtp_reply rep;
	struct mf_tls_info scratch;
	struct mf_smtp *s = mf_smtp_new(sp, e);

	(void)ru;
	if (s == NULL)
		return NULL;
	if (mf_smtp_connect(s, e) == -1 || mf_smtp_greeting(s, &rep, e) == -1 ||
	    mf_smtp_ehlo(s, &rep, e) == -1)
		goto fail;
	if (tls == MF_TLS_STARTTLS &&
	    (mf_smtp_starttls(s, &rep, info ? info : &scratch, e) == -1 ||
	     mf_smtp_ehlo(s, &rep, e) == -1))
		goto fail;
	return s;
fail:
	mf_smtp_free(s);
	return NULL;
}

/* Implicit TLS failed inside mf_smtp_connect: the session kept the
 * handshake's facts (chain, alert, the plaintext a non-TLS peer sent). */
static void
implicit_tls_facts(struct run *ru, const struct mf_smtp *s,
                   const struct mf_err *e)
{
	const struct mf_tls_info *ti = mf_smtp_tls(s);

	memset(&ru->r->tls, 0, sizeof(ru->r->tls));
	if (ti != NULL)
		ru->r->tls = *ti;
	if (ru->r->tls.verify_reason[0] == '\0' && e->kind == MF_E_TLS_VERIFY)
		mf_strlcpy(ru->r->tls.verify_reason, e->msg,
		           sizeof(ru->r->tls.verify_reason));
}

/* The greeting never came: is this an implicit-TLS port?  The same
 * probe mailsend, pop-fetch and imap-sync use (tlsport.h). */
static void
probe_implicit(struct run *ru)
{
	struct mf_err e;
	long t0 = now_ms();
	int rc;

	mf_err_clear(&e);
	ru->r->probe_kind = 1;
	mf_transcript_info(ru->tr, "no greeting: probing %s:%s with a TLS "
	                   "handshake on a new connection", ru->sp.conn.host,
	                   ru->sp.conn.port);
	rc = mf_tlsport_probe(ru->sp.conn.host, ru->sp.conn.port,
	                      &ru->sp.conn.sock, ru->banner_ms) ? 0 : -1;
	if (rc == -1)
		mf_err_set(&e, MF_E_TLS, "no TLS handshake on a new connection");
	stage_done(ru, MF_DIAG_PROBE, t0, rc, NULL, &e);
	ru->r->probe_ok = rc == 0;
}

/* The handshake failed: would it work with old versions allowed? */
static void
probe_legacy(struct run *ru)
{
	struct mf_smtp_params sp = ru->sp;
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_smtp *s;
	long t0 = now_ms();
	const struct mf_tls_info *ti;

	memset(&info, 0, sizeof(info));
	mf_err_clear(&e);
	ru->r->probe_kind = 2;
	sp.conn.tlsp.priority = LEGACY_PRIORITY;
	sp.conn.tlsp.min_version = NULL;
	sp.conn.tlsp.insecure = 1;
	sp.conn.tlsp.fingerprint = NULL;
	sp.conn.tlsp.verify_name = NULL;
	mf_transcript_info(ru->tr, "TLS handshake failed: probing again with "
	                   "TLS 1.0 and 1.1 allowed");
	if (ru->r->tls_used == MF_TLS_IMPLICIT) {
		sp.conn.tls = MF_TLS_IMPLICIT;
		s = mf_smtp_new(&sp, &e);
		if (s != NULL && mf_smtp_connect(s, &e) == 0) {
			ti = mf_tls_get_info(mf_smtp_transport(s));
			if (ti != NULL)
				info = *ti;
			ru->r->probe_ok = 1;
		}
	} else {
		s = open_session(ru, &sp, MF_TLS_STARTTLS, &info, &e);
		ru->r->probe_ok = s != NULL;
	}
	stage_done(ru, MF_DIAG_PROBE, t0, ru->r->probe_ok ? 0 : -1, NULL, &e);
	mf_strlcpy(ru->r->probe_version, info.version,
	           sizeof(ru->r->probe_version));
	mf_smtp_free(s);
}

static void
save_caps(struct run *ru, struct mf_smtp *s, int after)
{
	const struct mf_smtp_caps *c = mf_smtp_caps(s);

	if (c == NULL)
		return;
	if (after) {
		ru->r->caps_after = *c;
		ru->r->have_caps_after = 1;
	} else {
		ru->r->caps_before = *c;
		ru->r->have_caps_before = 1;
	}
}

/* TCP connect, and the TLS handshake on an implicit-TLS port. */
static int
step_connect(struct run *ru, struct mf_smtp *s, struct mf_err *e)
{
	struct mf_diag_report *r = ru->r;
	long t0 = now_ms();
	int rc;

	rc = mf_smtp_connect(s, e);
	stage_done(ru, MF_DIAG_CONNECT, t0, rc, NULL, e);
	if (rc == -1) {
		if (r->tls_used == MF_TLS_IMPLICIT &&
		    (e->kind == MF_E_TLS || e->kind == MF_E_TLS_VERIFY)) {
			r->tls_attempted = 1;
			implicit_tls_facts(ru, s, e);
			if (e->kind == MF_E_TLS && r->tls.plaintext_seen[0] == '\0')
				probe_legacy(ru);
		}
		return -1;
	}
	mf_strlcpy(r->peer, mf_smtp_peer(s) ? mf_smtp_peer(s) : "", sizeof(r->peer));
	mf_strlcpy(r->stage[MF_DIAG_CONNECT].text, r->peer,
	           sizeof(r->stage[MF_DIAG_CONNECT].text));
	if (r->tls_used == MF_TLS_IMPLICIT) {
		const struct mf_tls_info *ti = mf_tls_get_info(mf_smtp_transport(s));

		r->tls_attempted = r->tls_ok = 1;
		if (ti != NULL)
			r->tls = *ti;
	}
	return 0;
}

static int
step_banner(struct run *ru, struct mf_smtp *s, struct mf_smtp_reply *rep,
            struct mf_err *e)
{
	long t0;
	int rc;

	/* RFC 5321 §4.5.3.2 allows 5 minutes for the greeting; an
	 * implicit-TLS port says nothing at all, so wait only briefly. */
	mf_transport_set_timeout(mf_smtp_transport(s), ru->banner_ms);
	t0 = now_ms();
	rc = mf_smtp_greeting(s, rep, e);
	stage_done(ru, MF_DIAG_BANNER, t0, rc, rep, e);
	if (rc == -1) {
		if (e->kind == MF_E_TIMEOUT && ru->r->tls_used != MF_TLS_IMPLICIT)
			probe_implicit(ru);
		return -1;
	}
	mf_transport_set_timeout(mf_smtp_transport(s), ru->timeout_ms);
	return 0;
}

/* EHLO (id MF_DIAG_EHLO or MF_DIAG_EHLO_TLS); after: the capabilities
 * are those of the encrypted session. */
static int
step_ehlo(struct run *ru, struct mf_smtp *s, enum mf_diag_stage_id id,
          int after, struct mf_smtp_reply *rep, struct mf_err *e)
{
	long t0 = now_ms();
	int rc;

	rc = mf_smtp_ehlo(s, rep, e);
	stage_done(ru, id, t0, rc, rep, e);
	if (rc == -1)
		return -1;
	save_caps(ru, s, after);
	return 0;
}

static int
step_starttls(struct run *ru, struct mf_smtp *s, struct mf_smtp_reply *rep,
              struct mf_err *e)
{
	struct mf_diag_report *r = ru->r;
	long t0;
	int rc;

	r->tls_attempted = 1;
	t0 = now_ms();
	rc = mf_smtp_starttls(s, rep, &r->tls, e);
	stage_done(ru, MF_DIAG_STARTTLS, t0, rc, rep, e);
	if (rc == -1) {
		if (e->kind == MF_E_TLS && r->tls.plaintext_seen[0] == '\0')
			probe_legacy(ru);
		return -1;
	}
	r->tls_ok = 1;
	mf_transport_set_timeout(mf_smtp_transport(s), ru->timeout_ms);
	return 0;
}

/* connect .. EHLO after TLS, stopping at --quit-after.  One reply and
 * one error record run through the steps.  Returns 0 to go on to AUTH. */
static int
walk_to_auth(struct run *ru, struct mf_smtp *s)
{
	struct mf_diag_report *r = ru->r;
	struct mf_smtp_reply rep;
	struct mf_err e;

	memset(&rep, 0, sizeof(rep));
	mf_err_clear(&e);
	if (step_connect(ru, s, &e) == -1 || r->quit_after == MF_DIAG_CONNECT)
		return -1;
	if (step_banner(ru, s, &rep, &e) == -1 || r->quit_after == MF_DIAG_BANNER)
		return -1;
	if (step_ehlo(ru, s, MF_DIAG_EHLO, r->tls_used == MF_TLS_IMPLICIT, &rep,
	              &e) == -1 || r->quit_after == MF_DIAG_EHLO)
		return -1;
	if (r->tls_used == MF_TLS_STARTTLS) {
		if (!r->caps_before.starttls) {
			/* RFC 3207 §4: never send credentials in clear because
			 * the STARTTLS we wanted was missing (stripped?). */
			r->auth_withheld = r->user_given;
			return -1;
		}
		if (step_starttls(ru, s, &rep, &e) == -1 ||
		    step_ehlo(ru, s, MF_DIAG_EHLO_TLS, 1, &rep, &e) == -1)
			return -1;
	}
	return r->quit_after == MF_DIAG_EHLO_TLS ? -1 : 0;
}

/* MAIL FROM (and RCPT TO) on an authenticated (or unauthenticated, when
 * no user was given) session, then RSET. */
static void
walk_mail(struct run *ru, struct mf_smtp *s)
{
	const struct mf_diag_params *p = ru->p;
	struct mf_smtp_reply rep;
	struct mf_err e;
	long t0;
	int rc;

	if (p->from == NULL || ru->mail_done || ru->r->quit_after < MF_DIAG_MAIL)
		return;
	ru->mail_done = 1;
	memset(&rep, 0, sizeof(rep));
	mf_err_clear(&e);
	t0 = now_ms();
	rc = mf_smtp_mail(s, p->from, &rep, &e);
	if (rc == 0 && rep.code / 100 != 2)
		rc = mf_err_reply(&e, mf_smtp_reply_kind(rep.code), rep.code,
		                  rep.enhanced, rep.text, "MAIL FROM refused");
	stage_done(ru, MF_DIAG_MAIL, t0, rc, &rep, &e);
	if (rc == -1 || p->to == NULL || ru->r->quit_after < MF_DIAG_RCPT)
		goto reset;
	memset(&rep, 0, sizeof(rep));
	t0 = now_ms();
	rc = mf_smtp_rcpt(s, p->to, &rep, &e);
	if (rc == 0 && rep.code / 100 != 2)
		rc = mf_err_reply(&e, mf_smtp_reply_kind(rep.code), rep.code,
		                  rep.enhanced, rep.text, "RCPT TO refused");
	stage_done(ru, MF_DIAG_RCPT, t0, rc, &rep, &e);
reset:
	if (ru->r->stage[MF_DIAG_MAIL].err != MF_E_CLOSED &&
	    ru->r->stage[MF_DIAG_RCPT].err != MF_E_CLOSED)
		(void)mf_smtp_rset(s, &rep, &e);
}

static int
in_list(const char *list, const char *word)
{
	const char *p = list;
	size_t wl = strlen(word);

	while (*p) {
		size_t n;

		p += strspn(p, " ,");
		n = strcspn(p, " ,");
		if (n == wl && strncasecmp(p, word, n) == 0)
			return 1;
		p += n;
	}
	return 0;
}

static struct mf_diag_mech *
add_mech(struct mf_diag_report *r, const char *name, size_t n)
{
	struct mf_diag_mech *m;
	size_t i;

	if (n == 0 || n >= sizeof(r->mech[0].name))
		return NULL;
	for (i = 0; i < r->nmech; i++)
		if (strlen(r->mech[i].name) == n &&
		    strncasecmp(r->mech[i].name, name, n) == 0)
			return NULL;
	if (r->nmech >= MF_DIAG_MECH_MAX)
		return NULL;
	m = &r->mech[r->nmech++];
	memset(m, 0, sizeof(*m));
	memcpy(m->name, name, n);
	m->name[n] = '\0';
	return m;
}

/* Which mechanisms to try, in order: the offered ones (default and
 * "all"), or the ones named, offered or not (a server may accept what it
 * does not list; a 504 is then the answer). */
static void
plan_mechs(struct run *ru, const char *offered)
{
	const char *want = ru->p->mechs;
	int all = want != NULL && strcasecmp(want, "all") == 0;
	int named = want != NULL && want[0] && !all;
	const char *list = named ? want : offered;
	const char *p = list;

	while (*p) {
		struct mf_diag_mech *m;
		size_t n;

		p += strspn(p, " ,");
		n = strcspn(p, " ,");
		m = add_mech(ru->r, p, n);
		p += n;
		if (m == NULL)
			continue;
		if (!mf_sasl_supported(m->name)) {
			mf_strlcpy(m->note, "not implemented by mailflow",
			           sizeof(m->note));
			m->result = MF_DIAG_MECH_NOT_TRIED;
		} else if (!named && !all && mf_diag_is_oauth_mech(m->name)) {
			mf_strlcpy(m->note, "needs an OAuth token: name it with --mech",
			           sizeof(m->note));
		} else {
			m->result = MF_DIAG_MECH_FAILED;   /* to be tried */
			if (named && !in_list(offered, m->name))
				mf_strlcpy(m->note, "not offered by the server",
				           sizeof(m->note));
		}
	}
}

static int
try_mech(struct run *ru, struct mf_smtp *s, struct mf_diag_mech *m)
{
	const struct mf_diag_params *p = ru->p;
	struct mf_sasl_params sp;
	struct mf_smtp_reply rep;
	struct mf_err e;
	unsigned char cb[64];
	long port = 0;
	long t0;
	int rc;

	memset(&rep, 0, sizeof(rep));
	mf_err_clear(&e);
	(void)mf_parse_long(ru->r->port, 0, 65535, &port);
	mf_sasl_params_set(&sp, &p->conn.cred, m->name, ru->secret.data,
	                   p->conn.host, (unsigned)port);
	/* Each offered mechanism is tried on its own: bind when on TLS, so
	 * that SCRAM says "p=", or "n" beside an offered -PLUS, "y" only
	 * when none is offered (RFC 5802 §6). */
	if (mf_smtp_is_tls(s))
		mf_sasl_bind_tls(&sp, mf_smtp_transport(s), cb, sizeof(cb));
	sp.server_plus = mf_sasl_offers_plus(mf_smtp_caps(s)->auth);
	mf_err_clear(&e);
	t0 = now_ms();
	rc = mf_smtp_auth(s, m->name, &sp, &rep, m->sasl_error,
	                  sizeof(m->sasl_error), &e);
	m->ms = now_ms() - t0;
	m->result = rc == 0 ? MF_DIAG_MECH_OK : MF_DIAG_MECH_FAILED;
	if (rep.code != 0)
		copy_reply(rep.code, rep.enhanced, rep.text, &m->code, m->enhanced,
		           sizeof(m->enhanced), m->text, sizeof(m->text));
	else if (rc == -1)
		copy_reply(e.reply_code, e.enhanced, e.reply[0] ? e.reply : e.msg,
		           &m->code, m->enhanced, sizeof(m->enhanced), m->text,
		           sizeof(m->text));
	if (rc == -1)
		m->err = e.kind;
	mf_memwipe(cb, sizeof(cb));
	return rc;
}

/* A failure after which the connection cannot be used any more. */
static int
fatal_kind(enum mf_err_kind k)
{
	return k == MF_E_CLOSED || k == MF_E_TIMEOUT || k == MF_E_PROTO ||
	       k == MF_E_LIMIT || k == MF_E_TLS || k == MF_E_IO;
}

static void
auth_summary(struct run *ru, long t0)
{
	struct mf_diag_stage *st_auth = &ru->r->stage[MF_DIAG_AUTH];
	size_t i, len = 0;
	const struct mf_diag_mech *fail = NULL;

	st_auth->done = 1;
	st_auth->ms = now_ms() - t0;
	st_auth->ok = 0;
	for (i = 0; i < ru->r->nmech; i++) {
		const struct mf_diag_mech *m = &ru->r->mech[i];
		const char *res = m->result == MF_DIAG_MECH_OK ? "ok" :
		                  m->result == MF_DIAG_MECH_FAILED ? "failed" :
		                  "not tried";

		if (m->result == MF_DIAG_MECH_OK)
			st_auth->ok = 1;
		if (m->result == MF_DIAG_MECH_FAILED && fail == NULL)
			fail = m;
		mf_fmt(st_auth->text + len, sizeof(st_auth->text) - len, "%s%s %s",
		    len ? ", " : "", m->name, res);
		len = strlen(st_auth->text);
	}
	if (!st_auth->ok && fail != NULL) {
		st_auth->err = fail->err;
		st_auth->code = fail->code;
		mf_strlcpy(st_auth->enhanced, fail->enhanced, sizeof(st_auth->enhanced));
		mf_strlcpy(st_auth->msg, fail->text, sizeof(st_auth->msg));
	} else if (!st_auth->ok) {
		st_auth->err = MF_E_UNSUPPORTED;
		mf_strlcpy(st_auth->msg, "no mechanism could be tried",
		           sizeof(st_auth->msg));
	}
}

/* The mechanisms from index first on that were still to be tried will
 * not be, for this reason. */
static void
untry_from(struct mf_diag_report *r, size_t first, const char *why)
{
	size_t k;

	for (k = first; k < r->nmech; k++)
		if (r->mech[k].result == MF_DIAG_MECH_FAILED) {
			r->mech[k].result = MF_DIAG_MECH_NOT_TRIED;
			mf_strlcpy(r->mech[k].note, why, sizeof(r->mech[k].note));
		}
}

/* Each planned mechanism on a session of its own once one succeeded
 * (a second AUTH after success is refused, RFC 4954 §4). */
static struct mf_smtp *
walk_auth(struct run *ru, struct mf_smtp *s)
{
	struct mf_diag_report *r = ru->r;
	const struct mf_smtp_caps *c = mf_diag_auth_caps(r);
	long t0 = now_ms();
	int fresh = 1;
	size_t i;

	if (c == NULL || !c->auth[0]) {
		if (ru->p->mechs == NULL || strcasecmp(ru->p->mechs, "all") == 0)
			return s;
	}
	plan_mechs(ru, c ? c->auth : "");
	if (ru->p->conn.cred.user == NULL ||
	    mf_auth_secret(&ru->p->conn.cred, &ru->secret, NULL) == -1) {
		mf_strlcpy(r->stage[MF_DIAG_AUTH].text, "no password or token",
		           sizeof(r->stage[MF_DIAG_AUTH].text));
		untry_from(r, 0, "no password");
		auth_summary(ru, t0);
		return s;
	}
	for (i = 0; i < r->nmech; i++) {
		struct mf_diag_mech *m = &r->mech[i];
		struct mf_err e;

		if (m->result != MF_DIAG_MECH_FAILED)
			continue;
		if (!fresh) {
			mf_smtp_free(s);
			mf_transcript_info(ru->tr, "new session for AUTH %s", m->name);
			mf_err_clear(&e);
			s = open_session(ru, &ru->sp, r->tls_used, NULL, &e);
			if (s == NULL) {
				m->result = MF_DIAG_MECH_NOT_TRIED;
				mf_fmt(m->note, sizeof(m->note), "reconnect failed: %s", e.msg);
				break;
			}
		}
		fresh = 0;
		if (try_mech(ru, s, m) == 0) {
			walk_mail(ru, s);
			continue;
		}
		fresh = 1;
		if (fatal_kind(m->err) || m->code == 421) {
			untry_from(r, i + 1, "connection lost");
			break;
		}
	}
	auth_summary(ru, t0);
	return s;
}

static void
walk(struct run *ru)
{
	struct mf_diag_report *r = ru->r;
	struct mf_err e;
	struct mf_smtp *s;

	mf_err_clear(&e);
	s = mf_smtp_new(&ru->sp, &e);
	if (s == NULL) {
		stage_done(ru, MF_DIAG_CONNECT, now_ms(), -1, NULL, &e);
		return;
	}
	if (walk_to_auth(ru, s) == 0) {
		if (r->user_given && r->quit_after >= MF_DIAG_AUTH)
			s = walk_auth(ru, s);
		else if (!r->user_given)
			walk_mail(ru, s);
	}
	mf_smtp_free(s);
}

static enum mf_tls_mode
choose_tls(enum mf_tls_mode req, const char *port)
{
	switch (req) {
	case MF_TLS_IMPLICIT:
	case MF_TLS_NONE:
	case MF_TLS_STARTTLS:
		return req;
	default:
		return strcmp(port, "465") == 0 ? MF_TLS_IMPLICIT : MF_TLS_STARTTLS;
	}
}

int
mf_diag_run(const struct mf_diag_params *p, struct mf_diag_report *r,
            struct mf_err *e)
{
	struct run ru;
	long t0 = now_ms();
	const char *port;

	if (p->conn.host == NULL || p->conn.host[0] == '\0')
		return mf_err_set(e, MF_E_USAGE, "no server given");
	memset(&ru, 0, sizeof(ru));
	ru.p = p;
	ru.r = r;
	ru.timeout_ms = p->conn.timeout_ms > 0 ? p->conn.timeout_ms :
	    DEFAULT_TIMEOUT_MS;
	ru.banner_ms = p->banner_wait_ms > 0 ? p->banner_wait_ms : DEFAULT_BANNER_MS;
	if (ru.banner_ms > ru.timeout_ms)
		ru.banner_ms = ru.timeout_ms;

	port = p->conn.port && p->conn.port[0] ? p->conn.port
	       : (p->conn.tls == MF_TLS_IMPLICIT ? "465" : "587");
	mf_strlcpy(r->host, p->conn.host, sizeof(r->host));
	mf_strlcpy(r->port, port, sizeof(r->port));
	r->tls_req = p->conn.tls == MF_TLS_UNSET ? MF_TLS_AUTO : p->conn.tls;
	r->tls_used = choose_tls(p->conn.tls, r->port);
	r->insecure = p->conn.tlsp.insecure;
	r->pinned = p->conn.tlsp.fingerprint != NULL;
	r->user_given = p->conn.cred.user != NULL &&
	    p->conn.cred.user[0] != '\0';
	r->mech_explicit = p->mechs != NULL && p->mechs[0] &&
	                   strcasecmp(p->mechs, "all") != 0;
	r->from_given = p->from != NULL;
	r->to_given = p->to != NULL;
	r->quit_after = p->quit_after;
	r->timeout_ms = ru.timeout_ms;
	mf_strlcpy(r->verify_name, p->conn.tlsp.verify_name ?
	    p->conn.tlsp.verify_name : p->conn.host, sizeof(r->verify_name));

	ru.tr = mf_transcript_new_cb(on_line, &ru,
	                             p->show_secrets ? MF_TX_SHOW_SECRETS : 0);
	if (ru.tr == NULL)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	session_params(&ru, r->tls_used == MF_TLS_IMPLICIT ? MF_TLS_IMPLICIT
	                                                   : MF_TLS_NONE);
	walk(&ru);
	mf_secret_wipe(&ru.secret);
	r->total_ms = now_ms() - t0;
	mf_transcript_free(ru.tr);
	mf_diag_analyze(r);
	return 0;
}
