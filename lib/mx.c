/* mx.c - mail routing (RFC 5321 §5.1) and probing every MX address;
 * findings are in mxfind.c, output in mxfmt.c (above). */
#include "mx.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "idn.h"
#include "shard.h"

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

	memset(r, 0, sizeof(*r));
	memset(&a, 0, sizeof(a));
	/* DNS, the MX names' TLS checks and MTA-STS all use the A-label
	 * form (RFC 5891 §5); the U-label form is only shown. */
	if (mf_idn_to_ascii(domain, r->domain, sizeof(r->domain), MF_E_DATA,
	    e) == -1)
		return -1;
	mf_idn_to_unicode(r->domain, r->domain_unicode,
	    sizeof(r->domain_unicode));
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
	char line[MF_SMTP_REPLY_TEXT_MAX];
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
		snprintf(o->banner, sizeof(o->banner), "%d %.500s", r.code,
		    mf_smtp_reply_line(r.text, line, sizeof(line)));
		return stage_fail(o, "banner", &e);
	}
	o->ms[MF_MX_BANNER] = now_ms() - t;
	o->banner_code = r.code;
	snprintf(o->banner, sizeof(o->banner), "%d %.500s", r.code,
	    mf_smtp_reply_line(r.text, line, sizeof(line)));
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
	if (mf_smtp_starttls_command(s, &r, &e) == -1)
		return stage_fail(o, "starttls", &e);
	o->ms[MF_MX_STARTTLS] = now_ms() - t;
	t = now_ms();
	if (mf_smtp_starttls_handshake(s, &o->tls, &e) == -1) {
		o->tls_done = 0;
		return stage_fail(o, "starttls", &e);
	}
	o->ms[MF_MX_HANDSHAKE] = now_ms() - t;
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
	sp.conn.host = addr;
	sp.conn.port = p->port ? p->port : "25";
	sp.conn.tls = MF_TLS_STARTTLS;
	/* The certificate is judged here (PKIX, DANE, MTA-STS), so the
	 * handshake must complete whatever GnuTLS thinks of it; verification
	 * results are still computed into the info.  No session_file: a
	 * probe never resumes a session, it sees the certificate each time. */
	sp.conn.tlsp.sni = host;
	sp.conn.tlsp.verify_name = host;
	sp.conn.tlsp.ca_file = p->ca_file;
	sp.conn.tlsp.insecure = 1;
	sp.conn.tlsp.timeout_ms = tmo;
	sp.conn.sock.connect_timeout_ms = tmo;
	sp.conn.sock.io_timeout_ms = tmo;
	sp.ehlo_name = p->ehlo;
	sp.conn.timeout_ms = tmo;
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

/* RFC 7672 §2.2.3: with TLSA from the CNAME-expanded name, DANE-TA
 * accepts a certificate naming either the MX host or that name. */
static void
dane_verdict(struct mf_mx_probe *o)
{
	int mismatch = o->tls.name_mismatch;

	if (o->tls_done && mismatch && o->tlsa.at_expanded &&
	    o->tls.chain_len > 0 && cert_names(&o->tls.chain[0],
	    o->tlsa.expanded))
		o->tls.name_mismatch = 0;
	mf_dane_check(&o->tlsa, o->tls_done ? &o->tls : NULL, o->dg, &o->dane);
	o->tls.name_mismatch = mismatch;
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
		mf_dane_lookup_mx(d, host, p->port ? p->port : "25", &o->tlsa,
		    NULL);
	if (!p->dns_only)
		mf_mx_probe_addr(p, host, addr, o);
	if (!p->no_dane && !p->dns_only)
		dane_verdict(o);
	mf_mx_rdns(d, o);
}

/* ---------------------------------------------------------------- */
/* the shared cache */

/* Newest first.  An entry is freed only when done and nobody waits on
 * it; a slot only when no session runs and nobody waits for one. */
struct entry {
	char key[MF_DNS_NAME_MAX + 64];
	int done;
	int waiters;
	struct mf_mx_probe probe;
	struct entry *next;
};

struct ipslot {
	char addr[46];
	int active;
	int waiting;
	struct ipslot *next;
};

struct mf_mx_cache {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct entry *entries;
	size_t nentries;
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
static void
ipslot_drop(struct mf_mx_cache *c, struct ipslot *s)
{
	struct ipslot **pp;

	for (pp = &c->ips; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			free(s);
			return;
		}
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
	if (s != NULL) {
		s->waiting++;
		while (s->active >= limit)
			pthread_cond_wait(&c->cv, &c->mu);
		s->waiting--;
		s->active++;
	}
	pthread_mutex_unlock(&c->mu);
	probe_all(d, p, host, addr, o);
	pthread_mutex_lock(&c->mu);
	if (s != NULL && --s->active == 0 && s->waiting == 0)
		ipslot_drop(c, s);
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* Called with the lock held: forget the oldest finished probes beyond
 * MF_MX_CACHE_MAX, so a list of millions of domains with as many MX
 * hosts runs in bounded memory (a host seen again later is probed
 * again). */
static void
cache_trim(struct mf_mx_cache *c)
{
	struct entry **pp, *en, **victim;

	while (c->nentries > MF_MX_CACHE_MAX) {
		victim = NULL;
		for (pp = &c->entries; (en = *pp) != NULL; pp = &en->next)
			if (en->done && en->waiters == 0)
				victim = pp;
		if (victim == NULL)
			return;
		en = *victim;
		*victim = en->next;
		free(en);
		c->nentries--;
	}
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
		en->waiters++;
		while (!en->done)
			pthread_cond_wait(&c->cv, &c->mu);
		en->waiters--;
		*out = en->probe;
		pthread_mutex_unlock(&c->mu);
		return;
	}
	en = calloc(1, sizeof(*en));
	if (en != NULL) {
		mf_strlcpy(en->key, key, sizeof(en->key));
		en->next = c->entries;
		c->entries = en;
		c->nentries++;
	}
	pthread_mutex_unlock(&c->mu);
	limited_probe(c, d, p, host, addr, out);
	if (en == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	en->probe = *out;
	en->done = 1;
	cache_trim(c);
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* ---------------------------------------------------------------- */
/* a domain */

/* RFC 7672 §2.2.1: a sender uses DANE only when the domain's MX records
 * (without MX: its address records) were DNSSEC-validated; otherwise an
 * attacker who forged the MX answer would choose the TLSA records too.
 * Judged here, per domain, because probes of an MX host are shared
 * between domains. */
static void
mx_secure_only(struct mf_mx_report *r)
{
	size_t i;

	if (r->route.ad)
		return;
	for (i = 0; i < r->nprobes; i++) {
		struct mf_mx_probe *o = &r->probes[i];

		if (o->tlsa.lookup != MF_DANE_SECURE &&
		    o->tlsa.lookup != MF_DANE_HOST_INSECURE &&
		    o->tlsa.lookup != MF_DANE_LOOKUP_FAILED)
			continue;
		o->tlsa.lookup = MF_DANE_MX_INSECURE;
		mf_dane_check(&o->tlsa, NULL, NULL, &o->dane);
	}
}

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
	mx_secure_only(r);
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
/* many domains */

int
mf_mx_domains_add(struct mf_mx_domains *l, const char *d, struct mf_err *e)
{
	char **nv;
	size_t cap;

	if (l->n == l->cap) {
		if (l->cap >= MF_MX_DOMAINS_MAX)
			return mf_err_set(e, MF_E_USAGE, "too many domains");
		cap = l->cap ? l->cap * 2 : 64;
		nv = realloc(l->v, cap * sizeof(*nv));
		if (nv == NULL)
			return mf_err_sys(e, MF_E_NOMEM, errno, "domains");
		l->v = nv;
		l->cap = cap;
	}
	if ((l->v[l->n] = strdup(d)) == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "domains");
	l->n++;
	return 0;
}

/* Read one line into out; a longer line is consumed and reported as
 * 2.  1 for a line, 0 at the end, -1 on a read error. */
static int
read_line(FILE *f, char *out, size_t outlen)
{
	size_t n;
	int c;

	if (fgets(out, (int)outlen, f) == NULL)
		return ferror(f) ? -1 : 0;
	n = strlen(out);
	if (n > 0 && out[n - 1] == '\n')
		return 1;
	if (feof(f))
		return 1;
	while ((c = getc(f)) != EOF && c != '\n')
		;
	return ferror(f) ? -1 : 2;
}

/* A domain from a line: leading blanks, then up to a blank or "#". */
static int
domain_of(char *line, char *out, size_t outlen)
{
	char *s = line + strspn(line, " \t"), *end;

	end = s + strcspn(s, " \t\r\n#");
	*end = '\0';
	if (*s == '\0')
		return 0;
	mf_strlcpy(out, s, outlen);
	return 1;
}

int
mf_mx_source_next(struct mf_mx_source *s, char *out, size_t outlen,
                  struct mf_err *e)
{
	char line[MF_DNS_NAME_MAX + 256];
	int r;

	for (;;) {
		if (s->list != NULL && s->next_list < s->list->n) {
			r = domain_of(s->list->v[s->next_list++], out, outlen);
		} else if (s->stream != NULL) {
			r = read_line(s->stream, line, sizeof(line));
			if (r == -1)
				return mf_err_sys(e, MF_E_IO, errno, "line %llu",
				    s->lines + 1);
			if (r == 0)
				return 0;
			s->lines++;
			if (r == 2) {
				s->too_long++;
				continue;
			}
			r = domain_of(line, out, outlen);
		} else
			return 0;
		if (r == 0)
			continue;
		if (s->shard_n > 1 &&
		    mf_shard_of(out, s->shard_n) != s->shard_k) {
			s->other_shard++;
			continue;
		}
		s->taken++;
		return 1;
	}
}

void
mf_mx_domains_free(struct mf_mx_domains *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct pool {
	const struct mf_dns_opts *dopts;
	const struct mf_mx_params *p;
	struct mf_mx_source *src;
	struct mf_mx_cache *cache;
	mf_mx_report_fn report;
	void *arg;
	int src_failed;             /* the stream failed: stop taking more */
	struct mf_err src_err;
	pthread_mutex_t mu;
};

static void *
worker(void *arg)
{
	struct pool *w = arg;
	struct mf_mx_report rep;
	struct mf_dns *d;
	struct mf_err e, de;
	char domain[MF_DNS_NAME_MAX];
	int rc;

	d = mf_dns_new(w->dopts, &de);
	for (;;) {
		pthread_mutex_lock(&w->mu);
		rc = w->src_failed ? 0 : mf_mx_source_next(w->src, domain,
		    sizeof(domain), &e);
		if (rc == -1) {
			w->src_failed = 1;
			w->src_err = e;
		}
		pthread_mutex_unlock(&w->mu);
		if (rc != 1)
			break;
		rc = d ? mf_mx_check(d, w->cache, w->p, domain, &rep, &e) : -1;
		pthread_mutex_lock(&w->mu);
		w->report(w->arg, domain, rc == 0 ? &rep : NULL, d ? &e : &de);
		pthread_mutex_unlock(&w->mu);
		if (rc == 0)
			mf_mx_report_free(&rep);
	}
	mf_dns_free(d);
	return NULL;
}

int
mf_mx_check_all(const struct mf_dns_opts *dopts, const struct mf_mx_params *p,
                struct mf_mx_source *src, int jobs,
                mf_mx_report_fn report, void *arg, struct mf_err *e)
{
	struct pool w;
	pthread_t tid[256];
	pthread_attr_t at;
	int i, started = 0;

	memset(&w, 0, sizeof(w));
	w.dopts = dopts;
	w.p = p;
	w.src = src;
	w.report = report;
	w.arg = arg;
	if ((w.cache = mf_mx_cache_new(e)) == NULL)
		return -1;
	pthread_mutex_init(&w.mu, NULL);
	if (jobs > (int)(sizeof(tid) / sizeof(tid[0])))
		jobs = (int)(sizeof(tid) / sizeof(tid[0]));
	/* Few domains named on the command line need few workers; a stream
	 * has no known length. */
	if (src->stream == NULL && src->list != NULL && (size_t)jobs >
	    src->list->n)
		jobs = (int)src->list->n;
	if (jobs < 1)
		jobs = 1;
	pthread_attr_init(&at);
	/* Reports are on the heap; workers need little stack beyond them. */
	pthread_attr_setstacksize(&at, 1 << 20);
	for (i = 0; i < jobs; i++)
		if (pthread_create(&tid[i], &at, worker, &w) == 0)
			started++;
	pthread_attr_destroy(&at);
	if (started == 0)
		worker(&w);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&w.mu);
	mf_mx_cache_free(w.cache);
	if (w.src_failed) {
		*e = w.src_err;
		return -1;
	}
	return 0;
}
