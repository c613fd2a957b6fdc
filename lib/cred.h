/* cred.h - getting a password or OAuth token without ever taking it from
 * the command line, and wiping it after use.
 *
 * Sources, in order: the account's passwordeval command, the account's
 * password (0600 config only), the environment variable MAILFLOW_PASSWORD,
 * ~/.netrc (machine HOST login USER password P; refused if readable by
 * others), and finally a prompt on the controlling TTY (when there is one
 * and prompting is allowed).
 *
 * Must not: take a secret from the command line, print or log one, keep
 * one unwiped after use, or exit (only its forked child does). */
#ifndef MF_CRED_H
#define MF_CRED_H

#include <stddef.h>

#include "err.h"

struct mf_secret {
	char *data;     /* NUL-terminated; wiped and freed by mf_secret_wipe */
	size_t len;
	char source[32]; /* "passwordeval", "config", "environment", "netrc", "tty" */
};

struct mf_cred_query {
	const char *host;          /* for .netrc and the prompt */
	const char *user;          /* for .netrc and the prompt */
	const char *passwordeval;  /* command, run with /bin/sh -c */
	const char *password;      /* from a 0600 config file */
	int allow_tty;             /* may prompt on /dev/tty */
	const char *netrc_path;    /* NULL: ~/.netrc */
	int timeout_ms;            /* passwordeval time limit; 0: 30 s */
};

/* Find the secret. -1 with MF_E_AUTH ("no password: ...", naming the
 * sources tried) when none is available, MF_E_CONFIG when passwordeval
 * fails (exit status and its stderr first line in the message). */
int mf_cred_get(const struct mf_cred_query *q, struct mf_secret *out,
                struct mf_err *e);

/* Run cmd with /bin/sh -c, stdin from /dev/null, and take the first line
 * of its output (trailing CR/LF removed). Fails if it exits non-zero,
 * prints nothing, or runs past timeout_ms. */
int mf_cred_eval(const char *cmd, int timeout_ms, struct mf_secret *out,
                 struct mf_err *e);

/* Wipe and free; safe on a zeroed struct. */
void mf_secret_wipe(struct mf_secret *s);

/* One account's credentials as every protocol module takes them (SMTP,
 * POP3, IMAP, the SMTP diagnosis): who, how, and where the secret comes
 * from.  The secret itself is fetched by the module right before it
 * authenticates (mf_auth_secret) and wiped right after; a tool that must
 * ask before connecting (a prompt), or that logs in many times with one
 * answer, holds it once with mf_auth_hold(). */
struct mf_auth {
	const char *user;            /* authentication identity */
	const char *authzid;         /* authorization identity, or NULL */
	const char *mech;            /* the --auth value: NULL or "auto", a
	                                mechanism list, or a protocol's own
	                                word (POP3 "user", "apop"; IMAP
	                                "login") */
	struct mf_cred_query source; /* where the password or token is */
	struct mf_secret held;       /* set by mf_auth_hold() */
	const char *test_nonce;      /* tests only: a fixed SCRAM client nonce
	                                (the RFC 5802 / 7677 vectors), carried
	                                to the SASL exchange by every protocol
	                                (mf_sasl_params_set); NULL in the tools */
};

/* Fetch the secret from a->source now and keep it in a->held until
 * mf_auth_release().  Errors as mf_cred_get(). */
int mf_auth_hold(struct mf_auth *a, struct mf_err *e);

/* The secret for one login, in out (the caller wipes it with
 * mf_secret_wipe): a copy of the held one, else fetched from a->source.
 * Errors as mf_cred_get(). */
int mf_auth_secret(const struct mf_auth *a, struct mf_secret *out,
                   struct mf_err *e);

/* Wipe the held secret. */
void mf_auth_release(struct mf_auth *a);

/* In a child about to exec a command (--mda, passwordeval): remove the
 * secrets mailflow reads from the environment (MAILFLOW_PASSWORD), so that
 * a command never sees a password it was not meant to get. */
void mf_cred_scrub_env(void);

/* Around a library call that starts children mailflow does not fork itself
 * (gpgme's gpg, and the gpg-agent that gpg may leave running): hide takes
 * MAILFLOW_PASSWORD out of the environment and keeps it in *h, restore
 * puts it back and wipes *h.  Nothing to do when it is unset.  Hide fails
 * only without memory (MF_E_NOMEM; the environment is then untouched). */
int mf_cred_env_hide(struct mf_secret *h, struct mf_err *e);
void mf_cred_env_restore(struct mf_secret *h);

#endif
