/* Unit tests: DNS response parsing from canned wire-format packets
 * (RFC 1035 §4.1), rcodes, the AD bit, and reverse names. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns.h"

/* A tiny packet builder for the tests. */
struct pkt {
	unsigned char b[2048];
	size_t n;
};

static void
u8(struct pkt *p, unsigned v)
{
	p->b[p->n++] = (unsigned char)v;
}

static void
u16(struct pkt *p, unsigned v)
{
	u8(p, v >> 8);
	u8(p, v & 0xff);
}

static void
u32(struct pkt *p, unsigned long v)
{
	u16(p, (unsigned)(v >> 16));
	u16(p, (unsigned)(v & 0xffff));
}

/* Uncompressed name "a.b.c" ("" is the root). */
static void
name(struct pkt *p, const char *s)
{
	const char *dot;
	size_t n;

	while (*s) {
		dot = strchr(s, '.');
		n = dot ? (size_t)(dot - s) : strlen(s);
		u8(p, (unsigned)n);
		memcpy(p->b + p->n, s, n);
		p->n += n;
		s += n;
		if (*s == '.')
			s++;
	}
	u8(p, 0);
}

/* Header with flags (QR RD RA + extra), rcode and counts, then the
 * question qname/qtype. */
static void
header(struct pkt *p, unsigned flags, unsigned rcode, unsigned an,
       const char *qname, unsigned qtype)
{
	p->n = 0;
	u16(p, 0x1234);
	u16(p, 0x8180 | flags | rcode);
	u16(p, 1);
	u16(p, an);
	u16(p, 0);
	u16(p, 0);
	name(p, qname);
	u16(p, qtype);
	u16(p, 1);
}

/* Record header; returns the offset of RDLENGTH to patch. */
static size_t
rr(struct pkt *p, const char *owner, unsigned type)
{
	size_t at;

	name(p, owner);
	u16(p, type);
	u16(p, 1);
	u32(p, 300);
	at = p->n;
	u16(p, 0);
	return at;
}

static void
rdlen(struct pkt *p, size_t at)
{
	size_t len = p->n - at - 2;

	p->b[at] = (unsigned char)(len >> 8);
	p->b[at + 1] = (unsigned char)(len & 0xff);
}

static void
mx(struct pkt *p, const char *owner, unsigned pref, const char *target)
{
	size_t at = rr(p, owner, MF_DNS_MX);

	u16(p, pref);
	name(p, target);
	rdlen(p, at);
}

Test(dns, mx_two_records_with_compression)
{
	struct pkt p;
	struct mf_dns_answer a = { 0 };
	struct mf_err e;
	size_t at;

	header(&p, 0, 0, 2, "example.org", MF_DNS_MX);
	mx(&p, "example.org", 20, "mx2.example.org");
	/* second record: owner and target compressed (pointer to offset 12) */
	u16(&p, 0xc00c);
	u16(&p, MF_DNS_MX);
	u16(&p, 1);
	u32(&p, 60);
	at = p.n;
	u16(&p, 0);
	u16(&p, 10);
	u8(&p, 3);
	memcpy(p.b + p.n, "mx1", 3);
	p.n += 3;
	u16(&p, 0xc00c);
	rdlen(&p, at);
	cr_assert_eq(mf_dns_parse(p.b, p.n, MF_DNS_MX, &a, &e), 0, "%s", e.msg);
	cr_assert_eq(a.status, MF_DNS_ANSWER);
	cr_assert_eq(a.n, 2);
	cr_assert_str_eq(a.qname, "example.org");
	cr_assert_str_eq(a.rr[0].target, "mx2.example.org");
	cr_assert_eq(a.rr[0].pref, 20);
	cr_assert_str_eq(a.rr[1].target, "mx1.example.org");
	cr_assert_eq(a.rr[1].pref, 10);
	cr_assert_eq(a.rr[1].ttl, 60);
	cr_assert_eq(a.ad, 0);
	cr_assert_eq(a.cname, 0);
	mf_dns_answer_free(&a);
}

Test(dns, null_mx_has_empty_target)
{
	struct pkt p;
	struct mf_dns_answer a = { 0 };
	struct mf_err e;

	header(&p, 0x20, 0, 1, "nomail.example", MF_DNS_MX);   /* AD */
	mx(&p, "nomail.example", 0, "");
	cr_assert_eq(mf_dns_parse(p.b, p.n, MF_DNS_MX, &a, &e), 0);
	cr_assert_eq(a.n, 1);
	cr_assert_str_eq(a.rr[0].target, "");
	cr_assert_eq(a.rr[0].pref, 0);
	cr_assert_eq(a.ad, 1);
	mf_dns_answer_free(&a);
}

/* RFC 2782 SRV: priority, weight, port, target; "." means the service
 * is not offered (RFC 6186 §3); short rdata is malformed. */
Test(dns, srv_records)
{
	struct pkt p;
	struct mf_dns_answer a = { 0 };
	struct mf_err e;
	size_t at;

	header(&p, 0, 0, 2, "_submission._tcp.example.org", MF_DNS_SRV);
	at = rr(&p, "_submission._tcp.example.org", MF_DNS_SRV);
	u16(&p, 10);
	u16(&p, 5);
	u16(&p, 587);
	name(&p, "mail.example.org");
	rdlen(&p, at);
	at = rr(&p, "_submission._tcp.example.org", MF_DNS_SRV);
	u16(&p, 0);
	u16(&p, 0);
	u16(&p, 0);
	name(&p, "");
	rdlen(&p, at);
	cr_assert_eq(mf_dns_parse(p.b, p.n, MF_DNS_SRV, &a, &e), 0, "%s", e.msg);
	cr_assert_eq(a.n, 2);
	cr_assert_eq(a.rr[0].pref, 10);
	cr_assert_eq(a.rr[0].weight, 5);
	cr_assert_eq(a.rr[0].port, 587);
	cr_assert_str_eq(a.rr[0].target, "mail.example.org");
	cr_assert_str_eq(a.rr[1].target, "");
	cr_assert_eq(a.rr[1].port, 0);

	header(&p, 0, 0, 1, "_imaps._tcp.example.org", MF_DNS_SRV);
	at = rr(&p, "_imaps._tcp.example.org", MF_DNS_SRV);
	u16(&p, 0);
	u16(&p, 993);
	rdlen(&p, at);
	cr_assert_eq(mf_dns_parse(p.b, p.n, MF_DNS_SRV, &a, &e), -1);
	mf_dns_answer_free(&a);
}

Test(dns, cname_chain_is_followed)
{
	struct pkt p;
	struct mf_dns_answer a = { 0 };
	struct mf_err e;
	size_t at;

	header(&p, 0, 0, 3, "alias.example", MF_DNS_A);
	at = rr(&p, "alias.example", MF_DNS_CNAME);
	name(&p, "mid.example");
	rdlen(&p, at);
	at = rr(&p, "mid.example", MF_DNS_CNAME);
	name(&p, "real.example");
	rdlen(&p, at);
	at = rr(&p, "real.example", MF_DNS_A);
	u8(&p, 192); u8(&p, 0); u8(&p, 2); u8(&p, 7);
	rdlen(&p, at);
	cr_assert_eq(mf_dns_parse(p.b, p.n, MF_DNS_A, &a, &e), 0);
	cr_assert_eq(a.cname, 1);
	cr_assert_str_eq(a.canon, "real.example");
	cr_assert_eq(a.n, 1);
	cr_assert_str_eq(a.rr[0].addr, "192.0.2.7");
	mf_dns_answer_free(&a);
}

Test(dns, cname_query_returns_the_cname)
{
	struct pkt p;
	struct mf_dns_answer a = { 0 };
	struct mf_err e;
	size_t at;

	header(&p, 0, 0, 1, "alias.example", MF_DNS_CNAME);
	at = rr(&p, "alias.example", MF_DNS_CNAME);
	name(&p, "real.example");
	rdlen(&p, at);
	cr_assert_eq(mf_dns_parse(p.b, p.n, MF_DNS_CNAME, &a, &e), 0);
	cr_assert_eq(a.n, 1);
	cr_assert_str_eq(a.rr[0].target, "real.example");
	mf_dns_answer_free(&a);
}

Test(dns, tlsa_record)
{
	struct pkt p;
	struct mf_dns_answer a = { 0 };
	struct mf_err e;
	size_t at, i;

	header(&p, 0x20, 0, 1, "_25._tcp.mx.example", MF_DNS_TLSA);
	at = rr(&p, "_25._tcp.mx.example", MF_DNS_TLSA);
	u8(&p, 3); u8(&p, 1); u8(&p, 1);
	for (i = 0; i < 32; i++)
		u8(&p, (unsigned)i);
	rdlen(&p, at);
	cr_assert_eq(mf_dns_parse(p.b, p.n, MF_DNS_TLSA, &a, &e), 0);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.rr[0].usage, 3);
	cr_assert_eq(a.rr[0].selector, 1);
	cr_assert_eq(a.rr[0].mtype, 1);
	cr_assert_eq(a.rr[0].datalen, 32);
	cr_assert_eq(a.rr[0].data[31], 31);
	cr_assert_eq(a.ad, 1);
	mf_dns_answer_free(&a);
}

Test(dns, txt_strings_are_joined)
{
	struct pkt p;
	struct mf_dns_answer a = { 0 };
	struct mf_err e;
	size_t at;

	header(&p, 0, 0, 1, "_mta-sts.example", MF_DNS_TXT);
	at = rr(&p, "_mta-sts.example", MF_DNS_TXT);
	u8(&p, 9);
	memcpy(p.b + p.n, "v=STSv1; ", 9);
	p.n += 9;
	u8(&p, 4);
	memcpy(p.b + p.n, "id=1", 4);
	p.n += 4;
	rdlen(&p, at);
	cr_assert_eq(mf_dns_parse(p.b, p.n, MF_DNS_TXT, &a, &e), 0);
	cr_assert_eq(a.n, 1);
	cr_assert_str_eq((char *)a.rr[0].data, "v=STSv1; id=1");
	mf_dns_answer_free(&a);
}

Test(dns, txt_length_past_rdata_is_malformed)
{
	struct pkt p;
	struct mf_dns_answer a = { 0 };
	struct mf_err e;
	size_t at;

	header(&p, 0, 0, 1, "x.example", MF_DNS_TXT);
	at = rr(&p, "x.example", MF_DNS_TXT);
	u8(&p, 50);          /* claims 50 bytes, has 3 */
	u8(&p, 'a'); u8(&p, 'b'); u8(&p, 'c');
	rdlen(&p, at);
	cr_assert_eq(mf_dns_parse(p.b, p.n, MF_DNS_TXT, &a, &e), -1);
	cr_assert_eq(e.kind, MF_E_PROTO);
	mf_dns_answer_free(&a);
}

struct rcode_case {
	unsigned rcode;
	unsigned an;
	enum mf_dns_status want;
};

Test(dns, rcodes_are_told_apart)
{
	static const struct rcode_case cases[] = {
		{ 0, 0, MF_DNS_NODATA },
		{ 3, 0, MF_DNS_NXDOMAIN },
		{ 2, 0, MF_DNS_SERVFAIL },
		{ 5, 0, MF_DNS_REFUSED },
		{ 4, 0, MF_DNS_OTHER },
		{ 0, 1, MF_DNS_ANSWER },
	};
	struct pkt p;
	struct mf_dns_answer a = { 0 };
	struct mf_err e;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		header(&p, 0, cases[i].rcode, cases[i].an, "q.example", MF_DNS_MX);
		if (cases[i].an)
			mx(&p, "q.example", 5, "mx.q.example");
		cr_assert_eq(mf_dns_parse(p.b, p.n, MF_DNS_MX, &a, &e), 0);
		cr_assert_eq(a.status, cases[i].want, "case %zu: got %s", i,
		    mf_dns_status_name(a.status));
		cr_assert_eq(a.rcode, (int)cases[i].rcode);
		mf_dns_answer_free(&a);
	}
}

Test(dns, truncated_packets_are_malformed)
{
	struct pkt p;
	struct mf_dns_answer a = { 0 };
	struct mf_err e;
	size_t cut;

	header(&p, 0, 0, 1, "example.org", MF_DNS_MX);
	mx(&p, "example.org", 10, "mx.example.org");
	for (cut = 0; cut < p.n; cut++) {
		cr_assert_eq(mf_dns_parse(p.b, cut, MF_DNS_MX, &a, &e), -1,
		    "cut at %zu accepted", cut);
		mf_dns_answer_free(&a);
	}
}

Test(dns, records_of_other_types_are_skipped)
{
	struct pkt p;
	struct mf_dns_answer a = { 0 };
	struct mf_err e;
	size_t at;

	header(&p, 0, 0, 2, "example.org", MF_DNS_A);
	at = rr(&p, "example.org", MF_DNS_AAAA);
	for (int i = 0; i < 16; i++)
		u8(&p, i == 15);
	rdlen(&p, at);
	at = rr(&p, "example.org", MF_DNS_A);
	u8(&p, 10); u8(&p, 0); u8(&p, 0); u8(&p, 1);
	rdlen(&p, at);
	cr_assert_eq(mf_dns_parse(p.b, p.n, MF_DNS_A, &a, &e), 0, "%s", e.msg);
	cr_assert_eq(a.n, 1);
	cr_assert_str_eq(a.rr[0].addr, "10.0.0.1");
	mf_dns_answer_free(&a);
	cr_assert_eq(mf_dns_parse(p.b, p.n, MF_DNS_AAAA, &a, &e), 0);
	cr_assert_eq(a.n, 1);
	cr_assert_str_eq(a.rr[0].addr, "::1");
	mf_dns_answer_free(&a);
}

Test(dns, reverse_names)
{
	char out[128];

	cr_assert_eq(mf_dns_reverse_name("192.0.2.1", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "1.2.0.192.in-addr.arpa");
	cr_assert_eq(mf_dns_reverse_name("2001:db8::1", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "8.b.d.0.1.0.0.2.ip6.arpa");
	cr_assert_eq(mf_dns_reverse_name("not-an-ip", out, sizeof(out)), -1);
	cr_assert_eq(mf_dns_reverse_name("192.0.2.1", out, 8), -1);
}

Test(dns, bad_resolver_address_is_usage_error)
{
	struct mf_dns_opts o = { "example.org:53", 1000, 1 };
	struct mf_err e;

	cr_assert_null(mf_dns_new(&o, &e));
	cr_assert_eq(e.kind, MF_E_USAGE);
	o.resolver = "127.0.0.1:99999";
	cr_assert_null(mf_dns_new(&o, &e));
	o.resolver = "127.0.0.1:5353";
	struct mf_dns *d = mf_dns_new(&o, &e);
	cr_assert_not_null(d);
	mf_dns_free(d);
}

Test(dns, resolver_address_forms)
{
	static const struct {
		const char *spec;
		int ok;
	} t[] = {
		{ "127.0.0.1", 1 }, { "127.0.0.1:5353", 1 }, { "::1", 1 },
		{ "[::1]:5353", 1 }, { "[::1]", 1 }, { "2001:db8::53", 1 },
		{ "[2001:db8::53]:53", 1 },
		{ "::1::2", 0 }, { "[::1]:0", 0 }, { "[::1", 0 },
		{ "[::1]:99999", 0 }, { "127.0.0.300", 0 }, { "mx.example", 0 },
		{ "127.0.0.1:0", 0 }, { "", 1 },   /* "": the system's */
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mf_dns_opts o = { t[i].spec, 1000, 1 };
		struct mf_err e;
		struct mf_dns *d;

		mf_err_clear(&e);
		d = mf_dns_new(&o, &e);
		cr_expect_eq(d != NULL, t[i].ok, "%s: %s", t[i].spec, e.msg);
		if (d == NULL)
			cr_expect_eq(e.kind, MF_E_USAGE, "%s", t[i].spec);
		mf_dns_free(d);
	}
}

/* A one-shot DNS server on [::1]: answers the first query NXDOMAIN. */
struct v6srv {
	int fd;
	int served;
};

static void *
v6_serve(void *arg)
{
	struct v6srv *s = arg;
	unsigned char q[1500];
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	ssize_t n;
	size_t end = 12;

	n = recvfrom(s->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
	if (n < 12)
		return NULL;
	while (end < (size_t)n && q[end] != 0)
		end += (size_t)q[end] + 1;
	end += 5;                      /* root label, QTYPE, QCLASS */
	if (end > (size_t)n)
		return NULL;
	q[2] = 0x81;                   /* QR, RD */
	q[3] = 0x83;                   /* RA, NXDOMAIN */
	q[6] = q[7] = q[8] = q[9] = q[10] = q[11] = 0;
	sendto(s->fd, q, end, 0, (struct sockaddr *)&from, fl);
	s->served = 1;
	return NULL;
}

Test(dns, ipv6_resolver_is_asked)
{
	struct sockaddr_in6 a;
	socklen_t al = sizeof(a);
	struct v6srv srv = { -1, 0 };
	struct mf_dns_answer ans;
	struct mf_err e;
	struct mf_dns *d;
	pthread_t th;
	char spec[64];

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_addr = in6addr_loopback;
	srv.fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (srv.fd == -1 || bind(srv.fd, (struct sockaddr *)&a, sizeof(a)) == -1)
		cr_skip_test("no IPv6 loopback here");
	cr_assert_eq(getsockname(srv.fd, (struct sockaddr *)&a, &al), 0);
	snprintf(spec, sizeof(spec), "[::1]:%u", ntohs(a.sin6_port));
	struct mf_dns_opts o = { spec, 2000, 1 };
	d = mf_dns_new(&o, &e);
	cr_assert_not_null(d, "%s", e.msg);
	memset(&ans, 0, sizeof(ans));
	cr_assert_eq(pthread_create(&th, NULL, v6_serve, &srv), 0);
	cr_expect_eq(mf_dns_query(d, "nosuch.example.test", MF_DNS_MX, &ans,
	    &e), 0, "%s", e.msg);
	pthread_join(th, NULL);
	cr_expect(srv.served);
	cr_expect_eq(ans.status, MF_DNS_NXDOMAIN);
	mf_dns_answer_free(&ans);
	mf_dns_free(d);
	close(srv.fd);
}
