/* diag.h - the diagnosis engine of smtp-auth-test: walk an SMTP
 * submission session step by step (connect, greeting, EHLO, STARTTLS,
 * EHLO again, AUTH per mechanism, MAIL/RCPT), record what happened at each
 * step, then turn those observations into findings.
 *
 * Two halves, so the rules can be tested without a network:
 *   mf_diag_run()      (here) drives the session (lib/smtp.h) and fills a
 *                      report's observations;
 *   mf_diag_analyze()  (diagrules.h, included) is pure: observations in,
 *                      findings and exit status out, from a data-driven
 *                      rule table.
 * Formatting (text and JSON) lives in diagfmt.h.  Nothing here prints.
 *
 * Must not: dial or wrap TLS itself (smtp.h and the session do), turn
 * a server's failure into an error return (it is an observation), print
 * or exit. */
#ifndef MF_DIAG_H
#define MF_DIAG_H

#include "cred.h"
#include "diagrules.h"
#include "err.h"
#include "session.h"
#include "tls.h"
#include "transcript.h"

/* Called with each transcript line as it happens (for a live display). */
typedef void (*mf_diag_line_fn)(void *arg, enum mf_tx_dir dir, int tls,
                                const char *line);

struct mf_diag_params {
	struct mf_conn conn;          /* port NULL or "": 587, or 465 for
	                                 implicit; tls UNSET/AUTO: implicit on
	                                 465, else STARTTLS when offered;
	                                 tlsp.verify_name defaults to host;
	                                 timeout_ms per reply, 0: 30 s (also
	                                 every socket timeout: conn.sock and
	                                 conn.tr are not used, the report
	                                 keeps its own transcript).
	                                 cred.user NULL: stop before AUTH; the
	                                 secret (password, or OAuth token for
	                                 XOAUTH2 / OAUTHBEARER) is fetched once
	                                 at AUTH (held by the tool when it must
	                                 ask first); none: AUTH is not
	                                 attempted */
	const char *ehlo_name;        /* NULL: the library's default */
	const char *mechs;            /* NULL: every offered mechanism we
	                                 implement (OAuth ones only when named);
	                                 "all": every offered one; or a list */
	enum mf_diag_stage_id quit_after; /* MF_DIAG_NSTAGES: go as far as the
	                                     options allow */
	const char *from;             /* MAIL FROM after AUTH, or NULL */
	const char *to;               /* RCPT TO, or NULL */
	int banner_wait_ms;           /* how long a silent greeting is awaited
	                                 before probing for implicit TLS; 0: 5 s
	                                 (or conn.timeout_ms if shorter) */
	int show_secrets;
	mf_diag_line_fn line_fn;      /* may be NULL */
	void *line_arg;
};

/* Run the session and fill r's observations, then mf_diag_analyze(r).
 * Failures of the server are observations, not errors: this returns -1
 * only for our own trouble (out of memory, bad parameters: e filled). */
int mf_diag_run(const struct mf_diag_params *p, struct mf_diag_report *r,
                struct mf_err *e);

#endif
