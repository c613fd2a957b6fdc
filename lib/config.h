/* config.h - the one configuration file all mailflow tools share.
 *
 * Location: --config FILE, else $MAILFLOW_CONFIG, else
 * $XDG_CONFIG_HOME/mailflow/config, else ~/.config/mailflow/config.
 * A missing default file is an empty configuration; a missing file that
 * was named explicitly is an error.
 *
 * Syntax (msmtprc-like), one "key value" per line, '#' comments:
 *     defaults                 settings every account starts from
 *     account NAME             start an account
 *     account NAME : PARENT    start an account that inherits PARENT
 *     account default : NAME   make NAME the default account
 * Values may be double-quoted (with \" and \\ escapes; a quoted "" unsets
 * an inherited value).  "~/" starts the home directory in path keys.
 * Every account starts from the defaults; a parent may be defined after
 * its child; cycles are refused.  Unknown keys and bad values are errors
 * that name file:line.  A file readable by group or others that contains
 * a `password` is refused.  The format is documented in mailflow(5). */
#ifndef MF_CONFIG_H
#define MF_CONFIG_H

#include "err.h"
#include "tls.h"

/* Every setting of an account; NULL / 0 / MF_TLS_UNSET when not set. */
struct mf_account {
	char *name;
	char *host;
	int port;
	enum mf_tls_mode tls;
	char *tls_trust_file;
	char *tls_fingerprint;
	char *tls_cert_file;
	char *tls_key_file;
	char *tls_min_version;
	char *tls_priority;
	int tls_insecure;        /* "tls_insecure on" */
	char *user;
	char *auth;              /* "auto", "none", a mechanism or list */
	char *passwordeval;
	char *password;          /* only allowed in a 0600 file */
	char *from;
	char *maildir;
	char *state;             /* state file or directory (pop-fetch, imap-sync) */
	char *queue;             /* mailsend queue directory */
	char *ehlo;
	char *protocol;          /* mailsend: "smtp" or "lmtp" (RFC 2033) */
	char *folder_names;      /* imap-sync: "utf8" or "mutf7" on disk */
	int timeout;             /* seconds */
	char *logfile;           /* maillog.h: a log line per message / run */
	char *syslog;            /* "on", "off" or a facility */
	char *aliases;           /* msmtp-style aliases file for local names */
	char *dkim_key;          /* mailsend signing (seal.h) */
	char *dkim_selector;
	char *dkim_domain;
	char *dkim_headers;
	char *pgp_key;           /* OpenPGP signing key id (mailsend) */
	char *source;            /* "file:line" where the account starts */
};

struct mf_config;

/* 1 if v is one of the "a|b|c" choices. */
int mf_config_choice(const char *choices, const char *v);

/* Load the configuration. path: explicit file (--config) or NULL for the
 * default search. Returns NULL with MF_E_CONFIG (message "FILE:LINE: ...")
 * on error. */
struct mf_config *mf_config_load(const char *path, struct mf_err *e);

/* Parse a configuration from memory (tests). `name` is used in messages;
 * `mode` is the file's permission bits for the password check. */
struct mf_config *mf_config_parse(const char *text, const char *name,
                                  unsigned mode, struct mf_err *e);

/* The account NAME, or the default account when name is NULL or "default"
 * (the one named by "account default : X" -- or the account "default"
 * itself when keys follow that line -- else the defaults alone, with
 * name == NULL).
 * NULL with MF_E_CONFIG if NAME does not exist. The result lives as long
 * as the config. */
const struct mf_account *mf_config_account(const struct mf_config *c,
                                           const char *name, struct mf_err *e);

/* The path the configuration was read from ("" if none). */
const char *mf_config_path(const struct mf_config *c);

void mf_config_free(struct mf_config *c);

/* Default paths: XDG config file and an XDG state dir ($XDG_STATE_HOME/
 * mailflow or ~/.local/state/mailflow), written into out. -1 if HOME is
 * unknown. */
int mf_config_default_path(char *out, size_t outlen);
int mf_config_state_dir(char *out, size_t outlen);

#endif
