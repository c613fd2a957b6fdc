/* syncstate.h - what imap-sync knows about one folder, surviving crashes.
 *
 * Per folder: UIDVALIDITY, HIGHESTMODSEQ, UIDNEXT, a map from server
 * UID to (last synchronised flag set -- flags and keywords, imapflags.h --,
 * status, local Maildir base name), and the folder's keyword letters when
 * its Maildir has no dovecot-keywords file (kwtable.h).
 * Storage: a snapshot file KEY.state rewritten atomically (temp file,
 * fsync, rename, directory fsync) and a write-ahead journal KEY.journal of
 * changes since.  Changes are made in memory, then mf_syncstate_commit()
 * appends them to the journal and fsyncs it: one commit for a group of
 * messages (group commit).  Callers record a message only after its file
 * is durable.  A torn last journal line (crash during the write) is
 * ignored; a journal whose generation differs from the snapshot's is
 * stale (crash after a rewrite) and ignored too.
 *
 * Must not: leave a half-written state file (temp file, fsync, rename),
 * print or exit. */
#ifndef MF_SYNCSTATE_H
#define MF_SYNCSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define MF_SS_GONE_REMOTE 0x1u  /* expunged on the server, kept locally */
#define MF_SS_GONE_LOCAL  0x2u  /* deleted locally, kept on the server */

#define MF_SYNCSTATE_KEYWORDS  26     /* keyword letters a-z */
#define MF_SYNCSTATE_FLAGS_MAX 2048   /* a flag set, with its NUL */

struct mf_syncstate_entry {
	uint32_t uid;
	unsigned status;     /* MF_SS_* bits */
	char *flags;         /* the flag set at the last sync: letters among
	                        "DFPRST", then " KEYWORD" each (imapflags.h) */
	char *base;          /* Maildir file name without ":2,..." and dir */
};

struct mf_syncstate;

/* Load (or start empty) the state KEY in directory dir (created 0700 if
 * missing). key must be a plain file name. MF_E_IO on I/O errors,
 * MF_E_DATA when the snapshot is corrupt. */
struct mf_syncstate *mf_syncstate_open(const char *dir, const char *key,
                                       struct mf_err *e);
/* Open as mf_syncstate_open() but read only the folder's values
 * (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, keywords) and count the entries,
 * a chunk at a time: memory stays flat in the folder's size.  Until
 * mf_syncstate_load(), _count() is that number, _at() and _get() find
 * nothing and every change fails (MF_E_INTERNAL).  A journal with records
 * (a run that did not end cleanly) makes it read everything at once. */
struct mf_syncstate *mf_syncstate_open_head(const char *dir, const char *key,
                                            struct mf_err *e);
/* Read the entries _open_head() left out (nothing if read already;
 * MF_E_INTERNAL after _load_some()). */
int mf_syncstate_load(struct mf_syncstate *s, struct mf_err *e);
/* Read only the entries whose UIDs are in ranges: n pairs (lo, hi),
 * lo <= hi, sorted and apart (the set is copied).  The rest of the
 * snapshot stays on disk, so memory grows with the pick, not the folder.
 * Then _count() is still every entry, _held() and _at() cover the
 * entries read, _get() finds none outside the pick, a change outside it
 * fails (MF_E_INTERNAL) and _compact() merges the old snapshot, a chunk
 * at a time, with what is held: 1.  A state read whole already, or with
 * a journal to replay, is read whole instead: 0.  n must not be 0. */
int mf_syncstate_load_some(struct mf_syncstate *s, const uint32_t *ranges,
                           size_t n, struct mf_err *e);
/* 1 when uid is in ranges: n pairs (lo, hi), sorted and apart. */
int mf_uid_ranges_has(const uint32_t *ranges, size_t n, uint32_t uid);
/* Stream mode, for a state without entries that will only gain them (a
 * first pull): from here on an entry put is kept in the journal alone,
 * with its UID in memory (4 bytes), and _compact() writes the snapshot
 * from the journal a chunk at a time.  It starts with a _compact().  Then
 * _get() only says whether a UID was put (its entry's flags and base are
 * empty), _at() finds nothing, _del() and _reset() fail. */
int mf_syncstate_stream(struct mf_syncstate *s, struct mf_err *e);
/* Free without writing anything uncommitted. NULL is fine. */
void mf_syncstate_free(struct mf_syncstate *s);

uint32_t mf_syncstate_uidvalidity(const struct mf_syncstate *s);
uint64_t mf_syncstate_modseq(const struct mf_syncstate *s);
uint32_t mf_syncstate_uidnext(const struct mf_syncstate *s);
/* Set values (journalled at the next commit). */
int mf_syncstate_set_modseq(struct mf_syncstate *s, uint64_t v,
                            struct mf_err *e);
int mf_syncstate_set_uidnext(struct mf_syncstate *s, uint32_t v,
                             struct mf_err *e);
/* Forget every entry and start over with a new UIDVALIDITY. */
int mf_syncstate_reset(struct mf_syncstate *s, uint32_t uidvalidity,
                       struct mf_err *e);

/* Entries, sorted by UID; valid until the next change.  _count() is
 * how many there are, _held() how many are in memory (_at() covers
 * those): the same number unless opened by _open_head() or _stream() or
 * read by _load_some(). */
size_t mf_syncstate_count(const struct mf_syncstate *s);
size_t mf_syncstate_held(const struct mf_syncstate *s);
const struct mf_syncstate_entry *mf_syncstate_at(const struct mf_syncstate *s,
                                                 size_t i);
const struct mf_syncstate_entry *mf_syncstate_get(const struct mf_syncstate *s,
                                                  uint32_t uid);
/* Insert or replace the entry for uid (flags and base are copied; base
 * must hold no space or newline, flags is a flag set as above). */
int mf_syncstate_put(struct mf_syncstate *s, uint32_t uid, const char *flags,
                     unsigned status, const char *base, struct mf_err *e);
/* The folder's keyword table kept here (index 0 is letter a): the
 * keyword at idx, NULL if none.  It survives a reset: local files keep
 * their letters when the server renumbers the folder. */
const char *mf_syncstate_keyword(const struct mf_syncstate *s, unsigned idx);
/* Set (name NULL: clear) index idx of that table; journalled. */
int mf_syncstate_set_keyword(struct mf_syncstate *s, unsigned idx,
                             const char *name, struct mf_err *e);
/* Remove uid (no-op if absent). */
int mf_syncstate_del(struct mf_syncstate *s, uint32_t uid, struct mf_err *e);

/* Append the uncommitted changes to the journal and fsync it. */
int mf_syncstate_commit(struct mf_syncstate *s, struct mf_err *e);
/* Commit, then rewrite the snapshot and drop the journal. */
int mf_syncstate_compact(struct mf_syncstate *s, struct mf_err *e);
/* Uncommitted journal bytes (for deciding when to commit). */
size_t mf_syncstate_pending(const struct mf_syncstate *s);

#endif
