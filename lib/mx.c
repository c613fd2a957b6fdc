/* mx.c - mail routing (RFC 5321 §5.1), MX probing and findings. */
#include "mx.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto.h"
#include "json.h"

const char *
mf_mx_route_name(enum mf_mx_route_kind k)
{
	static const char *const n[] = { "mx", "implicit-mx", "null-mx",
	    "nxdomain", "nodata", "dns-error" };

	return (unsigned)k < sizeof(n) / sizeof(n[0]) ? n[k] : "?";
}

/* ---------------------------------------------------------------- */
/* routing */

static unsigned
rand_default(void *arg)
{
	(void)arg;
	return (unsigned)rand();
}

void
mf_mx_order(struct mf_mx_host *h, size_t n, unsigned (*rnd)(void *), void *arg)
{
	struct mf_mx_host tmp;
	size_t i, j, start, k;

	if (rnd == NULL)
		rnd = rand_default;
	/* Insertion sort by preference (n is small). */
	for (i = 1; i < n; i++) {
		tmp = h[i];
		for (j = i; j > 0 && h[j - 1].pref > tmp.pref; j--)
			h[j] = h[j - 1];
		h[j] = tmp;
	}
	/* §5.1: hosts of equal preference in random order (Fisher-Yates). */
	for (start = 0; start < n; start = i) {
		for (i = start + 1; i < n && h[i].pref == h[start].pref; i++)
			;
		for (k = i - start; k > 1; k--) {
			j = rnd(arg) % k;
			tmp = h[start + k - 1];
			h[start + k - 1] = h[start + j];
			h[start + j] = tmp;
		}
	}
}

static void
add_addrs(struct mf_mx_host *h, const struct mf_dns_answer *a)
{
	size_t i;

	for (i = 0; i < a->n && h->naddrs < MF_MX_ADDRS_MAX; i++)
		mf_strlcpy(h->addrs[h->naddrs++], a->rr[i].addr,
		    sizeof(h->addrs[0]));
	if (a->cname) {
		h->is_cname = 1;
		mf_strlcpy(h->canon, a->canon, sizeof(h->canon));
	}
}

static void
lookup_family(struct mf_dns *d, struct mf_mx_host *h, int type)
{
	struct mf_dns_answer a;
	struct mf_err e;

	memset(&a, 0, sizeof(a));
	if (mf_dns_query(d, h->name, type, &a, &e) == -1)
		snprintf(h->dns_error, sizeof(h->dns_error), "%s: no response",
		    type == MF_DNS_A ? "A" : "AAAA");
	else if (a.status == MF_DNS_ANSWER)
		add_addrs(h, &a);
	else if (a.status != MF_DNS_NODATA && a.status != MF_DNS_NXDOMAIN)
		snprintf(h->dns_error, sizeof(h->dns_error), "%s: %s",
		    type == MF_DNS_A ? "A" : "AAAA", mf_dns_status_name(a.status));
	mf_dns_answer_free(&a);
}

static void
resolve_host(struct mf_dns *d, struct mf_mx_host *h, int family)
{
	if (family != 6)
		lookup_family(d, h, MF_DNS_A);
	if (family != 4)
		lookup_family(d, h, MF_DNS_AAAA);
}

static void
take_mx(struct mf_mx_route *r, const struct mf_dns_answer *a)
{
	size_t i, nulls = 0;
	struct mf_mx_host *h;

	for (i = 0; i < a->n; i++) {
		/* RFC 7505 §3: "MX 0 ." means no mail service. */
		if (a->rr[i].target[0] == '\0') {
			nulls++;
			continue;
		}
		if (r->nhosts == MF_MX_HOSTS_MAX)
			continue;
		h = &r->hosts[r->nhosts++];
		memset(h, 0, sizeof(*h));
		mf_strlcpy(h->name, a->rr[i].target, sizeof(h->name));
		h->pref = a->rr[i].pref;
	}
	if (nulls > 0 && r->nhosts == 0)
		r->kind = MF_ROUTE_NULL_MX;
	else if (nulls > 0)
		r->null_mx_mixed = 1;
}

int
mf_mx_route(struct mf_dns *d, const char *domain, int family,
            struct mf_mx_route *r, struct mf_err *e)
{
	struct mf_dns_answer a;
	struct mf_err qe;
	size_t i, total = 0;

	(void)e;
	memset(r, 0, sizeof(*r));
	memset(&a, 0, sizeof(a));
	mf_strlcpy(r->domain, domain, sizeof(r->domain));
	if (r->domain[0] && r->domain[strlen(r->domain) - 1] == '.')
		r->domain[strlen(r->domain) - 1] = '\0';
	if (mf_dns_query(d, r->domain, MF_DNS_MX, &a, &qe) == -1) {
		r->kind = MF_ROUTE_DNS_ERROR;
		mf_strlcpy(r->error, qe.msg, sizeof(r->error));
		mf_dns_answer_free(&a);
		return 0;
	}
	r->ad = a.ad;
	switch (a.status) {
	case MF_DNS_ANSWER:
		r->kind = MF_ROUTE_MX;
		take_mx(r, &a);
		mf_mx_order(r->hosts, r->nhosts, NULL, NULL);
		break;
	case MF_DNS_NODATA:
		/* §5.1: no MX: the domain itself is the implicit MX. */
		r->kind = MF_ROUTE_IMPLICIT;
		r->nhosts = 1;
		mf_strlcpy(r->hosts[0].name, r->domain, sizeof(r->hosts[0].name));
		break;
	case MF_DNS_NXDOMAIN:
		r->kind = MF_ROUTE_NXDOMAIN;
		break;
	default:
		r->kind = MF_ROUTE_DNS_ERROR;
		snprintf(r->error, sizeof(r->error), "MX lookup: %s (rcode %d)",
		    mf_dns_status_name(a.status), a.rcode);
		break;
	}
	mf_dns_answer_free(&a);
	for (i = 0; i < r->nhosts; i++) {
		resolve_host(d, &r->hosts[i], family);
		total += r->hosts[i].naddrs;
	}
	if (r->kind == MF_ROUTE_IMPLICIT) {
		r->hosts[0].is_cname = 0;   /* the domain may be an alias */
		if (total == 0 && r->hosts[0].dns_error[0] == '\0') {
			r->kind = MF_ROUTE_NODATA;
			r->nhosts = 0;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* probing one address */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void
stage_fail(struct mf_mx_probe *o, const char *stage, const struct mf_err *e)
{
	mf_strlcpy(o->failed_stage, stage, sizeof(o->failed_stage));
	mf_strlcpy(o->error, e->msg, sizeof(o->error));
}

static void
first_word(const char *text, char *out, size_t outlen)
{
	size_t n = strcspn(text, " \t\r\n");

	snprintf(out, outlen, "%.*s", (int)n, text);
}

/* DANE matches against the DER the peer sent (all selectors and
 * matching types), not only against the SHA-256 fingerprints. */
static void
chain_digests(struct mf_smtp *s, struct mf_mx_probe *o)
{
	const unsigned char *der;
	size_t i, len;

	struct mf_transport *t = mf_smtp_transport(s);
	size_t j;

	for (i = 0; i < o->tls.chain_len && i < MF_TLS_CHAIN_MAX; i++) {
		if (mf_tls_peer_cert_der(t, i, &der, &len) == 0)
			mf_dane_digest_cert(der, len, &o->dg[i]);
		/* Which certificates' keys verify this one's signature:
		 * DANE-TA chains must not be built from names alone. */
		for (j = 0; j < o->tls.chain_len && j < MF_TLS_CHAIN_MAX; j++)
			if (j != i && mf_tls_peer_cert_signed_by(t, i, j) == 1)
				o->dg[i].signed_by |= 1u << j;
		o->dg[i].signatures_known = 1;
	}
}

static void
session(struct mf_smtp *s, const struct mf_mx_params *p, struct mf_mx_probe *o)
{
	struct mf_smtp_reply r;
	struct mf_err e;
	double t;

	(void)p;
	mf_err_clear(&e);
	t = now_ms();
	if (mf_smtp_connect(s, &e) == -1)
		return stage_fail(o, "connect", &e);
	o->ms[MF_MX_CONNECT] = now_ms() - t;
	o->reached = 1;
	t = now_ms();
	memset(&r, 0, sizeof(r));
	if (mf_smtp_greeting(s, &r, &e) == -1) {
		snprintf(o->banner, sizeof(o->banner), "%d %.500s", r.code, r.text);
		return stage_fail(o, "banner", &e);
	}
	o->ms[MF_MX_BANNER] = now_ms() - t;
	o->banner_code = r.code;
	snprintf(o->banner, sizeof(o->banner), "%d %.500s", r.code, r.text);
	first_word(r.text, o->banner_name, sizeof(o->banner_name));
	t = now_ms();
	if (mf_smtp_ehlo(s, &r, &e) == -1)
		return stage_fail(o, "ehlo", &e);
	o->ms[MF_MX_EHLO] = now_ms() - t;
	mf_strlcpy(o->caps, mf_smtp_caps(s)->raw, sizeof(o->caps));
	o->starttls_offered = mf_smtp_caps(s)->starttls;
	if (!o->starttls_offered)
		return;
	t = now_ms();
	if (mf_smtp_starttls(s, &r, &o->tls, &e) == -1) {
		o->tls_done = 0;
		return stage_fail(o, "starttls", &e);
	}
	o->ms[MF_MX_STARTTLS] = now_ms() - t;
	o->tls_done = o->tls.handshake_done;
	chain_digests(s, o);
	/* verified: chain to a trusted anchor and the MX name matched. */
	o->pkix_ok = o->tls.verified && !o->tls.name_mismatch;
	t = now_ms();
	if (mf_smtp_ehlo(s, &r, &e) == -1)
		return stage_fail(o, "ehlo-tls", &e);
	o->ms[MF_MX_EHLO_TLS] = now_ms() - t;
	mf_strlcpy(o->caps_tls, mf_smtp_caps(s)->raw, sizeof(o->caps_tls));
}

void
mf_mx_probe_addr(const struct mf_mx_params *p, const char *host,
                 const char *addr, struct mf_mx_probe *o)
{
	struct mf_smtp_params sp;
	struct mf_smtp *s;
	struct mf_err e;
	int i, tmo = p->timeout_ms > 0 ? p->timeout_ms : 30000;

	for (i = 0; i < MF_MX_NSTAGES; i++)
		o->ms[i] = -1;
	o->probed = 1;
	memset(&sp, 0, sizeof(sp));
	sp.host = addr;
	sp.port = p->port ? p->port : "25";
	sp.tls = MF_TLS_STARTTLS;
	/* The certificate is judged here (PKIX, DANE, MTA-STS), so the
	 * handshake must complete whatever GnuTLS thinks of it; verification
	 * results are still computed into the info. */
	sp.tlsp.sni = host;
	sp.tlsp.verify_name = host;
	sp.tlsp.ca_file = p->ca_file;
	sp.tlsp.insecure = 1;
	sp.tlsp.timeout_ms = tmo;
	sp.sock.connect_timeout_ms = tmo;
	sp.sock.io_timeout_ms = tmo;
	sp.ehlo_name = p->ehlo;
	sp.timeout_ms = tmo;
	s = mf_smtp_new(&sp, &e);
	if (s == NULL) {
		stage_fail(o, "connect", &e);
		return;
	}
	session(s, p, o);
	mf_smtp_free(s);
}

/* RFC 6125 §6.4.3, simplified: exact, or "*." for one leftmost label. */
static int
name_match(const char *pattern, const char *name)
{
	const char *dot;

	if (!*pattern || !*name)
		return 0;
	if (pattern[0] == '*' && pattern[1] == '.') {
		dot = strchr(name, '.');
		return dot != NULL && dot != name &&
		    strcasecmp(dot + 1, pattern + 2) == 0;
	}
	return strcasecmp(pattern, name) == 0;
}

static int
cert_names(const struct mf_cert_info *c, const char *name)
{
	char one[256];
	const char *p = c->sans, *q;
	size_t n;

	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		q = p + strcspn(p, ",");
		n = (size_t)(q - p);
		if (n > 4 && strncmp(p, "DNS:", 4) == 0) {
			snprintf(one, sizeof(one), "%.*s", (int)(n - 4), p + 4);
			if (name_match(one, name))
				return 1;
		}
		p = q;
	}
	p = strstr(c->subject, "CN=");
	if (p != NULL) {
		first_word(p + 3, one, sizeof(one));
		one[strcspn(one, ",")] = '\0';
		return name_match(one, name);
	}
	return 0;
}

static int
addr_in(const struct mf_dns_answer *a, const char *addr)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->rr[i].addr, addr) == 0)
			return 1;
	return 0;
}

void
mf_mx_rdns(struct mf_dns *d, struct mf_mx_probe *o)
{
	struct mf_dns_answer a;
	struct mf_err e;
	char rev[128];
	int leaf = o->tls_done && o->tls.chain_len > 0;

	memset(&a, 0, sizeof(a));
	if (mf_dns_reverse_name(o->addr, rev, sizeof(rev)) == -1)
		return;
	if (mf_dns_query(d, rev, MF_DNS_PTR, &a, &e) == 0 && a.n > 0)
		mf_strlcpy(o->ptr, a.rr[0].target, sizeof(o->ptr));
	mf_dns_answer_free(&a);
	if (o->ptr[0] != '\0' && mf_dns_query(d, o->ptr, strchr(o->addr, ':') ?
	    MF_DNS_AAAA : MF_DNS_A, &a, &e) == 0)
		o->fcrdns = addr_in(&a, o->addr);
	mf_dns_answer_free(&a);
	o->banner_ptr_agree = o->ptr[0] && strcasecmp(o->ptr, o->banner_name) == 0;
	o->banner_cert_agree = leaf && cert_names(&o->tls.chain[0], o->banner_name);
	o->ptr_cert_agree = leaf && o->ptr[0] &&
	    cert_names(&o->tls.chain[0], o->ptr);
}

static void
probe_all(struct mf_dns *d, const struct mf_mx_params *p, const char *host,
          const char *addr, struct mf_mx_probe *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < MF_MX_NSTAGES; i++)
		o->ms[i] = -1;
	mf_strlcpy(o->host, host, sizeof(o->host));
	mf_strlcpy(o->addr, addr, sizeof(o->addr));
	if (!p->no_dane)
		mf_dane_lookup(d, host, p->port ? p->port : "25", &o->tlsa, NULL);
	if (!p->dns_only)
		mf_mx_probe_addr(p, host, addr, o);
	if (!p->no_dane && !p->dns_only)
		mf_dane_check(&o->tlsa, o->tls_done ? &o->tls : NULL, o->dg,
		    &o->dane);
	mf_mx_rdns(d, o);
}

/* ---------------------------------------------------------------- */
/* the shared cache */

struct entry {
	char key[MF_DNS_NAME_MAX + 64];
	int done;
	struct mf_mx_probe probe;
	struct entry *next;
};

struct ipslot {
	char addr[46];
	int active;
	struct ipslot *next;
};

struct mf_mx_cache {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct entry *entries;
	struct ipslot *ips;
};

struct mf_mx_cache *
mf_mx_cache_new(struct mf_err *e)
{
	struct mf_mx_cache *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "probe cache");
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	return c;
}

void
mf_mx_cache_free(struct mf_mx_cache *c)
{
	struct entry *en, *nx;
	struct ipslot *ip, *inx;

	if (c == NULL)
		return;
	for (en = c->entries; en; en = nx) {
		nx = en->next;
		free(en);
	}
	for (ip = c->ips; ip; ip = inx) {
		inx = ip->next;
		free(ip);
	}
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* Called with the lock held. */
static struct ipslot *
ipslot(struct mf_mx_cache *c, const char *addr)
{
	struct ipslot *s;

	for (s = c->ips; s; s = s->next)
		if (strcmp(s->addr, addr) == 0)
			return s;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	mf_strlcpy(s->addr, addr, sizeof(s->addr));
	s->next = c->ips;
	c->ips = s;
	return s;
}

static void
limited_probe(struct mf_mx_cache *c, struct mf_dns *d,
              const struct mf_mx_params *p, const char *host,
              const char *addr, struct mf_mx_probe *o)
{
	struct ipslot *s;
	int limit = p->per_ip_limit > 0 ? p->per_ip_limit : 2;

	pthread_mutex_lock(&c->mu);
	s = ipslot(c, addr);
	while (s != NULL && s->active >= limit)
		pthread_cond_wait(&c->cv, &c->mu);
	if (s != NULL)
		s->active++;
	pthread_mutex_unlock(&c->mu);
	probe_all(d, p, host, addr, o);
	pthread_mutex_lock(&c->mu);
	if (s != NULL)
		s->active--;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void
mf_mx_cache_probe(struct mf_mx_cache *c, struct mf_dns *d,
                  const struct mf_mx_params *p, const char *host,
                  const char *addr, struct mf_mx_probe *out)
{
	struct entry *en;
	char key[sizeof(en->key)];

	if (c == NULL) {
		probe_all(d, p, host, addr, out);
		return;
	}
	snprintf(key, sizeof(key), "%s|%s", host, addr);
	pthread_mutex_lock(&c->mu);
	for (en = c->entries; en; en = en->next)
		if (strcasecmp(en->key, key) == 0)
			break;
	if (en != NULL) {
		while (!en->done)
			pthread_cond_wait(&c->cv, &c->mu);
		*out = en->probe;
		pthread_mutex_unlock(&c->mu);
		return;
	}
	en = calloc(1, sizeof(*en));
	if (en != NULL) {
		mf_strlcpy(en->key, key, sizeof(en->key));
		en->next = c->entries;
		c->entries = en;
	}
	pthread_mutex_unlock(&c->mu);
	limited_probe(c, d, p, host, addr, out);
	if (en == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	en->probe = *out;
	en->done = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* ---------------------------------------------------------------- */
/* a domain */

int
mf_mx_check(struct mf_dns *d, struct mf_mx_cache *c,
            const struct mf_mx_params *p, const char *domain,
            struct mf_mx_report *r, struct mf_err *e)
{
	size_t i, j, total = 0;
	struct mf_mx_host *h;

	memset(r, 0, sizeof(*r));
	if (mf_mx_route(d, domain, p->family, &r->route, e) == -1)
		return -1;
	for (i = 0; i < r->route.nhosts; i++)
		total += r->route.hosts[i].naddrs;
	r->probes = calloc(total ? total : 1, sizeof(*r->probes));
	if (r->probes == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "probes");
	for (i = 0; i < r->route.nhosts; i++) {
		h = &r->route.hosts[i];
		for (j = 0; j < h->naddrs; j++) {
			mf_mx_cache_probe(c, d, p, h->name, h->addrs[j],
			    &r->probes[r->nprobes]);
			r->probes[r->nprobes++].host_index = i;
		}
	}
	if (!p->no_mta_sts && (r->route.kind == MF_ROUTE_MX ||
	    r->route.kind == MF_ROUTE_IMPLICIT)) {
		r->sts_checked = 1;
		mf_mtasts_check(d, r->route.domain, &p->sts, &r->sts, e);
	}
	mf_mx_analyze(r, p);
	return 0;
}

void
mf_mx_report_free(struct mf_mx_report *r)
{
	if (r == NULL)
		return;
	free(r->probes);
	r->probes = NULL;
	r->nprobes = 0;
}

/* ---------------------------------------------------------------- */
/* findings */

static void __attribute__((format(printf, 5, 6)))
add(struct mf_mx_report *r, enum mf_mx_severity sev, const char *code,
    const char *where, const char *fmt, ...)
{
	struct mf_mx_finding *f;
	va_list ap;

	if (r->nfind == MF_MX_FINDINGS_MAX)
		return;
	f = &r->find[r->nfind++];
	f->sev = sev;
	mf_strlcpy(f->code, code, sizeof(f->code));
	mf_strlcpy(f->where, where ? where : "", sizeof(f->where));
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

static void
analyze_route(struct mf_mx_report *r)
{
	const struct mf_mx_route *rt = &r->route;
	const struct mf_mx_host *h;
	size_t i;

	switch (rt->kind) {
	case MF_ROUTE_NXDOMAIN:
		add(r, MF_SEV_ERROR, "nxdomain", rt->domain, "the domain does "
		    "not exist (NXDOMAIN)");
		return;
	case MF_ROUTE_NODATA:
		add(r, MF_SEV_ERROR, "no-route", rt->domain, "the domain has "
		    "neither MX nor A/AAAA records: mail cannot be delivered");
		return;
	case MF_ROUTE_DNS_ERROR:
		add(r, MF_SEV_ERROR, "dns-error", rt->domain, "%s", rt->error);
		return;
	case MF_ROUTE_NULL_MX:
		add(r, MF_SEV_NOTE, "null-mx", rt->domain, "this domain accepts "
		    "no mail (null MX, RFC 7505)");
		return;
	case MF_ROUTE_IMPLICIT:
		add(r, MF_SEV_NOTE, "implicit-mx", rt->domain, "no MX records: "
		    "mail goes to the domain's own address (RFC 5321 §5.1)");
		break;
	default:
		break;
	}
	if (rt->null_mx_mixed)
		add(r, MF_SEV_FINDING, "null-mx-mixed", rt->domain, "\"MX 0 .\" "
		    "next to other MX records (RFC 7505 §3 forbids it)");
	for (i = 0; i < rt->nhosts; i++) {
		h = &rt->hosts[i];
		if (h->is_cname && rt->kind == MF_ROUTE_MX)
			add(r, MF_SEV_FINDING, "mx-cname", h->name, "the MX host "
			    "is an alias (CNAME to %s); RFC 2181 §10.3 forbids "
			    "MX records pointing at aliases", h->canon);
		if (h->naddrs == 0)
			add(r, MF_SEV_FINDING, h->dns_error[0] ? "mx-dns-error" :
			    "mx-no-address", h->name, "no address for the MX "
			    "host%s%s", h->dns_error[0] ? ": " : "", h->dns_error);
	}
}

static void
analyze_tls(struct mf_mx_report *r, const struct mf_mx_probe *o,
            const char *where)
{
	const struct mf_dane_result *dr = &o->dane;

	switch (dr->state) {
	case MF_DANE_PASS:
		add(r, MF_SEV_NOTE, "dane-pass", where, "%s", dr->reason);
		return;   /* DANE authenticates: PKIX does not matter (§3.1) */
	case MF_DANE_FAIL:
	case MF_DANE_NO_TLS:
		add(r, MF_SEV_FINDING, "dane-fail", where, "DANE: %s", dr->reason);
		return;
	case MF_DANE_TEMPFAIL:
		add(r, MF_SEV_FINDING, "dane-tempfail", where, "TLSA lookup for "
		    "%s failed: a DANE sender defers mail", o->tlsa.qname);
		return;
	case MF_DANE_UNCHECKABLE:
		add(r, MF_SEV_NOTE, "dane-uncheckable", where, "%s", dr->reason);
		break;
	default:
		break;
	}
	if (o->tlsa.lookup == MF_DANE_UNSIGNED)
		add(r, MF_SEV_NOTE, "tlsa-unsigned", where, "TLSA records at %s "
		    "are not DNSSEC-validated (no AD bit): ignored", o->tlsa.qname);
	if (!o->tls_done)
		return;
	if (o->tls.name_mismatch)
		add(r, MF_SEV_FINDING, "cert-name-mismatch", where, "the "
		    "certificate does not name %s", o->host);
	else if (!o->pkix_ok)
		add(r, MF_SEV_FINDING, "cert-untrusted", where, "certificate not "
		    "trusted: %s", o->tls.verify_reason);
}

static void
analyze_rdns(struct mf_mx_report *r, const struct mf_mx_probe *o,
             const char *where)
{
	if (o->ptr[0] == '\0') {
		add(r, MF_SEV_NOTE, "no-ptr", where, "no PTR record for %s",
		    o->addr);
		return;
	}
	if (!o->fcrdns)
		add(r, MF_SEV_NOTE, "fcrdns-fail", where, "PTR %s does not "
		    "resolve back to %s", o->ptr, o->addr);
	if (o->reached && o->banner_name[0] && !o->banner_ptr_agree)
		add(r, MF_SEV_NOTE, "banner-ptr-mismatch", where, "banner name "
		    "%s differs from PTR %s", o->banner_name, o->ptr);
}

static void
analyze_probe(struct mf_mx_report *r, const struct mf_mx_probe *o)
{
	char where[300];

	snprintf(where, sizeof(where), "%.200s [%s]", o->host, o->addr);
	if (o->probed && !o->reached) {
		add(r, MF_SEV_FINDING, "unreachable", where, "%s", o->error);
	} else if (o->probed && (o->failed_stage[0] && strcmp(o->failed_stage,
	    "starttls") != 0 && strcmp(o->failed_stage, "ehlo-tls") != 0)) {
		add(r, MF_SEV_FINDING, "smtp-error", where, "%s: %s",
		    o->failed_stage, o->error);
	} else if (o->probed && !o->starttls_offered) {
		add(r, MF_SEV_FINDING, "no-starttls", where, "STARTTLS is not "
		    "offered: mail travels in clear text");
		if (o->dane.state == MF_DANE_NO_TLS)
			add(r, MF_SEV_FINDING, "dane-fail", where, "DANE: %s",
			    o->dane.reason);
	} else if (o->probed && !o->tls_done) {
		add(r, MF_SEV_FINDING, "tls-failed", where, "STARTTLS failed: %s",
		    o->error);
		if (o->dane.state == MF_DANE_NO_TLS)
			add(r, MF_SEV_FINDING, "dane-fail", where, "DANE: %s",
			    o->dane.reason);
	} else if (o->probed) {
		analyze_tls(r, o, where);
	} else if (o->tlsa.lookup == MF_DANE_LOOKUP_FAILED) {
		add(r, MF_SEV_FINDING, "dane-tempfail", where, "TLSA lookup for "
		    "%s failed", o->tlsa.qname);
	}
	analyze_rdns(r, o, where);
}

static void
analyze_sts(struct mf_mx_report *r)
{
	const struct mf_mtasts_result *s = &r->sts;
	const struct mf_mx_route *rt = &r->route;
	size_t i;

	if (s->dns_error[0])
		add(r, MF_SEV_FINDING, "mta-sts-dns", rt->domain, "%s",
		    s->dns_error);
	if (s->record_found && !s->rec.valid)
		add(r, MF_SEV_FINDING, "mta-sts-record-invalid", rt->domain,
		    "_mta-sts record: %s", s->rec.error);
	if (s->record_found && s->rec.valid && !s->fetched)
		add(r, MF_SEV_FINDING, "mta-sts-policy-unavailable", rt->domain,
		    "%s", s->fetch_error);
	if (s->fetched && !s->pol.valid)
		add(r, MF_SEV_FINDING, "mta-sts-policy-invalid", rt->domain,
		    "policy: %s", s->pol.error);
	if (s->fetched && s->pol.valid && s->pol.mode != MF_STS_MODE_NONE)
		for (i = 0; i < rt->nhosts; i++)
			if (!mf_mtasts_mx_allowed(&s->pol, rt->hosts[i].name))
				add(r, MF_SEV_FINDING, "mta-sts-mx-mismatch",
				    rt->hosts[i].name, "MX host not listed in the "
				    "MTA-STS policy (mode %s): %s",
				    mf_mtasts_mode_name(s->pol.mode),
				    s->pol.mode == MF_STS_MODE_ENFORCE ? "senders "
				    "will not deliver to it" : "failures are only "
				    "reported");
	if (s->rpt.found && !s->rpt.valid)
		add(r, MF_SEV_FINDING, "tlsrpt-invalid", rt->domain, "TLS-RPT "
		    "record: %s", s->rpt.error);
}

void
mf_mx_analyze(struct mf_mx_report *r, const struct mf_mx_params *p)
{
	size_t i, reached = 0;

	r->nfind = 0;
	analyze_route(r);
	for (i = 0; i < r->nprobes; i++) {
		analyze_probe(r, &r->probes[i]);
		reached += r->probes[i].reached;
	}
	if ((r->route.kind == MF_ROUTE_MX || r->route.kind ==
	    MF_ROUTE_IMPLICIT) && r->nprobes == 0)
		add(r, MF_SEV_ERROR, "no-address-all", r->route.domain, "no MX "
		    "host has an address%s", p->family ? " of the chosen "
		    "family" : "");
	else if (!p->dns_only && r->nprobes > 0 && reached == 0)
		add(r, MF_SEV_ERROR, "unreachable-all", r->route.domain, "no MX "
		    "address answered");
	if (r->sts_checked)
		analyze_sts(r);
	r->status = 0;
	for (i = 0; i < r->nfind; i++) {
		if (r->find[i].sev == MF_SEV_ERROR)
			r->status = 2;
		else if (r->find[i].sev == MF_SEV_FINDING && r->status == 0)
			r->status = 1;
	}
}

/* ---------------------------------------------------------------- */
/* output */

static const char *const stage_names[MF_MX_NSTAGES] = {
	"connect", "banner", "ehlo", "starttls", "ehlo_tls"
};

static const char *
sev_name(enum mf_mx_severity s)
{
	return s == MF_SEV_ERROR ? "error" : s == MF_SEV_FINDING ? "finding" :
	    "note";
}

static long
days_left(time_t t)
{
	return (long)((t - time(NULL)) / 86400);
}

static void
date_str(time_t t, char *out, size_t n)
{
	struct tm tm;

	if (t <= 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, n, "?");
	else
		strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* EHLO keywords one per line -> space-separated, first word only. */
static void
caps_line(const char *raw, char *out, size_t n)
{
	size_t o = 0;
	const char *p = raw;

	out[0] = '\0';
	while (*p && o + 2 < n) {
		size_t w = strcspn(p, " \n");

		if (o > 0)
			out[o++] = ' ';
		if (w > n - o - 1)
			w = n - o - 1;
		memcpy(out + o, p, w);
		o += w;
		out[o] = '\0';
		p += w;
		p += strcspn(p, "\n");
		while (*p == '\n')
			p++;
	}
}

static const char *
route_words(const struct mf_mx_route *rt)
{
	switch (rt->kind) {
	case MF_ROUTE_MX: return "mail goes to its MX hosts";
	case MF_ROUTE_IMPLICIT: return "no MX: mail goes to the domain's own "
	    "address (implicit MX)";
	case MF_ROUTE_NULL_MX: return "accepts no mail (null MX, RFC 7505)";
	case MF_ROUTE_NXDOMAIN: return "does not exist (NXDOMAIN)";
	case MF_ROUTE_NODATA: return "has neither MX nor address records";
	default: return "DNS lookup failed";
	}
}

static void
text_route(const struct mf_mx_route *rt, struct mf_buf *o)
{
	size_t i, j;
	const struct mf_mx_host *h;

	mf_buf_printf(o, NULL, "%s: %s%s\n", rt->domain, route_words(rt),
	    rt->kind == MF_ROUTE_MX || rt->kind == MF_ROUTE_NULL_MX ?
	    (rt->ad ? " [DNSSEC-validated]" : " [not DNSSEC-validated]") : "");
	if (rt->kind == MF_ROUTE_DNS_ERROR)
		mf_buf_printf(o, NULL, "  error: %s\n", rt->error);
	for (i = 0; i < rt->nhosts; i++) {
		h = &rt->hosts[i];
		if (rt->kind == MF_ROUTE_IMPLICIT)
			mf_buf_printf(o, NULL, "  implicit MX %s ->", h->name);
		else
			mf_buf_printf(o, NULL, "  MX %d %s%s%s%s ->", h->pref, h->name,
		    h->is_cname ? " (CNAME to " : "", h->is_cname ? h->canon : "",
		    h->is_cname ? ")" : "");
		for (j = 0; j < h->naddrs; j++)
			mf_buf_printf(o, NULL, " %s", h->addrs[j]);
		if (h->naddrs == 0)
			mf_buf_printf(o, NULL, " (no address%s%s)",
			    h->dns_error[0] ? ": " : "", h->dns_error);
		mf_buf_puts(o, "\n", NULL);
	}
}

static void
text_tls(const struct mf_mx_probe *p, struct mf_buf *o)
{
	char line[1400];
	size_t i;

	mf_buf_printf(o, NULL, "    TLS        %s %s %s\n", p->tls.version,
	    p->tls.cipher, p->tls.kx);
	for (i = 0; i < p->tls.chain_len; i++) {
		mf_tls_format_cert(&p->tls.chain[i], line, sizeof(line));
		mf_buf_printf(o, NULL, "    cert %zu     %s (%ld days left)\n", i,
		    line, days_left(p->tls.chain[i].not_after));
	}
	if (p->pkix_ok)
		mf_buf_printf(o, NULL, "    verify     trusted, name matches %s\n",
		    p->host);
	else
		mf_buf_printf(o, NULL, "    verify     NOT trusted for %s: %s\n",
		    p->host, p->tls.verify_reason[0] ? p->tls.verify_reason :
		    "verification failed");
}

static void
text_probe(const struct mf_mx_probe *p, struct mf_buf *o)
{
	char caps[1024];
	int i;

	mf_buf_printf(o, NULL, "  %s [%s]\n", p->host, p->addr);
	if (p->probed) {
		mf_buf_puts(o, "    timings   ", NULL);
		for (i = 0; i < MF_MX_NSTAGES; i++)
			if (p->ms[i] >= 0)
				mf_buf_printf(o, NULL, " %s %.1f ms", stage_names[i],
				    p->ms[i]);
		mf_buf_puts(o, "\n", NULL);
		if (p->failed_stage[0])
			mf_buf_printf(o, NULL, "    FAILED     at %s: %s\n",
			    p->failed_stage, p->error);
		if (p->banner_code)
			mf_buf_printf(o, NULL, "    banner     %s\n", p->banner);
		caps_line(p->caps, caps, sizeof(caps));
		if (caps[0])
			mf_buf_printf(o, NULL, "    EHLO       %s\n", caps);
		if (p->reached && !p->failed_stage[0] && !p->starttls_offered)
			mf_buf_puts(o, "    STARTTLS   not offered\n", NULL);
		if (p->tls_done)
			text_tls(p, o);
	}
	if (p->tlsa.lookup != MF_DANE_NO_TLSA || p->dane.state != MF_DANE_NOT_APPLICABLE)
		mf_buf_printf(o, NULL, "    DANE       TLSA %s (%zu records): %s%s%s\n",
		    mf_dane_lookup_name(p->tlsa.lookup), p->tlsa.n,
		    mf_dane_state_name(p->dane.state), p->dane.reason[0] ? ": " : "",
		    p->dane.reason);
	mf_buf_printf(o, NULL, "    rDNS       %s%s%s\n", p->ptr[0] ? "PTR " : "no PTR",
	    p->ptr, p->ptr[0] ? (p->fcrdns ? " (forward-confirmed)" :
	    " (not forward-confirmed)") : "");
}

static void
text_sts(const struct mf_mtasts_result *s, struct mf_buf *o)
{
	size_t i;

	if (!s->record_found)
		mf_buf_puts(o, "  MTA-STS     no _mta-sts record\n", NULL);
	else if (!s->rec.valid)
		mf_buf_printf(o, NULL, "  MTA-STS     invalid record: %s\n",
		    s->rec.error);
	else if (!s->fetched)
		mf_buf_printf(o, NULL, "  MTA-STS     id=%s, policy NOT "
		    "fetched: %s\n", s->rec.id, s->fetch_error);
	else if (!s->pol.valid)
		mf_buf_printf(o, NULL, "  MTA-STS     id=%s, invalid policy: "
		    "%s\n", s->rec.id, s->pol.error);
	else {
		mf_buf_printf(o, NULL, "  MTA-STS     id=%s, mode %s, max_age "
		    "%ld, mx:", s->rec.id, mf_mtasts_mode_name(s->pol.mode),
		    s->pol.max_age);
		for (i = 0; i < s->pol.nmx; i++)
			mf_buf_printf(o, NULL, " %s", s->pol.mx[i]);
		mf_buf_puts(o, "\n", NULL);
	}
	if (!s->rpt.found)
		mf_buf_puts(o, "  TLS-RPT     no _smtp._tls record\n", NULL);
	else
		mf_buf_printf(o, NULL, "  TLS-RPT     %s%s%s\n", s->rpt.valid ?
		    "rua=" : "invalid: ", s->rpt.valid ? s->rpt.rua : s->rpt.error,
		    "");
}

int
mf_mx_format_text(const struct mf_mx_report *r, struct mf_buf *o,
                  struct mf_err *e)
{
	const struct mf_mx_finding *f;
	size_t i, nf = 0;

	text_route(&r->route, o);
	for (i = 0; i < r->nprobes; i++)
		text_probe(&r->probes[i], o);
	if (r->sts_checked)
		text_sts(&r->sts, o);
	for (i = 0; i < r->nfind; i++) {
		f = &r->find[i];
		nf += f->sev != MF_SEV_NOTE;
		mf_buf_printf(o, NULL, "  %-8s %s%s%s: %s\n", sev_name(f->sev),
		    f->code, f->where[0] ? " " : "", f->where, f->msg);
	}
	mf_buf_printf(o, NULL, "  result: %s\n", r->status == 0 ? "ok, no findings" :
	    r->status == 1 ? "FINDINGS" : "ERROR");
	(void)nf;
	return mf_buf_puts(o, "", e);
}

static void
json_cert(struct mf_json *j, const struct mf_cert_info *c)
{
	char d[32];

	mf_json_object_begin(j);
	mf_json_kv_string(j, "subject", c->subject);
	mf_json_kv_string(j, "issuer", c->issuer);
	mf_json_kv_string(j, "sans", c->sans);
	date_str(c->not_before, d, sizeof(d));
	mf_json_kv_string(j, "not_before", d);
	date_str(c->not_after, d, sizeof(d));
	mf_json_kv_string(j, "not_after", d);
	mf_json_kv_int(j, "days_left", days_left(c->not_after));
	mf_json_kv_string(j, "key", c->key_desc);
	mf_json_kv_string(j, "sha256", c->sha256);
	mf_json_kv_string(j, "spki_sha256", c->spki_sha256);
	mf_json_object_end(j);
}

static void
json_tls(struct mf_json *j, const struct mf_mx_probe *p)
{
	size_t i;

	mf_json_key(j, "tls");
	if (!p->tls_done) {
		mf_json_null(j);
		return;
	}
	mf_json_object_begin(j);
	mf_json_kv_string(j, "version", p->tls.version);
	mf_json_kv_string(j, "cipher", p->tls.cipher);
	mf_json_kv_string(j, "kx", p->tls.kx);
	mf_json_kv_bool(j, "verified", p->pkix_ok);
	mf_json_kv_bool(j, "name_match", !p->tls.name_mismatch);
	mf_json_kv_string(j, "checked_name", p->tls.checked_name);
	mf_json_kv_string(j, "verify_reason", p->tls.verify_reason);
	mf_json_key(j, "chain");
	mf_json_array_begin(j);
	for (i = 0; i < p->tls.chain_len; i++)
		json_cert(j, &p->tls.chain[i]);
	mf_json_array_end(j);
	mf_json_object_end(j);
}

static void
json_dane(struct mf_json *j, const struct mf_mx_probe *p)
{
	char hex[2 * sizeof(p->tlsa.rr[0].data) + 1];
	size_t i;

	mf_json_key(j, "dane");
	mf_json_object_begin(j);
	mf_json_kv_string(j, "tlsa_name", p->tlsa.qname);
	mf_json_kv_string(j, "tlsa", mf_dane_lookup_name(p->tlsa.lookup));
	mf_json_key(j, "records");
	mf_json_array_begin(j);
	for (i = 0; i < p->tlsa.n; i++) {
		const struct mf_dane_tlsa *t = &p->tlsa.rr[i];

		mf_hex(t->data, t->len < sizeof(t->data) ? t->len :
		    sizeof(t->data), hex);
		mf_json_object_begin(j);
		mf_json_kv_int(j, "usage", t->usage);
		mf_json_kv_int(j, "selector", t->selector);
		mf_json_kv_int(j, "mtype", t->mtype);
		mf_json_kv_string(j, "data", hex);
		mf_json_object_end(j);
	}
	mf_json_array_end(j);
	mf_json_kv_string(j, "status", mf_dane_state_name(p->dane.state));
	mf_json_kv_string(j, "reason", p->dane.reason);
	mf_json_object_end(j);
}

static void
json_caps(struct mf_json *j, const char *key, const char *raw)
{
	const char *p = raw;
	size_t n;

	mf_json_key(j, key);
	mf_json_array_begin(j);
	while (*p) {
		n = strcspn(p, "\n");
		if (n > 0)
			mf_json_string_n(j, p, n);
		p += n;
		while (*p == '\n')
			p++;
	}
	mf_json_array_end(j);
}

static void
json_probe(struct mf_json *j, const struct mf_mx_report *r,
           const struct mf_mx_probe *p)
{
	int i;

	mf_json_object_begin(j);
	mf_json_kv_string(j, "type", "address");
	mf_json_kv_string(j, "domain", r->route.domain);
	mf_json_kv_string(j, "mx", p->host);
	mf_json_kv_int(j, "pref", r->route.hosts[p->host_index].pref);
	mf_json_kv_string(j, "address", p->addr);
	mf_json_kv_bool(j, "probed", p->probed);
	mf_json_kv_bool(j, "reached", p->reached);
	mf_json_key(j, "timings_ms");
	mf_json_object_begin(j);
	for (i = 0; i < MF_MX_NSTAGES; i++)
		if (p->ms[i] >= 0)
			mf_json_kv_double(j, stage_names[i], p->ms[i]);
	mf_json_object_end(j);
	mf_json_kv_string(j, "failed_stage", p->failed_stage[0] ?
	    p->failed_stage : NULL);
	mf_json_kv_string(j, "error", p->error[0] ? p->error : NULL);
	mf_json_kv_string(j, "banner", p->banner_code ? p->banner : NULL);
	json_caps(j, "ehlo", p->caps);
	mf_json_kv_bool(j, "starttls", p->starttls_offered);
	json_tls(j, p);
	if (p->tls_done)
		json_caps(j, "ehlo_tls", p->caps_tls);
	json_dane(j, p);
	mf_json_kv_string(j, "ptr", p->ptr[0] ? p->ptr : NULL);
	mf_json_kv_bool(j, "fcrdns", p->fcrdns);
	mf_json_kv_bool(j, "banner_ptr_agree", p->banner_ptr_agree);
	mf_json_kv_bool(j, "banner_cert_agree", p->banner_cert_agree);
	mf_json_kv_bool(j, "ptr_cert_agree", p->ptr_cert_agree);
	mf_json_object_end(j);
}

static void
json_route(struct mf_json *j, const struct mf_mx_route *rt)
{
	size_t i, k;

	mf_json_kv_string(j, "route", mf_mx_route_name(rt->kind));
	mf_json_kv_bool(j, "dnssec", rt->ad);
	mf_json_kv_bool(j, "null_mx", rt->kind == MF_ROUTE_NULL_MX);
	mf_json_kv_string(j, "dns_error", rt->error[0] ? rt->error : NULL);
	mf_json_key(j, "mx");
	mf_json_array_begin(j);
	for (i = 0; i < rt->nhosts; i++) {
		mf_json_object_begin(j);
		mf_json_kv_string(j, "name", rt->hosts[i].name);
		mf_json_kv_int(j, "pref", rt->hosts[i].pref);
		mf_json_kv_bool(j, "cname", rt->hosts[i].is_cname);
		if (rt->hosts[i].is_cname)
			mf_json_kv_string(j, "canonical", rt->hosts[i].canon);
		mf_json_key(j, "addresses");
		mf_json_array_begin(j);
		for (k = 0; k < rt->hosts[i].naddrs; k++)
			mf_json_string(j, rt->hosts[i].addrs[k]);
		mf_json_array_end(j);
		mf_json_object_end(j);
	}
	mf_json_array_end(j);
}

static void
json_sts(struct mf_json *j, const struct mf_mx_report *r)
{
	const struct mf_mtasts_result *s = &r->sts;
	size_t i;

	mf_json_key(j, "mta_sts");
	if (!r->sts_checked) {
		mf_json_null(j);
	} else {
		mf_json_object_begin(j);
		mf_json_kv_bool(j, "record", s->record_found);
		mf_json_kv_bool(j, "record_valid", s->rec.valid);
		mf_json_kv_string(j, "id", s->rec.id[0] ? s->rec.id : NULL);
		mf_json_kv_bool(j, "policy_fetched", s->fetched);
		mf_json_kv_bool(j, "policy_valid", s->pol.valid);
		mf_json_kv_string(j, "mode", s->pol.valid ?
		    mf_mtasts_mode_name(s->pol.mode) : NULL);
		mf_json_kv_int(j, "max_age", s->pol.max_age);
		mf_json_key(j, "mx_patterns");
		mf_json_array_begin(j);
		for (i = 0; i < s->pol.nmx; i++)
			mf_json_string(j, s->pol.mx[i]);
		mf_json_array_end(j);
		mf_json_kv_string(j, "error", s->rec.error[0] ? s->rec.error :
		    s->fetch_error[0] ? s->fetch_error : s->pol.error[0] ?
		    s->pol.error : NULL);
		mf_json_object_end(j);
	}
	mf_json_key(j, "tls_rpt");
	if (!r->sts_checked) {
		mf_json_null(j);
		return;
	}
	mf_json_object_begin(j);
	mf_json_kv_bool(j, "record", s->rpt.found);
	mf_json_kv_bool(j, "valid", s->rpt.valid);
	mf_json_kv_string(j, "rua", s->rpt.rua[0] ? s->rpt.rua : NULL);
	mf_json_kv_string(j, "error", s->rpt.error[0] ? s->rpt.error : NULL);
	mf_json_object_end(j);
}

static void
json_summary(struct mf_json *j, const struct mf_mx_report *r)
{
	size_t i;

	mf_json_object_begin(j);
	mf_json_kv_string(j, "type", "summary");
	mf_json_kv_string(j, "domain", r->route.domain);
	json_route(j, &r->route);
	mf_json_kv_int(j, "addresses_probed", (long long)r->nprobes);
	json_sts(j, r);
	mf_json_key(j, "findings");
	mf_json_array_begin(j);
	for (i = 0; i < r->nfind; i++) {
		mf_json_object_begin(j);
		mf_json_kv_string(j, "severity", sev_name(r->find[i].sev));
		mf_json_kv_string(j, "code", r->find[i].code);
		mf_json_kv_string(j, "where", r->find[i].where);
		mf_json_kv_string(j, "message", r->find[i].msg);
		mf_json_object_end(j);
	}
	mf_json_array_end(j);
	mf_json_kv_string(j, "status", r->status == 0 ? "ok" : r->status == 1 ?
	    "findings" : "error");
	mf_json_kv_int(j, "exit", r->status);
	mf_json_object_end(j);
}

int
mf_mx_format_json(const struct mf_mx_report *r, struct mf_buf *o,
                  struct mf_err *e)
{
	struct mf_json j;
	size_t i;

	for (i = 0; i < r->nprobes; i++) {
		mf_json_init(&j, o);
		json_probe(&j, r, &r->probes[i]);
		if (mf_json_status(&j) == -1)
			return mf_err_set(e, MF_E_LIMIT, "JSON output too large");
		mf_buf_puts(o, "\n", NULL);
	}
	mf_json_init(&j, o);
	json_summary(&j, r);
	if (mf_json_status(&j) == -1)
		return mf_err_set(e, MF_E_LIMIT, "JSON output too large");
	return mf_buf_puts(o, "\n", e);
}
