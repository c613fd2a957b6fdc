/* popstate.h - which POP3 messages pop-fetch has already delivered.
 *
 * The state is an append-only journal of UIDL values (RFC 1939 §7):
 *
 *     mailflow-popstate 1\n          header
 *     + UID SIZE:HASH\n              one delivered message per line
 *
 * SIZE is the size the server's LIST announced, HASH the first
 * MF_POPSTATE_HASH_LEN hex digits of SHA-256 over the message as delivered:
 * together with the UID they are the message's identity, so that a server
 * that reuses a UIDL (for a different message, in a later listing or twice
 * in one) cannot make pop-fetch skip or delete a message it never
 * delivered.  Lines "+ UID" without an identity (older versions) are still
 * read; such records are never trusted for deletion.
 *
 * A UID is appended only after its message is durable (Maildir file fsynced,
 * renamed into new/, directory fsynced; or the MDA exited 0).  Appends are
 * grouped: mf_popstate_add() queues, mf_popstate_sync() writes the queued
 * lines and fsyncs once (group commit).  A crash can leave a torn last line;
 * it is ignored at the next open and the file is compacted.  Compaction
 * rewrites the whole file through FILE.tmp + fsync + rename + fsync of the
 * directory, so the journal is always either the old or the new one.
 *
 * Deduplication after a crash.  Between "message durable in the Maildir"
 * and "UID durable in the journal" a SIGKILL loses the journal record but
 * not the message.  To find such messages, each Maildir file pop-fetch
 * writes carries the field ",P=<tag>" in its unique name, where <tag> is
 * mf_popstate_tag(): 24 lowercase hex digits of SHA-256("ACCOUNT\0UID").
 * A UIDL may hold any printable character (also '/', ':' and ','), so it is
 * never put into a file name as is; the hash keeps names safe, and the
 * account ("user@host") in it keeps two servers' UIDs apart.  Before
 * fetching, pop-fetch scans new/ and cur/ for P= tags; a UID whose tag is
 * there but which is missing from the journal is recorded without fetching
 * it again.  The journal stays the source of truth; the tags only close the
 * crash window.  With --mda there is no Maildir to scan: a crash between
 * the MDA's exit and the journal's fsync can deliver that one group again.
 *
 * Concurrency: the state is locked (flock on FILE.lock) while open.
 *
 * Must not: record a UID before the caller says its message is durable,
 * print or exit. */
#ifndef MF_POPSTATE_H
#define MF_POPSTATE_H

#include <stddef.h>

#include "err.h"

#define MF_POPSTATE_UID_MAX 512   /* longest UID accepted (RFC: 70) */
#define MF_POPSTATE_TAG_LEN 24    /* hex digits of a Maildir tag */
#define MF_POPSTATE_HASH_LEN 32   /* hex digits of a content hash */

struct mf_popstate;

/* Open (or create, with its directory, mode 0700/0600) the state file at
 * path and load it; take the lock. MF_E_TEMP when another process holds
 * the lock, MF_E_IO for file errors, MF_E_DATA for a file that is not a
 * pop-fetch state. */
struct mf_popstate *mf_popstate_open(const char *path, struct mf_err *e);

/* Release the lock and free; queued but unsynced records are dropped.
 * NULL is fine. */
void mf_popstate_close(struct mf_popstate *s);

/* 1 if uid is recorded (or queued), else 0. */
int mf_popstate_has(const struct mf_popstate *s, const char *uid);

/* 1 if uid was recorded (also) without an identity, else 0. */
int mf_popstate_has_bare(const struct mf_popstate *s, const char *uid);

/* 1 if uid was recorded with a message of this LIST size, else 0. */
int mf_popstate_has_size(const struct mf_popstate *s, const char *uid,
                         unsigned long long size);

/* 1 if uid was recorded with this content hash (MF_POPSTATE_HASH_LEN hex
 * digits), else 0. */
int mf_popstate_has_hash(const struct mf_popstate *s, const char *uid,
                         const char *hash);

/* Number of UIDs recorded or queued. */
size_t mf_popstate_count(const struct mf_popstate *s);

/* Queue uid for the journal (in memory until mf_popstate_sync). A uid
 * already present is fine (no-op). MF_E_DATA for an invalid uid (empty,
 * too long, or with bytes outside 0x21..0x7e). */
int mf_popstate_add(struct mf_popstate *s, const char *uid, struct mf_err *e);

/* The same with the message's identity id, "SIZE:HASH" (see above); NULL
 * records the bare UID. A UID may carry several identities. */
int mf_popstate_add_id(struct mf_popstate *s, const char *uid,
                       const char *id, struct mf_err *e);

/* 1 if id is a valid "SIZE:HASH" identity, else 0. */
int mf_popstate_id_valid(const char *id);

/* Append the queued records and fsync: the group-commit point. Only after
 * it returned 0 may the messages be deleted on the server. MF_E_IO. */
int mf_popstate_sync(struct mf_popstate *s, struct mf_err *e);

/* Rewrite the state atomically keeping only UIDs for which keep(arg, uid)
 * returns non-zero (keep NULL: all). Queued records are included. */
int mf_popstate_compact(struct mf_popstate *s,
                        int (*keep)(void *arg, const char *uid), void *arg,
                        struct mf_err *e);

/* 1 if uid is a valid UID by the rules of mf_popstate_add, else 0. */
int mf_popstate_uid_valid(const char *uid);

/* The Maildir tag of (account, uid) into out (MF_POPSTATE_TAG_LEN + 1
 * bytes at least). -1 only if hashing fails. */
int mf_popstate_tag(const char *account, const char *uid, char *out,
                    size_t outlen, struct mf_err *e);

#endif
