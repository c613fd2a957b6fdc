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
 * a `password` is refused.  The format is documented in mailflow(5).
 *
 * Must not: run commands (passwordeval is cred.h's), depend on a module
 * above the base layer, print or exit. */
#ifndef MF_CONFIG_H
#define MF_CONFIG_H

#include "err.h"
#include "tlsmode.h"

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
	char *resolver;          /* mxprobe: DNS server "IP[:PORT]" */
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
	char *mda;               /* pop-fetch: deliver to this command */
	int keep;                /* pop-fetch: 0 unset, 1 keep, 2 delete */
	int only_new;            /* pop-fetch: 0 unset, 1 only new, 2 all */
	int tls_starttls;        /* msmtp: 0 unset, 1 on, 2 off */
	int tls_certcheck;       /* msmtp: 0 unset, 1 on, 2 off */
	char *smime_cert;        /* S/MIME certificate chain (PEM) */
	char *smime_key;         /* its private key (PEM) */
	char *smime_recipient_certs; /* S/MIME certificates to encrypt to */
	char *source;            /* "file:line" where the account starts */
};

struct mf_config;

/* 1 if v is one of the "a|b|c" choices. */
int mf_config_choice(const char *choices, const char *v);
/* 1 if name is one of mailflow's own keys (mailflow(5)). */
int mf_config_is_key(const char *name);
/* 1 if s can be an account name: not empty, no blank, ':', '"', '#'
 * nor control character (mailflow(5) ACCOUNTS). */
int mf_config_name_ok(const char *s);
/* Which peer's file a tool falls back to when mailflow has none. */
enum mf_config_peer {
	MF_CONFIG_PEER_NONE = 0,
	MF_CONFIG_PEER_MSMTP,    /* ~/.msmtprc, $XDG_CONFIG_HOME/msmtp/config */
	MF_CONFIG_PEER_MPOP      /* ~/.mpoprc, $XDG_CONFIG_HOME/mpop/config */
};

/* The system-wide file, read when the user has no file of their own. */
#ifndef MF_SYSCONFDIR
#define MF_SYSCONFDIR "/etc"
#endif
#define MF_CONFIG_SYSTEM_PATH MF_SYSCONFDIR "/mailflow/config"

/* Load the configuration. path: explicit file (--config) or NULL for the
 * default search: $MAILFLOW_CONFIG, the user's file (config_default_path),
 * then the peer's files (msmtp or mpop, read with their keys and values),
 * then MF_CONFIG_SYSTEM_PATH.  A file that exists but cannot be read is an
 * error naming it; a missing one is skipped.  Returns NULL with
 * MF_E_CONFIG (message "FILE:LINE: ...") on error. */
struct mf_config *mf_config_load(const char *path, struct mf_err *e);
struct mf_config *mf_config_load_for(const char *path,
                                     enum mf_config_peer peer,
                                     struct mf_err *e);
/* The same search with the candidate files given (tests): files[] ends
 * with NULL; files[peer_from] up to before files[peer_to] are peer files
 * (unknown keys warn). */
struct mf_config *mf_config_load_list(const char *const *files,
                                      int peer_from, int peer_to,
                                      struct mf_err *e);

/* Warnings found while reading (keys with no meaning here), one string
 * each with "FILE:LINE: ", and i >= the count gives NULL. */
const char *mf_config_warning(const struct mf_config *c, size_t i);
/* 1 when the file read is an msmtp or mpop file found by the search. */
int mf_config_is_peer_file(const struct mf_config *c);

/* Parse a configuration from memory (tests). `name` is used in messages;
 * `mode` is the file's permission bits for the password check.  msmtp's
 * and mpop's keys and values are understood in every file (tls on|off,
 * tls_starttls, tls_certcheck, tls_trust_file system, auth on|off|METHOD,
 * domain, timeout off, delivery maildir|mda, keep, only_new, uidls_file,
 * tls_priorities); their keys that mean nothing here are warnings.  Any
 * other unknown key is an error, except in a peer file (peer = 1),
 * where it is a warning too. */
struct mf_config *mf_config_parse(const char *text, const char *name,
                                  unsigned mode, struct mf_err *e);
struct mf_config *mf_config_parse_peer(const char *text, const char *name,
                                       unsigned mode, int peer,
                                       struct mf_err *e);

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
