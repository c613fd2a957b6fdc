/* maildir.h - Maildir storage (https://cr.yp.to/proto/maildir.html),
 * written so that a message is never lost and never half-visible.
 *
 * Delivery: mf_maildir_begin() opens a file in tmp/ with a unique name,
 * mf_maildir_write() streams the message into it, mf_maildir_commit()
 * fsyncs the file and renames it into new/ or cur/.  The rename is durable
 * only after mf_maildir_sync() has fsynced the directories: callers may
 * commit several messages and sync once (group commit), but must not
 * record a message as delivered (or delete it on the server) before the
 * sync returned.
 * Names: "<sec>.M<usec>P<pid>Q<n>.<host>[,U=<uid>][:2,<flags>]"; the
 * optional ",K=V" fields (U= for a server UID) let state be rebuilt from
 * the directory alone.  Flags are Maildir's letters, kept sorted:
 * D draft, F flagged, P passed, R replied, S seen, T trashed, and a-z
 * for keywords (the folder's table, kwtable.h). */
#ifndef MF_MAILDIR_H
#define MF_MAILDIR_H

#include <stddef.h>

#include "err.h"

struct mf_maildir;
struct mf_maildir_msg;

/* Open the Maildir at path; with create, make path, tmp/, new/ and cur/
 * (mode 0700) as needed, and (being about to deliver) remove tmp/
 * leftovers: files in our own name pattern for this host whose writing
 * process is gone, and anybody's older than 36 hours (the Maildir spec).
 * MF_E_IO when it is not a usable Maildir. */
struct mf_maildir *mf_maildir_open(const char *path, int create,
                                   struct mf_err *e);
void mf_maildir_close(struct mf_maildir *md);
const char *mf_maildir_path(const struct mf_maildir *md);

/* Take an exclusive lock on the Maildir (a lock file inside it), waiting
 * up to wait_ms (0: do not wait). MF_E_TEMP with a message naming the
 * lock file when another process holds it. Released at close. */
int mf_maildir_lock(struct mf_maildir *md, int wait_ms, struct mf_err *e);

/* Start a new message in tmp/ (in batch mode its file may be created
 * only later, by the writer). */
struct mf_maildir_msg *mf_maildir_begin(struct mf_maildir *md,
                                        struct mf_err *e);
/* Append bytes (buffered). A full disk is MF_E_IO with ENOSPC (in batch
 * mode it may be reported only by a later commit or the sync). */
int mf_maildir_write(struct mf_maildir_msg *m, const void *p, size_t n,
                     struct mf_err *e);
/* Bytes written so far. */
size_t mf_maildir_msg_size(const struct mf_maildir_msg *m);
/* fsync the file and rename it into `subdir` ("new" or "cur").  `fields`
 * (e.g. "U=42", or NULL) is appended to the unique name as ",U=42";
 * `flags` (e.g. "FS", or NULL for none) gives ":2,FS" -- only in cur/.
 * The final name relative to the Maildir ("cur/...") is written to
 * out_name if given. Frees m on success and on failure (then the tmp file
 * is removed). */
int mf_maildir_commit(struct mf_maildir_msg *m, const char *subdir,
                      const char *fields, const char *flags,
                      char *out_name, size_t out_len, struct mf_err *e);
/* Give up: remove the tmp file and free m. NULL is fine. */
void mf_maildir_abort(struct mf_maildir_msg *m);

/* fsync new/ and cur/ (and tmp/): the group-commit point.  A group
 * started by mf_maildir_sync_start() is waited for first. */
int mf_maildir_sync(struct mf_maildir *md, struct mf_err *e);
/* Batch mode: the same sync for the messages committed so far, on a
 * thread of its own, so that the caller goes on receiving (and committing
 * the next group) while the disk works.  A group already syncing is
 * waited for first.  None of the group's messages may be recorded until
 * mf_maildir_sync_wait() has returned 0 for it; if it returns -1 the
 * files not yet renamed into place were removed, and those renamed are
 * found again as any unrecorded delivery is. */
int mf_maildir_sync_start(struct mf_maildir *md, struct mf_err *e);
/* Wait for the group mf_maildir_sync_start() started (0 when none). */
int mf_maildir_sync_wait(struct mf_maildir *md, struct mf_err *e);

/* Batch mode (off by default; set it before the first message):
 * mf_maildir_commit() computes the final name and hands the message to a
 * writer thread, which creates its file in tmp/ (a message up to 256 KiB
 * is kept in memory until then; a larger one gets its file at the first
 * 256 KiB), writes it, starts its write-back (sync_file_range) and keeps it
 * open; at most 2 MiB wait for the writer, further commits wait.
 * mf_maildir_sync() then waits for the writer, fdatasyncs each pending
 * file on 16 threads at once (only those files: nothing else on the file
 * system is flushed), only afterwards renames them into place and fsyncs
 * the directories.  Same guarantee as one fsync per file -- no file is
 * ever visible in new/ or cur/ before its data is on disk -- at a fraction
 * of the cost for many small messages, as the disk writes while the group
 * arrives.  A write that fails on the writer (a full disk) fails the
 * group: that sync, and every commit and sync after it, return -1 with
 * the writer's error.  At most 256 pending files (a quarter of
 * RLIMIT_NOFILE when lower) stay open: at that cap the writer fdatasyncs
 * and closes the open ones first, still without renaming them.  The first
 * 16 MiB written stay in the page cache; every later file's pages are
 * dropped once it is synced (a bulk fetch does not push the rest of the
 * system out of the cache).  The writer and the lanes block every signal,
 * so the caller's thread is the one a signal interrupts.  Until the sync,
 * committed messages are
 * invisible; at close, a group syncing is waited for, and pending ones
 * and those the writer had not written are removed (never delivered). */
void mf_maildir_set_batch(struct mf_maildir *md, int on);
/* Messages committed but not yet made durable by mf_maildir_sync(). */
size_t mf_maildir_pending(const struct mf_maildir *md);

/* Call fn for every message file in new/ and cur/ (name is relative to
 * the Maildir, e.g. "cur/123.M1P2Q3.host,U=7:2,S"). A non-zero return of
 * fn stops the walk and is returned. */
int mf_maildir_scan(struct mf_maildir *md,
                    int (*fn)(void *arg, const char *name), void *arg,
                    struct mf_err *e);

/* Change the flags of a message (renames within cur/, or from new/ into
 * cur/). rel is "new/..." or "cur/..."; the new relative name is written
 * to out_name. */
int mf_maildir_set_flags(struct mf_maildir *md, const char *rel,
                         const char *flags, char *out_name, size_t out_len,
                         struct mf_err *e);

/* Remove a message file (rel as above) and sync the directory. */
int mf_maildir_remove(struct mf_maildir *md, const char *rel,
                      struct mf_err *e);

/* ---- the file-name grammar: pure helpers (no I/O) ----
 * Every module that makes, reads or changes a Maildir name goes through
 * these; nobody else spells ":2," or ",K=V".  Functions that write a name
 * return -1 (and leave out "") when it would not fit in len. */

/* The unique part of a new name: "<sec>.M<usec>P<pid>Q<q>.<host>". */
int mf_maildir_name_unique(char *out, size_t len, long long sec, long usec,
                           long pid, unsigned long q, const char *host);
/* The base of a name: no directory ("cur/") and no info (":2,..."). */
int mf_maildir_name_base(const char *name, char *out, size_t len);
/* base with every ",K=V" field whose one-letter key is in drop removed,
 * then ",field" appended when field is not NULL ("U=42"). -1 also for a
 * field that is empty or holds '/' or ':'. */
int mf_maildir_name_refield(const char *base, const char *drop,
                            const char *field, char *out, size_t len);
/* A numeric field "K=v" (e.g. "U=42") for the calls above. */
int mf_maildir_field_num(char *out, size_t len, const char *key,
                         unsigned long v);
/* Append the field "K=V" to the field list out ("P=a" + H,b -> "P=a,H=b";
 * start with out ""): the fields argument of mf_maildir_commit. */
int mf_maildir_field_add(char *out, size_t len, const char *key,
                         const char *val);
/* The name relative to the Maildir: "cur/base:2,FLAGS" (flags normalised)
 * in cur/, "new/base" in new/ (a message in new/ has no info part). */
int mf_maildir_name_format(char *out, size_t len, const char *subdir,
                           const char *base, const char *flags);

/* The flags of a file name ("" when it has no ":2," part). */
void mf_maildir_name_flags(const char *name, char *flags, size_t len);
/* Value of field K (",K=V" before ":2,") into out; -1 if absent. */
int mf_maildir_name_field(const char *name, const char *key, char *out,
                          size_t len);
/* Normalise a flag string: unique, sorted (A-Z, then the keyword
 * letters a-z), only letters kept. */
void mf_maildir_flags_normalise(const char *in, char *out, size_t len);

#endif
