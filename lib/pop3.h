/* pop3.h - a POP3 client (RFC 1939) with CAPA (RFC 2449), STLS
 * (RFC 2595), APOP, AUTH (RFC 5034, through sasl.h), and the fetch loop of
 * pop-fetch: UIDL-driven, pipelined, into a Maildir or an MDA, recording
 * each delivered UID in the journal of popstate.h.
 *
 * Three layers, each usable alone:
 *   1. pure parsers (no I/O): status lines, the multi-line decoder
 *      (resumable on partial input, un-dot-stuffing, CRLF -> LF, hard
 *      limits), CAPA, UIDL and LIST lines, APOP;
 *   2. a session: connect, greeting, CAPA, STLS, authenticate, commands;
 *   3. mf_pop3_fetch(): the whole retrieve step. */
#ifndef MF_POP3_H
#define MF_POP3_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "tls.h"
#include "transcript.h"

#define MF_POP3_LINE_MAX 8192        /* status / listing lines (RFC: 512) */
#define MF_POP3_BODY_LINE_MAX 1048576 /* one line of a message body */
#define MF_POP3_UID_MAX 512

/* ---- 1. pure parsers ---- */

/* Classify a status line: 1 for "+OK", 0 for "-ERR", -1 for anything
 * else (protocol violation). *text points after the indicator and its
 * space ("" when none). */
int mf_pop3_status(const char *line, const char **text);

/* The RFC 2449 §8 response code at the start of text ("[IN-USE] ..." ->
 * "IN-USE") into out; "" when none. */
void mf_pop3_resp_code(const char *text, char *out, size_t outlen);

/* Decoder of one multi-line response body (RFC 1939 §3): removes the
 * byte-stuffed leading '.', turns CRLF into LF (a lone CR is kept, a bare
 * LF is accepted as a line end) and stops after the "." line. */
struct mf_pop3_ml {
	int state;
	int done;                     /* the terminating line was seen */
	size_t line_len;              /* bytes of the current line so far */
	size_t max_line;              /* longest line accepted */
	unsigned long long total;     /* decoded bytes so far */
	unsigned long long max_total; /* most decoded bytes accepted */
};

void mf_pop3_ml_init(struct mf_pop3_ml *m, size_t max_line,
                     unsigned long long max_total);

/* Decode from in[0..n) into out (outcap >= 2). Returns the input bytes
 * consumed and sets *outlen; it stops right after the terminating line
 * (m->done), or early when out is full. -1 with MF_E_LIMIT when a line or
 * the total exceeds its limit. Call again with the rest. */
ssize_t mf_pop3_ml_feed(struct mf_pop3_ml *m, const char *in, size_t n,
                        char *out, size_t outcap, size_t *outlen,
                        struct mf_err *e);

/* What CAPA said (RFC 2449 §6). */
struct mf_pop3_capa {
	int known;       /* CAPA answered +OK */
	int stls, uidl, pipelining, top, user, resp_codes, auth_resp_code;
	char sasl[512];  /* "PLAIN SCRAM-SHA-256 ..." or "" */
};

/* Take one line of a CAPA listing into c. */
void mf_pop3_capa_line(struct mf_pop3_capa *c, const char *line);

/* "N UID" of a UIDL listing (RFC 1939 §7). -1 (MF_E_PROTO) when malformed
 * or when the UID is empty, longer than MF_POP3_UID_MAX or has bytes
 * outside 0x21..0x7e. uid gets the UID NUL-terminated. */
int mf_pop3_parse_uidl(const char *line, unsigned long *num, char *uid,
                       size_t uidlen, struct mf_err *e);

/* "N SIZE" of a LIST listing (RFC 1939 §5); text after SIZE is ignored. */
int mf_pop3_parse_list(const char *line, unsigned long *num,
                       unsigned long long *size, struct mf_err *e);

/* The APOP timestamp "<...>" of a greeting into out; -1 if none. */
int mf_pop3_greeting_timestamp(const char *greeting, char *out, size_t outlen);

/* APOP digest: lowercase hex MD5 of timestamp + password (33 bytes). */
int mf_pop3_apop_digest(const char *timestamp, const char *password,
                        char out[33], struct mf_err *e);

/* ---- 2. a session ---- */

enum mf_pop3_auth {
	MF_POP3_AUTH_AUTO = 0, /* SASL if offered and usable, else APOP, else USER */
	MF_POP3_AUTH_USER,     /* USER/PASS */
	MF_POP3_AUTH_APOP,
	MF_POP3_AUTH_SASL      /* the mechanism(s) in sasl_mech */
};

struct mf_pop3_conn_params {
	const char *host;
	const char *port;              /* "110", "995", ... */
	enum mf_tls_mode tls;          /* STARTTLS (required), IMPLICIT or NONE */
	const struct mf_tls_params *tlsp;
	int connect_timeout_ms;        /* 0: 30 s */
	int timeout_ms;                /* each read/write; 0: 60 s */
	struct mf_transcript *tr;      /* may be NULL */
};

struct mf_pop3_auth_params {
	const char *user;
	const char *password;
	enum mf_pop3_auth method;
	const char *sasl_mech;         /* for MF_POP3_AUTH_SASL: one or a list */
};

struct mf_pop3;

/* Connect, read the greeting, CAPA, and STLS when tls is STARTTLS (then
 * CAPA again, RFC 2595 §4). Errors: connection and TLS kinds, MF_E_PROTO
 * (garbage greeting), MF_E_UNSUPPORTED (STLS required but refused). */
struct mf_pop3 *mf_pop3_connect(const struct mf_pop3_conn_params *p,
                                struct mf_err *e);
/* Close without QUIT (nothing marked deleted is removed). NULL is fine. */
void mf_pop3_free(struct mf_pop3 *p);

const struct mf_pop3_capa *mf_pop3_capa(const struct mf_pop3 *p);
int mf_pop3_is_tls(const struct mf_pop3 *p);

/* Authenticate. MF_E_AUTH when refused, MF_E_TEMP for [IN-USE] or
 * [SYS/TEMP], MF_E_UNSUPPORTED when the method is not available.
 * *used (may be NULL) gets the method's name ("USER", "APOP", "PLAIN"...). */
int mf_pop3_auth(struct mf_pop3 *p, const struct mf_pop3_auth_params *a,
                 char *used, size_t usedlen, struct mf_err *e);

/* STAT: message count and total size. */
int mf_pop3_stat(struct mf_pop3 *p, unsigned long *count,
                 unsigned long long *size, struct mf_err *e);

/* QUIT (RFC 1939 §6: deletions happen now). MF_E_PROTO/MF_E_TEMP when the
 * server did not commit. */
int mf_pop3_quit(struct mf_pop3 *p, struct mf_err *e);

/* ---- 3. the retrieve step ---- */

struct mf_pop3_stats {
	unsigned long listed;     /* messages on the server */
	unsigned long todo;       /* selected for fetching */
	unsigned long fetched;    /* delivered this run */
	unsigned long skipped;    /* too big, vanished, or recovered */
	unsigned long deleted;    /* DELE acknowledged (committed at QUIT) */
	unsigned long long bytes; /* message bytes delivered */
	unsigned long long todo_bytes;
	double seconds;
};

/* Progress and notices for the tool (the library never prints). */
typedef void (*mf_pop3_progress_fn)(void *arg, const struct mf_pop3_stats *st);
typedef void (*mf_pop3_notice_fn)(void *arg, const char *msg);

struct mf_pop3_fetch_params {
	struct mf_pop3_conn_params conn;
	struct mf_pop3_auth_params auth;
	const char *maildir;      /* deliver here (created if missing) ... */
	const char *mda;          /* ... or to this command (sh -c), exit 0 = ok */
	const char *state;        /* state file path */
	const char *account;      /* "user@host": names the Maildir tags */
	int delete_after;         /* DELE delivered messages */
	int all;                  /* fetch also messages already recorded */
	unsigned long long max_size; /* 0: no limit; bigger ones are left */
	unsigned long limit;      /* 0: no limit; at most this many messages */
	unsigned batch;           /* messages per group commit; 0: 64 */
	mf_pop3_progress_fn progress;
	mf_pop3_notice_fn notice;
	void *cb_arg;
};

/* The whole retrieve step. st (may be NULL) is filled also on failure.
 * Order per group: RETR (pipelined when PIPELINING is offered, else one at
 * a time), deliver, fsync the Maildir, record the UIDs and fsync the
 * journal, then DELE (if asked); QUIT at the end commits the deletions.
 * Errors: every kind above, MF_E_IO for local delivery failures (full
 * disk), MF_E_UNSUPPORTED for a server without UIDL, MF_E_TEMP when some
 * message vanished (the others are delivered). */
int mf_pop3_fetch(const struct mf_pop3_fetch_params *fp,
                  struct mf_pop3_stats *st, struct mf_err *e);

#endif
