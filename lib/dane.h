/* dane.h - DANE for SMTP (RFC 7672, RFC 7671, RFC 6698).
 *
 * TLSA records at _PORT._tcp.<mx-host> are used only when the answer
 * carries the AD bit of the validating resolver, and (mf_dane_lookup_mx)
 * only when the host's address records do too (RFC 7672 §2.2.2), at the
 * CNAME-expanded host name first (§2.2.3); only DANE-TA(2) and
 * DANE-EE(3) are usable for SMTP (RFC 7672 §3.1.3).  DANE-EE matches the
 * leaf and ignores names and dates; DANE-TA matches a certificate of the
 * peer's chain and then needs the leaf to chain up to it (built here, not
 * by libgnutls-dane) and the name to match.
 *
 * Matching uses digests computed here from the DER of each certificate the
 * peer sent (struct mf_dane_digests: SHA-256 and SHA-512 of the whole
 * certificate and of its SubjectPublicKeyInfo), so every selector (0, 1)
 * and matching type (0 full, 1 SHA-256, 2 SHA-512) is checked.  Without
 * them only the SHA-256 fingerprints of struct mf_tls_info are available:
 * "x x 0" and "x x 2" records are then reported as not checkable, never as
 * a match.  DANE-TA chains are walked by subject and issuer names, and
 * every link must also carry a verified signature (signed_by, computed by
 * the caller with mf_tls_peer_cert_signed_by()): a certificate that merely
 * names the anchor as its issuer is not enough.
 *
 * Must not: use a TLSA answer without the AD bit, query DNS other than
 * through dns.h, print or exit. */
#ifndef MF_DANE_H
#define MF_DANE_H

#include <stddef.h>

#include "dns.h"
#include "err.h"
#include "tls.h"

#define MF_DANE_RR_MAX 16

struct mf_dane_tlsa {
	unsigned char usage, selector, mtype;
	unsigned char data[64];   /* longer data (full certificates) is cut */
	size_t len;               /* the real length */
	unsigned char full256[32]; /* matching type 0: SHA-256 of all the data,
	                              compared with the certificate's digest */
};

/* Digests of one certificate of the peer's chain, from its DER. */
struct mf_dane_digests {
	int have;
	unsigned char cert256[32], cert512[64];
	unsigned char spki256[32], spki512[64];
	unsigned signed_by;       /* bit j: this certificate's signature
	                             verifies with certificate j's key */
	int signatures_known;     /* signed_by was computed */
};

/* Outcome of the TLSA lookup. */
enum mf_dane_lookup {
	MF_DANE_NO_TLSA = 0,      /* NXDOMAIN / NODATA: no DANE for this host */
	MF_DANE_UNSIGNED,         /* TLSA present without AD: ignored (§2.2) */
	MF_DANE_LOOKUP_FAILED,    /* SERVFAIL / timeout: delivery must wait */
	MF_DANE_SECURE,           /* validated TLSA records */
	MF_DANE_HOST_INSECURE,    /* validated TLSA, but the MX host's address
	                             records are not: ignored (RFC 7672 §2.2.2) */
	MF_DANE_MX_INSECURE       /* the domain's MX records (or, without MX,
	                             its address records) are not validated:
	                             DANE is not used at all (RFC 7672 §2.2.1);
	                             set per domain by mx.c */
};

struct mf_dane_set {
	enum mf_dane_lookup lookup;
	char qname[MF_DNS_NAME_MAX];     /* the TLSA name asked (last) */
	/* Filled by mf_dane_lookup_mx() only: */
	int host_checked;                /* the address records were looked at */
	int host_secure;                 /* ... and all carried the AD bit */
	char expanded[MF_DNS_NAME_MAX];  /* CNAME expansion of the host, "" none */
	int at_expanded;                 /* the TLSA set is the expanded name's */
	size_t n;
	struct mf_dane_tlsa rr[MF_DANE_RR_MAX];
	size_t usable;            /* records with usage 2/3 */
};

/* Verdict for one TLS session against a set. */
enum mf_dane_state {
	MF_DANE_NOT_APPLICABLE = 0,  /* no secure TLSA: DANE does not apply */
	MF_DANE_PASS,
	MF_DANE_FAIL,                /* no usable record matched */
	MF_DANE_NO_TLS,              /* DANE applies but TLS did not happen */
	MF_DANE_UNUSABLE,            /* secure TLSA, none usable: RFC 7672
	                                §2.2: opportunistic, no authentication */
	MF_DANE_UNCHECKABLE,         /* only records we cannot compute */
	MF_DANE_TEMPFAIL             /* TLSA lookup failed */
};

struct mf_dane_result {
	enum mf_dane_state state;
	int matched;              /* index in the set, -1 none */
	size_t depth;             /* chain position of the matched certificate */
	char reason[640];
};

/* Look up TLSA at _PORT._tcp.HOST. 0 when the lookup came to a verdict in
 * set->lookup (including LOOKUP_FAILED); -1 only for internal errors. */
int mf_dane_lookup(struct mf_dns *d, const char *host, const char *port,
                   struct mf_dane_set *set, struct mf_err *e);

/* Look up TLSA for an MX host as a DANE sender does (RFC 7672 §2.2.2,
 * §2.2.3): first the host's A and AAAA records.  Unless every address
 * answer carries the AD bit, the TLSA records are not used (a secure set
 * becomes MF_DANE_HOST_INSECURE; still looked up, to be reported).  When
 * the addresses came through a secure CNAME chain, TLSA is asked at
 * _PORT._tcp.<expanded name> first and, when none is there (or it is not
 * signed), at _PORT._tcp.HOST.  0 or -1 as mf_dane_lookup(). */
int mf_dane_lookup_mx(struct mf_dns *d, const char *host, const char *port,
                      struct mf_dane_set *set, struct mf_err *e);

/* Add a record to a set (pure; also used by tests). */
void mf_dane_set_add(struct mf_dane_set *set, unsigned usage,
                     unsigned selector, unsigned mtype,
                     const unsigned char *data, size_t len);

/* Find the SubjectPublicKeyInfo inside a DER certificate (RFC 5280
 * §4.1): its offset and length, header included. -1 if malformed. Pure. */
int mf_dane_spki(const unsigned char *der, size_t len, size_t *off,
                 size_t *spki_len);

/* Compute d from a DER certificate. -1 if it is malformed (d->have 0). */
int mf_dane_digest_cert(const unsigned char *der, size_t len,
                        struct mf_dane_digests *d);

/* Does record t match certificate c (with its digests d, may be NULL)?
 * 1 yes, 0 no, -1 cannot tell without d. Pure. */
int mf_dane_match(const struct mf_dane_tlsa *t, const struct mf_cert_info *c,
                  const struct mf_dane_digests *d);

/* Judge a session: tls may be NULL when STARTTLS did not happen; dg holds
 * tls->chain_len digests or is NULL.  Pure: uses the set, the TLS info
 * (chain, name_mismatch, expired) and the digests. */
void mf_dane_check(const struct mf_dane_set *set, const struct mf_tls_info *tls,
                   const struct mf_dane_digests *dg,
                   struct mf_dane_result *res);

/* "not-applicable", "pass", "fail", "no-tls", "unusable", "uncheckable",
 * "tempfail"; and "none", "unsigned", "lookup-failed", "secure",
 * "host-insecure", "mx-insecure". */
const char *mf_dane_state_name(enum mf_dane_state s);
const char *mf_dane_lookup_name(enum mf_dane_lookup l);

#endif
