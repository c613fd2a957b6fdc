/* diagrules.c - smtp-auth-test's rules: observations in, findings out.
 *
 * One table: per finding code a match function that looks at the report's
 * observations only (never the network), plus the "why" and "fix" texts.
 * The table's order is the order of causes, so the first error decides
 * the exit status. */
#include "diagrules.h"
#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ------------------------------------------------------------------ names */

static const char *const code_names[MF_DIAG_NCODES] = {
	[MF_DIAG_OK] = "OK",
	[MF_DIAG_AUTH_NEEDS_STARTTLS] = "AUTH_NEEDS_STARTTLS",
	[MF_DIAG_IMPLICIT_TLS_PORT] = "IMPLICIT_TLS_PORT",
	[MF_DIAG_PLAINTEXT_PORT_TLS] = "PLAINTEXT_PORT_TLS",
	[MF_DIAG_NO_STARTTLS] = "NO_STARTTLS",
	[MF_DIAG_TLS_UNAVAILABLE_454] = "TLS_UNAVAILABLE_454",
	[MF_DIAG_CERT_NAME_MISMATCH] = "CERT_NAME_MISMATCH",
	[MF_DIAG_CERT_EXPIRED] = "CERT_EXPIRED",
	[MF_DIAG_CERT_NOT_YET_VALID] = "CERT_NOT_YET_VALID",
	[MF_DIAG_CERT_UNTRUSTED] = "CERT_UNTRUSTED",
	[MF_DIAG_CERT_PIN_MISMATCH] = "CERT_PIN_MISMATCH",
	[MF_DIAG_TLS_VERSION_MISMATCH] = "TLS_VERSION_MISMATCH",
	[MF_DIAG_TLS_HANDSHAKE_FAILED] = "TLS_HANDSHAKE_FAILED",
	[MF_DIAG_AUTH_BAD_CREDENTIALS] = "AUTH_BAD_CREDENTIALS",
	[MF_DIAG_AUTH_APP_PASSWORD] = "AUTH_APP_PASSWORD",
	[MF_DIAG_AUTH_ENCRYPTION_REQUIRED] = "AUTH_ENCRYPTION_REQUIRED",
	[MF_DIAG_AUTH_MECH_UNSUPPORTED] = "AUTH_MECH_UNSUPPORTED",
	[MF_DIAG_OAUTH_ERROR] = "OAUTH_ERROR",
	[MF_DIAG_AUTH_TEMPFAIL] = "AUTH_TEMPFAIL",
	[MF_DIAG_AUTH_FAILED] = "AUTH_FAILED",
	[MF_DIAG_AUTH_NOT_OFFERED] = "AUTH_NOT_OFFERED",
	[MF_DIAG_NO_USABLE_MECH] = "NO_USABLE_MECH",
	[MF_DIAG_SENDER_NOT_AUTHORIZED] = "SENDER_NOT_AUTHORIZED",
	[MF_DIAG_RCPT_REFUSED] = "RCPT_REFUSED",
	[MF_DIAG_SERVER_BUSY_421] = "SERVER_BUSY_421",
	[MF_DIAG_GREYLISTED] = "GREYLISTED",
	[MF_DIAG_SERVICE_REFUSED_554] = "SERVICE_REFUSED_554",
	[MF_DIAG_CONN_REFUSED] = "CONN_REFUSED",
	[MF_DIAG_CONN_TIMEOUT] = "CONN_TIMEOUT",
	[MF_DIAG_DNS_FAILURE] = "DNS_FAILURE",
	[MF_DIAG_CONN_FAILED] = "CONN_FAILED",
	[MF_DIAG_NO_BANNER] = "NO_BANNER",
	[MF_DIAG_EHLO_NAME_REJECTED] = "EHLO_NAME_REJECTED",
	[MF_DIAG_CONN_CLOSED] = "CONN_CLOSED",
	[MF_DIAG_GARBAGE_REPLY] = "GARBAGE_REPLY",
	[MF_DIAG_REPLY_TIMEOUT] = "REPLY_TIMEOUT",
	[MF_DIAG_PLAINTEXT_AUTH_ONLY] = "PLAINTEXT_AUTH_ONLY",
	[MF_DIAG_PLAINTEXT_SESSION] = "PLAINTEXT_SESSION",
	[MF_DIAG_TLS_INSECURE] = "TLS_INSECURE",
	[MF_DIAG_NO_USER] = "NO_USER",
	[MF_DIAG_CLIENT_CONFIG] = "CLIENT_CONFIG",
};

const char *
mf_diag_code_name(enum mf_diag_code c)
{
	if ((int)c < 0 || c >= MF_DIAG_NCODES || code_names[c] == NULL)
		return "?";
	return code_names[c];
}

static const char *const stage_names[MF_DIAG_NSTAGES] = {
	"connect", "banner", "ehlo", "starttls", "ehlo-tls", "auth", "mail",
	"rcpt", "probe"
};

const char *
mf_diag_stage_name(enum mf_diag_stage_id id)
{
	if ((int)id < 0 || id >= MF_DIAG_NSTAGES)
		return "?";
	return stage_names[id];
}

int
mf_diag_stage_parse(const char *s, enum mf_diag_stage_id *out)
{
	static const struct { const char *w; enum mf_diag_stage_id id; } words[] = {
		{ "connect", MF_DIAG_CONNECT }, { "banner", MF_DIAG_BANNER },
		{ "ehlo", MF_DIAG_EHLO }, { "tls", MF_DIAG_EHLO_TLS },
		{ "starttls", MF_DIAG_EHLO_TLS }, { "auth", MF_DIAG_AUTH },
		{ "mail", MF_DIAG_MAIL }, { "rcpt", MF_DIAG_RCPT },
	};
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(s, words[i].w) == 0) {
			*out = words[i].id;
			return 0;
		}
	}
	return -1;
}

const char *
mf_diag_severity_name(enum mf_diag_severity s)
{
	switch (s) {
	case MF_DIAG_ERROR: return "error";
	case MF_DIAG_WARNING: return "warning";
	default: return "info";
	}
}

void
mf_diag_report_init(struct mf_diag_report *r)
{
	memset(r, 0, sizeof(*r));
	mf_buf_init(&r->transcript, MF_DIAG_TRANSCRIPT_MAX);
	r->tls_req = MF_TLS_AUTO;
	r->quit_after = MF_DIAG_NSTAGES;
}

void
mf_diag_report_free(struct mf_diag_report *r)
{
	if (r == NULL)
		return;
	mf_buf_wipe(&r->transcript);
}

int
mf_diag_has(const struct mf_diag_report *r, enum mf_diag_code c)
{
	size_t i;

	for (i = 0; i < r->nfinding; i++)
		if (r->finding[i].code == c)
			return 1;
	return 0;
}

/* ---------------------------------------------------------- helpers */

static const struct mf_diag_stage *
st(const struct mf_diag_report *r, enum mf_diag_stage_id id)
{
	return &r->stage[id];
}

static int
failed(const struct mf_diag_report *r, enum mf_diag_stage_id id)
{
	return r->stage[id].done && !r->stage[id].ok;
}

static int
istarts(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static int
icontains(const char *hay, const char *needle)
{
	return hay != NULL && strcasestr(hay, needle) != NULL;
}

/* First line of a reply text, for quoting in one sentence. */
static void
first_line(const char *text, char *out, size_t outlen)
{
	size_t n = strcspn(text, "\n");

	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, text, n);
	out[n] = '\0';
}

/* A message without its final full stop, to end our own sentence. */
static const char *
nodot(const char *in, char *out, size_t outlen)
{
	size_t n;

	mf_strlcpy(out, in, outlen);
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '.' || out[n - 1] == ' '))
		out[--n] = '\0';
	return out;
}

/* "535 5.7.8 Authentication failed" from a stage or mechanism. */
static void
quote_reply(int code, const char *enh, const char *text, char *out,
            size_t outlen)
{
	char line[256];

	first_line(text, line, sizeof(line));
	if (code == 0)
		mf_fmt(out, outlen, "%s", line[0] ? line : "(no reply)");
	else if (enh[0])
		mf_fmt(out, outlen, "%d %s %s", code, enh, line);
	else
		mf_fmt(out, outlen, "%d %s", code, line);
}

static void
quote_stage(const struct mf_diag_report *r, enum mf_diag_stage_id id,
            char *out, size_t outlen)
{
	const struct mf_diag_stage *s = st(r, id);

	quote_reply(s->code, s->enhanced, s->code ? s->text : s->msg, out, outlen);
}

/* The session was encrypted when AUTH would be sent. */
static int
encrypted(const struct mf_diag_report *r)
{
	return r->tls_ok;
}

const struct mf_smtp_caps *
mf_diag_auth_caps(const struct mf_diag_report *r)
{
	if (r->have_caps_after)
		return &r->caps_after;
	if (r->have_caps_before)
		return &r->caps_before;
	return NULL;
}

static int
is_plain_mech(const char *m)
{
	return strcasecmp(m, "PLAIN") == 0 || strcasecmp(m, "LOGIN") == 0;
}

int
mf_diag_is_oauth_mech(const char *m)
{
	return strcasecmp(m, "XOAUTH2") == 0 || strcasecmp(m, "OAUTHBEARER") == 0;
}

/* Every word of a space-separated mechanism list passes pred. */
static int
all_mechs(const char *list, int (*pred)(const char *))
{
	char word[64];
	const char *p = list;
	int any = 0;

	while (*p) {
		size_t n;

		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n == 0)
			break;
		if (n >= sizeof(word))
			return 0;
		memcpy(word, p, n);
		word[n] = '\0';
		if (!pred(word))
			return 0;
		any = 1;
		p += n;
	}
	return any;
}

static int
tls_stage_failed(const struct mf_diag_report *r, enum mf_err_kind kind)
{
	enum mf_diag_stage_id id = r->tls_used == MF_TLS_IMPLICIT
	                           ? MF_DIAG_CONNECT : MF_DIAG_STARTTLS;

	return failed(r, id) && st(r, id)->err == kind;
}

/* Which stage carries a given error kind (the first one). */
static int
stage_with_err(const struct mf_diag_report *r, enum mf_err_kind kind)
{
	int i;

	for (i = 0; i < MF_DIAG_PROBE; i++)
		if (failed(r, (enum mf_diag_stage_id)i) && r->stage[i].err == kind)
			return i;
	return -1;
}

static const struct mf_diag_mech *
mech_matching(const struct mf_diag_report *r,
              int (*pred)(const struct mf_diag_mech *))
{
	size_t i;

	for (i = 0; i < r->nmech; i++)
		if (r->mech[i].result == MF_DIAG_MECH_FAILED && pred(&r->mech[i]))
			return &r->mech[i];
	return NULL;
}

static int
any_mech_ok(const struct mf_diag_report *r)
{
	size_t i;

	for (i = 0; i < r->nmech; i++)
		if (r->mech[i].result == MF_DIAG_MECH_OK)
			return 1;
	return 0;
}

static int
mech_tried(const struct mf_diag_report *r)
{
	size_t i;

	for (i = 0; i < r->nmech; i++)
		if (r->mech[i].result != MF_DIAG_MECH_NOT_TRIED)
			return 1;
	return 0;
}

static void
quote_mech(const struct mf_diag_mech *m, char *out, size_t outlen)
{
	char q[300];

	quote_reply(m->code, m->enhanced, m->text, q, sizeof(q));
	mf_fmt(out, outlen, "AUTH %s was answered \"%s\"", m->name, q);
}

/* ---- our side */

static int
m_client_config(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	char m[512];
	int i;

	for (i = 0; i < MF_DIAG_NSTAGES; i++) {
		const struct mf_diag_stage *s = &r->stage[i];

		if (!failed(r, (enum mf_diag_stage_id)i) ||
		    (s->err != MF_E_CONFIG && s->err != MF_E_USAGE &&
		     s->err != MF_E_IO))
			continue;
		if (s->err == MF_E_USAGE)
			f->exit_code = mf_err_kind_exit(MF_E_USAGE);
		mf_fmt(f->what, sizeof(f->what), "At the %s step our own settings "
		    "failed: %s.", mf_diag_stage_name((enum mf_diag_stage_id)i),
		    nodot(s->msg, m, sizeof(m)));
		return 1;
	}
	return 0;
}

/* ---- connection */

static int
m_dns(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	char m[512];

	if (!failed(r, MF_DIAG_CONNECT) || st(r, MF_DIAG_CONNECT)->err != MF_E_NOHOST)
		return 0;
	mf_fmt(f->what, sizeof(f->what), "The name \"%s\" does not resolve to an "
	    "address (%s).", r->host, nodot(st(r, MF_DIAG_CONNECT)->msg, m, sizeof(m)));
	return 1;
}

static int
m_refused(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	const struct mf_diag_stage *s = st(r, MF_DIAG_CONNECT);

	if (!failed(r, MF_DIAG_CONNECT) || s->err != MF_E_CONNECT ||
	    s->sys_errno != ECONNREFUSED)
		return 0;
	mf_fmt(f->what, sizeof(f->what), "%s actively refused the connection to "
	    "port %s.", r->host, r->port);
	return 1;
}

static int
m_conn_timeout(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	if (!failed(r, MF_DIAG_CONNECT) || st(r, MF_DIAG_CONNECT)->err != MF_E_TIMEOUT)
		return 0;
	mf_fmt(f->what, sizeof(f->what), "Nothing answered the connection to %s "
	    "port %s within %ld ms.", r->host, r->port, st(r, MF_DIAG_CONNECT)->ms);
	return 1;
}

static int
m_conn_failed(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	const struct mf_diag_stage *s = st(r, MF_DIAG_CONNECT);
	char m[512];

	if (!failed(r, MF_DIAG_CONNECT) || s->err != MF_E_CONNECT ||
	    s->sys_errno == ECONNREFUSED)
		return 0;
	mf_fmt(f->what, sizeof(f->what), "Could not connect to %s port %s: %s.",
	    r->host, r->port, nodot(s->msg, m, sizeof(m)));
	return 1;
}

/* ---- wrong TLS mode for the port */

static int
m_plaintext_port(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	if (r->tls_used != MF_TLS_IMPLICIT || !istarts(r->tls.plaintext_seen, "220"))
		return 0;
	mf_fmt(f->what, sizeof(f->what), "We started TLS at once (implicit TLS), "
	    "but the server answered in clear text: \"%s\".", r->tls.plaintext_seen);
	return 1;
}

static int
m_implicit_port(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	if (r->probe_kind != 1 || !r->probe_ok || !failed(r, MF_DIAG_BANNER))
		return 0;
	mf_fmt(f->what, sizeof(f->what), "Port %s sent no greeting in clear text "
	    "within %ld ms, but a TLS handshake on a new connection succeeded: "
	    "this port expects TLS immediately.", r->port, st(r, MF_DIAG_BANNER)->ms);
	return 1;
}

static int
m_no_banner(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	if (!failed(r, MF_DIAG_BANNER) || st(r, MF_DIAG_BANNER)->err != MF_E_TIMEOUT ||
	    (r->probe_kind == 1 && r->probe_ok))
		return 0;
	mf_fmt(f->what, sizeof(f->what), "The connection to port %s was accepted, "
	    "but no greeting came within %ld ms%s.", r->port,
	    st(r, MF_DIAG_BANNER)->ms,
	    r->probe_kind == 1 ? ", and a TLS handshake did not work either" : "");
	return 1;
}

/* ---- greeting */

static int
m_busy(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	char q[300];
	int i;

	for (i = 0; i < MF_DIAG_PROBE; i++) {
		if (failed(r, (enum mf_diag_stage_id)i) && r->stage[i].code == 421) {
			quote_stage(r, (enum mf_diag_stage_id)i, q, sizeof(q));
			mf_fmt(f->what, sizeof(f->what), "The server answered %s with "
			    "\"%s\" and closes the connection.",
			    i == MF_DIAG_BANNER ? "the connection" :
			    mf_diag_stage_name((enum mf_diag_stage_id)i), q);
			return 1;
		}
	}
	return 0;
}

static int
m_refused_554(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	char q[300];

	if (!failed(r, MF_DIAG_BANNER) || st(r, MF_DIAG_BANNER)->code < 500)
		return 0;
	quote_stage(r, MF_DIAG_BANNER, q, sizeof(q));
	mf_fmt(f->what, sizeof(f->what), "The server greeted with a refusal: "
	    "\"%s\".", q);
	return 1;
}

static int
m_ehlo_rejected(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	enum mf_diag_stage_id id = failed(r, MF_DIAG_EHLO) ? MF_DIAG_EHLO
	                           : MF_DIAG_EHLO_TLS;
	char q[300];
	int c = st(r, id)->code;

	if (!failed(r, id) || c < 500 || c > 599)
		return 0;
	quote_stage(r, id, q, sizeof(q));
	mf_fmt(f->what, sizeof(f->what), "The server refused our EHLO/HELO name: "
	    "\"%s\".", q);
	return 1;
}

/* ---- TLS */

static void
tls_what(const struct mf_diag_report *r, struct mf_diag_finding *f,
         const char *lead)
{
	mf_fmt(f->what, sizeof(f->what), "%s%s%s", lead,
	    r->tls.verify_reason[0] ? " " : "", r->tls.verify_reason);
}

/* Certificate findings are errors when verification stopped us, warnings
 * when --insecure let the session go on. */
static int
cert_problem(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	if (tls_stage_failed(r, MF_E_TLS_VERIFY))
		return 1;
	if (r->tls_ok && r->insecure) {
		f->severity = MF_DIAG_WARNING;
		f->exit_code = 0;
		return 1;
	}
	return 0;
}

static int
m_pin(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	if (!r->tls.pin_mismatch || !cert_problem(r, f))
		return 0;
	mf_fmt(f->what, sizeof(f->what), "The server's certificate (SHA-256 %s) "
	    "does not match the pinned fingerprint.",
	    r->tls.chain_len ? r->tls.chain[0].sha256 : "unknown");
	return 1;
}

static int
m_name(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	const struct mf_cert_info *c = r->tls.chain_len ? &r->tls.chain[0] : NULL;
	const char *checked = r->tls.checked_name[0] ? r->tls.checked_name
	                                             : r->verify_name;

	if (!r->tls.name_mismatch || !cert_problem(r, f))
		return 0;
	if (c == NULL)
		mf_fmt(f->what, sizeof(f->what), "We checked the name \"%s\", which "
		    "the certificate does not contain.", checked);
	else
		mf_fmt(f->what, sizeof(f->what), "We checked the name \"%s\", but the "
		    "certificate is for %s (subject %s).", checked,
		    c->sans[0] ? c->sans : "no alternative names", c->subject);
	return 1;
}

static void
date_str(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL) {
		mf_strlcpy(out, "?", outlen);
		return;
	}
	strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static int
m_expired(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	char na[40], now[40];

	if (!r->tls.expired || !cert_problem(r, f))
		return 0;
	date_str(r->tls.chain_len ? r->tls.chain[0].not_after : 0, na, sizeof(na));
	date_str(time(NULL), now, sizeof(now));
	mf_fmt(f->what, sizeof(f->what), "The server's certificate expired on %s; "
	    "the local clock says %s.", na, now);
	return 1;
}

static int
m_not_yet(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	char nb[40], now[40];

	if (!r->tls.not_yet_valid || !cert_problem(r, f))
		return 0;
	date_str(r->tls.chain_len ? r->tls.chain[0].not_before : 0, nb, sizeof(nb));
	date_str(time(NULL), now, sizeof(now));
	mf_fmt(f->what, sizeof(f->what), "The server's certificate is valid only "
	    "from %s; the local clock says %s.", nb, now);
	return 1;
}

static int
m_untrusted(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	const struct mf_tls_info *t = &r->tls;
	const struct mf_cert_info *last;
	int other;

	/* A verification failure with none of the specific flags is still an
	 * untrusted certificate as far as the user can act on it. */
	other = t->name_mismatch || t->expired || t->not_yet_valid ||
	        t->pin_mismatch;
	if (!(t->unknown_ca || (!other && tls_stage_failed(r, MF_E_TLS_VERIFY))) ||
	    !cert_problem(r, f))
		return 0;
	if (t->chain_len == 0) {
		tls_what(r, f, "The certificate could not be verified.");
		return 1;
	}
	last = &t->chain[t->chain_len - 1];
	if (t->chain_len == 1 && last->self_signed)
		mf_fmt(f->what, sizeof(f->what), "The server's certificate is "
		    "self-signed (%s): nobody vouches for it.", last->subject);
	else if (last->self_signed)
		mf_fmt(f->what, sizeof(f->what), "The chain (%zu certificates) ends "
		    "at the root \"%s\", which is not in the trust store.",
		    t->chain_len, last->subject);
	else
		mf_fmt(f->what, sizeof(f->what), "The chain (%zu certificate%s) "
		    "breaks after \"%s\": its issuer \"%s\" is neither sent by "
		    "the server nor in the trust store (a missing intermediate "
		    "or an unknown CA).", t->chain_len, t->chain_len == 1 ? "" : "s",
		    last->subject, last->issuer);
	return 1;
}

static int
looks_like_version_problem(const struct mf_diag_report *r)
{
	const char *texts[3];
	int i;

	texts[0] = r->tls.alert;
	texts[1] = st(r, MF_DIAG_CONNECT)->msg;
	texts[2] = st(r, MF_DIAG_STARTTLS)->msg;
	for (i = 0; i < 3; i++) {
		if (icontains(texts[i], "version") ||
		    icontains(texts[i], "cipher") ||
		    icontains(texts[i], "insufficient security") ||
		    icontains(texts[i], "no supported") ||
		    icontains(texts[i], "handshake failure"))
			return 1;
	}
	return 0;
}

static int
m_tls_version(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	char m[512];

	if (!tls_stage_failed(r, MF_E_TLS) || r->tls.plaintext_seen[0])
		return 0;
	if (r->probe_kind == 2 && r->probe_ok) {
		mf_fmt(f->what, sizeof(f->what), "The TLS handshake failed with our "
		    "settings, but succeeded when old protocol versions were allowed: "
		    "the server negotiated %s.", r->probe_version[0] ?
		    r->probe_version : "an old version");
		return 1;
	}
	if (!looks_like_version_problem(r))
		return 0;
	mf_fmt(f->what, sizeof(f->what), "The TLS handshake failed: %s%s%s.",
	    r->tls.alert[0] ? r->tls.alert : "",
	    r->tls.alert[0] ? "; " : "",
	    nodot(st(r, r->tls_used == MF_TLS_IMPLICIT ? MF_DIAG_CONNECT
	                                              : MF_DIAG_STARTTLS)->msg,
	          m, sizeof(m)));
	return 1;
}

static int
m_tls_old(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	if (!r->tls_ok || !(strcmp(r->tls.version, "TLS1.0") == 0 ||
	                    strcmp(r->tls.version, "TLS1.1") == 0 ||
	                    istarts(r->tls.version, "SSL")))
		return 0;
	f->severity = MF_DIAG_WARNING;
	f->exit_code = 0;
	mf_fmt(f->what, sizeof(f->what), "The server negotiated %s, a protocol "
	    "version that RFC 8996 deprecates; many clients refuse it.",
	    r->tls.version);
	return 1;
}

static int
m_tls_failed(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	char m[512];
	enum mf_diag_stage_id id = r->tls_used == MF_TLS_IMPLICIT
	                           ? MF_DIAG_CONNECT : MF_DIAG_STARTTLS;

	if (!tls_stage_failed(r, MF_E_TLS) || r->tls.plaintext_seen[0] ||
	    mf_diag_has(r, MF_DIAG_TLS_VERSION_MISMATCH))
		return 0;
	mf_fmt(f->what, sizeof(f->what), "The TLS handshake failed: %s%s%s.",
	    r->tls.alert[0] ? r->tls.alert : "", r->tls.alert[0] ? "; " : "",
	    nodot(st(r, id)->msg, m, sizeof(m)));
	return 1;
}

static int
m_tls_454(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	char q[300];
	int c = st(r, MF_DIAG_STARTTLS)->code;

	if (!failed(r, MF_DIAG_STARTTLS) || c < 400 || c == 421)
		return 0;
	quote_stage(r, MF_DIAG_STARTTLS, q, sizeof(q));
	mf_fmt(f->what, sizeof(f->what), "The server offered STARTTLS but refused "
	    "it: \"%s\".", q);
	if (c >= 500)
		f->exit_code = mf_err_kind_exit(MF_E_PERM);
	return 1;
}

static int
m_no_starttls(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	if (!r->have_caps_before || r->caps_before.starttls ||
	    r->tls_used != MF_TLS_STARTTLS)
		return 0;
	mf_fmt(f->what, sizeof(f->what), "The server did not offer STARTTLS in its "
	    "EHLO reply, so the connection stays unencrypted%s.",
	    r->auth_withheld ? "; we did not send the credentials" : "");
	return 1;
}

/* What each server calls "AUTH only after STARTTLS" (RFC 4954 §4). */
static const struct {
	const char *name, *mark, *mark2, *auth_tls_knob;
} products[] = {
	{ "Postfix", "Postfix", NULL, "Postfix: smtpd_tls_auth_only = yes "
	  "(main.cf, or -o on the submission service in master.cf)." },
	{ "Exim", "Exim", NULL, "Exim: auth_advertise_hosts (e.g. "
	  "${if eq{$tls_in_cipher}{}{}{*}}) or an authenticator's "
	  "server_advertise_condition." },
	{ "OpenSMTPD", "OpenSMTPD", NULL, "OpenSMTPD: built in; a listener "
	  "with \"auth\" offers AUTH only inside TLS." },
	{ "Dovecot submission", "Dovecot", NULL, "Dovecot submission: "
	  "disable_plaintext_auth = yes (auth_allow_cleartext = no in 2.4)." },
	{ "Microsoft Exchange", "Microsoft ESMTP", "X-EXPS", "Exchange: the "
	  "Receive connector's AuthMechanism BasicAuthRequireTLS (\"Offer "
	  "Basic authentication only after starting TLS\")." },
	{ "Sendmail", "Sendmail", NULL, "Sendmail: the AUTH_OPTIONS flag p "
	  "(define(`confAUTH_OPTIONS', `p'))." },
};
#define NPRODUCTS (sizeof(products) / sizeof(products[0]))

static int
product_index(const struct mf_diag_report *r)
{
	const char *banner = r->stage[MF_DIAG_BANNER].text;
	const char *ehlo = r->stage[MF_DIAG_EHLO].text;
	size_t i;

	/* The banner first: it is what the admin configures to say so. */
	for (i = 0; i < NPRODUCTS; i++)
		if (icontains(banner, products[i].mark))
			return (int)i;
	for (i = 0; i < NPRODUCTS; i++)
		if (icontains(ehlo, products[i].mark) || (products[i].mark2 &&
		    (icontains(r->caps_before.raw, products[i].mark2) ||
		    icontains(r->caps_after.raw, products[i].mark2))))
			return (int)i;
	return -1;
}

const char *
mf_diag_product(const struct mf_diag_report *r)
{
	int i = product_index(r);

	return i == -1 ? NULL : products[i].name;
}

static int
m_auth_needs_starttls(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	int p;
	size_t n;

	if (!r->have_caps_before || r->tls_ok || !r->caps_before.starttls ||
	    r->caps_before.auth[0] || r->tls_used != MF_TLS_NONE)
		return 0;
	mf_fmt(f->what, sizeof(f->what), "Without TLS the server does not offer "
	    "AUTH at all (EHLO lists no AUTH), but it offers STARTTLS. Clients "
	    "report this as \"SMTP AUTH extension not supported by server\".");
	p = product_index(r);
	n = strlen(f->fix);
	if (p != -1)
		mf_fmt(f->fix + n, sizeof(f->fix) - n, " The server is %s; its "
		    "admin set this on purpose (%s)", products[p].name,
		    products[p].auth_tls_knob);
	else
		mf_fmt(f->fix + n, sizeof(f->fix) - n, " This is a server "
		    "setting (AUTH only after TLS), set on purpose; keep it.");
	return 1;
}

/* ---- AUTH */

static int
m_auth_not_offered(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	const struct mf_smtp_caps *c = mf_diag_auth_caps(r);

	if (c == NULL || c->auth[0] || mf_diag_has(r, MF_DIAG_AUTH_NEEDS_STARTTLS) ||
	    (r->tls_used == MF_TLS_STARTTLS && !r->tls_ok) ||
	    failed(r, MF_DIAG_EHLO_TLS))
		return 0;
	if (!r->user_given) {
		f->severity = MF_DIAG_WARNING;
		f->exit_code = 0;
	}
	mf_fmt(f->what, sizeof(f->what), "The server does not offer AUTH %s.",
	    r->tls_ok ? "even over TLS" : "on this connection");
	return 1;
}

static int
m_plaintext_only(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	const struct mf_smtp_caps *c = mf_diag_auth_caps(r);

	if (c == NULL || encrypted(r) || !all_mechs(c->auth, is_plain_mech))
		return 0;
	mf_fmt(f->what, sizeof(f->what), "On this unencrypted connection the server "
	    "offers only AUTH %s, which send the password in a recoverable form"
	    "%s.", c->auth, mech_tried(r) ? ": it crossed the network readable "
	    "by anyone on the path" : "");
	return 1;
}

static int
m_plaintext_session(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	if (encrypted(r) || !mech_tried(r) || mf_diag_has(r, MF_DIAG_PLAINTEXT_AUTH_ONLY))
		return 0;
	mf_fmt(f->what, sizeof(f->what), "AUTH was done on an unencrypted "
	    "connection (--tls none).");
	return 1;
}

static int
p_app_password(const struct mf_diag_mech *m)
{
	return m->code == 534 || strcmp(m->enhanced, "5.7.9") == 0 ||
	       icontains(m->text, "application-specific password") ||
	       icontains(m->text, "app password");
}

static int
p_bad_creds(const struct mf_diag_mech *m)
{
	return !p_app_password(m) && !mf_diag_is_oauth_mech(m->name) &&
	       (m->code == 535 || strcmp(m->enhanced, "5.7.8") == 0 ||
	        strcmp(m->enhanced, "5.7.139") == 0);
}

static int
p_enc_required(const struct mf_diag_mech *m)
{
	return m->code == 538 || strcmp(m->enhanced, "5.7.11") == 0;
}

static int
p_mech_unsupported(const struct mf_diag_mech *m)
{
	return m->code == 504 || strcmp(m->enhanced, "5.7.4") == 0 ||
	       (m->code == 0 && m->err == MF_E_UNSUPPORTED);
}

static int
p_oauth(const struct mf_diag_mech *m)
{
	return mf_diag_is_oauth_mech(m->name) &&
	       (m->sasl_error[0] || (m->code >= 500 && !p_mech_unsupported(m)));
}

static int
p_tempfail(const struct mf_diag_mech *m)
{
	return m->code >= 400 && m->code < 500 && m->code != 421;
}

static int
p_other(const struct mf_diag_mech *m)
{
	return m->code >= 500 && !p_app_password(m) && !p_bad_creds(m) &&
	       !p_enc_required(m) && !p_mech_unsupported(m) && !p_oauth(m);
}

/* Hints for the big providers, from the host name and the reply text. */
static void
provider_hint(const struct mf_diag_report *r, const struct mf_diag_mech *m,
              struct mf_diag_finding *f)
{
	const char *h = r->host;
	const char *hint = NULL;

	if (icontains(m->text, "SmtpClientAuthentication") ||
	    strcmp(m->enhanced, "5.7.139") == 0)
		hint = " Microsoft 365 says SMTP AUTH is disabled: an admin must "
		       "enable \"Authenticated SMTP\" for this mailbox (or the "
		       "tenant), or use OAuth 2 (--mech XOAUTH2).";
	else if (icontains(h, "gmail") || icontains(h, "google"))
		hint = " Google: with 2-step verification use an app password "
		       "(myaccount.google.com > Security > App passwords) or OAuth 2 "
		       "(--mech XOAUTH2); the account password alone is refused.";
	else if (icontains(h, "office365") || icontains(h, "outlook") ||
	         icontains(h, "hotmail") || icontains(h, "live.com"))
		hint = " Microsoft: SMTP AUTH must be enabled for the mailbox "
		       "(\"Authenticated SMTP\"), accounts with MFA need an app "
		       "password, and Basic auth is being retired in favour of "
		       "OAuth 2 (--mech XOAUTH2).";
	else if (icontains(h, "yahoo") || icontains(h, "aol.") ||
	         icontains(h, "icloud") || icontains(h, "me.com") ||
	         icontains(h, "fastmail") || icontains(h, "zoho"))
		hint = " This provider requires an app-specific password generated "
		       "in the account's security settings, not the login password.";
	if (hint != NULL)
		mf_strlcpy(f->fix + strlen(f->fix), hint,
		           sizeof(f->fix) - strlen(f->fix));
}

/* The first mechanism whose result matches pred, with f->what set to
 * its quoted name followed by tail; NULL (f untouched) when none does. */
static const struct mf_diag_mech *
mech_said(const struct mf_diag_report *r, struct mf_diag_finding *f,
          int (*pred)(const struct mf_diag_mech *), const char *tail)
{
	const struct mf_diag_mech *m = mech_matching(r, pred);
	char q[400];

	if (m == NULL)
		return NULL;
	quote_mech(m, q, sizeof(q));
	mf_fmt(f->what, sizeof(f->what), "%s%s", q, tail);
	return m;
}

static int
m_bad_creds(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	const struct mf_diag_mech *m = mech_said(r, f, p_bad_creds,
	    ": the server refused the user name or the password.");

	if (m == NULL)
		return 0;
	provider_hint(r, m, f);
	return 1;
}

static int
m_app_password(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	const struct mf_diag_mech *m = mech_said(r, f, p_app_password,
	    ": the server wants a stronger mechanism or an application-specific "
	    "password.");

	if (m == NULL)
		return 0;
	provider_hint(r, m, f);
	return 1;
}

static int
m_enc_required(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	return mech_said(r, f, p_enc_required, ": this mechanism is only "
	    "allowed over an encrypted connection.") != NULL;
}

static int
m_mech_unsupported(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	const struct mf_diag_mech *m = mech_matching(r, p_mech_unsupported);
	const struct mf_diag_mech *next = NULL;
	char q[400];
	size_t i;

	if (m == NULL)
		return 0;
	for (i = (size_t)(m - r->mech) + 1; i < r->nmech; i++) {
		if (r->mech[i].result != MF_DIAG_MECH_NOT_TRIED) {
			next = &r->mech[i];
			break;
		}
	}
	quote_mech(m, q, sizeof(q));
	mf_fmt(f->what, sizeof(f->what), "%s: the server does not accept this "
	    "mechanism%s%s%s%s.", q,
	    next ? "; the next one, " : "", next ? next->name : "",
	    next ? ", was tried and " : "",
	    next ? (next->result == MF_DIAG_MECH_OK ? "worked" : "failed") : "");
	if (any_mech_ok(r)) {
		f->severity = MF_DIAG_WARNING;
		f->exit_code = 0;
	}
	return 1;
}

static int
m_oauth(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	const struct mf_diag_mech *m = mech_matching(r, p_oauth);
	char q[400];

	if (m == NULL)
		return 0;
	quote_mech(m, q, sizeof(q));
	mf_fmt(f->what, sizeof(f->what), "%s; the server's error: %s.", q,
	    m->sasl_error[0] ? m->sasl_error : "(none sent)");
	return 1;
}

static int
m_auth_temp(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	return mech_said(r, f, p_tempfail,
	    ": a temporary failure on the server's side.") != NULL;
}

static int
m_auth_other(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	return mech_said(r, f, p_other, ".") != NULL;
}

static int
m_no_usable(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	const struct mf_smtp_caps *c = mf_diag_auth_caps(r);

	if (!r->user_given || c == NULL || !c->auth[0] || mech_tried(r) ||
	    r->auth_withheld || !st(r, MF_DIAG_AUTH)->done)
		return 0;
	mf_fmt(f->what, sizeof(f->what), "The server offers AUTH %s, but none of "
	    "these could be tried (%s).", c->auth, st(r, MF_DIAG_AUTH)->text[0]
	    ? st(r, MF_DIAG_AUTH)->text : "not implemented or not requested");
	return 1;
}

/* ---- MAIL / RCPT */

/* Postfix rejects a sender at RCPT time by default (smtpd_delay_reject),
 * so a sender refusal may come as the RCPT reply. */
static int
sender_words(const char *text)
{
	return icontains(text, "sender address rejected") ||
	       icontains(text, "not owned by") ||
	       icontains(text, "send as") || icontains(text, "sendas") ||
	       icontains(text, "not authorized to send") ||
	       icontains(text, "login mismatch");
}

static int
sender_refused_at_rcpt(const struct mf_diag_report *r)
{
	return failed(r, MF_DIAG_RCPT) && st(r, MF_DIAG_RCPT)->code >= 500 &&
	       sender_words(st(r, MF_DIAG_RCPT)->text);
}

static int
m_sender(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	enum mf_diag_stage_id id = MF_DIAG_MAIL;
	char q[300];

	if (!failed(r, MF_DIAG_MAIL) || st(r, MF_DIAG_MAIL)->code < 500) {
		if (!sender_refused_at_rcpt(r))
			return 0;
		id = MF_DIAG_RCPT;
	}
	quote_stage(r, id, q, sizeof(q));
	mf_fmt(f->what, sizeof(f->what), "%s the sender was refused%s: \"%s\".",
	    any_mech_ok(r) ? "Authenticated, but" : "Not authenticated;",
	    id == MF_DIAG_RCPT ? " (at RCPT TO, as Postfix does)" : "", q);
	return 1;
}

static int
m_rcpt(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	char q[300];

	if (!failed(r, MF_DIAG_RCPT) || st(r, MF_DIAG_RCPT)->code < 500 ||
	    sender_refused_at_rcpt(r))
		return 0;
	quote_stage(r, MF_DIAG_RCPT, q, sizeof(q));
	mf_fmt(f->what, sizeof(f->what), "RCPT TO was refused: \"%s\".", q);
	return 1;
}

static int
m_greylist(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	static const enum mf_diag_stage_id ids[] = { MF_DIAG_MAIL, MF_DIAG_RCPT };
	char q[300];
	size_t i;

	for (i = 0; i < 2; i++) {
		int c = st(r, ids[i])->code;

		if (failed(r, ids[i]) && c >= 400 && c < 500 && c != 421) {
			quote_stage(r, ids[i], q, sizeof(q));
			mf_fmt(f->what, sizeof(f->what), "%s was deferred: \"%s\".",
			    ids[i] == MF_DIAG_MAIL ? "MAIL FROM" : "RCPT TO", q);
			return 1;
		}
	}
	return 0;
}

/* ---- broken sessions */

static int
m_garbage(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	int i = stage_with_err(r, MF_E_PROTO);
	size_t k;

	if (i < 0)
		i = stage_with_err(r, MF_E_LIMIT);
	if (i < 0) {
		for (k = 0; k < r->nmech; k++) {
			if (r->mech[k].err == MF_E_PROTO) {
				mf_fmt(f->what, sizeof(f->what), "During AUTH %s the "
				    "server sent something that is not an SMTP reply: "
				    "%s.", r->mech[k].name, r->mech[k].text);
				return 1;
			}
		}
		return 0;
	}
	mf_fmt(f->what, sizeof(f->what), "At the %s step the server sent something "
	    "that is not an SMTP reply: %s.",
	    mf_diag_stage_name((enum mf_diag_stage_id)i), r->stage[i].msg);
	return 1;
}

static int
m_closed(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	int i = stage_with_err(r, MF_E_CLOSED);
	size_t k;
	const char *where = NULL;

	if (i >= 0)
		where = mf_diag_stage_name((enum mf_diag_stage_id)i);
	for (k = 0; where == NULL && k < r->nmech; k++)
		if (r->mech[k].err == MF_E_CLOSED)
			where = "auth";
	if (where == NULL || mf_diag_has(r, MF_DIAG_SERVER_BUSY_421))
		return 0;
	mf_fmt(f->what, sizeof(f->what), "The server closed the connection at the "
	    "%s step without a reply.", where);
	return 1;
}

static int
m_reply_timeout(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	int i;

	for (i = MF_DIAG_EHLO; i < MF_DIAG_PROBE; i++) {
		if (failed(r, (enum mf_diag_stage_id)i) &&
		    r->stage[i].err == MF_E_TIMEOUT) {
			mf_fmt(f->what, sizeof(f->what), "The server did not answer "
			    "at the %s step within %ld ms.",
			    mf_diag_stage_name((enum mf_diag_stage_id)i),
			    r->stage[i].ms);
			return 1;
		}
	}
	return 0;
}

/* ---- notes */

static int
m_insecure(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	if (!r->insecure || !r->tls_ok)
		return 0;
	mf_fmt(f->what, sizeof(f->what), "Certificate verification was switched "
	    "off (--insecure).");
	return 1;
}

static int
m_no_user(const struct mf_diag_report *r, struct mf_diag_finding *f)
{
	const struct mf_smtp_caps *c = mf_diag_auth_caps(r);

	if (r->user_given || c == NULL || !c->auth[0] || r->quit_after < MF_DIAG_AUTH)
		return 0;
	mf_fmt(f->what, sizeof(f->what), "No user was given, so AUTH was not "
	    "tried; the server offers AUTH %s.", c->auth);
	return 1;
}

/* ------------------------------------------------------------ the table */

struct rule {
	enum mf_diag_code code;
	enum mf_diag_severity sev;
	enum mf_err_kind kind;   /* its exit status: lib/err.c's one map */
	int (*match)(const struct mf_diag_report *, struct mf_diag_finding *);
	const char *why;
	const char *fix;
};

/* In order of causes: the first error's exit status is the tool's. */
static const struct rule rules[] = {
	{ MF_DIAG_CLIENT_CONFIG, MF_DIAG_ERROR, MF_E_CONFIG, m_client_config,
	  "The problem is on this side: an option, an account setting or a "
	  "file it names (CA file, client certificate, fingerprint) is wrong.",
	  "Correct the setting named in the message; the server was not "
	  "judged." },
	{ MF_DIAG_DNS_FAILURE, MF_DIAG_ERROR, MF_E_NOHOST, m_dns,
	  "DNS has no address for this name: a typo, a name that does not "
	  "exist, or a resolver that cannot be reached.",
	  "Check the server name in the provider's documentation (e.g. "
	  "smtp.example.com, not example.com) and that DNS works on this "
	  "machine (\"host NAME\")." },
	{ MF_DIAG_CONN_REFUSED, MF_DIAG_ERROR, MF_E_CONNECT, m_refused,
	  "The host is reachable but nothing listens on that port (or a "
	  "firewall rejects it).",
	  "Check the port: submission is 587 (STARTTLS) or 465 (implicit TLS); "
	  "25 is for server-to-server mail." },
	{ MF_DIAG_CONN_TIMEOUT, MF_DIAG_ERROR, MF_E_TIMEOUT, m_conn_timeout,
	  "The packets were dropped without an answer: a firewall, or an ISP "
	  "that blocks outgoing mail ports (often 25, sometimes 587/465).",
	  "Try the other submission port (587 or 465), check the local and the "
	  "network firewall, or ask the ISP whether the port is blocked." },
	{ MF_DIAG_CONN_FAILED, MF_DIAG_ERROR, MF_E_CONNECT, m_conn_failed,
	  "The network could not reach the host.",
	  "Check the network connection, routing and the host address." },
	{ MF_DIAG_PLAINTEXT_PORT_TLS, MF_DIAG_ERROR, MF_E_TLS, m_plaintext_port,
	  "This port speaks SMTP in clear first and upgrades with STARTTLS; it "
	  "does not expect a TLS handshake right away.",
	  "Use --tls starttls on this port (587 or 25), or connect to port 465 "
	  "for implicit TLS. In mail clients: \"STARTTLS\" instead of "
	  "\"SSL/TLS\"." },
	{ MF_DIAG_IMPLICIT_TLS_PORT, MF_DIAG_ERROR, MF_E_TLS, m_implicit_port,
	  "On an implicit-TLS port (465, RFC 8314) the server waits for a TLS "
	  "handshake and says nothing in clear, so a client that waits for the "
	  "greeting or tries STARTTLS hangs.",
	  "Use --tls implicit (\"SSL/TLS\" in mail clients) on this port, or "
	  "port 587 with STARTTLS." },
	{ MF_DIAG_NO_BANNER, MF_DIAG_ERROR, MF_E_TIMEOUT, m_no_banner,
	  "A server that accepts the connection but never greets is overloaded, "
	  "tarpitting, or not an SMTP server.",
	  "Check the port number; raise --timeout if the server is known to be "
	  "slow; ask the provider." },
	{ MF_DIAG_SERVER_BUSY_421, MF_DIAG_ERROR, MF_E_TEMP, m_busy,
	  "421 means the service is not available right now: overloaded, too "
	  "many connections from this address, or going down.",
	  "Wait and retry later; if it persists, check whether this address is "
	  "rate-limited or blocklisted." },
	{ MF_DIAG_SERVICE_REFUSED_554, MF_DIAG_ERROR, MF_E_PERM, m_refused_554,
	  "The server refuses to serve this client at all, usually because of "
	  "the client's IP address (blocklist, policy).",
	  "Read the server's text; use the provider's submission host and port, "
	  "or contact the provider about your address." },
	{ MF_DIAG_EHLO_NAME_REJECTED, MF_DIAG_ERROR, MF_E_PERM, m_ehlo_rejected,
	  "Many servers require the EHLO name to be a fully qualified domain "
	  "name (RFC 5321 §4.1.1.1) or an address literal such as [192.0.2.1].",
	  "Pass a fully qualified name, e.g. --ehlo host.example.com (or set "
	  "\"ehlo\" in the account); do not use \"localhost\" or a bare "
	  "host name." },
	{ MF_DIAG_CERT_PIN_MISMATCH, MF_DIAG_ERROR, MF_E_TLS_VERIFY, m_pin,
	  "The certificate changed since it was pinned, or someone is "
	  "intercepting the connection.",
	  "Verify the new certificate out of band and update --tls-fingerprint." },
	{ MF_DIAG_CERT_NAME_MISMATCH, MF_DIAG_ERROR, MF_E_TLS_VERIFY, m_name,
	  "A certificate is only valid for the names it lists; connecting by "
	  "another name (an alias, an IP address, the customer domain) fails.",
	  "Connect using one of the names in the certificate (see the chain "
	  "above), or pass --sni / the right host name; ask the admin to add "
	  "the name if it should be valid." },
	{ MF_DIAG_CERT_EXPIRED, MF_DIAG_ERROR, MF_E_TLS_VERIFY, m_expired,
	  "The certificate's validity ended; either the server's certificate "
	  "was not renewed or the local clock is wrong.",
	  "Check this machine's clock (date -u); if it is right, the server's "
	  "admin must renew the certificate." },
	{ MF_DIAG_CERT_NOT_YET_VALID, MF_DIAG_ERROR, MF_E_TLS_VERIFY, m_not_yet,
	  "The certificate is not valid yet: usually the local clock is behind.",
	  "Fix this machine's clock (NTP); otherwise the server installed a "
	  "certificate dated in the future." },
	{ MF_DIAG_CERT_UNTRUSTED, MF_DIAG_ERROR, MF_E_TLS_VERIFY, m_untrusted,
	  "No path leads from the server's certificate to a CA we trust: a "
	  "self-signed certificate, a private CA, or a server that does not "
	  "send its intermediate certificate.",
	  "If the server should be publicly trusted, its admin must send the "
	  "full chain (leaf + intermediates). For a private CA pass "
	  "--tls-trust-file CA.pem, or pin the certificate with "
	  "--tls-fingerprint." },
	{ MF_DIAG_TLS_VERSION_MISMATCH, MF_DIAG_ERROR, MF_E_TLS, m_tls_version,
	  "Client and server have no TLS protocol version or cipher in common: "
	  "typically an old server that only speaks TLS 1.0/1.1, which current "
	  "clients refuse (RFC 8996).",
	  "Upgrade the server's TLS configuration (TLS 1.2 or later); as a "
	  "stop-gap only, allow the old version with --tls-min-version 1.0 or "
	  "--tls-priority." },
	{ MF_DIAG_TLS_VERSION_MISMATCH, MF_DIAG_WARNING, MF_OK, m_tls_old,
	  "TLS 1.0 and 1.1 are deprecated (RFC 8996) and disabled in many "
	  "clients and libraries.",
	  "Ask the server's admin to enable TLS 1.2 or 1.3." },
	{ MF_DIAG_TLS_HANDSHAKE_FAILED, MF_DIAG_ERROR, MF_E_TLS, m_tls_failed,
	  "The TLS handshake did not complete.",
	  "Run with -v to see the alert; check --tls-priority, client "
	  "certificates (--tls-cert) and the server's TLS log." },
	{ MF_DIAG_TLS_UNAVAILABLE_454, MF_DIAG_ERROR, MF_E_TEMP, m_tls_454,
	  "The server announced STARTTLS but cannot start it: a temporary "
	  "problem or a broken TLS configuration (certificate or key not "
	  "readable) on the server.",
	  "Retry later; the server's admin should check its TLS certificate and "
	  "logs. Do not fall back to sending the password in clear." },
	{ MF_DIAG_NO_STARTTLS, MF_DIAG_ERROR, MF_E_UNSUPPORTED, m_no_starttls,
	  "Without STARTTLS the password would cross the network readable by "
	  "anyone on the path. A STARTTLS that is missing from EHLO can also "
	  "mean a middlebox (firewall, antivirus) strips it.",
	  "Use port 465 with --tls implicit if the server has it, ask the "
	  "provider for an encrypted submission port, or check for a firewall "
	  "rewriting SMTP. Only on a trusted network: --tls none." },
	{ MF_DIAG_AUTH_NEEDS_STARTTLS, MF_DIAG_ERROR, MF_E_UNSUPPORTED, m_auth_needs_starttls,
	  "The server offers AUTH only after STARTTLS (RFC 4954 §4), so a "
	  "client that does not start TLS never sees it.",
	  "Enable STARTTLS in the client (--tls starttls; \"STARTTLS\" in "
	  "mail clients), or use port 465 with implicit TLS." },
	{ MF_DIAG_AUTH_APP_PASSWORD, MF_DIAG_ERROR, MF_E_AUTH, m_app_password,
	  "534 5.7.9 (RFC 4954 §6) means the mechanism is too weak for this "
	  "account: providers answer it when they require an app-specific "
	  "password or OAuth instead of the account password.",
	  "Create an app password in the account's security settings and use "
	  "it, or use OAuth 2 (--mech XOAUTH2)." },
	{ MF_DIAG_AUTH_BAD_CREDENTIALS, MF_DIAG_ERROR, MF_E_AUTH, m_bad_creds,
	  "535 5.7.8 (RFC 4954 §6): the user name or password is wrong, or "
	  "password logins are disabled for this account.",
	  "Check the user name (often the full address) and the password; "
	  "test the same credentials in webmail." },
	{ MF_DIAG_AUTH_ENCRYPTION_REQUIRED, MF_DIAG_ERROR, MF_E_UNSUPPORTED, m_enc_required,
	  "538 5.7.11 (RFC 4954 §6): the server allows this mechanism only "
	  "over TLS.",
	  "Use STARTTLS (--tls starttls) or port 465 (--tls implicit) before "
	  "authenticating." },
	{ MF_DIAG_OAUTH_ERROR, MF_DIAG_ERROR, MF_E_AUTH, m_oauth,
	  "The OAuth 2 token was refused (RFC 7628 §3.2.2): expired, revoked, "
	  "issued for another user, or lacking the mail scope.",
	  "Get a fresh access token with the provider's SMTP scope (e.g. "
	  "https://mail.google.com/ or https://outlook.office.com/SMTP.Send) "
	  "for this exact user." },
	{ MF_DIAG_AUTH_MECH_UNSUPPORTED, MF_DIAG_ERROR, MF_E_UNSUPPORTED, m_mech_unsupported,
	  "504 5.7.4 (RFC 4954 §6): the server does not accept this mechanism, "
	  "even if its EHLO listed it (a broken list or a backend that lacks "
	  "it, e.g. CRAM-MD5 without plain-text passwords).",
	  "Use another mechanism (--mech PLAIN over TLS, or the one that "
	  "works); the server's admin should fix its mechanism list." },
	{ MF_DIAG_AUTH_TEMPFAIL, MF_DIAG_ERROR, MF_E_TEMP, m_auth_temp,
	  "454 4.7.0 (RFC 4954 §6): the server could not check the credentials "
	  "right now, usually its authentication backend is down.",
	  "Retry later; the server's admin should check the auth service." },
	{ MF_DIAG_AUTH_FAILED, MF_DIAG_ERROR, MF_E_AUTH, m_auth_other,
	  "The server refused the authentication.",
	  "Read the server's text; check user, password and mechanism." },
	{ MF_DIAG_AUTH_NOT_OFFERED, MF_DIAG_ERROR, MF_E_UNSUPPORTED, m_auth_not_offered,
	  "A server that does not announce AUTH does not accept logins here: "
	  "it may be an MX (port 25) rather than a submission server.",
	  "Use the provider's submission server and port (587 or 465)." },
	{ MF_DIAG_NO_USABLE_MECH, MF_DIAG_ERROR, MF_E_UNSUPPORTED, m_no_usable,
	  "We implement PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1/256(-PLUS), "
	  "XOAUTH2 and OAUTHBEARER; --mech may also have excluded the offered "
	  "ones.",
	  "Pick one of the offered mechanisms with --mech." },
	{ MF_DIAG_SENDER_NOT_AUTHORIZED, MF_DIAG_ERROR, MF_E_AUTH, m_sender,
	  "The server ties each login to the sender addresses it may use "
	  "(Postfix reject_sender_login_mismatch, Exchange \"SendAs\"): this "
	  "login may not send as this address.",
	  "Send with --from set to the account's own address, or ask the admin "
	  "to allow this address for the login (sender_login_maps / SendAs)." },
	{ MF_DIAG_GREYLISTED, MF_DIAG_ERROR, MF_E_TEMP, m_greylist,
	  "A 4xx at MAIL or RCPT is temporary: greylisting, rate limiting, or "
	  "a full mailbox or queue.",
	  "Retry after a few minutes; real senders retry automatically. If it "
	  "persists, ask about rate limits for this account." },
	{ MF_DIAG_RCPT_REFUSED, MF_DIAG_ERROR, MF_E_PERM, m_rcpt,
	  "The server will not accept mail for this recipient from this "
	  "session: unknown user, or relaying not allowed without "
	  "authentication.",
	  "Check the address; authenticate first (-u) if relaying." },
	{ MF_DIAG_GARBAGE_REPLY, MF_DIAG_ERROR, MF_E_PROTO, m_garbage,
	  "The peer is not a (working) SMTP server: a different protocol on "
	  "this port, a broken proxy, or a server bug.",
	  "Check host and port; run with -v to see the bytes; if a proxy or "
	  "antivirus intercepts SMTP, bypass it." },
	{ MF_DIAG_CONN_CLOSED, MF_DIAG_ERROR, MF_E_CLOSED, m_closed,
	  "A server that hangs up without a reply is crashing, overloaded, or "
	  "dropping clients it dislikes (too many errors, blocklisted address).",
	  "Retry later; check the server's log for the reason." },
	{ MF_DIAG_REPLY_TIMEOUT, MF_DIAG_ERROR, MF_E_TIMEOUT, m_reply_timeout,
	  "The server stopped answering in the middle of the session.",
	  "Retry, raise --timeout for slow servers, and check for a firewall "
	  "that drops long connections." },
	{ MF_DIAG_PLAINTEXT_AUTH_ONLY, MF_DIAG_WARNING, MF_OK, m_plaintext_only,
	  "PLAIN and LOGIN send the password merely base64-encoded; without "
	  "TLS anyone on the path can read it.",
	  "Use TLS (STARTTLS or port 465); the server's admin should offer "
	  "TLS and allow these mechanisms only over it." },
	{ MF_DIAG_PLAINTEXT_SESSION, MF_DIAG_WARNING, MF_OK, m_plaintext_session,
	  "Without TLS the session, including the message, can be read and "
	  "changed on the path.",
	  "Use --tls starttls or --tls implicit." },
	{ MF_DIAG_TLS_INSECURE, MF_DIAG_WARNING, MF_OK, m_insecure,
	  "Without verification anyone on the path can impersonate the server "
	  "and collect the password.",
	  "Fix the trust problem instead (--tls-trust-file, --tls-fingerprint)." },
	{ MF_DIAG_NO_USER, MF_DIAG_INFO, MF_OK, m_no_user,
	  "Without credentials the check ends before AUTH.",
	  "Pass -u USER (the password comes from --passwordeval, the account, "
	  "MAILFLOW_PASSWORD, ~/.netrc or a prompt) to test the login." },
};

static void
add_finding(struct mf_diag_report *r, const struct rule *ru)
{
	struct mf_diag_finding *f;

	if (r->nfinding >= MF_DIAG_FINDINGS_MAX)
		return;
	f = &r->finding[r->nfinding];
	memset(f, 0, sizeof(*f));
	f->code = ru->code;
	f->severity = ru->sev;
	f->exit_code = mf_err_kind_exit(ru->kind);
	mf_strlcpy(f->why, ru->why, sizeof(f->why));
	mf_strlcpy(f->fix, ru->fix, sizeof(f->fix));
	if (ru->match(r, f))
		r->nfinding++;
}

/* A stage that failed with no rule to explain it still decides the exit
 * status, by the kind of its error. */
static int
fallback_exit(const struct mf_diag_report *r)
{
	int i;

	for (i = 0; i < MF_DIAG_PROBE; i++)
		if (failed(r, (enum mf_diag_stage_id)i))
			return r->stage[i].err == MF_OK ?
			    mf_err_kind_exit(MF_E_PERM) :
			    mf_err_kind_exit(r->stage[i].err);
	return 0;
}

static void
make_verdict(struct mf_diag_report *r)
{
	const struct mf_diag_finding *f = NULL;
	size_t i;
	int nok = 0;

	for (i = 0; i < r->nfinding && f == NULL; i++)
		if (r->finding[i].severity == MF_DIAG_ERROR)
			f = &r->finding[i];
	if (f != NULL) {
		mf_fmt(r->verdict, sizeof(r->verdict), "FAIL %s: %s",
		    mf_diag_code_name(f->code), f->what);
		return;
	}
	if (r->exit_code != 0) {
		for (i = 0; i < MF_DIAG_NSTAGES; i++)
			if (failed(r, (enum mf_diag_stage_id)i))
				break;
		mf_fmt(r->verdict, sizeof(r->verdict), "FAIL: the %s step failed: %s",
		    mf_diag_stage_name((enum mf_diag_stage_id)(i % MF_DIAG_NSTAGES)),
		    i < MF_DIAG_NSTAGES ? r->stage[i].msg : "?");
		return;
	}
	for (i = 0; i < r->nmech; i++)
		nok += r->mech[i].result == MF_DIAG_MECH_OK;
	mf_fmt(r->verdict, sizeof(r->verdict), "OK: %s:%s, %s%s%s, %s", r->host,
	    r->port, r->tls_ok ? r->tls.version : "no TLS",
	    r->tls_ok ? (r->tls_used == MF_TLS_IMPLICIT ? " (implicit)"
	                                                : " (STARTTLS)") : "",
	    r->tls_ok && r->tls.verified ? ", certificate verified" : "",
	    nok ? "AUTH works" : (r->user_given ? "no AUTH tried"
	                                        : "AUTH not tried (no user)"));
	if (nok) {
		size_t len = strlen(r->verdict);
		const char *sep = " (";

		for (i = 0; i < r->nmech; i++) {
			if (r->mech[i].result != MF_DIAG_MECH_OK)
				continue;
			mf_fmt(r->verdict + len, sizeof(r->verdict) - len, "%s%s", sep,
			    r->mech[i].name);
			len = strlen(r->verdict);
			sep = " ";
		}
		mf_fmt(r->verdict + len, sizeof(r->verdict) - len, ")");
	}
}

void
mf_diag_analyze(struct mf_diag_report *r)
{
	size_t i;

	r->nfinding = 0;
	r->exit_code = 0;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		add_finding(r, &rules[i]);
	for (i = 0; i < r->nfinding; i++) {
		if (r->finding[i].severity == MF_DIAG_ERROR) {
			r->exit_code = r->finding[i].exit_code;
			break;
		}
	}
	if (r->exit_code == 0)
		r->exit_code = fallback_exit(r);
	make_verdict(r);
}
