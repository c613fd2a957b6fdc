/* mtasts.h - SMTP MTA Strict Transport Security (RFC 8461) and the TLS
 * reporting record (RFC 8460).
 *
 * The pure parts (TXT record, policy file, MX pattern matching, TLS-RPT
 * record) take bytes and fill structs.  mf_mtasts_check() does the whole
 * discovery: _mta-sts TXT, then the policy over HTTPS from
 * mta-sts.<domain>/.well-known/mta-sts.txt (resolved through the given DNS
 * context, certificate verified against the name, no redirects, size
 * limited), then _smtp._tls TXT.
 *
 * Must not: dial or wrap TLS other than through https.h, print or exit. */
#ifndef MF_MTASTS_H
#define MF_MTASTS_H

#include <stddef.h>

#include "buf.h"
#include "dns.h"
#include "err.h"

#define MF_MTASTS_MX_MAX 16
#define MF_MTASTS_BODY_MAX 65536   /* RFC 8461 §3.3: senders may limit it */

struct mf_mtasts_txt {
	int valid;
	char id[33];              /* 1*32 alphanumerics */
	char error[128];
};

enum mf_mtasts_mode {
	MF_STS_MODE_NONE = 0,
	MF_STS_MODE_TESTING,
	MF_STS_MODE_ENFORCE
};

struct mf_mtasts_policy {
	int valid;
	enum mf_mtasts_mode mode;
	long max_age;
	size_t nmx;
	char mx[MF_MTASTS_MX_MAX][256];
	char error[256];
};

struct mf_tlsrpt {
	int found;                /* a v=TLSRPTv1 record exists */
	int valid;
	char rua[512];
	char error[128];
};

struct mf_mtasts_params {
	const char *ca_file;      /* trust anchors for the HTTPS certificate */
	const char *port;         /* HTTPS port; NULL: "443" */
	int timeout_ms;           /* 0: 10000 */
};

struct mf_mtasts_result {
	int record_found;         /* a v=STSv1 TXT record exists */
	int record_count;         /* more than one makes it invalid (§3.1) */
	struct mf_mtasts_txt rec;
	char dns_error[128];      /* lookup failure, "" if none */
	int fetched;              /* the policy body arrived (HTTP 200) */
	char fetch_error[512];
	struct mf_mtasts_policy pol;
	struct mf_tlsrpt rpt;
};

/* Parse one TXT string; 0 when it is a v=STSv1 record (valid or not, see
 * r->valid), -1 when it is not an MTA-STS record at all (§3.1). */
int mf_mtasts_parse_txt(const char *txt, struct mf_mtasts_txt *r);

/* Parse a policy file (§3.2). 0 when valid, -1 with p->error otherwise. */
int mf_mtasts_parse_policy(const char *body, size_t len,
                           struct mf_mtasts_policy *p);

/* Does an "mx:" pattern match host (§4.1: case-insensitive, "*." matches
 * exactly one leftmost label)? 1 or 0. Trailing dots are ignored. */
int mf_mtasts_match(const char *pattern, const char *host);

/* 1 when some mx pattern of the policy matches host. */
int mf_mtasts_mx_allowed(const struct mf_mtasts_policy *p, const char *host);

/* Parse a TLS-RPT TXT string (RFC 8460 §3). 0 when it is a v=TLSRPTv1
 * record (see r->valid), -1 when it is not one. */
int mf_tlsrpt_parse(const char *txt, struct mf_tlsrpt *r);

/* Discover domain's MTA-STS and TLS-RPT setup; never fails for what the
 * domain publishes (all in r), -1 only for out of memory. */
int mf_mtasts_check(struct mf_dns *d, const char *domain,
                    const struct mf_mtasts_params *p,
                    struct mf_mtasts_result *r, struct mf_err *e);

/* HTTPS GET of https://HOST/.well-known/mta-sts.txt on address addr; the
 * body (200 only, no redirects) is appended to body (max limits it). */
int mf_mtasts_fetch(const char *host, const char *addr,
                    const struct mf_mtasts_params *p, struct mf_buf *body,
                    struct mf_err *e);

const char *mf_mtasts_mode_name(enum mf_mtasts_mode m);

#endif
