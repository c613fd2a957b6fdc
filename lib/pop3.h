/* pop3.h - a POP3 client (RFC 1939) with CAPA (RFC 2449), STLS
 * (RFC 2595), APOP and AUTH (RFC 5034, through sasl.h).  The fetch loop
 * of pop-fetch built on it is popfetch.h.
 *
 * Two layers, each usable alone:
 *   1. pure parsers (no I/O): status lines, the multi-line decoder
 *      (resumable on partial input, un-dot-stuffing, CRLF -> LF, hard
 *      limits), CAPA, UIDL and LIST lines, APOP;
 *   2. a session: connect, greeting, CAPA, STLS, authenticate, and the
 *      transaction commands as typed calls (STAT, UIDL, LIST, RETR, DELE,
 *      QUIT), pipelined when the server allows it.
 *
 * Must not: know Maildirs or the UID journal (popfetch.h does), dial or
 * wrap TLS itself (session.h does), let a caller spell a command line,
 * print or exit. */
#ifndef MF_POP3_H
#define MF_POP3_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "cred.h"
#include "err.h"
#include "session.h"
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
	MF_POP3_AUTH_SASL      /* the SASL mechanism(s) named */
};

struct mf_pop3;

/* Connect as c (session.h: c->port "110", "995" ... as given; c->tls
 * STARTTLS (required), IMPLICIT or NONE; c->sock.connect_timeout_ms 0:
 * 30 s; c->timeout_ms each read and write, 0: 60 s; c->cred is for
 * mf_pop3_auth), read the greeting, CAPA, and STLS when tls is STARTTLS
 * (then CAPA again, RFC 2595 §4). Errors: connection and TLS kinds,
 * MF_E_PROTO (garbage greeting), MF_E_UNSUPPORTED (STLS required but
 * refused). */
struct mf_pop3 *mf_pop3_connect(const struct mf_conn *c, struct mf_err *e);
/* The same session over an already connected transport t (owned from
 * now on, freed on error): greeting and CAPA only; c->host and c->port
 * name the peer, c->tls is not acted on.  For tests over a scripted
 * transport. */
struct mf_pop3 *mf_pop3_attach(struct mf_transport *t,
                               const struct mf_conn *c, struct mf_err *e);
/* Close without QUIT (nothing marked deleted is removed). NULL is fine. */
void mf_pop3_free(struct mf_pop3 *p);

const struct mf_pop3_capa *mf_pop3_capa(const struct mf_pop3 *p);
int mf_pop3_is_tls(const struct mf_pop3 *p);

/* The method an --auth value names: NULL/"auto", "user", "apop", or a
 * SASL mechanism list.  MF_E_USAGE for "none". */
int mf_pop3_auth_method(const char *mech, enum mf_pop3_auth *m,
                        struct mf_err *e);

/* Log in as account a (a->mech as mf_pop3_auth_method; the secret from
 * mf_auth_secret, wiped after).  MF_E_AUTH when refused, MF_E_TEMP for
 * [IN-USE] or [SYS/TEMP], MF_E_UNSUPPORTED when the method is not
 * available.  *used (may be NULL) gets the method's name ("USER", "APOP",
 * "PLAIN"...). */
int mf_pop3_auth(struct mf_pop3 *p, const struct mf_auth *a, char *used,
                 size_t usedlen, struct mf_err *e);

/* QUIT (RFC 1939 §6: deletions happen now). MF_E_PROTO/MF_E_TEMP when the
 * server did not commit. */
int mf_pop3_quit(struct mf_pop3 *p, struct mf_err *e);

/* ---- the transaction commands, pipelined (RFC 2449 §6.6) ----
 *
 * A command is queued (written to the send buffer, not yet sent) and the
 * session remembers it: a pipelining server answers in order, so the
 * oldest unanswered command says what the next reply is.  Without
 * PIPELINING a caller keeps at most one command unanswered.  STAT, UIDL
 * and LIST below send their command themselves, unless it is the oldest
 * one queued (three listings in one round trip). */

enum mf_pop3_cmd {
	MF_POP3_STAT,   /* count and size of the maildrop (RFC 1939 §5) */
	MF_POP3_UIDL,   /* the unique-id listing (RFC 1939 §7) */
	MF_POP3_LIST,   /* the size listing (RFC 1939 §5) */
	MF_POP3_RETR,   /* message num, a multi-line reply */
	MF_POP3_DELE    /* mark message num deleted */
};

/* The command line for cmd (without CRLF) into out: "RETR 7", "UIDL".
 * RETR and DELE take a message number num >= 1, the others num 0;
 * anything else is MF_E_USAGE. */
int mf_pop3_cmd_line(enum mf_pop3_cmd cmd, unsigned long num, char *out,
                     size_t outlen, struct mf_err *e);

/* Queue cmd (arguments as mf_pop3_cmd_line); mf_pop3_flush() or the next
 * read sends it. */
int mf_pop3_queue(struct mf_pop3 *p, enum mf_pop3_cmd cmd, unsigned long num,
                  struct mf_err *e);
/* Send what was queued. */
int mf_pop3_flush(struct mf_pop3 *p, struct mf_err *e);
/* The number of queued commands whose reply was not read yet. */
size_t mf_pop3_pending(const struct mf_pop3 *p);

/* Send what was queued, then read the status line of the oldest
 * unanswered command (recorded in the transcript): 1 for +OK, 0 for -ERR,
 * with the text after the indicator copied into txt (may be NULL); -1 on
 * I/O errors, a line that is neither (MF_E_PROTO) or nothing queued
 * (MF_E_INTERNAL).  *cmd and *num (may be NULL) say which command it
 * answers.  After +OK to RETR, read the message with mf_pop3_read_body()
 * before the next reply. */
int mf_pop3_reply(struct mf_pop3 *p, enum mf_pop3_cmd *cmd,
                  unsigned long *num, char *txt, size_t txtlen,
                  struct mf_err *e);

/* Receives decoded multi-line data in chunks; -1 (e filled) stops. */
typedef int (*mf_pop3_sink_fn)(void *arg, const char *data, size_t n,
                               struct mf_err *e);

/* Read the body of a multi-line reply after its +OK, decoded (see
 * mf_pop3_ml_feed), into sink. MF_E_LIMIT past max_line / max_total,
 * MF_E_CLOSED when the connection ends before the "." line. */
int mf_pop3_read_body(struct mf_pop3 *p, size_t max_line,
                      unsigned long long max_total, mf_pop3_sink_fn sink,
                      void *arg, struct mf_err *e);

/* STAT: message count and total size.  -ERR and malformed replies are
 * MF_E_PROTO. */
int mf_pop3_stat(struct mf_pop3 *p, unsigned long *count,
                 unsigned long long *size, struct mf_err *e);

/* One line of a UIDL or LIST listing, parsed; -1 (e filled) stops. */
typedef int (*mf_pop3_uidl_fn)(void *arg, unsigned long num, const char *uid,
                               struct mf_err *e);
typedef int (*mf_pop3_list_fn)(void *arg, unsigned long num,
                               unsigned long long size, struct mf_err *e);

/* UIDL and LIST of all messages: each line parsed (mf_pop3_parse_uidl,
 * mf_pop3_parse_list) and handed to fn in the server's order.  count is
 * what STAT announced; the listing may hold at most 16 lines more.  1 when
 * listed, 0 for -ERR, -1 on errors (MF_E_PROTO for a malformed line,
 * MF_E_LIMIT for an overlong listing, or fn's). */
int mf_pop3_uidl(struct mf_pop3 *p, unsigned long count, mf_pop3_uidl_fn fn,
                 void *arg, struct mf_err *e);
int mf_pop3_list(struct mf_pop3 *p, unsigned long count, mf_pop3_list_fn fn,
                 void *arg, struct mf_err *e);

#endif
