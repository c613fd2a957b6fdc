/* syncstate.h - what imap-sync knows about one folder, surviving crashes.
 *
 * Per folder: UIDVALIDITY, HIGHESTMODSEQ, UIDNEXT and a map from server
 * UID to (last synchronised flags, status, local Maildir base name).
 * Storage: a snapshot file KEY.state rewritten atomically (temp file,
 * fsync, rename, directory fsync) and a write-ahead journal KEY.journal of
 * changes since.  Changes are made in memory, then mf_syncstate_commit()
 * appends them to the journal and fsyncs it: one commit for a group of
 * messages (group commit).  Callers record a message only after its file
 * is durable.  A torn last journal line (crash during the write) is
 * ignored; a journal whose generation differs from the snapshot's is
 * stale (crash after a rewrite) and ignored too. */
#ifndef MF_SYNCSTATE_H
#define MF_SYNCSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define MF_SS_GONE_REMOTE 0x1u  /* expunged on the server, kept locally */
#define MF_SS_GONE_LOCAL  0x2u  /* deleted locally, kept on the server */

struct mf_syncstate_entry {
	uint32_t uid;
	unsigned status;     /* MF_SS_* bits */
	char flags[8];       /* synchronised Maildir letters among "DFRST" */
	char *base;          /* Maildir file name without ":2,..." and dir */
};

struct mf_syncstate;

/* Load (or start empty) the state KEY in directory dir (created 0700 if
 * missing). key must be a plain file name. MF_E_IO on I/O errors,
 * MF_E_DATA when the snapshot is corrupt. */
struct mf_syncstate *mf_syncstate_open(const char *dir, const char *key,
                                       struct mf_err *e);
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

/* Entries, sorted by UID; valid until the next change. */
size_t mf_syncstate_count(const struct mf_syncstate *s);
const struct mf_syncstate_entry *mf_syncstate_at(const struct mf_syncstate *s,
                                                 size_t i);
const struct mf_syncstate_entry *mf_syncstate_get(const struct mf_syncstate *s,
                                                  uint32_t uid);
/* Insert or replace the entry for uid (base is copied; must hold no
 * space or newline). */
int mf_syncstate_put(struct mf_syncstate *s, uint32_t uid, const char *flags,
                     unsigned status, const char *base, struct mf_err *e);
/* Remove uid (no-op if absent). */
int mf_syncstate_del(struct mf_syncstate *s, uint32_t uid, struct mf_err *e);

/* Append the uncommitted changes to the journal and fsync it. */
int mf_syncstate_commit(struct mf_syncstate *s, struct mf_err *e);
/* Commit, then rewrite the snapshot and drop the journal. */
int mf_syncstate_compact(struct mf_syncstate *s, struct mf_err *e);
/* Uncommitted journal bytes (for deciding when to commit). */
size_t mf_syncstate_pending(const struct mf_syncstate *s);

#endif
