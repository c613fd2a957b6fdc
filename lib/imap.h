/* imap.h - IMAP4rev1 client (RFC 3501) with the extensions a sync tool
 * needs: STARTTLS, SASL-IR (RFC 4959), ENABLE (RFC 5161), CONDSTORE and
 * QRESYNC (RFC 7162), UIDPLUS (RFC 4315), MOVE (RFC 6851), LITERAL+
 * (RFC 7888), LIST-EXTENDED/SPECIAL-USE (RFC 5258, 6154), IDLE (RFC 2177).
 *
 * Two layers:
 *  - a pure, resumable response parser: bytes in (any split, down to one
 *    byte at a time), one complete response out as a token tree.  Literals
 *    may be handed to a callback in chunks instead of being kept, so a
 *    message body is never held in memory; everything else has hard limits.
 *  - a blocking client over lineio: commands are queued and pipelined
 *    (the typed calls spell every command), and untagged responses are
 *    decoded into typed records (one per FETCHed message, VANISHED, LIST,
 *    STATUS; imap_resp.c) for the caller's struct mf_imap_events whenever
 *    they arrive (EXISTS, EXPUNGE, FETCH can come at any time), so no
 *    engine walks a token tree.
 *
 * Must not: know Maildirs or sync state (the engines do), dial or wrap
 * TLS itself (session.h does), print or exit. */
#ifndef MF_IMAP_H
#define MF_IMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "cred.h"
#include "err.h"
#include "session.h"
#include "tls.h"
#include "transcript.h"

/* ------------------------------------------------------------------ */
/* Parser                                                              */

enum mf_imap_tok_type {
	MF_IMAP_ATOM,      /* atom or number, incl. "\Seen", "BODY[]" */
	MF_IMAP_STRING,    /* quoted string (unescaped) or kept literal */
	MF_IMAP_NIL,
	MF_IMAP_LIST,      /* parenthesised list; children follow it */
	MF_IMAP_STREAMED   /* literal given to the literal callback */
};

struct mf_imap_tok {
	enum mf_imap_tok_type type;
	const char *s;     /* ATOM/STRING: NUL-terminated bytes, else "" */
	size_t len;        /* ATOM/STRING: bytes; LIST: number of children;
	                      STREAMED: literal size */
	size_t next;       /* index of the next sibling (after a list's
	                      children) */
};

enum mf_imap_resp_kind { MF_IMAP_TAGGED, MF_IMAP_UNTAGGED, MF_IMAP_CONT };

/* One complete response. Pointers live until the next parser call. */
struct mf_imap_resp {
	enum mf_imap_resp_kind kind;
	const char *tag;          /* TAGGED: the tag, else "*" or "+" */
	int has_number;           /* "* 5 EXISTS" */
	unsigned long number;
	const char *keyword;      /* upper-cased: "OK" "NO" "BAD" "BYE" "PREAUTH"
	                             "EXISTS" "FETCH" "CAPABILITY" "LIST" ...;
	                             "" for a continuation */
	int is_status;            /* keyword is OK/NO/BAD/BYE/PREAUTH */
	const char *code;         /* response code name, upper-cased ("" if
	                             none); its arguments are toks[code_first..
	                             data_first) */
	const char *text;         /* human-readable text (status responses and
	                             continuations) */
	size_t code_first;        /* index of the first code argument */
	size_t data_first;        /* index of the first data token */
	const struct mf_imap_tok *toks;
	size_t ntoks;
};

struct mf_imap_limits {
	size_t max_line;          /* one line segment; default 1 MiB */
	size_t max_response;      /* text + kept literals; default 16 MiB */
	size_t max_literal_kept;  /* one kept literal; default 1 MiB */
	size_t max_tokens;        /* default 1,000,000 */
	int max_depth;            /* list nesting; default 64 */
};

/* How the parser hands out literals and lines. All may be NULL. */
struct mf_imap_hooks {
	/* A literal of `size` bytes starts; `prefix` is the response text
	 * before it (e.g. "* 3 FETCH (UID 9 BODY[] ").  Return 1 to receive it
	 * through data()/end(), 0 to keep it in the token tree, -1 to fail. */
	int (*lit_begin)(void *arg, const char *prefix, size_t prefix_len,
	                 uint64_t size);
	int (*lit_data)(void *arg, const char *p, size_t n);
	int (*lit_end)(void *arg);
	/* Each line segment as it completes (no CRLF, no literal bodies). */
	void (*line)(void *arg, const char *line, size_t len);
	void *arg;
};

struct mf_imap_parser;

/* lim and hooks may be NULL (defaults / none); both are copied. */
struct mf_imap_parser *mf_imap_parser_new(const struct mf_imap_limits *lim,
                                          const struct mf_imap_hooks *hooks);
void mf_imap_parser_set_hooks(struct mf_imap_parser *p,
                              const struct mf_imap_hooks *hooks);
void mf_imap_parser_free(struct mf_imap_parser *p);

/* Consume bytes from data[0..len). Stops right after a complete response
 * (*done = 1; get it with mf_imap_parser_response) or when the input is
 * used up (*done = 0).  Returns the number of bytes consumed, or -1:
 * MF_E_PROTO for malformed input, MF_E_LIMIT past a limit, or the error a
 * hook reported (then the parser is unusable). */
ssize_t mf_imap_parser_feed(struct mf_imap_parser *p, const char *data,
                            size_t len, int *done, struct mf_err *e);

/* The complete response after feed said done; NULL otherwise. */
const struct mf_imap_resp *mf_imap_parser_response(struct mf_imap_parser *p);

/* 1 when the parser is between responses (no partial input held). */
int mf_imap_parser_idle(const struct mf_imap_parser *p);

/* Token helpers. */
/* Parse an atom token as an unsigned number; -1 if it is not one. */
int mf_imap_tok_u64(const struct mf_imap_tok *t, uint64_t *out);
/* In a FETCH list (toks[list] is the LIST), the index of the value that
 * follows the item named `name` (case-insensitive), or (size_t)-1. */
size_t mf_imap_fetch_item(const struct mf_imap_resp *r, size_t list,
                          const char *name);

/* ------------------------------------------------------------------ */
/* Client                                                              */


struct mf_imap;
struct mf_imap_events;          /* typed responses, below */

/* Connect as p (session.h: p->port "" or NULL: 143, or 993 for
 * implicit; p->tls UNSET or AUTO: STARTTLS on 143, implicit on 993;
 * p->tlsp.verify_name NULL: host; p->sock's timeouts 0: p->timeout_ms;
 * p->timeout_ms 0: 60 s), read the greeting, STARTTLS if asked, learn the
 * capabilities.  Errors: connection and TLS kinds, MF_E_UNSUPPORTED when
 * STARTTLS is required but not offered, MF_E_TEMP for a BYE greeting,
 * MF_E_PROTO. */
struct mf_imap *mf_imap_connect(const struct mf_conn *p, struct mf_err *e);
/* The same session over an already connected transport t (owned from
 * now on, freed on error): greeting and CAPABILITY only; p->tls is not
 * acted on.  For tests over a scripted transport. */
struct mf_imap *mf_imap_attach(struct mf_transport *t,
                               const struct mf_conn *p, struct mf_err *e);
/* Authenticate as p->cred (unless the greeting was PREAUTH): cred.mech
 * NULL/"auto", "login", or a SASL mechanism; the secret is fetched per
 * login and wiped after.  LOGIN or AUTHENTICATE through the SASL engine,
 * with SASL-IR when offered. MF_E_AUTH when the credentials are refused. */
int mf_imap_login(struct mf_imap *im, const struct mf_conn *p,
                  struct mf_err *e);
/* Connect as mf_imap_connect() does, or with the login queued, one round
 * trip less, where an earlier session's hint allows it: when the hint's
 * greeting offered SASL-IR (RFC 4959), the mechanism mf_imap_login()
 * would use first is a one-round one (PLAIN, EXTERNAL) and TLS is
 * implicit (the server's certificate verified first), AUTHENTICATE and its initial response are queued at
 * once, the greeting not awaited, *queued is set to 1 and
 * mf_imap_has_cap() answers from the hint's login capabilities until
 * mf_imap_ahead_finish(): the caller may queue what it would send after
 * the login (never a secret, never a command that changes anything).
 * Otherwise *queued is 0 and the caller logs in with mf_imap_login().
 * Errors as mf_imap_connect(); hint NULL or "": the ordinary way. */
struct mf_imap *mf_imap_connect_ahead(const struct mf_conn *p,
                                      const char *hint, int *queued,
                                      struct mf_err *e);
/* After mf_imap_connect_ahead() and what was queued behind the login:
 * flush, read the greeting and the login's verdict.  1 when the server
 * said what the hint said (or nothing was queued): go on reading the
 * queued replies; 0 when it did not (another greeting or login
 * capabilities, PREAUTH, a continuation instead of the verdict): the
 * queued commands rest on a wrong assumption, free the session and
 * connect the ordinary way; -1 with e (MF_E_AUTH: the login refused). */
int mf_imap_ahead_finish(struct mf_imap *im, struct mf_err *e);
/* What a later session may assume of this server (for
 * mf_imap_connect_ahead): two lines, the capabilities of the greeting and
 * of the login's OK, into out; empty when either was not announced
 * unasked (then no shortcut).  Holds no secret.  0, or -1 with e. */
int mf_imap_hint(const struct mf_imap *im, struct mf_buf *out,
                 struct mf_err *e);
/* Send LOGOUT without waiting for its reply (best effort), close and
 * free. NULL is fine. */
void mf_imap_free(struct mf_imap *im);

/* 1 if the server announced capability `cap` (case-insensitive). */
int mf_imap_has_cap(const struct mf_imap *im, const char *cap);
/* ENABLE each of the space-separated extensions that is offered; then
 * mf_imap_enabled() says which the server enabled.  MF_E_USAGE (nothing
 * sent) when exts has a name of 64 bytes or more or is longer than 510
 * bytes: an extension is never cut or silently left out. */
int mf_imap_enable(struct mf_imap *im, const char *exts, struct mf_err *e);
/* The same in two steps, so ENABLE can share a round trip with the
 * commands queued after it: send queues it (*tag is 0 when nothing is to
 * be enabled), mf_imap_wait_ok(*tag) completes it.  The server handles
 * commands in order, so a command queued after ENABLE already sees the
 * extensions enabled. */
int mf_imap_enable_send(struct mf_imap *im, const char *exts, unsigned *tag,
                        struct mf_err *e);
int mf_imap_enabled(const struct mf_imap *im, const char *ext);

/* Result of a tagged command. */
struct mf_imap_status {
	char status[4];               /* "OK" "NO" "BAD" */
	char code[64];                /* response code name, "" if none */
	char text[512];
	uint32_t append_uidvalidity;  /* [APPENDUID v uid] */
	uint32_t append_uid;
};

/* Called for every untagged response while waiting; return -1 (with e
 * filled) to abort. */
typedef int (*mf_imap_untagged_fn)(void *arg, const struct mf_imap_resp *r,
                                   struct mf_err *e);

/* Commands are queued by the typed calls below (the X_send() ones);
 * flush writes what is queued. */
int mf_imap_flush(struct mf_imap *im, struct mf_err *e);
/* Read responses until command `tag` completes; untagged ones go to fn
 * (may be NULL). Earlier pipelined commands completing meanwhile have
 * their status kept for their own wait.  0 with st filled (st may say NO
 * or BAD), -1 on connection or protocol errors. */
int mf_imap_wait(struct mf_imap *im, unsigned tag, mf_imap_untagged_fn fn,
                 void *arg, struct mf_imap_status *st, struct mf_err *e);
/* Wait for tag as mf_imap_wait(); -1 unless the result is OK
 * (MF_E_PERM for NO, MF_E_TEMP for NO [UNAVAILABLE] or [INUSE],
 * MF_E_PROTO for BAD, the server's text in e). */
int mf_imap_wait_ok(struct mf_imap *im, unsigned tag, mf_imap_untagged_fn fn,
                    void *arg, struct mf_err *e);

/* Literal hooks for bodies (see struct mf_imap_hooks; line is ignored). */
void mf_imap_set_literal_hooks(struct mf_imap *im,
                               const struct mf_imap_hooks *hooks);

/* Append s to out as an IMAP quoted string (MF_E_DATA if s holds CR, LF
 * or NUL). */
int mf_imap_quote(struct mf_buf *out, const char *s, struct mf_err *e);

/* What SELECT/EXAMINE and the responses since said about the mailbox. */
struct mf_imap_mailbox {
	uint32_t exists;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	int nomodseq;
	int readonly;
	int changed;      /* EXISTS/EXPUNGE/VANISHED/FETCH seen since reset */
};
/* The current mailbox info (updated by every response). */
struct mf_imap_mailbox *mf_imap_mailbox(struct mf_imap *im);

/* APPEND a message of `size` bytes read through `read` (returns bytes
 * put into buf, 0 at end, -1 on error) with flags like "\Seen \Flagged"
 * (may be ""). *uid is the new UID when the server says APPENDUID, else 0. */
int mf_imap_append(struct mf_imap *im, const char *mbox_utf7,
                   const char *flags, uint64_t size,
                   ssize_t (*read)(void *arg, char *buf, size_t n),
                   void *arg, uint32_t *uid, struct mf_err *e);

/* IDLE in steps, for a caller that watches several connections at once
 * (RFC 2177).  begin sends IDLE and waits for the go-ahead: the tag to
 * hand to end, or 0 on error (MF_E_UNSUPPORTED without the capability).
 * poll reads what arrives within timeout_ms (0: only what is already
 * there) and hands each untagged response to ev: 1 if one of them
 * changed the mailbox (EXISTS, EXPUNGE, VANISHED, FETCH), 0 if not, -1
 * on error (a BYE is MF_E_CLOSED).  end sends DONE and waits at most
 * timeout_ms for the tagged OK: that round trip proves the connection
 * is alive. */
unsigned mf_imap_idle_begin(struct mf_imap *im,
                            const struct mf_imap_events *ev,
                            struct mf_err *e);
int mf_imap_idle_poll(struct mf_imap *im, int timeout_ms,
                      const struct mf_imap_events *ev, struct mf_err *e);
int mf_imap_idle_end(struct mf_imap *im, unsigned tag, int timeout_ms,
                     const struct mf_imap_events *ev, struct mf_err *e);

/* The descriptor to poll(2) for input, or -2 when input is already
 * buffered (read it without waiting). */
int mf_imap_pollfd(struct mf_imap *im);
/* Timeout of every later read and write in ms; returns the old one. */
int mf_imap_set_timeout(struct mf_imap *im, int timeout_ms);
/* Mark the connection unusable, so mf_imap_free() closes it without a
 * LOGOUT (after a lost connection or an abandoned command). */
void mf_imap_abandon(struct mf_imap *im);

/* Bytes received so far (for --json). */
unsigned long long mf_imap_bytes_in(const struct mf_imap *im);

/* ------------------------------------------------------------------ */
/* Typed responses                                                     */
/*
 * The untagged responses the engines act on, decoded: an engine fills a
 * struct mf_imap_events with the callbacks it needs (NULL: not
 * interested) and gets records, never a token tree.  Pointers in a
 * record live during the callback only.  A callback returns 0, or -1
 * with e filled to abort the wait.
 */

/* Where the BODY[] of a FETCH is. */
enum mf_imap_body {
	MF_IMAP_BODY_NONE,       /* no BODY[] item */
	MF_IMAP_BODY_STREAMED,   /* given to the literal hooks already */
	MF_IMAP_BODY_INLINE,     /* a quoted string or kept literal:
	                            body_data, body_len */
	MF_IMAP_BODY_NIL         /* NIL: the server has no body to give */
};

/* One message of a FETCH response (RFC 3501 §7.4.2). */
struct mf_imap_fetch {
	uint32_t seq;                 /* message sequence number */
	uint32_t uid;                 /* 0: no UID item, or no valid one */
	int has_flags;                /* a FLAGS list was sent ... */
	const char *const *flags;     /* ... these atoms ("\Seen", "$Junk") */
	size_t nflags;
	uint64_t size;                /* RFC822.SIZE, 0 if absent */
	const char *msgid_fields;     /* BODY[HEADER.FIELDS (MESSAGE-ID)]
	                                 text, NULL if absent */
	enum mf_imap_body body;
	const char *body_data;
	size_t body_len;
};

/* One LIST response (RFC 3501 §7.2.2). */
struct mf_imap_listed {
	const char *const *attrs;     /* "\Noselect", "\Sent" ... */
	size_t nattrs;
	char delim;                   /* hierarchy delimiter, 0 for NIL */
	const char *name;             /* modified UTF-7, name_len bytes */
	size_t name_len;
};

/* One STATUS response (RFC 3501 §7.2.4): the attributes it held. */
struct mf_imap_mbox_status {
	const char *mbox;             /* modified UTF-7, mbox_len bytes */
	size_t mbox_len;
	unsigned items;               /* MF_IMAP_STATUS_* present */
	uint64_t messages;
	uint64_t uidnext;
	uint64_t uidvalidity;
	uint64_t highestmodseq;
};

struct mf_imap_events {
	/* each message of a FETCH response */
	int (*fetch)(void *arg, const struct mf_imap_fetch *m,
	             struct mf_err *e);
	/* VANISHED [(EARLIER)] (RFC 7162 §3.2.10): uids is a UID set */
	int (*vanished)(void *arg, const char *uids, int earlier,
	                struct mf_err *e);
	int (*list)(void *arg, const struct mf_imap_listed *l,
	            struct mf_err *e);
	int (*status)(void *arg, const struct mf_imap_mbox_status *s,
	              struct mf_err *e);
	/* EXISTS, EXPUNGE, VANISHED or FETCH: the selected mailbox changed
	 * (called before the typed callback of that response) */
	int (*changed)(void *arg, struct mf_err *e);
	void *arg;
};

/* An mf_imap_untagged_fn that decodes each response for the struct
 * mf_imap_events `events` points to. */
int mf_imap_events_fn(void *events, const struct mf_imap_resp *r,
                      struct mf_err *e);
/* mf_imap_wait_ok() with the untagged responses going to ev (may be
 * NULL). */
int mf_imap_wait_events(struct mf_imap *im, unsigned tag,
                        const struct mf_imap_events *ev, struct mf_err *e);

/* ------------------------------------------------------------------ */
/* Typed commands                                                      */
/*
 * The commands the engines send, spelled here and nowhere else.  Each
 * X_send() only queues its command (nothing is flushed, so the caller
 * can pipeline several in one write) and sets *tag for mf_imap_wait()
 * or mf_imap_wait_ok(); it returns 0, or -1 with *tag 0.  Each blocking
 * X() sends, flushes and waits: -1 unless the result is OK (MF_E_PERM
 * for NO, MF_E_TEMP for NO [UNAVAILABLE] or [INUSE], MF_E_PROTO for BAD).
 *
 * Mailbox names are in modified UTF-7 (RFC 3501 §5.1.3) and sent as
 * quoted strings; a UID set is a sequence set of digits, ':', ',' and
 * '*' ("1:*", "4,7:9").  An argument holding CR or LF (or a set holding
 * anything else) is refused with MF_E_DATA before anything is queued.
 */

/* FETCH data items (RFC 3501 §6.4.5), or'ed; sent in this order. */
#define MF_IMAP_FETCH_UID        0x01u  /* UID */
#define MF_IMAP_FETCH_FLAGS      0x02u  /* FLAGS */
#define MF_IMAP_FETCH_SIZE       0x04u  /* RFC822.SIZE */
#define MF_IMAP_FETCH_MESSAGE_ID 0x08u  /* BODY.PEEK[HEADER.FIELDS
                                           (MESSAGE-ID)] */
#define MF_IMAP_FETCH_BODY       0x10u  /* BODY.PEEK[]: the whole message,
                                           \Seen left alone */

/* UID FETCH set (items): each message's FETCH response goes to the
 * wait's ev->fetch (mf_imap_wait_events()), once per message; BODY[]
 * bytes arrive through the literal hooks as they come (a record then
 * says MF_IMAP_BODY_STREAMED). */
int mf_imap_uid_fetch_send(struct mf_imap *im, const char *set,
                           unsigned items, unsigned *tag, struct mf_err *e);
int mf_imap_uid_fetch(struct mf_imap *im, const char *set, unsigned items,
                      const struct mf_imap_events *ev, struct mf_err *e);

/* How to open a mailbox. */
#define MF_IMAP_SELECT_READONLY  0x01u  /* EXAMINE instead of SELECT */
#define MF_IMAP_SELECT_CONDSTORE 0x02u  /* (CONDSTORE), RFC 7162 §3.1.8 */

/* What QRESYNC needs to report the changes since (RFC 7162 §3.2.5). */
struct mf_imap_qresync {
	uint32_t uidvalidity;
	uint64_t modseq;
};

/* SELECT (EXAMINE with MF_IMAP_SELECT_READONLY) mbox, with QRESYNC when
 * q is not NULL (then MF_IMAP_SELECT_CONDSTORE is implied and not sent).
 * The facts of mf_imap_mailbox() start afresh for its replies; with
 * QRESYNC the VANISHED and FETCH responses go to the wait's ev. */
int mf_imap_select_send(struct mf_imap *im, const char *mbox_utf7,
                        unsigned how, const struct mf_imap_qresync *q,
                        unsigned *tag, struct mf_err *e);

/* UID STORE set +FLAGS.SILENT (flags) or -FLAGS.SILENT (flags): flags
 * is a space-separated list such as "\Seen \Flagged" (no parentheses). */
enum mf_imap_store_op {
	MF_IMAP_STORE_ADD,
	MF_IMAP_STORE_REMOVE
};
int mf_imap_uid_store_send(struct mf_imap *im, const char *set,
                           enum mf_imap_store_op op, const char *flags,
                           unsigned *tag, struct mf_err *e);
int mf_imap_uid_store(struct mf_imap *im, const char *set,
                      enum mf_imap_store_op op, const char *flags,
                      struct mf_err *e);

/* UID EXPUNGE set (RFC 4315 §2.1): only these \Deleted messages.
 * MF_E_UNSUPPORTED without UIDPLUS. */
int mf_imap_uid_expunge_send(struct mf_imap *im, const char *set,
                             unsigned *tag, struct mf_err *e);
int mf_imap_uid_expunge(struct mf_imap *im, const char *set,
                        struct mf_err *e);

/* UID SEARCH UID from:* HEADER field value (RFC 3501 §6.4.4): each UID
 * found is handed to each() (return -1 with e filled to stop).  from 0
 * is taken as 1. */
int mf_imap_uid_search_header_send(struct mf_imap *im, uint32_t from,
                                   const char *field, const char *value,
                                   unsigned *tag, struct mf_err *e);
int mf_imap_uid_search_header(struct mf_imap *im, uint32_t from,
                              const char *field, const char *value,
                              int (*each)(void *arg, uint32_t uid,
                                          struct mf_err *e),
                              void *arg, struct mf_err *e);

/* STATUS attributes (RFC 3501 §6.3.10, RFC 7162 §3.1.6), or'ed; sent in
 * this order. */
#define MF_IMAP_STATUS_MESSAGES      0x01u
#define MF_IMAP_STATUS_UIDNEXT       0x02u
#define MF_IMAP_STATUS_UIDVALIDITY   0x04u
#define MF_IMAP_STATUS_HIGHESTMODSEQ 0x08u

/* LIST "" pattern: npats patterns in one command need LIST-EXTENDED
 * (RFC 5258 §3), MF_IMAP_LIST_SPECIAL_USE asks for the special-use
 * attributes too (RFC 6154 §2, needs LIST-EXTENDED and SPECIAL-USE),
 * status (MF_IMAP_STATUS_* or'ed, 0 for none) asks for each listed
 * mailbox's STATUS in the same answer (RFC 5819 §2, needs LIST-EXTENDED
 * and LIST-STATUS); else MF_E_UNSUPPORTED.  The LIST responses go to the
 * wait's ev->list, the STATUS ones to ev->status. */
#define MF_IMAP_LIST_SPECIAL_USE 0x01u
int mf_imap_list_send(struct mf_imap *im, const char *const *pats_utf7,
                      size_t npats, unsigned how, unsigned status,
                      unsigned *tag, struct mf_err *e);
/* STATUS mbox (items): the STATUS response goes to ev->status. */
int mf_imap_status_send(struct mf_imap *im, const char *mbox_utf7,
                        unsigned items, unsigned *tag, struct mf_err *e);
int mf_imap_status(struct mf_imap *im, const char *mbox_utf7, unsigned items,
                   const struct mf_imap_events *ev, struct mf_err *e);

/* NOOP: brings the selected mailbox's news (EXISTS, EXPUNGE, FETCH) to
 * ev, and proves the connection alive. */
int mf_imap_noop_send(struct mf_imap *im, unsigned *tag, struct mf_err *e);
int mf_imap_noop(struct mf_imap *im, const struct mf_imap_events *ev,
                 struct mf_err *e);

/* NOTIFY SET STATUS (RFC 5465 §3): new, expunged and re-flagged
 * messages of the selected mailbox as usual, those of the nmbox others
 * as STATUS responses. */
int mf_imap_notify_set_status(struct mf_imap *im,
                              const char *const *mboxes_utf7, size_t nmbox,
                              struct mf_err *e);

#endif
