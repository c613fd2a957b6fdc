/* err.h - one error type for all of libmailflow, and its map to sysexits.
 *
 * Library calls return 0 (or a count) on success and -1 on failure, after
 * filling a caller-owned struct mf_err.  lib/ never prints or exits: the
 * tools print err->msg and exit with mf_err_exit_code().
 *
 * Must not: depend on any other module, print or exit. */
#ifndef MF_ERR_H
#define MF_ERR_H

#include <stddef.h>

enum mf_err_kind {
	MF_OK = 0,
	MF_E_USAGE,       /* bad option or argument                     -> 64 */
	MF_E_DATA,        /* bad input message, header or file content  -> 65 */
	MF_E_NOHOST,      /* name does not resolve                      -> 69 */
	MF_E_CONNECT,     /* connection refused / unreachable           -> 75 */
	MF_E_TIMEOUT,     /* no answer in time                          -> 75 */
	MF_E_CLOSED,      /* peer closed the connection unexpectedly    -> 75 */
	MF_E_TLS,         /* TLS handshake or record failure            -> 69 */
	MF_E_TLS_VERIFY,  /* peer certificate not trusted               -> 69 */
	MF_E_PROTO,       /* the server broke the protocol              -> 76 */
	MF_E_TEMP,        /* temporary failure reply (4xx, -ERR [IN-USE])-> 75 */
	MF_E_PERM,        /* permanent failure reply (5xx)              -> 69 */
	MF_E_AUTH,        /* credentials refused                        -> 77 */
	MF_E_IO,          /* local I/O (disk full, permission)          -> 74 */
	MF_E_NOMEM,       /* out of memory                              -> 71 */
	MF_E_LIMIT,       /* a hard size limit was exceeded by the peer -> 76 */
	MF_E_CONFIG,      /* configuration error                        -> 78 */
	MF_E_UNSUPPORTED, /* the server lacks what we need              -> 69 */
	MF_E_INTERNAL,    /* a bug                                      -> 70 */
	MF_E_NOUSER       /* a local recipient with no address          -> 67 */
};

#define MF_ERR_MSG_MAX 1024
#define MF_ERR_REPLY_MAX 512

struct mf_err {
	enum mf_err_kind kind;
	int sys_errno;                  /* errno when a system call failed, else 0 */
	int reply_code;                 /* server reply code (SMTP 535 ...), else 0 */
	char enhanced[16];              /* enhanced status code "5.7.8", else "" */
	char reply[MF_ERR_REPLY_MAX];   /* server reply text as received, else "" */
	char msg[MF_ERR_MSG_MAX];       /* readable message for the user */
};

/* Reset to MF_OK with empty strings. */
void mf_err_clear(struct mf_err *e);

/* Set kind and a printf-style message. Returns -1 so callers can
 * "return mf_err_set(...)". e may be NULL (then nothing is recorded). */
int mf_err_set(struct mf_err *e, enum mf_err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like mf_err_set, for a failed system call: records errnum and appends
 * ": strerror(errnum)" to the message. */
int mf_err_sys(struct mf_err *e, enum mf_err_kind kind, int errnum,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Record a server reply (code, optional enhanced code, text) with a message. */
int mf_err_reply(struct mf_err *e, enum mf_err_kind kind, int code,
                 const char *enhanced, const char *text, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Prepend context: "CONTEXT: old message". */
void mf_err_prefix(struct mf_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The sysexits(3) status a tool should exit with for this error: the one
 * map of mailflow (the table in mailflow(7)); a tool may differ only through
 * a named EX_* constant its manual documents. */
int mf_err_exit_code(const struct mf_err *e);

/* The same for a kind alone. */
int mf_err_kind_exit(enum mf_err_kind kind);

/* A short stable name for a kind ("timeout", "tls-verify", ...). */
const char *mf_err_kind_name(enum mf_err_kind kind);

#endif
