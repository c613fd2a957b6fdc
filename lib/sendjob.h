/* sendjob.h - mailsend's modes as library calls: compose or take a ready
 * message, find its envelope, then send it (RFC 5321, RFC 6409), print it
 * (dry run), queue it after a temporary failure, send a directory of
 * messages over one session, or flush and list the queue (queue.h).
 *
 * The tool fills struct mf_sendjob_params from its options, resolves the
 * account into struct mf_settings (settings.h, through lib/cli), and
 * calls one mode; results
 * come back in structs and callbacks.  Nothing here prints or exits, and
 * the choice of exit status stays with the tool (its own map of
 * struct mf_err), except where queue.h already decides "temporary"
 * (mf_queue_flush).
 *
 * Must not: print or exit (results go through the report callbacks). */
#ifndef MF_SENDJOB_H
#define MF_SENDJOB_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "maillog.h"
#include "queue.h"
#include "seal.h"
#include "smtp.h"
#include "transcript.h"

/* The run's effective settings (settings.h); only pointed to here. */
struct mf_settings;

#define MF_SENDJOB_LIST_MAX 256       /* each repeatable option */
#define MF_SENDJOB_MSG_MAX ((size_t)256 << 20)

/* What the command line asked for.  Strings are borrowed: they must
 * outlive the job. */
struct mf_sendjob_params {
	const char *to[MF_SENDJOB_LIST_MAX], *cc[MF_SENDJOB_LIST_MAX];
	const char *bcc[MF_SENDJOB_LIST_MAX];
	const char *hdr[MF_SENDJOB_LIST_MAX];   /* "Name: value" */
	const char *att[MF_SENDJOB_LIST_MAX];   /* "FILE[;type=T][;name=N]" */
	size_t nto, ncc, nbcc, nhdr, natt;
	const char *subject, *body, *html;      /* body/html: TEXT, @FILE, - */
	const char *message;                    /* ready message: FILE or - */
	const char *from, *from_name;
	const char *dsn_notify, *dsn_ret, *envid;
	int read_rcpts;      /* -t: recipients from To/Cc/Bcc */
	int dot_ok;          /* -i / -oi: a lone "." does not end stdin */
	int sendmail;        /* invoked as sendmail */
	int no_chunking, no_pipelining;
	char *const *args;   /* positional recipients */
	size_t nargs;
	struct mf_seal_params seal;   /* signing/encryption (seal.h); the
	                                 account's keys fill what is unset */
	mf_seal_note_fn note;         /* told what sealing did; may be NULL */
	void *note_arg;
};

/* One message's outcome: the final reply and each recipient's reply
 * (rcpt[i] answers rcpts[i]); borrowed from the job until its next call. */
struct mf_sendjob_result {
	struct mf_smtp_result smtp;
	const char *const *rcpts;
	size_t nrcpts;
};

struct mf_sendjob;

/* What became of recipient i (i < res->nrcpts): MF_OK delivered (SMTP:
 * accepted, the server took the message for it), MF_E_TEMP a 4xx reply,
 * MF_E_PERM a 5xx one.  The deciding reply -- to RCPT when it refused
 * the recipient, else LMTP's own reply after the data (RFC 2033 §4.2),
 * else the RCPT reply -- goes to *code, *enhanced, *text, and *after_data
 * says which (1: after the data). */
enum mf_err_kind mf_sendjob_rcpt_outcome(const struct mf_sendjob_result *res,
                                         size_t i, int *code,
                                         const char **enhanced,
                                         const char **text, int *after_data);

/* The exit status of a sent message: with LMTP every recipient is a
 * delivery of its own and the worst decides (0, 75 when one was deferred,
 * 69 when one was refused permanently); with SMTP 0. */
int mf_sendjob_exit(const struct mf_sendjob_result *res, int lmtp);

/* One message's --json record (mailflow(7)): {"type": "message", "message":
 * id, "status": status ("sent", "queued", "deferred", "failed"), "exit",
 * "reply": {code, enhanced, text}, "refused": [{recipient, code, enhanced,
 * text}], "recipients": [{recipient, result ("delivered", "deferred",
 * "refused"), stage ("rcpt", "data"), code, enhanced, text}] (every
 * recipient with the reply that decided it), "error": {kind, message}}.
 * res and e may be NULL. */
void mf_sendjob_json(struct mf_json *j, const char *id,
                     const struct mf_sendjob_result *res, const char *status,
                     int exit_status, const struct mf_err *e);

/* Append s to a repeatable option's list; MF_E_USAGE naming `what` when the
 * list is full. */
int mf_sendjob_push(const char **v, size_t *n, const char *s, const char *what,
                    struct mf_err *e);

/* sendmail's -o flags: "i" sets dot_ok; the others (-oem, -odb ...)
 * are accepted and ignored, as sendmail compatible programs do. */
void mf_sendjob_sendmail_o(struct mf_sendjob_params *p, const char *arg);

/* 1 when argv0's base name is "sendmail". */
int mf_sendjob_is_sendmail(const char *argv0);

/* 1 when the options compose a message but none of them gives its text
 * (no --body, --html, --message or -t): the body is then standard input,
 * as mail(1) reads it.  The tool sets p->body to "-" (after telling a
 * person at a terminal how to end it). */
int mf_sendjob_body_from_stdin(const struct mf_sendjob_params *p);

/* Check option values (MF_E_USAGE, e.g. --dsn-ret not full/hdrs). */
int mf_sendjob_check(const struct mf_sendjob_params *p, struct mf_err *e);

/* Fill in defaults: port 465 with implicit TLS, else 587 with STARTTLS
 * required (RFC 8314 §3).  MF_E_CONFIG when no server is known and
 * need_host is set. */
int mf_sendjob_settle(struct mf_settings *st, int need_host, struct mf_err *e);

/* 1 when st says protocol lmtp (RFC 2033). */
int mf_sendjob_is_lmtp(const struct mf_settings *st);

/* The TLS session cache key of st: 32 lowercase hex digits (SHA-256 of
 * host, port, TLS mode, SNI, trust file, pin, --insecure, client
 * certificate and key, name checked) into out (at least 33 bytes).  Two
 * settings share a cached session only when all of these are equal.  -1
 * when out is too small or hashing fails. */
int mf_sendjob_session_key(const struct mf_settings *st, char *out,
                           size_t outlen);

/* A job over p and st (both borrowed; st must stay where it is), tr (may
 * be NULL) for the SMTP transcript.  A TLS session cache file per account
 * under the state directory is used when it can be made. */
struct mf_sendjob *mf_sendjob_new(const struct mf_sendjob_params *p,
                                  const struct mf_settings *st,
                                  struct mf_transcript *tr, struct mf_err *e);
/* QUIT any open session and free; NULL is fine. */
void mf_sendjob_free(struct mf_sendjob *j);

/* Build the one message of a single send: composed from the options, or
 * a ready message (--message, -t, sendmail mode, or no composing option:
 * standard input), with its recipients and envelope sender.  MF_E_USAGE
 * for no sender or no recipients, MF_E_DATA / MF_E_IO for bad input. */
int mf_sendjob_prepare(struct mf_sendjob *j, struct mf_err *e);

/* The prepared envelope and message as --dry-run shows them, appended to
 * out. */
int mf_sendjob_dry_run(const struct mf_sendjob *j, struct mf_buf *out,
                       struct mf_err *e);

/* Send the prepared message (opening a session when needed).  Errors as
 * mf_smtp_client_send(). */
int mf_sendjob_send(struct mf_sendjob *j, struct mf_sendjob_result *res,
                    struct mf_err *e);

/* A message composed by the caller (mailsend --jsonl) in place of
 * mf_sendjob_prepare(): msg, sender and recipients are copied into the
 * job; the DSN fields (NULL: the options') apply to this message only.
 * Local recipients are mapped and the message is signed or encrypted as
 * mf_sendjob_prepare() does; mf_sendjob_send() and mf_sendjob_enqueue()
 * then work on it.  MF_E_USAGE for no recipients or a bad address; the
 * errors of signing (MF_E_CONFIG for an unusable key). */
struct mf_sendjob_message {
	const char *from;                 /* envelope sender, addr-spec */
	const char *const *rcpts;         /* addr-specs */
	size_t nrcpts;
	const char *msg;
	size_t len;
	const char *dsn_notify, *dsn_ret, *envid;
};
int mf_sendjob_set_message(struct mf_sendjob *j,
                           const struct mf_sendjob_message *m,
                           struct mf_err *e);

/* 1 while the job has an SMTP session open (mailsend --jsonl tells a
 * session the server closed from a message that failed). */
int mf_sendjob_connected(const struct mf_sendjob *j);

/* Keep the prepared message in the queue (after a temporary failure);
 * its id and the queue's directory are written to id and dir. */
int mf_sendjob_enqueue(struct mf_sendjob *j, char *id, size_t idlen,
                       char *dir, size_t dirlen, struct mf_err *e);

/* The log line (maillog.h) of the message last prepared or sent: the
 * settings' account, host, port, tls, user, then from, recipients,
 * mailsize, the server's final reply (smtpstatus, smtpmsg) when res is
 * given, else errormsg from e, queued=ID when queued_id is set, and
 * exitcode from status.  Never a secret. */
void mf_sendjob_log_line(const struct mf_sendjob *j,
                         const struct mf_sendjob_result *res,
                         const struct mf_err *e, int status,
                         const char *queued_id, struct mf_maillog_line *l);

/* Told about each message of a batch or a flush: `what` is the file or
 * queue id; status 0 with res when it was sent, else e (with, for a
 * flush, the exit status queue.h chose in status; for a batch -1). */
typedef void (*mf_sendjob_report_fn)(void *arg, const char *what,
                                     const struct mf_sendjob_result *res,
                                     int status, const struct mf_err *e);

/* Send every message file in dir (or a Maildir's new/ and cur/) over one
 * session; a failed message does not stop the rest.  -1 only when dir
 * cannot be read. */
int mf_sendjob_batch(struct mf_sendjob *j, const char *dir,
                     mf_sendjob_report_fn report, void *arg, struct mf_err *e);

/* Send the queued messages of the account (queue.h's mf_queue_flush);
 * stats filled. */
int mf_sendjob_flush(struct mf_sendjob *j, mf_sendjob_report_fn report,
                     void *arg, struct mf_queue_stats *stats,
                     struct mf_err *e);

/* Call fn with one line per queued message (mf_queue_format_entry). */
int mf_sendjob_list(struct mf_sendjob *j,
                    void (*fn)(void *arg, const char *line), void *arg,
                    struct mf_err *e);

#endif
