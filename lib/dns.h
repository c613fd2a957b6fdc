/* dns.h - DNS queries through libresolv, keeping what res_nquery loses.
 *
 * A query context (struct mf_dns) owns its own resolver state, so each
 * thread uses its own context and contexts never share anything.  Queries
 * are built with res_nmkquery and sent with res_nsend, so the response
 * code survives: NXDOMAIN, NODATA (name exists, no record of that type)
 * and SERVFAIL are told apart.  EDNS0 with the DO bit and trust-ad are
 * always on, so the AD bit of a validating resolver reaches the caller;
 * the stub itself never validates.  Answers are parsed into plain structs
 * (mf_dns_parse is pure: bytes in, records out, for tests).
 *
 * Must not: share resolver state between contexts, print or exit; only
 * dns.c includes resolv.h. */
#ifndef MF_DNS_H
#define MF_DNS_H

#include <stddef.h>

#include "err.h"

/* Record types we parse (values of RFC 1035 §3.2.2 and successors). */
enum {
	MF_DNS_A = 1,
	MF_DNS_CNAME = 5,
	MF_DNS_PTR = 12,
	MF_DNS_MX = 15,
	MF_DNS_TXT = 16,
	MF_DNS_AAAA = 28,
	MF_DNS_SRV = 33,
	MF_DNS_TLSA = 52
};

/* What the response says about the name, beyond the raw rcode. */
enum mf_dns_status {
	MF_DNS_ANSWER = 0,  /* records of the asked type are present */
	MF_DNS_NODATA,      /* NOERROR but no record of that type */
	MF_DNS_NXDOMAIN,    /* the name does not exist (rcode 3) */
	MF_DNS_SERVFAIL,    /* rcode 2 (also: DNSSEC validation failed) */
	MF_DNS_REFUSED,     /* rcode 5 */
	MF_DNS_OTHER        /* any other rcode */
};

#define MF_DNS_NAME_MAX 256
#define MF_DNS_DATA_MAX 2048   /* TLSA association data, TXT strings joined */
#define MF_DNS_RR_MAX 64       /* records kept per answer; more are dropped */

struct mf_dns_rr {
	int type;
	unsigned ttl;
	char owner[MF_DNS_NAME_MAX];
	char target[MF_DNS_NAME_MAX];  /* MX exchange ("" for the null MX "."),
	                                  SRV target ("" for "."), CNAME / PTR
	                                  target */
	int pref;                      /* MX preference, SRV priority */
	int weight, port;              /* SRV (RFC 2782) */
	char addr[46];                 /* A / AAAA in text form */
	unsigned char usage, selector, mtype;   /* TLSA */
	unsigned char data[MF_DNS_DATA_MAX + 1]; /* TLSA data, or TXT text (the
	                                  character-strings joined, NUL-ended) */
	size_t datalen;
};

struct mf_dns_answer {
	int rcode;
	enum mf_dns_status status;
	int ad;                        /* AD bit: the resolver validated it */
	int tc;
	char qname[MF_DNS_NAME_MAX];
	char canon[MF_DNS_NAME_MAX];   /* end of the CNAME chain (= qname if none) */
	int cname;                     /* the answer went through a CNAME */
	size_t n;                      /* records of the asked type */
	size_t dropped;                /* records beyond MF_DNS_RR_MAX */
	struct mf_dns_rr *rr;          /* n records, owned (mf_dns_answer_free) */
};

struct mf_dns_opts {
	const char *resolver;   /* "IP", "IP:PORT", "[IPv6]:PORT"; NULL: system */
	int timeout_ms;         /* per try; 0: 5000 */
	int tries;              /* 0: 2 */
};

struct mf_dns;

/* A query context. MF_E_USAGE for a malformed resolver address,
 * MF_E_CONFIG when the resolver state cannot be initialised. */
struct mf_dns *mf_dns_new(const struct mf_dns_opts *o, struct mf_err *e);
void mf_dns_free(struct mf_dns *d);

/* Ask for name/type. 0 when a response arrived, whatever its rcode (look
 * at ans->status); -1 when none did (MF_E_TIMEOUT) or the query could not
 * be built (MF_E_USAGE) or parsed (MF_E_PROTO). ans is reset first and must
 * be released with mf_dns_answer_free() in both cases. */
int mf_dns_query(struct mf_dns *d, const char *name, int type,
                 struct mf_dns_answer *ans, struct mf_err *e);

/* Parse a response message for records of `type` (pure, for tests).
 * 0 on success, -1 (MF_E_PROTO) on a malformed message. */
int mf_dns_parse(const unsigned char *msg, size_t len, int type,
                 struct mf_dns_answer *ans, struct mf_err *e);

void mf_dns_answer_free(struct mf_dns_answer *ans);

/* "answer", "nodata", "nxdomain", "servfail", "refused", "error". */
const char *mf_dns_status_name(enum mf_dns_status s);

/* The reverse-lookup name of an address: "4.3.2.1.in-addr.arpa" or the
 * nibble form under ip6.arpa. -1 if addr is not an address. */
int mf_dns_reverse_name(const char *addr, char *out, size_t outlen);

#endif
