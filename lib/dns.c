/* dns.c - queries through libresolv (the only file that includes resolv.h). */
#include "dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "idn.h"
#include "sock.h"

#define ANSWER_MAX 65536
#define EDNS_UDP_SIZE 1232   /* the DNS flag day 2020 value */

struct mf_dns {
	struct __res_state rs;
};

/* res_ninit reads resolv.conf through glibc's shared configuration cache;
 * contexts are made one at a time so that never runs concurrently (after
 * that each context is private to its thread). */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

const char *
mf_dns_status_name(enum mf_dns_status s)
{
	switch (s) {
	case MF_DNS_ANSWER: return "answer";
	case MF_DNS_NODATA: return "nodata";
	case MF_DNS_NXDOMAIN: return "nxdomain";
	case MF_DNS_SERVFAIL: return "servfail";
	case MF_DNS_REFUSED: return "refused";
	default: return "error";
	}
}

/* An IPv6 name server lives in the extension part of the resolver state,
 * as res_ninit puts one read from resolv.conf: nsaddr_list[0] gets
 * family 0 (res_nsend then skips it) and _u._ext.nsaddrs[0] the address;
 * res_nclose frees that allocation. */
static int
set_resolver6(struct mf_dns *d, const struct in6_addr *a, unsigned short port,
              struct mf_err *e)
{
	struct sockaddr_in6 *sin6 = d->rs._u._ext.nsaddrs[0];

	if (sin6 == NULL && (sin6 = malloc(sizeof(*sin6))) == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "resolver address");
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = *a;
	sin6->sin6_port = htons(port);
	d->rs._u._ext.nsaddrs[0] = sin6;
	memset(&d->rs.nsaddr_list[0], 0, sizeof(d->rs.nsaddr_list[0]));
	d->rs.nsaddr_list[0].sin_family = 0;
	return 0;
}

static int
set_resolver(struct mf_dns *d, const char *spec, struct mf_err *e)
{
	char host[64], port[8] = "53";
	struct sockaddr_in sin;
	struct in6_addr a6;
	long p;

	/* A bare IPv6 address ("::1") has colons but no port. */
	if (inet_pton(AF_INET6, spec, &a6) == 1)
		mf_strlcpy(host, spec, sizeof(host));
	else if (mf_sock_split_hostport(spec, host, sizeof(host), port,
	    sizeof(port), e) == -1)
		return -1;
	if (mf_parse_long(port, 1, 65535, &p) == -1)
		return mf_err_set(e, MF_E_USAGE, "--resolver: bad port %s", port);
	/* resolv.conf has no syntax for a port: set the address directly. */
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (set_resolver6(d, &a6, (unsigned short)p, e) == -1)
			return -1;
	} else {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
			return mf_err_set(e, MF_E_USAGE, "--resolver: %s is not "
			    "an IP address", host);
		sin.sin_port = htons((unsigned short)p);
		d->rs.nsaddr_list[0] = sin;
	}
	d->rs.nscount = 1;
	/* Only nsaddrs[0] is meant: res_nsend rebuilds its copy from
	 * nsaddr_list for IPv4 entries. */
	d->rs._u._ext.nscount = 0;
	return 0;
}

struct mf_dns *
mf_dns_new(const struct mf_dns_opts *o, struct mf_err *e)
{
	struct mf_dns *d = calloc(1, sizeof(*d));
	int ms = o && o->timeout_ms > 0 ? o->timeout_ms : 5000, r;

	if (d == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "dns context");
		return NULL;
	}
	pthread_mutex_lock(&init_lock);
	r = res_ninit(&d->rs);
	pthread_mutex_unlock(&init_lock);
	if (r == -1) {
		free(d);
		mf_err_set(e, MF_E_CONFIG, "cannot initialise the resolver");
		return NULL;
	}
	if (o && o->resolver && *o->resolver &&
	    set_resolver(d, o->resolver, e) == -1) {
		mf_dns_free(d);
		return NULL;
	}
	d->rs.retrans = (ms + 999) / 1000;
	d->rs.retry = o && o->tries > 0 ? o->tries : 2;
	/* DO bit and trust-ad: the AD bit of the validating resolver must
	 * survive the stub; no search list, no appended domain. */
	d->rs.options |= RES_USE_EDNS0 | RES_USE_DNSSEC | RES_TRUSTAD;
	d->rs.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	/* Without pfcode, res_nsend turns a SERVFAIL/REFUSED response of the
	 * last server into -1 and the rcode is lost (glibc: "don't retry if
	 * called from dig"); with it we get the response itself. */
	d->rs.pfcode = RES_PRF_REPLY;
	return d;
}

void
mf_dns_free(struct mf_dns *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&init_lock);
	res_nclose(&d->rs);
	pthread_mutex_unlock(&init_lock);
	free(d);
}

void
mf_dns_answer_free(struct mf_dns_answer *ans)
{
	if (ans == NULL)
		return;
	free(ans->rr);
	ans->rr = NULL;
	ans->n = 0;
}

static void
answer_reset(struct mf_dns_answer *ans)
{
	free(ans->rr);
	memset(ans, 0, sizeof(*ans));
}

/* Names as we keep them: no trailing dot, the root as "". */
static void
norm_name(char *s)
{
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
}

static int
expand(const ns_msg *h, const unsigned char *p, char *out, size_t outlen)
{
	if (ns_name_uncompress(ns_msg_base(*h), ns_msg_end(*h), p, out,
	    outlen) < 0)
		return -1;
	norm_name(out);
	return 0;
}

/* RFC 1035 §3.3.14: one or more <character-string>s, joined here. */
static int
parse_txt(const unsigned char *p, size_t len, struct mf_dns_rr *r)
{
	size_t i = 0, n, take;

	r->datalen = 0;
	while (i < len) {
		n = p[i++];
		if (n > len - i)
			return -1;
		take = n;
		if (r->datalen + take > MF_DNS_DATA_MAX)
			take = MF_DNS_DATA_MAX - r->datalen;
		memcpy(r->data + r->datalen, p + i, take);
		r->datalen += take;
		i += n;
	}
	r->data[r->datalen] = '\0';
	return 0;
}

static int
parse_rdata(const ns_msg *h, const ns_rr *rr, struct mf_dns_rr *r)
{
	const unsigned char *p = ns_rr_rdata(*rr);
	size_t len = ns_rr_rdlen(*rr);

	switch (r->type) {
	case MF_DNS_A:
		return len == 4 && inet_ntop(AF_INET, p, r->addr,
		    sizeof(r->addr)) ? 0 : -1;
	case MF_DNS_AAAA:
		return len == 16 && inet_ntop(AF_INET6, p, r->addr,
		    sizeof(r->addr)) ? 0 : -1;
	case MF_DNS_MX:
		if (len < 3)
			return -1;
		r->pref = ns_get16(p);
		return expand(h, p + 2, r->target, sizeof(r->target));
	case MF_DNS_SRV:
		/* RFC 2782: priority, weight, port, target ("." = none) */
		if (len < 7)
			return -1;
		r->pref = ns_get16(p);
		r->weight = ns_get16(p + 2);
		r->port = ns_get16(p + 4);
		return expand(h, p + 6, r->target, sizeof(r->target));
	case MF_DNS_CNAME:
	case MF_DNS_PTR:
		return expand(h, p, r->target, sizeof(r->target));
	case MF_DNS_TXT:
		return parse_txt(p, len, r);
	case MF_DNS_TLSA:
		/* RFC 6698 §2.1; over-long data is refused, not truncated. */
		if (len < 3 || len - 3 > MF_DNS_DATA_MAX)
			return -1;
		r->usage = p[0];
		r->selector = p[1];
		r->mtype = p[2];
		r->datalen = len - 3;
		memcpy(r->data, p + 3, r->datalen);
		return 0;
	default:
		return -1;
	}
}

static enum mf_dns_status
status_of(int rcode, size_t n)
{
	switch (rcode) {
	case ns_r_noerror: return n > 0 ? MF_DNS_ANSWER : MF_DNS_NODATA;
	case ns_r_nxdomain: return MF_DNS_NXDOMAIN;
	case ns_r_servfail: return MF_DNS_SERVFAIL;
	case ns_r_refused: return MF_DNS_REFUSED;
	default: return MF_DNS_OTHER;
	}
}

/* One answer-section record: follow the CNAME chain from the question
 * name (RFC 1034 §3.6.2) and keep records of the asked type. */
static int
take_rr(const ns_msg *h, const ns_rr *rr, int type, struct mf_dns_answer *ans)
{
	struct mf_dns_rr *r;
	char owner[MF_DNS_NAME_MAX];

	mf_strlcpy(owner, ns_rr_name(*rr), sizeof(owner));
	norm_name(owner);
	if (ns_rr_type(*rr) == ns_t_cname && type != MF_DNS_CNAME) {
		if (strcasecmp(owner, ans->canon) != 0)
			return 0;
		ans->cname = 1;
		return expand(h, ns_rr_rdata(*rr), ans->canon,
		    sizeof(ans->canon));
	}
	if ((int)ns_rr_type(*rr) != type || ns_rr_class(*rr) != ns_c_in)
		return 0;
	if (ans->n == MF_DNS_RR_MAX) {
		ans->dropped++;
		return 0;
	}
	r = &ans->rr[ans->n];
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->ttl = ns_rr_ttl(*rr);
	mf_strlcpy(r->owner, owner, sizeof(r->owner));
	if (parse_rdata(h, rr, r) == -1)
		return -1;
	ans->n++;
	return 0;
}

int
mf_dns_parse(const unsigned char *msg, size_t len, int type,
             struct mf_dns_answer *ans, struct mf_err *e)
{
	ns_msg h;
	ns_rr rr;
	int i, count;

	answer_reset(ans);
	if (ns_initparse(msg, (int)len, &h) == -1)
		return mf_err_set(e, MF_E_PROTO, "malformed DNS response");
	ans->rcode = ns_msg_getflag(h, ns_f_rcode);
	ans->ad = ns_msg_getflag(h, ns_f_ad);
	ans->tc = ns_msg_getflag(h, ns_f_tc);
	if (ns_msg_count(h, ns_s_qd) > 0 && ns_parserr(&h, ns_s_qd, 0, &rr) == 0) {
		mf_strlcpy(ans->qname, ns_rr_name(rr), sizeof(ans->qname));
		norm_name(ans->qname);
	}
	mf_strlcpy(ans->canon, ans->qname, sizeof(ans->canon));
	ans->rr = calloc(MF_DNS_RR_MAX, sizeof(*ans->rr));
	if (ans->rr == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "dns answer");
	count = ns_msg_count(h, ns_s_an);
	for (i = 0; i < count; i++) {
		if (ns_parserr(&h, ns_s_an, i, &rr) == -1 ||
		    take_rr(&h, &rr, type, ans) == -1)
			return mf_err_set(e, MF_E_PROTO, "malformed record %d in "
			    "the DNS response for %s", i, ans->qname);
	}
	ans->status = status_of(ans->rcode, ans->n);
	return 0;
}

/* EDNS0 OPT pseudo-record with the DO bit (RFC 6891 §6.1.2, RFC 3225 §3);
 * glibc's own helper for this is private. */
static int
add_opt(unsigned char *q, int qlen, size_t qmax)
{
	static const unsigned char opt[11] = {
		0, 0, 41, EDNS_UDP_SIZE >> 8, EDNS_UDP_SIZE & 0xff,
		0, 0, 0x80, 0, 0, 0
	};

	if ((size_t)qlen + sizeof(opt) > qmax)
		return -1;
	memcpy(q + qlen, opt, sizeof(opt));
	q[11] = 1;   /* ARCOUNT = 1 */
	q[3] |= 0x20; /* AD in the query: we understand it (RFC 6840 §5.7) */
	return qlen + (int)sizeof(opt);
}

int
mf_dns_query(struct mf_dns *d, const char *name, int type,
             struct mf_dns_answer *ans, struct mf_err *e)
{
	unsigned char q[NS_PACKETSZ], *resp;
	char ascii[MF_IDN_NAME_MAX];
	int qlen, n, r;

	answer_reset(ans);
	/* A UTF-8 name is asked as A-labels (RFC 5891 §5); the caller
	 * converted names it was given, so a bad one here is data. */
	if (mf_idn_to_ascii(name, ascii, sizeof(ascii), MF_E_DATA, e) == -1)
		return -1;
	name = ascii;
	qlen = res_nmkquery(&d->rs, ns_o_query, name, ns_c_in, type, NULL, 0,
	    NULL, q, sizeof(q));
	if (qlen < 0 || (qlen = add_opt(q, qlen, sizeof(q))) < 0)
		return mf_err_set(e, MF_E_USAGE, "cannot build a DNS query for "
		    "\"%s\"", name);
	resp = malloc(ANSWER_MAX);
	if (resp == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "dns response");
	n = res_nsend(&d->rs, q, qlen, resp, ANSWER_MAX);
	if (n < 0) {
		free(resp);
		mf_strlcpy(ans->qname, name, sizeof(ans->qname));
		return mf_err_set(e, MF_E_TIMEOUT, "no DNS response for %s %s",
		    name, type == MF_DNS_MX ? "MX" : type == MF_DNS_A ? "A" :
		    type == MF_DNS_AAAA ? "AAAA" : type == MF_DNS_TLSA ? "TLSA" :
		    type == MF_DNS_TXT ? "TXT" : type == MF_DNS_PTR ? "PTR" :
		    type == MF_DNS_SRV ? "SRV" : "query");
	}
	r = mf_dns_parse(resp, (size_t)n, type, ans, e);
	free(resp);
	return r;
}

int
mf_dns_reverse_name(const char *addr, char *out, size_t outlen)
{
	unsigned char b[16];
	static const char hex[] = "0123456789abcdef";
	struct mf_buf o = MF_BUF_INIT(128);
	int i, r = 0;

	if (inet_pton(AF_INET, addr, b) == 1) {
		r = mf_buf_printf(&o, NULL, "%u.%u.%u.%u.in-addr.arpa", b[3],
		    b[2], b[1], b[0]);
	} else if (inet_pton(AF_INET6, addr, b) == 1) {
		for (i = 15; i >= 0 && r == 0; i--)
			r = mf_buf_printf(&o, NULL, "%c.%c.", hex[b[i] & 15],
			    hex[b[i] >> 4]);
		if (r == 0)
			r = mf_buf_puts(&o, "ip6.arpa", NULL);
	} else {
		return -1;
	}
	if (r == 0 && o.len < outlen)
		mf_strlcpy(out, o.data, outlen);
	else
		r = -1;
	mf_buf_free(&o);
	return r;
}
