/* smtp.h - SMTP client (RFC 5321) for mailsend, smtp-auth-test and mxprobe.
 *
 * A session is driven step by step -- connect, greeting, EHLO, STARTTLS,
 * AUTH, MAIL/RCPT/DATA -- so a diagnostic tool can stop and look after each
 * step, and a sender can run them all with mf_smtp_send_message(), which
 * pipelines (RFC 2920) when offered.  Every reply is parsed into
 * struct mf_smtp_reply (multi-line replies joined, enhanced status codes
 * of RFC 3463 split out); a malformed reply is MF_E_PROTO.  Nothing here
 * prints: the transcript (if any) records the lines.
 *
 * Must not: dial or wrap TLS itself (session.h does), compose messages
 * (mime.h does), print or exit. */
#ifndef MF_SMTP_H
#define MF_SMTP_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "sasl.h"
#include "session.h"
#include "sock.h"
#include "tls.h"
#include "transcript.h"

#define MF_SMTP_REPLY_MAX 65536   /* all lines of one reply together */
#define MF_SMTP_REPLY_TEXT_MAX 4096  /* the text kept of one reply */
#define MF_SMTP_CMD_MAX 4096      /* one command line */

struct mf_smtp_reply {
	int code;               /* 220, 250, 535 ...; 0 if none was read */
	char enhanced[16];      /* "5.7.8" or "" */
	char text[MF_SMTP_REPLY_TEXT_MAX];  /* the lines' text after the code (and after the
	                           enhanced code), joined with '\n'; truncated */
	size_t nlines;
};

/* What EHLO announced (RFC 5321 §4.1.1.1 and the extensions' RFCs). */
struct mf_smtp_caps {
	int esmtp;              /* EHLO accepted (else HELO was used) */
	int starttls;
	int pipelining;
	int size;               /* SIZE offered */
	unsigned long size_max; /* its value, 0 = no limit given */
	int eightbitmime;
	int smtputf8;
	int dsn;
	int chunking;
	int enhancedstatuscodes;
	char auth[512];         /* mechanisms after AUTH (and AUTH=), space-separated */
	char raw[2048];         /* the EHLO keywords, one per line, for display */
};

struct mf_smtp_params {
	struct mf_conn conn;         /* host, port ("" or NULL: 587), TLS
	                                (IMPLICIT: TLS right after connect),
	                                tlsp (verify_name NULL: host is
	                                checked), sock (I/O timeout 0:
	                                timeout_ms), timeout_ms per reply
	                                (0: 5 minutes, RFC 5321 §4.5.3.2), tr;
	                                conn.cred is what mf_smtp_client logs
	                                in with (mf_smtp_login takes its own) */
	const char *ehlo_name;       /* NULL: the hostname when it has a dot
	                                (no resolver lookup), else "localhost" */
	int lmtp;                    /* LMTP (RFC 2033): LHLO, and one reply per
	                                accepted recipient after the data */
	/* With -v the transcript marks each write of several pipelined
	 * commands: "=== pipelined in one write: MAIL RCPT DATA (N bytes)". */
	int quit_reply;              /* read the reply to QUIT (a diagnosis
	                                shows it); 0: send QUIT and close */
};

struct mf_smtp;

struct mf_smtp *mf_smtp_new(const struct mf_smtp_params *p, struct mf_err *e);
/* Send QUIT if connected and possible, close, free. NULL is fine. */
void mf_smtp_free(struct mf_smtp *s);

/* TCP connect, or a local socket when host is "unix:/path" (and the TLS
 * handshake for MF_TLS_IMPLICIT). */
int mf_smtp_connect(struct mf_smtp *s, struct mf_err *e);
/* Read the greeting. A non-220 greeting fills r and fails: MF_E_TEMP for
 * 4xx (421 busy), MF_E_PERM for 5xx (554 no service). */
int mf_smtp_greeting(struct mf_smtp *s, struct mf_smtp_reply *r,
                     struct mf_err *e);
/* EHLO, falling back to HELO when EHLO is refused with 5xx (LMTP: LHLO,
 * without fallback); fills the capabilities (also readable later with
 * mf_smtp_caps()). */
int mf_smtp_ehlo(struct mf_smtp *s, struct mf_smtp_reply *r, struct mf_err *e);
/* STARTTLS (RFC 3207) and wrap; the caller then sends EHLO again (the
 * capabilities are reset, as §4.2 requires). MF_E_UNSUPPORTED if not
 * offered, MF_E_TEMP/PERM if refused (454), TLS errors from the handshake. */
int mf_smtp_starttls(struct mf_smtp *s, struct mf_smtp_reply *r,
                     struct mf_tls_info *info, struct mf_err *e);
/* AUTH with one mechanism (RFC 4954), initial response when allowed.
 * 235 -> 0. Failure: MF_E_AUTH for 535/534/538/5.7.x, MF_E_TEMP for 454
 * and other 4xx, MF_E_UNSUPPORTED for 504, MF_E_PROTO for nonsense; r has
 * the final reply and `sasl_error` (may be NULL, size 512) the decoded
 * server error payload of OAuth mechanisms. The password never reaches
 * the transcript unredacted unless it shows secrets. */
int mf_smtp_auth(struct mf_smtp *s, const char *mech,
                 const struct mf_sasl_params *sp, struct mf_smtp_reply *r,
                 char *sasl_error, size_t sasl_error_len, struct mf_err *e);

/* One command and its reply, for a diagnosis that walks a transaction
 * by hand: MAIL FROM:<from> (no parameters but SMTPUTF8 when the address
 * needs it), RCPT TO:<to>, RSET (RFC 5321 §4.1.1.2, .3, .5).  Addresses
 * go in their wire form as in mf_smtp_format_mail().  0 when a reply was
 * read, whatever its code; MF_E_DATA for an address that cannot be sent,
 * MF_E_USAGE for a line break inside it (nothing is sent then). */
int mf_smtp_mail(struct mf_smtp *s, const char *from, struct mf_smtp_reply *r,
                 struct mf_err *e);
int mf_smtp_rcpt(struct mf_smtp *s, const char *to, struct mf_smtp_reply *r,
                 struct mf_err *e);
int mf_smtp_rset(struct mf_smtp *s, struct mf_smtp_reply *r,
                 struct mf_err *e);
/* Read one reply (e.g. after a pipelined group). */
int mf_smtp_read_reply(struct mf_smtp *s, struct mf_smtp_reply *r,
                       struct mf_err *e);

const struct mf_smtp_caps *mf_smtp_caps(const struct mf_smtp *s);
int mf_smtp_is_tls(const struct mf_smtp *s);
struct mf_transport *mf_smtp_transport(struct mf_smtp *s);
/* Peer address actually connected to ("127.0.0.1"). */
const char *mf_smtp_peer(struct mf_smtp *s);
/* The facts of the last TLS handshake (implicit at connect, or STARTTLS),
 * kept also when it failed (alert, chain, plaintext_seen); NULL when none
 * was tried. */
const struct mf_tls_info *mf_smtp_tls(const struct mf_smtp *s);

/* Classify a reply code into an error kind: 2xx/3xx MF_OK, 4xx MF_E_TEMP,
 * 5xx MF_E_PERM, anything else MF_E_PROTO. */
enum mf_err_kind mf_smtp_reply_kind(int code);

/* A reply's text (lines joined with '\n', as in struct mf_smtp_reply) as
 * one readable line for people: each line's blanks trimmed and runs of
 * blanks made one, the lines joined with "; ", empty ones dropped (Exim's
 * "250- 269 byte chunk, total 269" / "250 OK id=..." becomes "269 byte
 * chunk, total 269; OK id=...").  Truncated to fit; returns out. */
const char *mf_smtp_reply_line(const char *text, char *out, size_t outlen);

/* Parse one reply line "250-text" / "250 text" (pure; for tests).
 * Returns 1 for a continuation line, 0 for the last line, -1 malformed. */
int mf_smtp_parse_reply_line(const char *line, size_t len, int *code,
                             const char **text);

/* ---- sending a message ---- */

struct mf_smtp_envelope {
	const char *from;              /* reverse-path, "" for <> */
	const char *const *rcpts;      /* forward-paths */
	size_t nrcpts;
	const char *dsn_notify;        /* "SUCCESS,FAILURE", "NEVER" or NULL */
	const char *dsn_ret;           /* "FULL" / "HDRS" or NULL */
	const char *envid;             /* DSN ENVID or NULL */
	int eightbit;                  /* body has 8-bit data: BODY=8BITMIME */
	int smtputf8;                  /* addresses need SMTPUTF8 */
};

struct mf_smtp_rcpt_result {
	int code;               /* the reply to RCPT */
	char enhanced[16];
	char text[512];
	int data_code;          /* this recipient's reply to the end of data:
	                           LMTP's own (RFC 2033 §4.2), SMTP's shared
	                           one; 0 when RCPT was refused or the data
	                           was never sent */
	char data_enhanced[16];
	char data_text[512];
};

struct mf_smtp_result {
	struct mf_smtp_reply final;          /* the reply to the end of data */
	struct mf_smtp_rcpt_result *rcpt;    /* nrcpts entries, caller-provided
	                                        array or NULL */
	size_t accepted;                     /* recipients accepted (RCPT) */
	size_t delivered;                    /* of those, how many the end of
	                                        data accepted */
};

/* Send one message: MAIL FROM (with SIZE=, BODY=, SMTPUTF8, RET/ENVID),
 * RCPT TO for each recipient (NOTIFY), then DATA (dot-stuffed, every bare
 * CR or LF made CRLF, so a lone "." in the input cannot end the data
 * early) or BDAT when CHUNKING is offered. The message is `msg` of `len`
 * bytes, any line endings.  Pipelined when offered.  A message larger
 * than the server's SIZE is refused before MAIL (MF_E_PERM).  Succeeds
 * when at least one recipient was accepted and the data was accepted;
 * recipients refused are reported in res->rcpt. With LMTP every accepted
 * recipient gets its own reply after the data (res->rcpt[i].data_code);
 * the call succeeds when at least one of them is 250, res->final then
 * being the worst of them (else it fails with the worst).  After a
 * failure the session is reset (RSET) so the next message can be sent. */
int mf_smtp_send_message(struct mf_smtp *s, const struct mf_smtp_envelope *env,
                         const char *msg, size_t len,
                         struct mf_smtp_result *res, struct mf_err *e);

/* The command lines of an envelope (no CRLF) as mf_smtp_send_message()
 * sends them to a server with capabilities caps: "MAIL FROM:<a@b>
 * SIZE=123 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x" and "RCPT TO:<c@d>
 * NOTIFY=NEVER" for env->rcpts[i].  Each parameter goes only when caps
 * offers its extension (SIZE: size is the message's wire size), SMTPUTF8
 * whenever an address of env needs it; caps NULL is a server that offers
 * none (what mailsend --dry-run shows).  Addresses in their wire form
 * (mf_idn_addr_wire: A-label domains).  MF_E_DATA for an address that is
 * not valid, MF_E_USAGE for a line break inside an argument or a line
 * that does not fit out. */
int mf_smtp_format_mail(const struct mf_smtp_caps *caps,
                        const struct mf_smtp_envelope *env, size_t size,
                        char *out, size_t outlen, struct mf_err *e);
int mf_smtp_format_rcpt(const struct mf_smtp_caps *caps,
                        const struct mf_smtp_envelope *env, size_t i,
                        char *out, size_t outlen, struct mf_err *e);

/* Quit politely without freeing: send QUIT and, only with
 * params.quit_reply, read the 221.  Nothing after the last reply to a
 * message changes its fate (RFC 5321 §4.1.1.10), so waiting a round trip
 * for the 221 only costs time. */
int mf_smtp_quit(struct mf_smtp *s, struct mf_err *e);

/* ---- additions ---- */

/* Allow (1, default) or forbid (0) BDAT / PIPELINING even when offered
 * (mailsend --no-chunking / --no-pipelining, and tests). */
void mf_smtp_set_chunking(struct mf_smtp *s, int allow);
void mf_smtp_set_pipelining(struct mf_smtp *s, int allow);

/* The usual start of a sending session: connect, greeting, EHLO and, for
 * MF_TLS_STARTTLS and MF_TLS_UNSET, STARTTLS (required: MF_E_UNSUPPORTED
 * "the server does not offer STARTTLS; refusing to send credentials in
 * clear" when it is not offered -- `will_auth` only picks the wording)
 * and EHLO again.  MF_TLS_AUTO upgrades only when offered.  info (may be
 * NULL) receives the STARTTLS handshake's details. */
int mf_smtp_open(struct mf_smtp *s, int will_auth, struct mf_tls_info *info,
                 struct mf_err *e);

/* Log in as account a: fetch its secret (mf_auth_secret, wiped after),
 * choose a mechanism among the offered ones (a->mech: NULL/"auto" or a
 * list) and authenticate (mf_sasl_login: channel binding when on TLS, one
 * retry without it in auto mode).  PLAIN/LOGIN only over TLS unless the
 * session is MF_TLS_NONE.  MF_E_UNSUPPORTED when the server offers no AUTH
 * or nothing fits; else as mf_auth_secret() and mf_smtp_auth().  The
 * chosen mechanism is written to mech (may be NULL). */
int mf_smtp_login(struct mf_smtp *s, const struct mf_auth *a, char *mech,
                  size_t mechlen, struct mf_err *e);

/* Run the session over an already connected transport t (taken over,
 * also on failure) instead of mf_smtp_connect(): unit tests, or a caller
 * that connected by other means. */
int mf_smtp_attach(struct mf_smtp *s, struct mf_transport *t,
                   struct mf_err *e);

/* 0 once the connection was lost or the server broke the protocol: a
 * sender then starts a new session. */
int mf_smtp_usable(const struct mf_smtp *s);

/* mf_smtp_starttls() in its two steps, so a caller (mxprobe) can time
 * them apart: the STARTTLS command up to its 220 reply (errors as
 * mf_smtp_starttls() before the handshake) ... */
int mf_smtp_starttls_command(struct mf_smtp *s, struct mf_smtp_reply *r,
                             struct mf_err *e);
/* ... then, only after that succeeded, the TLS handshake and the reset
 * of the capabilities; info (may be NULL) as for mf_smtp_starttls(). */
int mf_smtp_starttls_handshake(struct mf_smtp *s, struct mf_tls_info *info,
                               struct mf_err *e);

/* ---- a sender's client: lazy session, reconnects, AUTH ---- */

struct mf_smtp_client_params {
	struct mf_smtp_params smtp;
	int auth;                    /* authenticate after (STARTTLS and) EHLO
	                                as smtp.conn.cred (cred.mech: NULL /
	                                "auto" or a mechanism list; the secret
	                                is fetched once per session, after
	                                EHLO, and wiped after AUTH) */
	int no_chunking, no_pipelining;
};

struct mf_smtp_client;

/* p is copied (its strings are borrowed and must outlive the client). */
struct mf_smtp_client *mf_smtp_client_new(const struct mf_smtp_client_params *p,
                                          struct mf_err *e);
/* Send one message, opening (mf_smtp_open + mf_smtp_login) a session
 * first when there is none; after a failure that lost the connection the
 * next call starts a new session, so one bad message does not stop a
 * batch. Errors as mf_smtp_open/login/send_message. */
int mf_smtp_client_send(struct mf_smtp_client *c,
                        const struct mf_smtp_envelope *env, const char *msg,
                        size_t len, struct mf_smtp_result *res,
                        struct mf_err *e);
/* 1 while a session is open. */
int mf_smtp_client_connected(const struct mf_smtp_client *c);
/* QUIT (if connected) and free; NULL is fine. */
void mf_smtp_client_free(struct mf_smtp_client *c);

/* Pure helpers (exposed for tests and the MIME module):
 * the wire form of a message -- every bare CR, bare LF and CRLF becomes
 * CRLF, the last line gets one if it had none, and with `dotstuff` a line
 * starting with "." gets another (RFC 5321 §4.5.2) -- appended to out. */
int mf_smtp_normalise(const char *msg, size_t len, int dotstuff,
                      struct mf_buf *out, struct mf_err *e);
/* 1 if the message has a byte with the high bit set. */
int mf_smtp_message_8bit(const char *msg, size_t len);
/* 1 if `word` is in the space/comma-separated list (case-insensitive). */
int mf_smtp_word_in(const char *list, const char *word);

#endif
