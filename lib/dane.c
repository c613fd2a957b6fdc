/* dane.c - DANE for SMTP: TLSA lookup and matching (RFC 7672, RFC 7671). */
#include "dane.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "crypto.h"

const char *
mf_dane_state_name(enum mf_dane_state s)
{
	static const char *const n[] = { "not-applicable", "pass", "fail",
	    "no-tls", "unusable", "uncheckable", "tempfail" };

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

const char *
mf_dane_lookup_name(enum mf_dane_lookup l)
{
	static const char *const n[] = { "none", "unsigned", "lookup-failed",
	    "secure", "host-insecure", "mx-insecure" };

	return (unsigned)l < sizeof(n) / sizeof(n[0]) ? n[l] : "?";
}

void
mf_dane_set_add(struct mf_dane_set *set, unsigned usage, unsigned selector,
                unsigned mtype, const unsigned char *data, size_t len)
{
	struct mf_dane_tlsa *t;

	if (set->n == MF_DANE_RR_MAX)
		return;
	t = &set->rr[set->n++];
	t->usage = (unsigned char)usage;
	t->selector = (unsigned char)selector;
	t->mtype = (unsigned char)mtype;
	t->len = len;
	memcpy(t->data, data, len < sizeof(t->data) ? len : sizeof(t->data));
	memset(t->full256, 0, sizeof(t->full256));
	if (mtype == 0)
		mf_hash(MF_SHA256, data, len, t->full256, NULL);
	/* RFC 7672 §3.1.3: PKIX-TA(0) and PKIX-EE(1) are not for SMTP. */
	if (usage == 2 || usage == 3)
		set->usable++;
}

int
mf_dane_lookup(struct mf_dns *d, const char *host, const char *port,
               struct mf_dane_set *set, struct mf_err *e)
{
	struct mf_dns_answer a;
	struct mf_err qe;
	size_t i;

	memset(set, 0, sizeof(*set));
	memset(&a, 0, sizeof(a));
	if (snprintf(set->qname, sizeof(set->qname), "_%s._tcp.%s", port,
	    host) >= (int)sizeof(set->qname))
		return mf_err_set(e, MF_E_USAGE, "TLSA name too long");
	if (mf_dns_query(d, set->qname, MF_DNS_TLSA, &a, &qe) == -1) {
		mf_dns_answer_free(&a);
		set->lookup = MF_DANE_LOOKUP_FAILED;
		return 0;
	}
	switch (a.status) {
	case MF_DNS_ANSWER:
		set->lookup = a.ad ? MF_DANE_SECURE : MF_DANE_UNSIGNED;
		break;
	case MF_DNS_NODATA:
	case MF_DNS_NXDOMAIN:
		set->lookup = MF_DANE_NO_TLSA;
		break;
	default:
		set->lookup = MF_DANE_LOOKUP_FAILED;
		break;
	}
	for (i = 0; i < a.n; i++)
		mf_dane_set_add(set, a.rr[i].usage, a.rr[i].selector,
		    a.rr[i].mtype, a.rr[i].data, a.rr[i].datalen);
	mf_dns_answer_free(&a);
	return 0;
}

/* The MX host's addresses: secure when at least one family answered and
 * every answer was validated; the end of their CNAME chain into canon. */
static void
host_addresses(struct mf_dns *d, const char *host, int *secure, char *canon,
               size_t canonlen)
{
	static const int types[] = { MF_DNS_A, MF_DNS_AAAA };
	struct mf_dns_answer a;
	struct mf_err qe;
	size_t i;
	int answered = 0;

	*secure = 1;
	canon[0] = '\0';
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(&a, 0, sizeof(a));
		if (mf_dns_query(d, host, types[i], &a, &qe) == 0 &&
		    a.status == MF_DNS_ANSWER) {
			answered++;
			if (!a.ad)
				*secure = 0;
			if (a.cname && strcasecmp(a.canon, host) != 0)
				mf_strlcpy(canon, a.canon, canonlen);
		}
		mf_dns_answer_free(&a);
	}
	if (answered == 0)
		*secure = 0;
}

int
mf_dane_lookup_mx(struct mf_dns *d, const char *host, const char *port,
                  struct mf_dane_set *set, struct mf_err *e)
{
	char canon[MF_DNS_NAME_MAX];
	int secure;

	host_addresses(d, host, &secure, canon, sizeof(canon));
	/* §2.2.3: a secure CNAME chain moves the TLSA base domain to its
	 * end; without TLSA there, the original name is tried. */
	if (secure && canon[0]) {
		if (mf_dane_lookup(d, canon, port, set, e) == -1)
			return -1;
		if (set->lookup != MF_DANE_NO_TLSA &&
		    set->lookup != MF_DANE_UNSIGNED) {
			set->at_expanded = 1;
			goto out;
		}
	}
	if (mf_dane_lookup(d, host, port, set, e) == -1)
		return -1;
	/* §2.2.2: TLSA is only as good as the addresses it is used for. */
	if (!secure && set->lookup == MF_DANE_SECURE)
		set->lookup = MF_DANE_HOST_INSECURE;
out:
	set->host_checked = 1;
	set->host_secure = secure;
	mf_strlcpy(set->expanded, canon, sizeof(set->expanded));
	return 0;
}

/* One DER header (X.690 §8.1): tag, then the content's offset and length.
 * Long lengths up to 4 bytes; -1 when it does not fit in [p, end). */
static int
der_tlv(const unsigned char *p, size_t avail, unsigned *tag, size_t *hdr,
        size_t *clen)
{
	size_t n, i, l;

	if (avail < 2)
		return -1;
	*tag = p[0];
	if (p[1] < 0x80) {
		l = p[1];
		n = 2;
	} else {
		n = p[1] & 0x7f;
		if (n == 0 || n > 4 || avail < 2 + n)
			return -1;
		for (l = 0, i = 0; i < n; i++)
			l = (l << 8) | p[2 + i];
		n += 2;
	}
	if (l > avail - n)
		return -1;
	*hdr = n;
	*clen = l;
	return 0;
}

int
mf_dane_spki(const unsigned char *der, size_t len, size_t *off,
             size_t *spki_len)
{
	unsigned tag;
	size_t hdr, cl, pos, end, k;

	/* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { ... } ... } */
	if (der_tlv(der, len, &tag, &hdr, &cl) == -1 || tag != 0x30)
		return -1;
	if (der_tlv(der + hdr, cl, &tag, &pos, &cl) == -1 || tag != 0x30)
		return -1;
	pos += hdr;
	end = pos + cl;
	/* [0] version (optional), serialNumber, signature, issuer, validity,
	 * subject, then subjectPublicKeyInfo. */
	for (k = 0; k < 7; k++) {
		if (der_tlv(der + pos, end - pos, &tag, &hdr, &cl) == -1)
			return -1;
		if (k == 0 && tag != 0xa0)
			k++;
		if (k == 6) {
			if (tag != 0x30)
				return -1;
			*off = pos;
			*spki_len = hdr + cl;
			return 0;
		}
		pos += hdr + cl;
	}
	return -1;
}

int
mf_dane_digest_cert(const unsigned char *der, size_t len,
                    struct mf_dane_digests *d)
{
	size_t off, sl;

	memset(d, 0, sizeof(*d));
	if (mf_dane_spki(der, len, &off, &sl) == -1)
		return -1;
	if (mf_hash(MF_SHA256, der, len, d->cert256, NULL) == -1 ||
	    mf_hash(MF_SHA512, der, len, d->cert512, NULL) == -1 ||
	    mf_hash(MF_SHA256, der + off, sl, d->spki256, NULL) == -1 ||
	    mf_hash(MF_SHA512, der + off, sl, d->spki512, NULL) == -1)
		return -1;
	d->have = 1;
	return 0;
}

/* Without DER digests: the hex SHA-256 fingerprints of the TLS info. */
static int
match_hex(const struct mf_dane_tlsa *t, const struct mf_cert_info *c)
{
	const char *have = t->selector == 0 ? c->sha256 : c->spki_sha256;
	char hex[65];

	if (t->mtype != 1)
		return -1;
	if (have[0] == '\0')
		return -1;
	mf_hex(t->data, 32, hex);
	return strcasecmp(hex, have) == 0;
}

int
mf_dane_match(const struct mf_dane_tlsa *t, const struct mf_cert_info *c,
              const struct mf_dane_digests *d)
{
	const unsigned char *want;

	/* RFC 6698 §2.1.2-3: unknown selectors and matching types never match. */
	if (t->selector > 1 || t->mtype > 2)
		return 0;
	if ((t->mtype == 1 && t->len != 32) || (t->mtype == 2 && t->len != 64))
		return 0;
	if (d == NULL || !d->have)
		return match_hex(t, c);
	switch (t->mtype) {
	case 0:
		want = t->selector ? d->spki256 : d->cert256;
		return memcmp(t->full256, want, 32) == 0;
	case 1:
		want = t->selector ? d->spki256 : d->cert256;
		return memcmp(t->data, want, 32) == 0;
	default:
		want = t->selector ? d->spki512 : d->cert512;
		return memcmp(t->data, want, 64) == 0;
	}
}

/* Does certificate `from` link to certificate `to`: by name, and by a
 * verified signature when the signatures are known? */
static int
links(const struct mf_tls_info *tls, const struct mf_dane_digests *dg,
      size_t from, size_t to)
{
	if (strcmp(tls->chain[from].issuer, tls->chain[to].subject) != 0)
		return 0;
	if (dg == NULL || !dg[from].signatures_known)
		return 1;
	return (dg[from].signed_by >> to) & 1u;
}

/* RFC 7671 §5.2.2: the trust anchor must be an issuer on the leaf's chain.
 * Walk from the leaf through the certificates the peer sent, each step a
 * name link with a verified signature; a leaf from an unrelated
 * intermediate never reaches the anchor, however the anchor was appended
 * to the chain, and neither does one that only claims the anchor's name. */
static int
chains_to(const struct mf_tls_info *tls, const struct mf_dane_digests *dg,
          size_t ta)
{
	size_t cur = 0, steps, j;
	int used[MF_TLS_CHAIN_MAX] = { 0 };

	used[0] = 1;
	for (steps = 0; steps < tls->chain_len; steps++) {
		if (links(tls, dg, cur, ta))
			return 1;
		for (j = 1; j < tls->chain_len; j++)
			if (!used[j] && j != ta && links(tls, dg, cur, j))
				break;
		if (j == tls->chain_len)
			return 0;
		used[j] = 1;
		cur = j;
	}
	return 0;
}

static int
try_record(const struct mf_dane_tlsa *t, const struct mf_tls_info *tls,
           const struct mf_dane_digests *dg, struct mf_dane_result *res,
           int *uncheckable)
{
	size_t i;
	int m;

	if (t->usage == 3) {
		m = mf_dane_match(t, &tls->chain[0], dg ? &dg[0] : NULL);
		if (m == -1)
			(*uncheckable)++;
		return m == 1 ? 0 : -1;
	}
	for (i = 1; i < tls->chain_len; i++) {
		m = mf_dane_match(t, &tls->chain[i], dg ? &dg[i] : NULL);
		if (m == -1) {
			(*uncheckable)++;
			continue;
		}
		if (m != 1)
			continue;
		if (!chains_to(tls, dg, i)) {
			snprintf(res->reason, sizeof(res->reason), "trust anchor "
			    "%s matches, but the leaf (issuer %s) does not chain "
			    "to it", tls->chain[i].subject, tls->chain[0].issuer);
			continue;
		}
		if (tls->name_mismatch || tls->expired || tls->not_yet_valid) {
			snprintf(res->reason, sizeof(res->reason), "DANE-TA "
			    "matched but the leaf %s", tls->name_mismatch ?
			    "does not name the MX host" : "is outside its "
			    "validity period");
			continue;
		}
		res->depth = i;
		return 0;
	}
	return -1;
}

void
mf_dane_check(const struct mf_dane_set *set, const struct mf_tls_info *tls,
              const struct mf_dane_digests *dg, struct mf_dane_result *res)
{
	size_t i;
	int unc = 0;

	memset(res, 0, sizeof(*res));
	res->matched = -1;
	if (set->lookup == MF_DANE_LOOKUP_FAILED) {
		res->state = MF_DANE_TEMPFAIL;
		mf_strlcpy(res->reason, "TLSA lookup failed", sizeof(res->reason));
		return;
	}
	if (set->lookup != MF_DANE_SECURE)
		return;
	if (set->usable == 0) {
		res->state = MF_DANE_UNUSABLE;
		mf_strlcpy(res->reason, "no TLSA record with usage 2 or 3",
		    sizeof(res->reason));
		return;
	}
	if (tls == NULL || !tls->handshake_done || tls->chain_len == 0) {
		res->state = MF_DANE_NO_TLS;
		mf_strlcpy(res->reason, "DANE requires TLS, none was negotiated",
		    sizeof(res->reason));
		return;
	}
	for (i = 0; i < set->n; i++) {
		if (set->rr[i].usage != 2 && set->rr[i].usage != 3)
			continue;
		if (try_record(&set->rr[i], tls, dg, res, &unc) == 0) {
			res->state = MF_DANE_PASS;
			res->matched = (int)i;
			snprintf(res->reason, sizeof(res->reason), "TLSA %u %u %u "
			    "matches certificate %zu", set->rr[i].usage,
			    set->rr[i].selector, set->rr[i].mtype, res->depth);
			return;
		}
	}
	if (unc > 0 && res->reason[0] == '\0') {
		res->state = MF_DANE_UNCHECKABLE;
		mf_strlcpy(res->reason, "TLSA records need the certificate DER "
		    "(matching type 0 or 2), which the TLS layer did not give",
		    sizeof(res->reason));
		return;
	}
	res->state = MF_DANE_FAIL;
	if (res->reason[0] == '\0')
		mf_strlcpy(res->reason, "no TLSA record matches the server's "
		    "certificate chain", sizeof(res->reason));
}
