/* settings.h - the effective settings of one run (command line over
 * account over defaults), as lib/cli resolves them for a tool, and what
 * the engines and tools read from them: the server check, the connection
 * and credentials for the protocol modules, the start of a log line.  It sits below the
 * engines so that an engine (sendjob.c) can take the settings without
 * reaching up into the command-line layer.
 *
 * Must not: parse options, read the config file or print (lib/cli does
 * the resolving and the talking); no protocol, no transport. */
#ifndef MF_SETTINGS_H
#define MF_SETTINGS_H

#include "config.h"
#include "cred.h"
#include "err.h"
#include "maillog.h"
#include "session.h"
#include "tls.h"

/* The effective settings of one run. Strings point into the config or the
 * command line and live until mf_cli_settings_free() (cli.h). */
struct mf_settings {
	struct mf_config *cfg;
	const struct mf_account *acct;   /* NULL: no account (only the defaults,
	                                    or no configuration at all) */
	char host[256];                  /* "" if none given anywhere */
	char port[8];                    /* "" if none given anywhere */
	enum mf_tls_mode tls;            /* MF_TLS_UNSET if not given */
	struct mf_tls_params tlsp;       /* trust, pin, client cert, min version,
	                                    priority, insecure, sni; verify_name
	                                    = host (points into this struct:
	                                    do not copy the settings) */
	const char *user, *auth, *passwordeval, *password;
	const char *from, *maildir, *state, *queue, *ehlo;
	const char *logfile, *syslog, *aliases;
	const char *mda;                 /* pop-fetch: mpop's delivery mda */
	int keep, only_new;              /* pop-fetch: 0 unset, 1 on, 2 off */
	const struct mf_account *conf;   /* the account's values, or the
	                                    defaults alone: never NULL */
	const char *protocol;            /* account's "protocol" (mailsend) */
	const char *folder_names;        /* account's "folder_names" (imap-sync) */
	int timeout_ms;                  /* 0: tool default */
	int verbose, show_secrets;
};

/* MF_E_CONFIG (78 in every tool) when no server, or with need_user no
 * user, was given anywhere: option, argument, account or defaults. */
int mf_settings_require(const struct mf_settings *s, int need_user,
                        struct mf_err *e);

/* Start a log line with what every tool's line says first: account=,
 * host=, port=, tls=, user=. */
void mf_settings_log_start(const struct mf_settings *s,
                           struct mf_maillog_line *l);

/* The account's credentials for the protocol modules: user, --auth, and
 * the password (or OAuth token) source: passwordeval, config password,
 * MAILFLOW_PASSWORD, ~/.netrc, then a prompt on /dev/tty (only when stdin
 * or stderr is a terminal).  Strings are borrowed from s. */
void mf_settings_auth(const struct mf_settings *s, struct mf_auth *out);

/* The connection every protocol module takes (session.h), from the
 * settings in one step, so no tool or engine copies them field by field:
 * host and port ("" when none was given: the protocol's default), the TLS
 * mode as given (MF_TLS_UNSET included: the protocol decides), the TLS
 * parameters (verify_name points into s), --timeout as the per-reply
 * timeout and the connect timeout (0: the protocol's defaults), and the
 * credentials as mf_settings_auth().  out->tr is NULL and out->sock's
 * family 0: the tool sets what is its own.  Strings are borrowed from s,
 * which must outlive out. */
void mf_settings_conn(const struct mf_settings *s, struct mf_conn *out);

#endif
