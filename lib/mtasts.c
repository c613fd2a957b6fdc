/* mtasts.c - MTA-STS (RFC 8461) discovery and policy, TLS-RPT (RFC 8460). */
#include "mtasts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "https.h"

const char *
mf_mtasts_mode_name(enum mf_mtasts_mode m)
{
	switch (m) {
	case MF_STS_MODE_TESTING: return "testing";
	case MF_STS_MODE_ENFORCE: return "enforce";
	default: return "none";
	}
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Next "key=value" field of a ";"-separated record (RFC 8461 §3.1,
 * RFC 8460 §3): key and value trimmed into the buffers. NULL at the end. */
static const char *
next_field(const char *p, char *key, size_t klen, char *val, size_t vlen)
{
	const char *end, *eq;
	size_t n;

	p = skip_ws(p);
	while (*p == ';')
		p = skip_ws(p + 1);
	if (*p == '\0')
		return NULL;
	end = strchr(p, ';');
	if (end == NULL)
		end = p + strlen(p);
	eq = memchr(p, '=', (size_t)(end - p));
	n = eq ? (size_t)(eq - p) : (size_t)(end - p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	snprintf(key, klen, "%.*s", (int)n, p);
	val[0] = '\0';
	if (eq != NULL) {
		eq = skip_ws(eq + 1);
		n = (size_t)(end - eq);
		while (n > 0 && (eq[n - 1] == ' ' || eq[n - 1] == '\t'))
			n--;
		snprintf(val, vlen, "%.*s", (int)n, eq);
	}
	return end;
}

int
mf_mtasts_parse_txt(const char *txt, struct mf_mtasts_txt *r)
{
	char key[32], val[128];
	const char *p;
	size_t i;

	memset(r, 0, sizeof(*r));
	/* §3.1: the record must begin with "v=STSv1"; others are ignored. */
	if (strncmp(txt, "v=STSv1", 7) != 0 ||
	    (txt[7] != ';' && txt[7] != ' ' && txt[7] != '\t' && txt[7] != '\0'))
		return -1;
	p = txt;
	while ((p = next_field(p, key, sizeof(key), val, sizeof(val))) != NULL) {
		if (strcmp(key, "id") != 0)
			continue;
		for (i = 0; val[i] && isalnum((unsigned char)val[i]); i++)
			;
		if (i == 0 || i > 32 || val[i] != '\0') {
			snprintf(r->error, sizeof(r->error), "id \"%.40s\" is not "
			    "1 to 32 letters and digits", val);
			return 0;
		}
		mf_strlcpy(r->id, val, sizeof(r->id));
	}
	if (r->id[0] == '\0') {
		mf_strlcpy(r->error, "no id field", sizeof(r->error));
		return 0;
	}
	r->valid = 1;
	return 0;
}

static int
policy_line(struct mf_mtasts_policy *p, const char *key, const char *val,
            int *have_version, int *have_mode, int *have_age)
{
	long n;

	if (strcmp(key, "version") == 0) {
		*have_version = strcmp(val, "STSv1") == 0;
		return *have_version ? 0 : -1;
	}
	if (strcmp(key, "mode") == 0) {
		*have_mode = 1;
		if (strcmp(val, "enforce") == 0)
			p->mode = MF_STS_MODE_ENFORCE;
		else if (strcmp(val, "testing") == 0)
			p->mode = MF_STS_MODE_TESTING;
		else if (strcmp(val, "none") == 0)
			p->mode = MF_STS_MODE_NONE;
		else
			return -1;
		return 0;
	}
	if (strcmp(key, "max_age") == 0) {
		/* §3.2: up to 31557600 (one year); ten digits at most. */
		if (mf_parse_long(val, 0, 31557600, &n) == -1)
			return -1;
		p->max_age = n;
		*have_age = 1;
		return 0;
	}
	if (strcmp(key, "mx") == 0) {
		if (p->nmx < MF_MTASTS_MX_MAX)
			mf_strlcpy(p->mx[p->nmx++], val, sizeof(p->mx[0]));
		return 0;
	}
	return 0;   /* unknown keys are ignored (§3.2) */
}

int
mf_mtasts_parse_policy(const char *body, size_t len,
                       struct mf_mtasts_policy *p)
{
	const char *s = body, *end = body + len, *nl, *colon;
	char key[32], val[256];
	int hv = 0, hm = 0, ha = 0;
	size_t n;

	memset(p, 0, sizeof(*p));
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			nl = end;
		n = (size_t)(nl - s);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		colon = memchr(s, ':', n);
		if (n > 0 && colon == NULL) {
			/* body is not NUL-terminated: quote this line only */
			snprintf(p->error, sizeof(p->error), "line without a "
			    "colon: \"%.*s\"", (int)(n < 60 ? n : 60), s);
			return -1;
		}
		if (n > 0) {
			snprintf(key, sizeof(key), "%.*s", (int)(colon - s), s);
			for (colon++; colon < s + n && (*colon == ' ' ||
			    *colon == '\t'); colon++)
				;
			snprintf(val, sizeof(val), "%.*s",
			    (int)(s + n - colon), colon);
			if (policy_line(p, key, val, &hv, &hm, &ha) == -1) {
				snprintf(p->error, sizeof(p->error), "bad value "
				    "for %s: \"%.60s\"", key, val);
				return -1;
			}
		}
		s = nl + 1;
	}
	if (!hv || !hm || !ha) {
		snprintf(p->error, sizeof(p->error), "missing %s",
		    !hv ? "version: STSv1" : !hm ? "mode" : "max_age");
		return -1;
	}
	if (p->mode != MF_STS_MODE_NONE && p->nmx == 0) {
		mf_strlcpy(p->error, "no mx lines", sizeof(p->error));
		return -1;
	}
	p->valid = 1;
	return 0;
}

static size_t
name_len(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

int
mf_mtasts_match(const char *pattern, const char *host)
{
	size_t pl = name_len(pattern), hl = name_len(host);
	const char *dot;

	if (pl >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* §4.1: the wildcard covers exactly one leftmost label. */
		dot = memchr(host, '.', hl);
		if (dot == NULL || dot == host)
			return 0;
		return (size_t)(host + hl - dot) == pl - 1 &&
		    strncasecmp(dot, pattern + 1, pl - 1) == 0;
	}
	return pl == hl && pl > 0 && strncasecmp(pattern, host, pl) == 0;
}

int
mf_mtasts_mx_allowed(const struct mf_mtasts_policy *p, const char *host)
{
	size_t i;

	for (i = 0; i < p->nmx; i++)
		if (mf_mtasts_match(p->mx[i], host))
			return 1;
	return 0;
}

static int
rua_ok(const char *rua)
{
	char one[256];
	const char *p = rua, *c;
	size_t n;

	while (*p) {
		c = strchr(p, ',');
		n = c ? (size_t)(c - p) : strlen(p);
		snprintf(one, sizeof(one), "%.*s", (int)n, p);
		p = (char *)skip_ws(one);
		if (strncasecmp(p, "mailto:", 7) != 0 &&
		    strncasecmp(p, "https:", 6) != 0)
			return 0;
		if ((strncasecmp(p, "mailto:", 7) == 0 && strchr(p, '@') == NULL))
			return 0;
		p = c ? c + 1 : rua + strlen(rua);
	}
	return rua[0] != '\0';
}

int
mf_tlsrpt_parse(const char *txt, struct mf_tlsrpt *r)
{
	char key[32], val[512];
	const char *p;

	memset(r, 0, sizeof(*r));
	if (strncmp(txt, "v=TLSRPTv1", 10) != 0)
		return -1;
	r->found = 1;
	p = txt;
	while ((p = next_field(p, key, sizeof(key), val, sizeof(val))) != NULL)
		if (strcmp(key, "rua") == 0)
			mf_strlcpy(r->rua, val, sizeof(r->rua));
	if (r->rua[0] == '\0') {
		mf_strlcpy(r->error, "no rua field", sizeof(r->error));
		return 0;
	}
	if (!rua_ok(r->rua)) {
		snprintf(r->error, sizeof(r->error), "rua must be mailto: or "
		    "https: URIs: \"%.80s\"", r->rua);
		return 0;
	}
	r->valid = 1;
	return 0;
}

/* ---- HTTPS ---- */

int
mf_mtasts_fetch(const char *host, const char *addr,
                const struct mf_mtasts_params *p, struct mf_buf *body,
                struct mf_err *e)
{
	struct mf_https_params hp;
	struct mf_https_response resp;

	memset(&hp, 0, sizeof(hp));
	hp.ca_file = p->ca_file;   /* §3.3: the certificate must be valid */
	hp.port = p->port;
	hp.timeout_ms = p->timeout_ms;
	hp.body_max = MF_MTASTS_BODY_MAX;
	hp.accept = "text/plain";
	hp.user_agent = "mxprobe (mailflow)";
	if (mf_https_get(host, addr, "/.well-known/mta-sts.txt", &hp, body,
	    &resp, e) == -1)
		return -1;
	if (resp.content_type[0] != '\0' &&
	    strncasecmp(resp.content_type, "text/plain", 10) != 0)
		return mf_err_set(e, MF_E_PROTO, "policy served as %.40s, not "
		    "text/plain", resp.content_type);
	return 0;
}

/* ---- discovery ---- */

static void
find_record(struct mf_dns *d, const char *domain, struct mf_mtasts_result *r)
{
	struct mf_dns_answer a;
	struct mf_mtasts_txt one;
	struct mf_err e;
	char q[MF_DNS_NAME_MAX + 16];
	size_t i;

	memset(&a, 0, sizeof(a));
	snprintf(q, sizeof(q), "_mta-sts.%s", domain);
	if (mf_dns_query(d, q, MF_DNS_TXT, &a, &e) == -1 ||
	    (a.status != MF_DNS_ANSWER && a.status != MF_DNS_NODATA &&
	    a.status != MF_DNS_NXDOMAIN)) {
		snprintf(r->dns_error, sizeof(r->dns_error), "%.100s TXT: %s", q,
		    a.rr == NULL && a.rcode == 0 ? "no response" :
		    mf_dns_status_name(a.status));
		mf_dns_answer_free(&a);
		return;
	}
	for (i = 0; i < a.n; i++) {
		if (mf_mtasts_parse_txt((const char *)a.rr[i].data, &one) == 0) {
			r->record_count++;
			r->rec = one;
		}
	}
	r->record_found = r->record_count > 0;
	if (r->record_count > 1) {
		r->rec.valid = 0;
		mf_strlcpy(r->rec.error, "more than one v=STSv1 record (RFC 8461 "
		    "§3.1: treat as no policy)", sizeof(r->rec.error));
	}
	mf_dns_answer_free(&a);
}

static void
find_tlsrpt(struct mf_dns *d, const char *domain, struct mf_tlsrpt *rpt)
{
	struct mf_dns_answer a;
	struct mf_tlsrpt one;
	struct mf_err e;
	char q[MF_DNS_NAME_MAX + 16];
	size_t i;
	int count = 0;

	memset(&a, 0, sizeof(a));
	memset(rpt, 0, sizeof(*rpt));
	snprintf(q, sizeof(q), "_smtp._tls.%s", domain);
	if (mf_dns_query(d, q, MF_DNS_TXT, &a, &e) == 0)
		for (i = 0; i < a.n; i++)
			if (mf_tlsrpt_parse((const char *)a.rr[i].data, &one) == 0) {
				*rpt = one;
				count++;
			}
	if (count > 1) {
		rpt->valid = 0;
		mf_strlcpy(rpt->error, "more than one v=TLSRPTv1 record",
		    sizeof(rpt->error));
	}
	mf_dns_answer_free(&a);
}

static void
fetch_policy(struct mf_dns *d, const char *domain,
             const struct mf_mtasts_params *p, struct mf_mtasts_result *r)
{
	struct mf_dns_answer a;
	struct mf_buf body = MF_BUF_INIT(MF_MTASTS_BODY_MAX);
	struct mf_err e;
	char host[MF_DNS_NAME_MAX + 16];
	size_t i;

	memset(&a, 0, sizeof(a));
	mf_err_clear(&e);
	snprintf(host, sizeof(host), "mta-sts.%s", domain);
	if (mf_dns_query(d, host, MF_DNS_A, &a, &e) == -1 || a.n == 0) {
		mf_dns_answer_free(&a);
		if (mf_dns_query(d, host, MF_DNS_AAAA, &a, &e) == -1 || a.n == 0) {
			snprintf(r->fetch_error, sizeof(r->fetch_error), "%s has "
			    "no address", host);
			mf_dns_answer_free(&a);
			return;
		}
	}
	for (i = 0; i < a.n && !r->fetched; i++) {
		mf_buf_reset(&body);
		if (mf_mtasts_fetch(host, a.rr[i].addr, p, &body, &e) == 0)
			r->fetched = 1;
		else
			snprintf(r->fetch_error, sizeof(r->fetch_error),
			    "https://%.200s/.well-known/mta-sts.txt [%s]: %.200s", host,
			    a.rr[i].addr, e.msg);
	}
	if (r->fetched) {
		r->fetch_error[0] = '\0';
		mf_mtasts_parse_policy(body.data, body.len, &r->pol);
	}
	mf_buf_free(&body);
	mf_dns_answer_free(&a);
}

int
mf_mtasts_check(struct mf_dns *d, const char *domain,
                const struct mf_mtasts_params *p, struct mf_mtasts_result *r,
                struct mf_err *e)
{
	(void)e;
	memset(r, 0, sizeof(*r));
	find_record(d, domain, r);
	/* §3.3: the policy is fetched only when a valid record exists. */
	if (r->record_found && r->rec.valid)
		fetch_policy(d, domain, p, r);
	find_tlsrpt(d, domain, &r->rpt);
	return 0;
}
