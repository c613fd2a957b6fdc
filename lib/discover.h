/* discover.h - smtp-auth-test --discover: find a submission server, its
 * port, TLS mode and mechanism from an address or domain alone.
 *
 * In order: the RFC 6186 / RFC 8314 SRV records (_submissions,
 * _submission, _imaps, _imap, _pop3s, _pop3), the Mozilla autoconfig
 * document over verified HTTPS (autoconfig.DOMAIN, then DOMAIN's
 * .well-known), then guesses (the MX hosts, smtp.DOMAIN, mail.DOMAIN on
 * 465, 587 and 25).  Each submission candidate is walked with the
 * diagnosis engine (diag.h), with every offered mechanism when a password
 * is given.  Everything tried is recorded as a step, in order; the
 * working choices become accounts (submission first, then the IMAP and
 * POP3 servers found).  Names are resolved through the caller's DNS
 * context, so --resolver holds for every lookup.  Nothing here prints;
 * discoverfmt.h writes the report and the configuration block.
 *
 * Must not: ask the system resolver (every query goes through the
 * caller's dns.h context), print or exit. */
#ifndef MF_DISCOVER_H
#define MF_DISCOVER_H

#include <stddef.h>

#include "cred.h"
#include "dns.h"
#include "err.h"
#include "tls.h"

#define MF_DISC_STEPS_MAX 64
#define MF_DISC_CANDS_MAX 32
#define MF_DISC_ACCOUNTS_MAX 3    /* submission, IMAP, POP3 */
#define MF_DISC_BUDGET_MS 120000  /* default bound on the whole run */

enum mf_disc_source { MF_DISC_SRV = 0, MF_DISC_AUTOCONFIG, MF_DISC_GUESS };
enum mf_disc_proto { MF_DISC_SUBMISSION = 0, MF_DISC_IMAP, MF_DISC_POP3 };

/* A server to try or to report. */
struct mf_disc_cand {
	enum mf_disc_proto proto;
	enum mf_disc_source source;
	char host[256];
	int port;
	enum mf_tls_mode tls;         /* IMPLICIT, STARTTLS or NONE */
	int prio;                     /* SRV priority (lower first), else 0 */
	int weight;
	char user[256];               /* autoconfig's username, or "" */
	char auth[64];                /* autoconfig's authentication, or "" */
};

/* One thing tried. */
struct mf_disc_step {
	char kind[16];                /* "srv", "autoconfig", "mx", "smtp" */
	char what[320];               /* query name, URL, or host:port */
	char outcome[24];             /* found, not-offered, none, error,
	                                 ok, refused, timeout, no-address,
	                                 tls-failed, auth-failed, no-auth,
	                                 failed, skipped */
	char detail[512];
	long ms;
	int is_attempt;               /* an SMTP attempt: the fields below */
	struct mf_disc_cand cand;
	char mech[32];                /* the mechanism that worked, or "" */
	char offered[256];            /* AUTH mechanisms offered, or "" */
	int exit_code;                /* the diagnosis' exit status */
};

struct mf_disc_account {
	char name[300];
	struct mf_disc_cand c;
	char user[256];
	char auth[64];
	int tested;                   /* a working session was seen */
};

struct mf_disc_params {
	const char *query;            /* ADDRESS or DOMAIN */
	struct mf_dns *dns;           /* for every lookup */
	struct mf_auth cred;          /* cred.user: -u, or NULL: no AUTH
	                                 attempted; the secret held by the
	                                 tool (mf_auth_hold) for every
	                                 candidate */
	const char *ehlo_name;
	const char *ca_file;          /* trust anchors (SMTP and HTTPS) */
	const char *https_port;       /* NULL: 443 (test beds set another) */
	int timeout_ms;               /* per attempt; 0: 10 s */
	int budget_ms;                /* whole run; 0: MF_DISC_BUDGET_MS */
	int show_secrets;
};

struct mf_disc_result {
	char query[320];
	char domain[256];
	char address[320];            /* "" when a bare domain was given */
	struct mf_disc_step step[MF_DISC_STEPS_MAX];
	size_t nstep;
	size_t dropped;               /* steps beyond MF_DISC_STEPS_MAX */
	struct mf_disc_account acct[MF_DISC_ACCOUNTS_MAX];
	size_t nacct;
	int submission_found;
	int exit_code;
	char verdict[512];
	long total_ms;
};

/* Run the discovery; r is filled (steps, accounts, exit_code, verdict).
 * What the domain publishes or answers is never an error; -1 only for a
 * malformed query (MF_E_USAGE) or our own trouble (e filled). */
int mf_discover_run(const struct mf_disc_params *p, struct mf_disc_result *r,
                    struct mf_err *e);

/* Pure, for tests: split "local@domain" or "domain" (lower-cased domain,
 * no trailing dot; a UTF-8 domain as A-labels, in the address too; the
 * local part as given). -1 when it is neither, or not a valid IDN. */
int mf_discover_split(const char *query, char *domain, size_t dlen,
                      char *address, size_t alen);

/* Pure, for tests: order the submission candidates: SRV records by
 * priority across _submissions and _submission (RFC 6186 §3.4), implicit
 * TLS first on equal priority (RFC 8314 prefers it), then autoconfig's servers,
 * then the guesses (each guessed host on 465, 587, 25), removing repeats
 * of the same host and port.  in[n] in any order of discovery; out gets at
 * most max; returns how many. */
size_t mf_discover_order(const struct mf_disc_cand *in, size_t n,
                         struct mf_disc_cand *out, size_t max);

/* Pure: the guesses for a domain: the MX hosts (by preference, as given),
 * smtp.DOMAIN and mail.DOMAIN, each on 465 implicit, 587 and 25 STARTTLS.
 * Returns how many were written (at most max). */
size_t mf_discover_guesses(const char *domain, const char *const *mx,
                           size_t nmx, struct mf_disc_cand *out, size_t max);

const char *mf_disc_source_name(enum mf_disc_source s);
/* "submission", "imap", "pop3". */
const char *mf_disc_proto_name(enum mf_disc_proto p);

#endif
