/* queue.h - mailsend's queue directory: messages kept after a temporary
 * failure, sent later, never twice and never lost.
 *
 * Layout under DIR (each 0700): tmp/ (being written), new/ (waiting),
 * sending/ (claimed by a flusher), failed/ (refused for good).  One file
 * per message: a small envelope block, a blank line, the message as it
 * will be sent.  Adding writes tmp/, fsyncs, renames into new/ and fsyncs
 * new/.  Flushing claims a message by renaming it into sending/ with the
 * flusher's pid appended ("ID@PID"), so two flushers never take the same
 * one; the file is removed only after the server accepted the message.
 * A claim whose process is gone (killed mid-flush) goes back to new/ at
 * the next flush.  The one window a message can go twice is between the
 * server's final 250 and the unlink right after it (RFC 1047's problem,
 * inherent to SMTP).
 *
 * Must not: speak SMTP (a flush's send callback does), remove a message
 * before that callback reports it accepted, print or exit. */
#ifndef MF_QUEUE_H
#define MF_QUEUE_H

#include <stddef.h>

#include "err.h"

#define MF_QUEUE_RCPT_MAX 1000

struct mf_queue_entry {
	char id[96];
	char state[16];             /* "new", "sending", "failed" */
	char account[128];          /* "" when no account was named */
	char from[512];
	char *rcpts[MF_QUEUE_RCPT_MAX];
	size_t nrcpts;
	char dsn_notify[64];
	char dsn_ret[16];
	int smtputf8;
	char *msg;                  /* the message (owned) */
	size_t len;
};

struct mf_queue;

/* Open the queue at dir, creating it (0700) when missing. */
struct mf_queue *mf_queue_open(const char *dir, struct mf_err *e);
void mf_queue_close(struct mf_queue *q);
const char *mf_queue_path(const struct mf_queue *q);

/* Store ent (its id is set here) durably. */
int mf_queue_add(struct mf_queue *q, struct mf_queue_entry *ent,
                 struct mf_err *e);

/* Free what an entry owns (rcpts, msg); the struct itself is the
 * caller's. */
void mf_queue_entry_free(struct mf_queue_entry *ent);

/* Call fn for every queued message (new/, sending/, failed/), with the
 * message not loaded (msg NULL, len its size). */
int mf_queue_list(struct mf_queue *q,
                  int (*fn)(void *arg, const struct mf_queue_entry *ent),
                  void *arg, struct mf_err *e);

/* Claim the next waiting message of `account` (NULL: any) and load it.
 * Returns 1 with ent filled, 0 when none is left, -1 on error.  Claims of
 * dead processes are returned to new/ first. */
int mf_queue_claim(struct mf_queue *q, const char *account,
                   struct mf_queue_entry *ent, struct mf_err *e);
/* The claimed message was accepted: remove it (and fsync). */
int mf_queue_done(struct mf_queue *q, const struct mf_queue_entry *ent,
                  struct mf_err *e);
/* Temporary failure: back to new/. */
int mf_queue_release(struct mf_queue *q, const struct mf_queue_entry *ent,
                     struct mf_err *e);
/* Permanent failure: into failed/ (kept for the user to look at). */
int mf_queue_fail(struct mf_queue *q, const struct mf_queue_entry *ent,
                  struct mf_err *e);

/* Store a message with its envelope in one call; the new id is written
 * to id. */
int mf_queue_add_message(struct mf_queue *q, const char *account,
                         const char *from, char *const *rcpts, size_t nrcpts,
                         const char *dsn_notify, const char *dsn_ret,
                         const char *msg, size_t len, char *id, size_t idlen,
                         struct mf_err *e);

/* What a flush did. */
struct mf_queue_stats {
	size_t sent, deferred, failed;
	int last_status;          /* sysexits status of the last failure, 0 */
};

/* Send every waiting message of `account` (NULL: all) with send(): it
 * returns 0 when the server accepted the message (it is removed), -1 on
 * failure with e filled (a temporary one -- exit status 75 -- puts it
 * back in new/, any other moves it to failed/), -2 the same but stop the
 * flush (the server is unreachable).  report (may be NULL) is told each
 * outcome: status 0 sent, else the failure's exit status. */
int mf_queue_flush(struct mf_queue *q, const char *account,
                   int (*send)(void *arg, const struct mf_queue_entry *ent,
                               struct mf_err *e),
                   void (*report)(void *arg, const struct mf_queue_entry *ent,
                                  int status, const struct mf_err *e),
                   void *arg, struct mf_queue_stats *st, struct mf_err *e);

/* The queue directory `configured` (the account's queue setting), else
 * STATE/queue under mf_config_state_dir(); opened (and created). */
struct mf_queue *mf_queue_open_default(const char *configured,
                                       struct mf_err *e);

/* One line for --list-queue: "ID STATE N bytes from <F> to <R>...". */
void mf_queue_format_entry(const struct mf_queue_entry *ent, char *out,
                           size_t outlen);

/* The path of a per-account state file STATE/PREFIX-NAME (NAME with
 * anything but [A-Za-z0-9._-] made "_"), creating the state directory
 * (0700). -1 when there is no state directory. */
int mf_queue_state_file(const char *prefix, const char *name, char *out,
                        size_t outlen);

/* The message files of dir, sorted by name: the regular files in it, or
 * for a Maildir (it has cur/ and new/) those of new/ and cur/.  fn gets
 * each path; a non-zero return stops the walk and is returned. */
int mf_queue_scan_dir(const char *dir,
                      int (*fn)(void *arg, const char *path), void *arg,
                      struct mf_err *e);

/* Read a whole file (or stdin for "-") into *out (malloc'd, NUL-ended),
 * at most max bytes (MF_E_DATA past it). */
int mf_queue_read_file(const char *path, size_t max, char **out, size_t *len,
                       struct mf_err *e);

#endif
