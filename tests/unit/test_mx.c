/* Unit tests: MX ordering (RFC 5321 §5.1) and the findings drawn from
 * routes, probes and MTA-STS policies. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mx.h"
#include "mxfmt.h"

static void
host(struct mf_mx_host *h, const char *name, int pref)
{
	memset(h, 0, sizeof(*h));
	mf_strlcpy(h->name, name, sizeof(h->name));
	h->pref = pref;
}

static unsigned
seq(void *arg)
{
	unsigned *s = arg;

	return (*s)++;
}

Test(mx, sorted_by_preference)
{
	struct mf_mx_host h[4];
	unsigned s = 0;

	host(&h[0], "c", 30);
	host(&h[1], "a", 10);
	host(&h[2], "d", 40);
	host(&h[3], "b", 20);
	mf_mx_order(h, 4, seq, &s);
	cr_assert_str_eq(h[0].name, "a");
	cr_assert_str_eq(h[1].name, "b");
	cr_assert_str_eq(h[2].name, "c");
	cr_assert_str_eq(h[3].name, "d");
}

static unsigned
zero(void *arg)
{
	(void)arg;
	return 0;
}

Test(mx, ties_are_shuffled_but_stay_in_their_group)
{
	struct mf_mx_host h[4];
	int seen_first_x = 0, seen_first_y = 0, i;
	unsigned s;

	for (i = 0; i < 50; i++) {
		host(&h[0], "z", 20);
		host(&h[1], "x", 10);
		host(&h[2], "y", 10);
		host(&h[3], "w", 5);
		s = (unsigned)i * 7919u;
		mf_mx_order(h, 4, i % 2 ? seq : zero, &s);
		cr_assert_str_eq(h[0].name, "w");
		cr_assert_eq(h[1].pref, 10);
		cr_assert_eq(h[2].pref, 10);
		cr_assert_str_eq(h[3].name, "z");
		seen_first_x |= strcmp(h[1].name, "x") == 0;
		seen_first_y |= strcmp(h[1].name, "y") == 0;
	}
	cr_assert(seen_first_x && seen_first_y, "ties were never reordered");
}

static struct mf_mx_report rep;
static struct mf_mx_probe probes[4];
static struct mf_mx_params params;

static void
setup_route(enum mf_mx_route_kind kind, size_t nhosts)
{
	size_t i;

	memset(&rep, 0, sizeof(rep));
	memset(probes, 0, sizeof(probes));
	memset(&params, 0, sizeof(params));
	mf_strlcpy(rep.route.domain, "example.org", sizeof(rep.route.domain));
	rep.route.kind = kind;
	rep.route.nhosts = nhosts;
	for (i = 0; i < nhosts; i++) {
		host(&rep.route.hosts[i], i ? "mx2.example.org" : "mx1.example.org",
		    (int)(i + 1) * 10);
		rep.route.hosts[i].naddrs = 1;
		mf_strlcpy(rep.route.hosts[i].addrs[0], "192.0.2.1", 46);
		mf_strlcpy(probes[i].host, rep.route.hosts[i].name, 256);
		mf_strlcpy(probes[i].addr, "192.0.2.1", 46);
		mf_strlcpy(probes[i].ptr, rep.route.hosts[i].name, 256);
		probes[i].fcrdns = 1;
		probes[i].host_index = i;
	}
	rep.probes = probes;
	rep.nprobes = nhosts;
}

/* A probe that went well: STARTTLS, trusted certificate. */
static void
good_probe(struct mf_mx_probe *p)
{
	p->probed = p->reached = 1;
	p->starttls_offered = p->tls_done = 1;
	p->tls.handshake_done = 1;
	p->pkix_ok = 1;
	p->tls.verified = 1;
}

static int
has_code(const char *code)
{
	size_t i;

	for (i = 0; i < rep.nfind; i++)
		if (strcmp(rep.find[i].code, code) == 0)
			return 1;
	return 0;
}

Test(mx, clean_domain_has_status_0)
{
	setup_route(MF_ROUTE_MX, 2);
	good_probe(&probes[0]);
	good_probe(&probes[1]);
	mf_mx_analyze(&rep, &params);
	cr_assert_eq(rep.status, 0);
}

struct route_case {
	enum mf_mx_route_kind kind;
	int status;
	const char *code;
};

Test(mx, route_verdicts)
{
	static const struct route_case cases[] = {
		{ MF_ROUTE_NULL_MX, 0, "null-mx" },
		{ MF_ROUTE_NXDOMAIN, 2, "nxdomain" },
		{ MF_ROUTE_NODATA, 2, "no-route" },
		{ MF_ROUTE_DNS_ERROR, 2, "dns-error" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup_route(cases[i].kind, 0);
		mf_mx_analyze(&rep, &params);
		cr_assert_eq(rep.status, cases[i].status, "case %zu", i);
		cr_assert(has_code(cases[i].code), "case %zu", i);
	}
}

Test(mx, cname_mx_is_a_finding)
{
	setup_route(MF_ROUTE_MX, 1);
	good_probe(&probes[0]);
	rep.route.hosts[0].is_cname = 1;
	mf_mx_analyze(&rep, &params);
	cr_assert_eq(rep.status, 1);
	cr_assert(has_code("mx-cname"));
}

Test(mx, no_starttls_and_bad_certificates_are_findings)
{
	setup_route(MF_ROUTE_MX, 2);
	good_probe(&probes[0]);
	probes[0].starttls_offered = probes[0].tls_done = 0;
	good_probe(&probes[1]);
	probes[1].pkix_ok = 0;
	probes[1].tls.name_mismatch = 1;
	mf_mx_analyze(&rep, &params);
	cr_assert_eq(rep.status, 1);
	cr_assert(has_code("no-starttls"));
	cr_assert(has_code("cert-name-mismatch"));
}

Test(mx, dane_pass_outranks_pkix)
{
	setup_route(MF_ROUTE_MX, 1);
	good_probe(&probes[0]);
	probes[0].pkix_ok = 0;
	probes[0].tls.name_mismatch = 1;
	probes[0].dane.state = MF_DANE_PASS;
	mf_mx_analyze(&rep, &params);
	cr_assert_eq(rep.status, 0);
	cr_assert_not(has_code("cert-name-mismatch"));
}

Test(mx, dane_failure_is_a_finding)
{
	setup_route(MF_ROUTE_MX, 1);
	good_probe(&probes[0]);
	probes[0].dane.state = MF_DANE_FAIL;
	mf_mx_analyze(&rep, &params);
	cr_assert_eq(rep.status, 1);
	cr_assert(has_code("dane-fail"));
}

Test(mx, unreachable_some_vs_all)
{
	setup_route(MF_ROUTE_MX, 2);
	good_probe(&probes[0]);
	probes[1].probed = 1;
	mf_mx_analyze(&rep, &params);
	cr_assert_eq(rep.status, 1);
	cr_assert(has_code("unreachable"));
	probes[0].reached = 0;
	mf_mx_analyze(&rep, &params);
	cr_assert_eq(rep.status, 2);
	cr_assert(has_code("unreachable-all"));
}

Test(mx, dns_only_probes_nothing_and_is_clean)
{
	setup_route(MF_ROUTE_MX, 2);
	params.dns_only = 1;
	mf_mx_analyze(&rep, &params);
	cr_assert_eq(rep.status, 0);
}

Test(mx, mta_sts_mismatch_in_enforce_mode)
{
	setup_route(MF_ROUTE_MX, 2);
	good_probe(&probes[0]);
	good_probe(&probes[1]);
	rep.sts_checked = 1;
	rep.sts.record_found = 1;
	rep.sts.rec.valid = 1;
	rep.sts.fetched = 1;
	static const char pol[] = "version: STSv1\nmode: enforce\n"
	    "mx: mx1.example.org\nmax_age: 600\n";

	cr_assert_eq(mf_mtasts_parse_policy(pol, strlen(pol), &rep.sts.pol), 0);
	cr_assert_eq(rep.sts.pol.max_age, 600);
	mf_mx_analyze(&rep, &params);
	cr_assert_eq(rep.status, 1);
	cr_assert(has_code("mta-sts-mx-mismatch"));
	cr_assert_eq(rep.nfind, 1);
	cr_assert_str_eq(rep.find[0].where, "mx2.example.org");
}

Test(mx, json_lines_are_one_object_each)
{
	struct mf_buf out = MF_BUF_INIT(1 << 20);
	struct mf_err e;
	size_t lines = 0, i;

	setup_route(MF_ROUTE_MX, 2);
	good_probe(&probes[0]);
	good_probe(&probes[1]);
	mf_mx_analyze(&rep, &params);
	cr_assert_eq(mf_mx_format_json(&rep, &out, &e), 0);
	for (i = 0; i < out.len; i++)
		lines += out.data[i] == '\n';
	cr_assert_eq(lines, 3);
	cr_assert(strstr(out.data, "{\"type\":\"address\",\"domain\":"
	    "\"example.org\",\"mx\":\"mx1.example.org\",\"pref\":10") != NULL,
	    "%s", out.data);
	cr_assert(strstr(out.data, "\"type\":\"domain\"") != NULL);
	cr_assert(strstr(out.data, "\"status\":\"ok\",\"exit\":0}\n") != NULL);
	mf_buf_free(&out);
}

/* RFC 7672 §2.2.2: secure TLSA for a host with insecure addresses is a
 * note, never a DANE verdict. */
Test(mx, tlsa_of_an_insecure_host_is_a_note)
{
	struct mf_buf out = MF_BUF_INIT(1 << 20);
	struct mf_err e;

	setup_route(MF_ROUTE_MX, 1);
	good_probe(&probes[0]);
	probes[0].tlsa.lookup = MF_DANE_HOST_INSECURE;
	probes[0].tlsa.host_checked = 1;
	probes[0].tlsa.host_secure = 0;
	mf_mx_analyze(&rep, &params);
	cr_assert_eq(rep.status, 0);
	cr_assert(has_code("tlsa-host-insecure"));
	cr_assert_not(has_code("dane-fail"));
	cr_assert_eq(mf_mx_format_json(&rep, &out, &e), 0);
	cr_assert(strstr(out.data, "\"tlsa\":\"host-insecure\",\"host_secure\":"
	    "false,\"cname_expanded\":null,\"tlsa_at_expanded\":false") != NULL,
	    "%s", out.data);
	mf_buf_free(&out);
}

/* STARTTLS and the TLS handshake are separate stages, in order. */
Test(mx, starttls_and_handshake_timed_apart)
{
	struct mf_buf out = MF_BUF_INIT(1 << 20);
	struct mf_err e;
	int i;

	setup_route(MF_ROUTE_MX, 1);
	good_probe(&probes[0]);
	for (i = 0; i < MF_MX_NSTAGES; i++)
		probes[0].ms[i] = i + 0.5;
	mf_mx_analyze(&rep, &params);
	cr_assert_eq(mf_mx_format_json(&rep, &out, &e), 0);
	/* --json times are integer milliseconds (rounded), text keeps tenths */
	cr_assert(strstr(out.data, "\"starttls\":4,\"handshake\":5,"
	    "\"ehlo_tls\":6") != NULL, "%s", out.data);
	mf_buf_reset(&out);
	cr_assert_eq(mf_mx_format_text(&rep, &out, &e), 0);
	cr_assert(strstr(out.data, "starttls 3.5 ms handshake 4.5 ms ehlo_tls "
	    "5.5 ms") != NULL, "%s", out.data);
	mf_buf_free(&out);
}
