/* discover.c - the discovery walk: SRV, autoconfig, guesses, then a
 * diagnosis session per submission candidate. */
#include "discover.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "autoconfig.h"
#include "buf.h"
#include "diag.h"
#include "https.h"
#include "idn.h"

#define ATTEMPT_TIMEOUT_MS 10000

/* The run's clock and limits. */
struct walk {
	const struct mf_disc_params *p;
	struct mf_disc_result *r;
	struct timespec start;
	int budget_ms;
	struct mf_disc_cand found[MF_DISC_CANDS_MAX];   /* SRV + autoconfig */
	size_t nfound;
	struct mf_autoconfig ac;
	int have_ac;
	char mx[8][MF_DNS_NAME_MAX];
	size_t nmx;
};

const char *
mf_disc_source_name(enum mf_disc_source s)
{
	switch (s) {
	case MF_DISC_SRV: return "srv";
	case MF_DISC_AUTOCONFIG: return "autoconfig";
	default: return "guess";
	}
}

const char *
mf_disc_proto_name(enum mf_disc_proto p)
{
	switch (p) {
	case MF_DISC_SUBMISSION: return "submission";
	case MF_DISC_IMAP: return "imap";
	default: return "pop3";
	}
}

int
mf_discover_split(const char *query, char *domain, size_t dlen,
                  char *address, size_t alen)
{
	const char *at = strrchr(query, '@'), *d = at ? at + 1 : query;
	char ascii[MF_IDN_NAME_MAX];
	struct mf_err e;
	size_t n, i;

	/* every name built from the domain (SRV names, autoconfig hosts and
	 * URLs, guesses) is for the wire: A-labels (RFC 5891 §4) */
	if (!mf_idn_is_ascii(d)) {
		if (mf_idn_to_ascii(d, ascii, sizeof(ascii), MF_E_USAGE,
		    &e) == -1)
			return -1;
		d = ascii;
	}
	n = strlen(d);
	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n >= dlen || n > 253 || (at != NULL && at == query) ||
	    strlen(query) >= alen)
		return -1;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)d[i]) && d[i] != '-' && d[i] != '.' &&
		    d[i] != '_')
			return -1;
	if (d[0] == '.' || strstr(d, "..") != NULL)
		return -1;
	for (i = 0; i < n; i++)
		domain[i] = (char)tolower((unsigned char)d[i]);
	domain[n] = '\0';
	if (at != NULL) {
		for (i = 0; query + i < at; i++)
			if ((unsigned char)query[i] <= ' ' || query[i] == 0x7f)
				return -1;
		snprintf(address, alen, "%.*s@%s", (int)(at - query), query, domain);
	} else {
		address[0] = '\0';
	}
	return 0;
}

static int
cand_rank(const struct mf_disc_cand *c)
{
	return c->source == MF_DISC_SRV ? 0 : c->source == MF_DISC_AUTOCONFIG ?
	    1 : 2;
}

/* Stable: insertion sort keeps discovery order among equals. */
static int
before(const struct mf_disc_cand *a, const struct mf_disc_cand *b)
{
	if (cand_rank(a) != cand_rank(b))
		return cand_rank(a) < cand_rank(b);
	if (a->source != MF_DISC_SRV)
		return 0;
	if (a->prio != b->prio)
		return a->prio < b->prio;
	if ((a->tls == MF_TLS_IMPLICIT) != (b->tls == MF_TLS_IMPLICIT))
		return a->tls == MF_TLS_IMPLICIT;
	return a->weight > b->weight;
}

size_t
mf_discover_order(const struct mf_disc_cand *in, size_t n,
                  struct mf_disc_cand *out, size_t max)
{
	size_t i, j, k, m = 0;
	int dup;

	for (i = 0; i < n; i++) {
		if (in[i].proto != MF_DISC_SUBMISSION || in[i].host[0] == '\0' ||
		    in[i].port <= 0)
			continue;
		for (dup = 0, j = 0; j < m && !dup; j++)
			dup = out[j].port == in[i].port &&
			    strcasecmp(out[j].host, in[i].host) == 0;
		if (dup) {
			/* keep the better-ranked one in its place */
			j--;
			if (before(&in[i], &out[j])) {
				for (k = j; k + 1 < m; k++)
					out[k] = out[k + 1];
				m--;
			} else {
				continue;
			}
		}
		if (m == max) {
			/* full: the new one only displaces a worse last one */
			if (max == 0 || !before(&in[i], &out[m - 1]))
				continue;
			m--;
		}
		for (j = m; j > 0 && before(&in[i], &out[j - 1]); j--)
			out[j] = out[j - 1];
		out[j] = in[i];
		m++;
	}
	return m;
}

size_t
mf_discover_guesses(const char *domain, const char *const *mx, size_t nmx,
                    struct mf_disc_cand *out, size_t max)
{
	/* RFC 8314 §3.3 (465), RFC 6409 (587), RFC 5321 (25) */
	static const struct { int port; enum mf_tls_mode tls; } ports[] = {
		{ 465, MF_TLS_IMPLICIT }, { 587, MF_TLS_STARTTLS },
		{ 25, MF_TLS_STARTTLS },
	};
	char host[256];
	size_t h, i, n = 0;

	for (h = 0; h < nmx + 2; h++) {
		if (h < nmx)
			mf_strlcpy(host, mx[h], sizeof(host));
		else
			snprintf(host, sizeof(host), "%s.%s", h == nmx ? "smtp" :
			    "mail", domain);
		for (i = 0; i < 3 && n < max; i++) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].proto = MF_DISC_SUBMISSION;
			out[n].source = MF_DISC_GUESS;
			mf_strlcpy(out[n].host, host, sizeof(out[n].host));
			out[n].port = ports[i].port;
			out[n].tls = ports[i].tls;
			n++;
		}
	}
	return n;
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static long
remaining(const struct walk *w)
{
	return w->budget_ms - elapsed_ms(&w->start);
}

static struct mf_disc_step *
new_step(struct walk *w, const char *kind, const char *what)
{
	struct mf_disc_step *s;

	if (w->r->nstep == MF_DISC_STEPS_MAX) {
		w->r->dropped++;
		return NULL;
	}
	s = &w->r->step[w->r->nstep++];
	memset(s, 0, sizeof(*s));
	mf_strlcpy(s->kind, kind, sizeof(s->kind));
	mf_strlcpy(s->what, what, sizeof(s->what));
	return s;
}

static void
set_outcome(struct mf_disc_step *s, const char *outcome, long ms,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
set_outcome(struct mf_disc_step *s, const char *outcome, long ms,
            const char *fmt, ...)
{
	va_list ap;

	if (s == NULL)
		return;
	mf_strlcpy(s->outcome, outcome, sizeof(s->outcome));
	s->ms = ms;
	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
}

/* The whole run is bounded: once the budget is (nearly) gone, every
 * further step is recorded as skipped instead of being tried. */
static int
spent(const struct walk *w, struct mf_disc_step *s)
{
	if (remaining(w) >= 1000)
		return 0;
	set_outcome(s, "skipped", 0, "the run's time budget (%d s) is spent",
	    w->budget_ms / 1000);
	return 1;
}

static void
add_found(struct walk *w, const struct mf_disc_cand *c)
{
	if (w->nfound < MF_DISC_CANDS_MAX)
		w->found[w->nfound++] = *c;
}

/* ---- SRV (RFC 6186 §3, RFC 8314 §5.1) ---- */

static const struct {
	const char *label;
	enum mf_disc_proto proto;
	enum mf_tls_mode tls;
} services[] = {
	{ "_submissions._tcp", MF_DISC_SUBMISSION, MF_TLS_IMPLICIT },
	{ "_submission._tcp", MF_DISC_SUBMISSION, MF_TLS_STARTTLS },
	{ "_imaps._tcp", MF_DISC_IMAP, MF_TLS_IMPLICIT },
	{ "_imap._tcp", MF_DISC_IMAP, MF_TLS_STARTTLS },
	{ "_pop3s._tcp", MF_DISC_POP3, MF_TLS_IMPLICIT },
	{ "_pop3._tcp", MF_DISC_POP3, MF_TLS_STARTTLS },
};

static void
srv_one(struct walk *w, size_t i)
{
	struct mf_dns_answer a;
	struct mf_disc_step *s;
	struct mf_disc_cand c;
	struct mf_buf list = MF_BUF_INIT(400);
	struct mf_err e;
	struct timespec t0;
	char q[MF_DNS_NAME_MAX + 32];
	size_t k;
	int offered = 0;

	snprintf(q, sizeof(q), "%s.%s", services[i].label, w->r->domain);
	s = new_step(w, "srv", q);
	if (spent(w, s))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&a, 0, sizeof(a));
	if (mf_dns_query(w->p->dns, q, MF_DNS_SRV, &a, &e) == -1) {
		set_outcome(s, "error", elapsed_ms(&t0), "%s", e.msg);
		mf_dns_answer_free(&a);
		return;
	}
	if (a.status == MF_DNS_NXDOMAIN || a.status == MF_DNS_NODATA) {
		set_outcome(s, "none", elapsed_ms(&t0), "%s",
		    mf_dns_status_name(a.status));
		mf_dns_answer_free(&a);
		return;
	}
	if (a.status != MF_DNS_ANSWER) {
		set_outcome(s, "error", elapsed_ms(&t0), "%s",
		    mf_dns_status_name(a.status));
		mf_dns_answer_free(&a);
		return;
	}
	for (k = 0; k < a.n; k++) {
		/* RFC 2782: a target of "." means the service is not offered */
		if (a.rr[k].target[0] == '\0' || a.rr[k].port == 0)
			continue;
		memset(&c, 0, sizeof(c));
		c.proto = services[i].proto;
		c.source = MF_DISC_SRV;
		c.tls = services[i].tls;
		mf_strlcpy(c.host, a.rr[k].target, sizeof(c.host));
		c.port = a.rr[k].port;
		c.prio = a.rr[k].pref;
		c.weight = a.rr[k].weight;
		add_found(w, &c);
		mf_buf_printf(&list, NULL, "%s%s:%d (priority %d, weight %d)",
		    offered ? ", " : "", c.host, c.port, c.prio, c.weight);
		offered++;
	}
	if (offered)
		set_outcome(s, "found", elapsed_ms(&t0), "%s", list.data);
	else
		set_outcome(s, "not-offered", elapsed_ms(&t0), "target \".\": "
		    "the domain says it does not offer this service");
	mf_buf_free(&list);
	mf_dns_answer_free(&a);
}

/* ---- addresses ---- */

/* The first A (else AAAA) address of host through our resolver. */
static int
resolve(struct walk *w, const char *host, char *addr, size_t alen,
        struct mf_err *e)
{
	struct mf_dns_answer a;
	int types[2] = { MF_DNS_A, MF_DNS_AAAA }, i, r = -1;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < 2 && r == -1; i++) {
		if (mf_dns_query(w->p->dns, host, types[i], &a, e) == 0 &&
		    a.n > 0) {
			mf_strlcpy(addr, a.rr[0].addr, alen);
			r = 0;
		}
		mf_dns_answer_free(&a);
	}
	if (r == -1 && e->msg[0] == '\0')
		mf_err_set(e, MF_E_NOHOST, "%s has no address", host);
	else if (r == -1)
		mf_err_set(e, MF_E_NOHOST, "%s has no address (%s)", host, e->msg);
	return r;
}

/* ---- autoconfig ---- */

static void
take_autoconfig(struct walk *w)
{
	struct mf_disc_cand c;
	size_t i;

	for (i = 0; i < w->ac.n; i++) {
		const struct mf_ac_server *s = &w->ac.srv[i];

		memset(&c, 0, sizeof(c));
		c.proto = s->proto == MF_AC_SMTP ? MF_DISC_SUBMISSION :
		    s->proto == MF_AC_IMAP ? MF_DISC_IMAP : MF_DISC_POP3;
		c.source = MF_DISC_AUTOCONFIG;
		mf_strlcpy(c.host, s->hostname, sizeof(c.host));
		c.port = s->port;
		c.tls = s->socket == MF_AC_SSL ? MF_TLS_IMPLICIT :
		    s->socket == MF_AC_PLAIN ? MF_TLS_NONE : MF_TLS_STARTTLS;
		mf_strlcpy(c.user, s->username, sizeof(c.user));
		mf_strlcpy(c.auth, s->auth, sizeof(c.auth));
		add_found(w, &c);
	}
}

/* One URL: 0 when a document was read. */
static int
autoconfig_one(struct walk *w, const char *host, const char *path)
{
	struct mf_https_params hp;
	struct mf_disc_step *s;
	struct mf_buf body = MF_BUF_INIT(MF_AC_DOC_MAX);
	struct mf_err e;
	struct timespec t0;
	char url[600], addr[64];
	int r = -1;

	snprintf(url, sizeof(url), "https://%s%s", host, path);
	s = new_step(w, "autoconfig", url);
	if (spent(w, s))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mf_err_clear(&e);
	if (resolve(w, host, addr, sizeof(addr), &e) == -1) {
		set_outcome(s, "no-address", elapsed_ms(&t0), "%s", e.msg);
		return -1;
	}
	memset(&hp, 0, sizeof(hp));
	hp.ca_file = w->p->ca_file;
	hp.port = w->p->https_port;
	hp.timeout_ms = w->p->timeout_ms > 0 ? w->p->timeout_ms :
	    ATTEMPT_TIMEOUT_MS;
	hp.body_max = MF_AC_DOC_MAX;
	hp.accept = "application/xml, text/xml";
	hp.user_agent = "smtp-auth-test (mailflow)";
	if (mf_https_get(host, addr, path, &hp, &body, NULL, &e) == -1) {
		set_outcome(s, e.kind == MF_E_CONNECT ? "refused" :
		    e.kind == MF_E_TIMEOUT ? "timeout" : e.kind == MF_E_TLS ||
		    e.kind == MF_E_TLS_VERIFY ? "tls-failed" : "error",
		    elapsed_ms(&t0), "[%s] %s", addr, e.msg);
	} else if (mf_autoconfig_parse(body.data ? body.data : "", body.len,
	    w->r->address[0] ? w->r->address : w->r->domain, &w->ac, &e) == -1) {
		set_outcome(s, "malformed", elapsed_ms(&t0), "%s", e.msg);
	} else {
		set_outcome(s, "found", elapsed_ms(&t0), "%zu server%s%s", w->ac.n,
		    w->ac.n == 1 ? "" : "s", w->ac.skipped ? " (others skipped)" :
		    "");
		w->have_ac = 1;
		take_autoconfig(w);
		r = 0;
	}
	mf_buf_free(&body);
	return r;
}

static void
autoconfig(struct walk *w)
{
	char host[MF_DNS_NAME_MAX + 16];

	snprintf(host, sizeof(host), "autoconfig.%s", w->r->domain);
	if (autoconfig_one(w, host, "/mail/config-v1.1.xml") == 0)
		return;
	autoconfig_one(w, w->r->domain,
	    "/.well-known/autoconfig/mail/config-v1.1.xml");
}

/* ---- MX ---- */

static void
find_mx(struct walk *w)
{
	struct mf_dns_answer a;
	struct mf_disc_step *s;
	struct mf_buf list = MF_BUF_INIT(600);
	struct mf_err e;
	struct timespec t0;
	char q[MF_DNS_NAME_MAX + 8];
	size_t i, j, best;

	snprintf(q, sizeof(q), "%s MX", w->r->domain);
	s = new_step(w, "mx", q);
	if (spent(w, s))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&a, 0, sizeof(a));
	if (mf_dns_query(w->p->dns, w->r->domain, MF_DNS_MX, &a, &e) == -1) {
		set_outcome(s, "error", elapsed_ms(&t0), "%s", e.msg);
		mf_dns_answer_free(&a);
		return;
	}
	/* by preference (RFC 5321 §5.1); the null MX "." is no host */
	for (i = 0; i < a.n && w->nmx < 8; i++) {
		for (best = i, j = i + 1; j < a.n; j++)
			if (a.rr[j].pref < a.rr[best].pref)
				best = j;
		if (best != i) {
			struct mf_dns_rr tmp = a.rr[i];

			a.rr[i] = a.rr[best];
			a.rr[best] = tmp;
		}
		if (a.rr[i].target[0] == '\0')
			continue;
		mf_strlcpy(w->mx[w->nmx++], a.rr[i].target, sizeof(w->mx[0]));
		mf_buf_printf(&list, NULL, "%s%s", w->nmx > 1 ? ", " : "",
		    a.rr[i].target);
	}
	if (w->nmx > 0)
		set_outcome(s, "found", elapsed_ms(&t0), "%s", list.data);
	else
		set_outcome(s, "none", elapsed_ms(&t0), "%s",
		    mf_dns_status_name(a.status));
	mf_buf_free(&list);
	mf_dns_answer_free(&a);
}

/* ---- SMTP attempts ---- */

static void
classify(struct mf_disc_step *s, const struct mf_diag_report *d, int creds)
{
	const struct mf_diag_stage *c = &d->stage[MF_DIAG_CONNECT];
	const struct mf_smtp_caps *caps = mf_diag_auth_caps(d);
	size_t i;
	int failed = 0;

	s->exit_code = d->exit_code;
	if (caps != NULL)
		mf_strlcpy(s->offered, caps->auth, sizeof(s->offered));
	/* The configuration block names the strongest mechanism that
	 * worked, not the first one the server listed. */
	for (i = 0; i < d->nmech; i++) {
		if (d->mech[i].result == MF_DIAG_MECH_OK && (s->mech[0] ==
		    '\0' || mf_sasl_rank(d->mech[i].name) <
		    mf_sasl_rank(s->mech)))
			mf_strlcpy(s->mech, d->mech[i].name, sizeof(s->mech));
		failed |= d->mech[i].result == MF_DIAG_MECH_FAILED;
	}
	if (!c->ok) {
		mf_strlcpy(s->outcome, c->err == MF_E_CONNECT ? "refused" :
		    c->err == MF_E_TIMEOUT ? "timeout" : c->err == MF_E_NOHOST ?
		    "no-address" : "failed", sizeof(s->outcome));
	} else if (d->tls_attempted && !d->tls_ok) {
		mf_strlcpy(s->outcome, "tls-failed", sizeof(s->outcome));
	} else if (s->mech[0] != '\0') {
		mf_strlcpy(s->outcome, "ok", sizeof(s->outcome));
	} else if (creds && failed) {
		mf_strlcpy(s->outcome, "auth-failed", sizeof(s->outcome));
	} else if (caps != NULL && caps->auth[0] == '\0') {
		mf_strlcpy(s->outcome, "no-auth", sizeof(s->outcome));
	} else if (!creds && d->exit_code == 0 && caps != NULL) {
		mf_strlcpy(s->outcome, "ok", sizeof(s->outcome));
	} else {
		mf_strlcpy(s->outcome, "failed", sizeof(s->outcome));
	}
	mf_strlcpy(s->detail, d->verdict, sizeof(s->detail));
}

static void
attempt(struct walk *w, const struct mf_disc_cand *c)
{
	struct mf_diag_params dp;
	struct mf_diag_report *d;
	struct mf_disc_step *s;
	struct mf_err e;
	struct timespec t0;
	char what[320], addr[64];
	long left = remaining(w);
	int tmo = w->p->timeout_ms > 0 ? w->p->timeout_ms : ATTEMPT_TIMEOUT_MS;
	char port[8];

	snprintf(what, sizeof(what), "%s:%d", c->host, c->port);
	if ((s = new_step(w, "smtp", what)) == NULL)
		return;
	s->is_attempt = 1;
	s->cand = *c;
	if (spent(w, s))
		return;
	if (tmo > left)
		tmo = (int)left;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mf_err_clear(&e);
	if (resolve(w, c->host, addr, sizeof(addr), &e) == -1) {
		set_outcome(s, "no-address", elapsed_ms(&t0), "%s", e.msg);
		s->exit_code = mf_err_kind_exit(MF_E_NOHOST);
		return;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		set_outcome(s, "failed", 0, "out of memory");
		return;
	}
	mf_diag_report_init(d);
	memset(&dp, 0, sizeof(dp));
	snprintf(port, sizeof(port), "%d", c->port);
	/* connect to the address our resolver gave; verify the name */
	dp.conn.host = addr;
	dp.conn.port = port;
	dp.conn.tls = c->tls;
	dp.conn.tlsp.ca_file = w->p->ca_file;
	dp.conn.tlsp.sni = c->host;
	dp.conn.tlsp.verify_name = c->host;
	dp.ehlo_name = w->p->ehlo_name;
	dp.conn.cred = w->p->cred;
	dp.quit_after = MF_DIAG_NSTAGES;
	dp.conn.timeout_ms = tmo;
	dp.banner_wait_ms = tmo < 5000 ? tmo : 5000;
	dp.show_secrets = w->p->show_secrets;
	if (mf_diag_run(&dp, d, &e) == -1)
		set_outcome(s, "failed", elapsed_ms(&t0), "%s", e.msg);
	else
		classify(s, d, dp.conn.cred.user != NULL);
	s->ms = elapsed_ms(&t0);
	mf_diag_report_free(d);
	free(d);
}

/* ---- results ---- */

static const struct mf_disc_cand *
best_found(const struct walk *w, enum mf_disc_proto proto)
{
	const struct mf_disc_cand *b = NULL;
	size_t i;

	for (i = 0; i < w->nfound; i++) {
		const struct mf_disc_cand *c = &w->found[i];

		if (c->proto != proto)
			continue;
		if (b == NULL || (c->source == MF_DISC_SRV &&
		    b->source == MF_DISC_SRV && (c->prio < b->prio ||
		    (c->prio == b->prio && c->tls == MF_TLS_IMPLICIT &&
		    b->tls != MF_TLS_IMPLICIT))))
			b = c;
	}
	return b;
}

/* The login: -u, else autoconfig's username for the protocol, else the
 * address (the usual convention when nothing says otherwise). */
static void
pick_user(const struct walk *w, const struct mf_disc_cand *c, char *out,
          size_t len)
{
	size_t i;

	if (w->p->cred.user != NULL) {
		mf_strlcpy(out, w->p->cred.user, len);
		return;
	}
	if (c->user[0] != '\0') {
		mf_strlcpy(out, c->user, len);
		return;
	}
	for (i = 0; i < w->nfound; i++)
		if (w->found[i].proto == c->proto && w->found[i].user[0]) {
			mf_strlcpy(out, w->found[i].user, len);
			return;
		}
	mf_strlcpy(out, w->r->address, len);
}

/* autoconfig's authentication words in the config file's terms. */
static const char *
auth_word(const char *ac)
{
	if (strcasecmp(ac, "password-encrypted") == 0)
		return "CRAM-MD5";
	if (strcasecmp(ac, "OAuth2") == 0)
		return "XOAUTH2";
	return "auto";
}

static void
add_account(struct walk *w, const struct mf_disc_cand *c, const char *auth,
            int tested)
{
	struct mf_disc_account *a = &w->r->acct[w->r->nacct++];

	memset(a, 0, sizeof(*a));
	a->c = *c;
	a->tested = tested;
	if (c->proto == MF_DISC_SUBMISSION)
		mf_strlcpy(a->name, w->r->domain, sizeof(a->name));
	else
		snprintf(a->name, sizeof(a->name), "%s-%s", w->r->domain,
		    mf_disc_proto_name(c->proto));
	pick_user(w, c, a->user, sizeof(a->user));
	mf_strlcpy(a->auth, auth, sizeof(a->auth));
}

static void
conclude(struct walk *w)
{
	struct mf_disc_result *r = w->r;
	const struct mf_disc_step *ok = NULL, *answered = NULL;
	const struct mf_disc_cand *c;
	size_t i;
	int authfail = 0, tried = 0;

	for (i = 0; i < r->nstep; i++) {
		const struct mf_disc_step *s = &r->step[i];

		if (!s->is_attempt)
			continue;
		tried++;
		if (strcmp(s->outcome, "ok") == 0 && ok == NULL)
			ok = s;
		authfail |= strcmp(s->outcome, "auth-failed") == 0;
		if (answered == NULL && strcmp(s->outcome, "refused") != 0 &&
		    strcmp(s->outcome, "timeout") != 0 &&
		    strcmp(s->outcome, "no-address") != 0 &&
		    strcmp(s->outcome, "skipped") != 0 &&
		    strcmp(s->outcome, "no-auth") != 0)
			answered = s;
	}
	if (ok != NULL) {
		add_account(w, &ok->cand, ok->mech[0] ? ok->mech : "auto", 1);
		r->submission_found = 1;
		r->exit_code = 0;
		mf_fmt(r->verdict, sizeof(r->verdict), "submission works: "
		    "%s:%d, TLS %s%s%s (found by %s)", ok->cand.host,
		    ok->cand.port, mf_tls_mode_name(ok->cand.tls),
		    ok->mech[0] ? ", AUTH " : "", ok->mech,
		    mf_disc_source_name(ok->cand.source));
	} else if (authfail) {
		r->exit_code = mf_err_kind_exit(MF_E_AUTH);
		mf_strlcpy(r->verdict, "servers answered but refused the "
		    "credentials with every mechanism", sizeof(r->verdict));
	} else if (answered != NULL) {
		r->exit_code = answered->exit_code ? answered->exit_code :
		    mf_err_kind_exit(MF_E_UNSUPPORTED);
		mf_fmt(r->verdict, sizeof(r->verdict), "no working submission "
		    "path; closest: %s:%d: %s", answered->cand.host,
		    answered->cand.port, answered->detail);
	} else {
		r->exit_code = mf_err_kind_exit(MF_E_UNSUPPORTED);
		mf_fmt(r->verdict, sizeof(r->verdict), "no submission server "
		    "answered (%d tried)", tried);
	}
	for (i = MF_DISC_IMAP; i <= MF_DISC_POP3; i++)
		if ((c = best_found(w, (enum mf_disc_proto)i)) != NULL)
			add_account(w, c, auth_word(c->auth), 0);
}

int
mf_discover_run(const struct mf_disc_params *p, struct mf_disc_result *r,
                struct mf_err *e)
{
	struct walk *w;
	struct mf_disc_cand guess[32], *order;
	const char *mx[8];
	size_t i, n, ng;

	memset(r, 0, sizeof(*r));
	mf_strlcpy(r->query, p->query, sizeof(r->query));
	if (mf_discover_split(p->query, r->domain, sizeof(r->domain),
	    r->address, sizeof(r->address)) == -1)
		return mf_err_set(e, MF_E_USAGE, "--discover: \"%.100s\" is not "
		    "an address or a domain", p->query);
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (order = calloc(2 * MF_DISC_CANDS_MAX + 32, sizeof(*order))) == NULL) {
		free(w);
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	}
	w->p = p;
	w->r = r;
	w->budget_ms = p->budget_ms > 0 ? p->budget_ms : MF_DISC_BUDGET_MS;
	clock_gettime(CLOCK_MONOTONIC, &w->start);

	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		srv_one(w, i);
	autoconfig(w);
	find_mx(w);
	for (i = 0; i < w->nmx; i++)
		mx[i] = w->mx[i];
	ng = mf_discover_guesses(r->domain, mx, w->nmx, guess, 32);
	memcpy(order, w->found, w->nfound * sizeof(*order));
	memcpy(order + w->nfound, guess, ng * sizeof(*order));
	n = mf_discover_order(order, w->nfound + ng, order + MF_DISC_CANDS_MAX +
	    32, MF_DISC_CANDS_MAX);
	for (i = 0; i < n; i++)
		attempt(w, &order[MF_DISC_CANDS_MAX + 32 + i]);
	conclude(w);
	r->total_ms = elapsed_ms(&w->start);
	free(order);
	free(w);
	return 0;
}
