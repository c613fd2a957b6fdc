/* mxfind.c - what an MX report means: the findings drawn from routing,
 * probes, DANE and MTA-STS (RFC 5321 §5.1, RFC 3207, RFC 7672, RFC 8461).
 * Part of the mx module (declared in mx.h): pure, called by mf_mx_check(),
 * below the output in mxfmt.c. */
#include "mx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "certfmt.h"
#include "crypto.h"

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
	if (o->tlsa.lookup == MF_DANE_HOST_INSECURE)
		add(r, MF_SEV_NOTE, "tlsa-host-insecure", where, "TLSA records "
		    "at %s are validated, but the address records of %s are "
		    "not: ignored (RFC 7672 §2.2.2)", o->tlsa.qname, o->host);
	if (o->tlsa.lookup == MF_DANE_MX_INSECURE)
		add(r, MF_SEV_NOTE, "tlsa-mx-insecure", where, "TLSA records "
		    "at %s are ignored: the MX records pointing to %s are not "
		    "DNSSEC-validated (RFC 7672 §2.2.1)", o->tlsa.qname, o->host);
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
