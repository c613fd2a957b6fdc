/* mx.h - where mail for a domain goes (RFC 5321 §5.1) and how secure that
 * path is: MX routing, a probe of every MX address over SMTP (lib/smtp.h's
 * step API), DANE (dane.h), MTA-STS (mtasts.h), reverse DNS, and the
 * findings drawn from all that.
 *
 * Layers, each usable alone:
 *   mf_mx_route()        DNS only: the ordered MX hosts and their addresses;
 *   mf_mx_probe_addr()   one SMTP session to one address of one MX host;
 *   mf_mx_check()        a whole domain, probes shared through a
 *                        struct mf_mx_cache (thread-safe: the batch mode of
 *                        mxprobe runs many domains at once);
 *   mf_mx_analyze()      the findings (lib/mxfind.c), pure;
 *   mxfmt.h              the text / JSON Lines output of a report, above
 *                        this module (nothing here prints).
 *
 * Must not: start a mail transaction (a probe ends before MAIL FROM),
 * print or exit. */
#ifndef MF_MX_H
#define MF_MX_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "dane.h"
#include "dns.h"
#include "err.h"
#include "mtasts.h"
#include "smtp.h"
#include "tls.h"

#define MF_MX_HOSTS_MAX 16
#define MF_MX_ADDRS_MAX 8
#define MF_MX_FINDINGS_MAX 48

enum mf_mx_route_kind {
	MF_ROUTE_MX = 0,      /* MX records */
	MF_ROUTE_IMPLICIT,    /* no MX: the domain's own A/AAAA (§5.1) */
	MF_ROUTE_NULL_MX,     /* "MX 0 .": accepts no mail (RFC 7505) */
	MF_ROUTE_NXDOMAIN,    /* the domain does not exist */
	MF_ROUTE_NODATA,      /* exists, but no MX and no address */
	MF_ROUTE_DNS_ERROR    /* SERVFAIL, REFUSED, timeout */
};

struct mf_mx_host {
	char name[MF_DNS_NAME_MAX];
	int pref;
	int is_cname;                    /* RFC 2181 §10.3: MX must not be an alias */
	char canon[MF_DNS_NAME_MAX];     /* where the alias leads */
	char dns_error[64];              /* address lookup failed: why */
	size_t naddrs;
	char addrs[MF_MX_ADDRS_MAX][46];
};

struct mf_mx_route {
	char domain[MF_DNS_NAME_MAX];    /* as asked: A-labels (lib/idn.h) */
	char domain_unicode[2 * MF_DNS_NAME_MAX];  /* U-labels, for people */
	enum mf_mx_route_kind kind;
	int ad;                          /* the MX (or A) answer was validated */
	int null_mx_mixed;               /* "MX 0 ." next to other MX records */
	char error[256];
	size_t nhosts;
	struct mf_mx_host hosts[MF_MX_HOSTS_MAX];
};

/* family: 0 both, 4 or 6 only. A domain in UTF-8 is asked as A-labels.
 * Fills r; 0 when DNS answered (look at r->kind, NXDOMAIN included), -1
 * (MF_E_DATA) for a name that is not a valid IDN, else only on internal
 * errors. */
int mf_mx_route(struct mf_dns *d, const char *domain, int family,
                struct mf_mx_route *r, struct mf_err *e);

/* Sort hosts by preference, shuffling equal preferences (§5.1: "randomize
 * them to spread the load"). rnd returns a random number; NULL: rand(). Pure. */
void mf_mx_order(struct mf_mx_host *h, size_t n, unsigned (*rnd)(void *),
                 void *arg);

const char *mf_mx_route_name(enum mf_mx_route_kind k);

/* ---- probing one address ---- */

/* STARTTLS is the command and its 220 reply; HANDSHAKE the TLS handshake
 * that follows (RFC 3207 §4). */
enum mf_mx_stage {
	MF_MX_CONNECT = 0, MF_MX_BANNER, MF_MX_EHLO, MF_MX_STARTTLS,
	MF_MX_HANDSHAKE, MF_MX_EHLO_TLS, MF_MX_NSTAGES
};

struct mf_mx_params {
	const char *port;          /* "25" */
	const char *ehlo;          /* NULL: smtp.h's default */
	const char *ca_file;       /* PKIX trust for the MX certificates */
	int timeout_ms;            /* per stage; 0: 30000 */
	int dns_only;              /* no SMTP connections */
	int no_dane, no_mta_sts;
	int family;                /* 0, 4, 6 */
	int per_ip_limit;          /* concurrent sessions per address; 0: 2 */
	struct mf_mtasts_params sts;
};

struct mf_mx_probe {
	char host[MF_DNS_NAME_MAX];
	char addr[46];
	size_t host_index;         /* in the report's route (set by mf_mx_check) */
	int probed;                /* an SMTP session was attempted */
	int reached;               /* TCP connected */
	double ms[MF_MX_NSTAGES];  /* stage durations, -1 not reached */
	char failed_stage[16];     /* "" if all went well; "starttls" also
	                              for a failed handshake */
	char error[512];
	int banner_code;
	char banner[512];
	char banner_name[MF_DNS_NAME_MAX];  /* first word of the greeting */
	char caps[2048];           /* EHLO keywords, one per line */
	int starttls_offered;
	int tls_done;
	struct mf_tls_info tls;
	int pkix_ok;               /* chain trusted and names the MX host */
	char caps_tls[2048];       /* EHLO keywords after STARTTLS */
	struct mf_dane_digests dg[MF_TLS_CHAIN_MAX];  /* of the chain's DER */
	struct mf_dane_set tlsa;
	struct mf_dane_result dane;
	char ptr[MF_DNS_NAME_MAX]; /* reverse name of addr, "" none */
	int fcrdns;                /* ptr resolves back to addr */
	int banner_ptr_agree, banner_cert_agree, ptr_cert_agree;
};

/* One SMTP session to addr (connect, greeting, EHLO, STARTTLS, EHLO) with
 * host as the TLS name; out is filled as far as it got. Never fails:
 * what went wrong is in out->failed_stage / out->error. */
void mf_mx_probe_addr(const struct mf_mx_params *p, const char *host,
                      const char *addr, struct mf_mx_probe *out);

/* Reverse DNS of out->addr: PTR, forward confirmation, agreement of
 * banner name, PTR and certificate names. */
void mf_mx_rdns(struct mf_dns *d, struct mf_mx_probe *out);

/* ---- a shared cache of probes (host, address) across domains ---- */

struct mf_mx_cache;

struct mf_mx_cache *mf_mx_cache_new(struct mf_err *e);
void mf_mx_cache_free(struct mf_mx_cache *c);

/* Probe (host, addr) once for all callers: TLSA lookup, SMTP session,
 * DANE verdict and reverse DNS.  Callers that ask while a probe runs
 * wait for it; at most p->per_ip_limit sessions run per address. */
void mf_mx_cache_probe(struct mf_mx_cache *c, struct mf_dns *d,
                       const struct mf_mx_params *p, const char *host,
                       const char *addr, struct mf_mx_probe *out);

/* ---- a whole domain ---- */

enum mf_mx_severity { MF_SEV_NOTE = 0, MF_SEV_FINDING, MF_SEV_ERROR };

struct mf_mx_finding {
	enum mf_mx_severity sev;
	char code[32];             /* stable: "no-starttls", "dane-fail" ... */
	char where[300];           /* "mx1.example.org [192.0.2.1]" or "" */
	char msg[400];
};

struct mf_mx_report {
	struct mf_mx_route route;
	size_t nprobes;
	struct mf_mx_probe *probes;      /* owned */
	int sts_checked;
	struct mf_mtasts_result sts;
	size_t nfind;
	struct mf_mx_finding find[MF_MX_FINDINGS_MAX];
	int status;                      /* 0 clean, 1 findings, 2 error */
};

/* Route, probe every MX x every address (through the cache, which may be
 * NULL), DANE, MTA-STS, findings. r must be released with
 * mf_mx_report_free(). 0, or -1 on internal errors (out of memory). */
int mf_mx_check(struct mf_dns *d, struct mf_mx_cache *c,
                const struct mf_mx_params *p, const char *domain,
                struct mf_mx_report *r, struct mf_err *e);
void mf_mx_report_free(struct mf_mx_report *r);

/* ---- many domains at once (mxprobe --batch) ---- */

/* A list of domains; zero-initialise. */
struct mf_mx_domains {
	char **v;
	size_t n, cap;
};

#define MF_MX_DOMAINS_MAX 1000000
#define MF_MX_CACHE_MAX 256      /* finished probes kept for reuse */

/* Append a copy of d. -1 (MF_E_NOMEM, or MF_E_USAGE past
 * MF_MX_DOMAINS_MAX). */
int mf_mx_domains_add(struct mf_mx_domains *l, const char *d,
                      struct mf_err *e);
void mf_mx_domains_free(struct mf_mx_domains *l);

/* Told about each domain as soon as it is done: its report, or r NULL and
 * e filled when it could not be checked.  Calls are serialised. */
typedef void (*mf_mx_report_fn)(void *arg, const char *domain,
                                const struct mf_mx_report *r,
                                const struct mf_err *e);

/* Where the domains of a run come from: the list (command-line
 * arguments), then the stream, read one line at a time and never held
 * whole (a list of millions costs no memory), both filtered to one shard
 * (shard.h) when shard_n > 1.  Blank lines and "#" comments are skipped.
 * Zero-initialise, then set the first four fields. */
struct mf_mx_source {
	const struct mf_mx_domains *list;   /* NULL: none */
	FILE *stream;                       /* NULL: none; not closed here */
	unsigned shard_k, shard_n;          /* n 0 or 1: every domain */
	/* counted as it goes */
	size_t next_list;
	unsigned long long lines, taken, other_shard, too_long;
};

/* The next domain of s for this shard, copied into out: 1, 0 at the
 * end, -1 (MF_E_IO) when the stream fails.  A line longer than outlen
 * is skipped and counted in too_long.  Not thread-safe. */
int mf_mx_source_next(struct mf_mx_source *s, char *out, size_t outlen,
                      struct mf_err *e);

/* mf_mx_check() every domain of src with `jobs` worker threads (each with
 * its own DNS context made from dopts), sharing one probe cache whose size
 * is bounded (MF_MX_CACHE_MAX finished probes), so memory does not grow
 * with the length of the list.  0, or -1 when the cache cannot be made
 * or the stream failed (e says why; the domains read before were done). */
int mf_mx_check_all(const struct mf_dns_opts *dopts,
                    const struct mf_mx_params *p,
                    struct mf_mx_source *src, int jobs,
                    mf_mx_report_fn report, void *arg, struct mf_err *e);

/* Draw findings from routing, probes and MTA-STS (pure; used by
 * mf_mx_check, exposed for tests). Sets r->status. */
void mf_mx_analyze(struct mf_mx_report *r, const struct mf_mx_params *p);

#endif
