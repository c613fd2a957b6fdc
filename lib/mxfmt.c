/* mxfmt.c - an MX report as text or JSON Lines (RFC 5321 §5.1, RFC 3207,
 * RFC 7672, RFC 8461); the findings it shows are drawn in mxfind.c. */
#include "mxfmt.h"
#include "esc.h"
#include "certfmt.h"
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto.h"
#include "idn.h"
#include "json.h"

/* ---------------------------------------------------------------- */
/* output */

static const char *const stage_names[MF_MX_NSTAGES] = {
	"connect", "banner", "ehlo", "starttls", "handshake", "ehlo_tls"
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
	char shown[MF_IDN_NAME_MAX];

	mf_idn_display(rt->domain, shown, sizeof(shown));
	mf_buf_printf(o, NULL, "%s: %s%s\n", shown, route_words(rt),
	    rt->kind == MF_ROUTE_MX || rt->kind == MF_ROUTE_NULL_MX ?
	    (rt->ad ? " [DNSSEC-validated]" : " [not DNSSEC-validated]") : "");
	if (rt->kind == MF_ROUTE_DNS_ERROR)
		mf_buf_printf(o, NULL, "  error: %s\n", rt->error);
	for (i = 0; i < rt->nhosts; i++) {
		h = &rt->hosts[i];
		mf_idn_display(h->name, shown, sizeof(shown));
		if (rt->kind == MF_ROUTE_IMPLICIT)
			mf_buf_printf(o, NULL, "  implicit MX %s ->", shown);
		else
			mf_buf_printf(o, NULL, "  MX %d %s%s%s%s ->", h->pref, shown,
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
	char line[1400], shown[MF_IDN_NAME_MAX];
	size_t i;

	mf_buf_printf(o, NULL, "    TLS        %s %s %s\n", p->tls.version,
	    p->tls.cipher, p->tls.kx);
	for (i = 0; i < p->tls.chain_len; i++) {
		mf_tls_format_cert(&p->tls.chain[i], line, sizeof(line));
		mf_buf_printf(o, NULL, "    cert %zu     %s (%ld days left)\n", i,
		    line, days_left(p->tls.chain[i].not_after));
	}
	mf_idn_display(p->host, shown, sizeof(shown));
	if (p->pkix_ok)
		mf_buf_printf(o, NULL, "    verify     trusted, name matches %s\n",
		    shown);
	else
		mf_buf_printf(o, NULL, "    verify     NOT trusted for %s: %s\n",
		    shown, p->tls.verify_reason[0] ? p->tls.verify_reason :
		    "verification failed");
}

static void
text_probe(const struct mf_mx_probe *p, struct mf_buf *o)
{
	char caps[1024], shown[MF_IDN_NAME_MAX];
	int i;

	mf_idn_display(p->host, shown, sizeof(shown));
	mf_buf_printf(o, NULL, "  %s [%s]\n", shown, p->addr);
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
	if (p->tlsa.at_expanded)
		mf_buf_printf(o, NULL, "    DANE       TLSA at %s (CNAME-expanded "
		    "name, RFC 7672 §2.2.3)\n", p->tlsa.qname);
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

static int
text_report(const struct mf_mx_report *r, struct mf_buf *o, struct mf_err *e)
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

/* Banners, reply and policy text, certificate names: all from the
 * network, so the finished text is escaped line by line (esc.h). */
int
mf_mx_format_text(const struct mf_mx_report *r, struct mf_buf *o,
                  struct mf_err *e)
{
	struct mf_buf raw = MF_BUF_INIT(o->max);
	int rc;

	rc = text_report(r, &raw, e);
	if (rc == 0)
		rc = mf_esc_lines(o, raw.data, raw.len, e);
	mf_buf_free(&raw);
	return rc;
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
		mf_certfmt_json(j, &p->tls.chain[i]);
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
	mf_json_key(j, "host_secure");
	if (p->tlsa.host_checked)
		mf_json_bool(j, p->tlsa.host_secure);
	else
		mf_json_null(j);
	mf_json_kv_string(j, "cname_expanded", p->tlsa.expanded[0] ?
	    p->tlsa.expanded : NULL);
	mf_json_kv_bool(j, "tlsa_at_expanded", p->tlsa.at_expanded);
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
	mf_cli_json_name(j, "domain", r->route.domain);
	mf_cli_json_name(j, "mx", p->host);
	mf_json_kv_int(j, "pref", r->route.hosts[p->host_index].pref);
	mf_json_kv_string(j, "address", p->addr);
	mf_json_kv_bool(j, "probed", p->probed);
	mf_json_kv_bool(j, "reached", p->reached);
	mf_json_key(j, "timings_ms");
	mf_json_object_begin(j);
	for (i = 0; i < MF_MX_NSTAGES; i++)
		if (p->ms[i] >= 0)
			mf_json_kv_int(j, stage_names[i],
			    (long long)(p->ms[i] + 0.5));
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
		mf_cli_json_name(j, "name", rt->hosts[i].name);
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
	mf_json_kv_string(j, "type", "domain");
	mf_cli_json_name(j, "domain", r->route.domain);
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
