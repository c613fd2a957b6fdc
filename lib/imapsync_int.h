/* imapsync_int.h - private to the imap-sync engine (lib/imapsync*.c):
 * the run and folder-run contexts and the helpers its files share.  Not
 * for tools; they use imapsync.h.  Names here are prefixed isync_.
 *
 *   imapsync.c          the run: folders in turn, then IDLE (top: no part
 *                       calls into it)
 *   imapsync_common.c   shared by all parts: warnings, the folder list
 *                       LIST builds, the STATUS that came with it
 *   imapsync_folder.c   one folder: SELECT, flags, new UIDs (pull)
 *   imapsync_fetch.c    bodies streamed into the Maildir, group commit
 *   imapsync_twoway.c   local changes to the server: STORE, EXPUNGE, APPEND
 *   imapsync_recover.c  UIDVALIDITY change, files of interrupted runs
 *   imapsync_local.c    the Maildir's files: scan, rename, flags, size
 *   imapsync_sets.c     server message lists and UID sets
 *   imapsync_store.c    the server as a store: connection, folder list,
 *                       SELECT, messages by UID set, IDLE, NOTIFY and
 *                       STATUS for --idle; the only part that calls imap.c
 *   imapsync_jobs.c     --jobs: folders in child processes
 *   imapsync_watch.c    --idle: the service (watch, keep alive, reconnect)
 *
 * Must not: be included outside lib/imapsync*.c. */
#ifndef MF_IMAPSYNC_INT_H
#define MF_IMAPSYNC_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "folders.h"
#include "imap.h"
#include "imapsync.h"
#include "kwtable.h"
#include "maildir.h"
#include "syncstate.h"

#define UIDSET_MAX         4000   /* characters of a UID set per command */

/* ---- the run ---- */

/* A SELECT sent in the round trip of ENABLE and LIST, for the folder the
 * run will most likely sync first (imapsync_folder.c). */
struct isync_pre {
	unsigned tag;           /* 0: none, or its reply was read */
	char utf7[1024];        /* the folder, as LIST would name it */
	int mode;               /* ISYNC_SEL_* it was sent with */
	int taken;              /* the folder being synced is this one */
	struct mf_syncstate *st;  /* its state, opened to build the SELECT */
};

enum { ISYNC_SEL_PLAIN, ISYNC_SEL_CONDSTORE, ISYNC_SEL_QRESYNC };

struct isync {
	const struct mf_imapsync_params *p;
	struct mf_imap *im;
	struct mf_err *e;
	char state_dir[4096];
	int qresync, condstore, uidplus;
	unsigned enable_tag;    /* ENABLE sent, reply not read yet */
	char hint[16384];       /* the last run's capabilities (mf_imap_hint) */
	unsigned *list_tags;    /* LISTs sent, replies not read yet */
	size_t nlist;
	struct isync_pre pre;
	struct mf_folders fl;
	size_t nf_done;         /* folders already handled by --jobs */
	struct isync_lstat *lstat;  /* STATUS answers that came with LIST */
	size_t nlstat;
};

void isync_warnf(struct isync *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The callbacks that build c->fl and c->lstat from LIST's replies. */
struct mf_imap_events isync_list_events(struct isync *c);
/* Connect, log in, ENABLE QRESYNC (RFC 7162 §3.2.3), note capabilities
 * (imapsync_store.c, as are the LIST calls below). */
int isync_connect(struct isync *c, struct mf_err *e);
/* The same in two halves, so that more commands can be queued between
 * them and share ENABLE's round trip: begin connects, logs in and queues
 * ENABLE; end reads its reply and notes the capabilities.  With ahead,
 * begin takes what the last run learnt of the server (STATE/capabilities)
 * to queue the login too, the greeting not awaited
 * (mf_imap_connect_ahead); end then returns 1 when the server no longer
 * says the same: close and do it again without ahead. */
int isync_connect_begin(struct isync *c, int ahead, struct mf_err *e);
int isync_connect_end(struct isync *c, struct mf_err *e);
/* One folder's STATUS as LIST-STATUS (RFC 5819) gave it, before any
 * SELECT: used once, by that folder's sync, to skip an unchanged folder. */
struct isync_lstat {
	char *utf7;
	unsigned items;         /* MF_IMAP_STATUS_* present */
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t modseq;
	int used;
};

/* 1 when mailbox names a (alen bytes) and b are one mailbox: the same
 * bytes, or INBOX in any case (RFC 3501 §5.1). */
int isync_same_mailbox(const char *a, size_t alen, const char *b);
/* The LIST-STATUS answer for folder utf7, marked used (NULL if none or
 * used already: a later sync of the folder must SELECT it). */
const struct isync_lstat *isync_lstat_take(struct isync *c, const char *utf7);
void isync_lstat_free(struct isync *c);
/* LIST the folders selected by the patterns into c->fl. */
int isync_list_folders(struct isync *c, struct mf_err *e);
/* The same in two halves: queue the LIST command(s), read the replies. */
int isync_list_send(struct isync *c, struct mf_err *e);
int isync_list_wait(struct isync *c, struct mf_err *e);
/* Queue a SELECT of the folder the run will most likely sync first, with
 * the parameters its sync state calls for, before ENABLE and LIST are
 * answered (nothing is queued when no folder can be guessed).  -1 only
 * when the command could not be queued. */
int isync_preselect_send(struct isync *c, struct mf_err *e);
/* Sync the guessed folder first when LIST named it, so its SELECT's
 * reply is used instead of read and dropped. */
void isync_preselect_first(struct isync *c);
/* Read and drop the reply of an unused guess, so that the connection
 * closes with nothing unread (a close with unread data is a reset). */
void isync_preselect_finish(struct isync *c);
/* Forget the guess without reading its reply. */
void isync_preselect_drop(struct isync *c);
/* --idle: the service loop (imapsync_watch.c); 0 stop, 1 reload, -1. */
int isync_watch(struct isync *c, struct mf_err *e);
/* Synchronise one folder and report it (imapsync_folder.c). */
int isync_sync_folder(struct isync *c, const struct mf_folder *f,
                      struct mf_err *e);
/* Synchronise the folders in child processes, reporting as they finish;
 * the first failure goes to *first and sets *failed (imapsync_jobs.c).
 * -1 when no pipe could be made (then only *first is set). */
int isync_run_jobs(struct isync *c, struct mf_err *first, int *failed);

/* ---- local files (imapsync_local.c) ---- */

struct lfile {              /* 32 bytes and one allocation per file */
	char *rel;          /* "cur/NAME"; the allocation also holds: */
	const char *base;   /* NAME without ":2,..." */
	const char *flags;  /* the Maildir letters of its name */
	uint32_t ufield;    /* U= value, 0 if none */
	int used;
};

struct lscan {
	struct lfile *v;
	size_t n, cap;
	int (*keep)(void *, const char *);  /* while loading: a filter */
	void *keep_arg;
};

int isync_lscan_load(struct mf_maildir *md, struct lscan *s, struct mf_err *e);
/* The same, keeping only the files ("cur/NAME") keep() returns 1 for. */
int isync_lscan_load_some(struct mf_maildir *md, struct lscan *s,
                          int (*keep)(void *, const char *), void *arg,
                          struct mf_err *e);
void isync_lscan_sort(struct lscan *s);
struct lfile *isync_lscan_find(struct lscan *s, const char *base);
void isync_lscan_free(struct lscan *s);
/* The Message-ID (RFC 5322 §3.6.4) of the header block h into msgid, ""
 * if none: only a field of that name counts, whatever else h holds. */
void isync_header_msgid(const char *h, char *msgid, size_t idlen);
/* Size of the file as CRLF text (what the server counts) and its
 * Message-ID; -1 on I/O error. */
int isync_file_info(const char *path, uint64_t *crlf_size, char *msgid,
                    size_t idlen);

/* ---- server messages and UID sets (imapsync_sets.c) ---- */

struct sflag {
	uint32_t uid;
	char *flags;        /* flag set (imapflags.h) */
	uint64_t size;
	char *msgid;
	int matched;
};

struct slist {
	struct sflag *v;
	size_t n, cap;
	int sorted;
};

int isync_slist_add(struct slist *l, uint32_t uid, const char *flags,
                    uint64_t size, const char *msgid);
/* Replace s's flag set; -1 when out of memory. */
int isync_slist_set_flags(struct sflag *s, const char *flags);
/* Sorts the list on first use after an add. */
struct sflag *isync_slist_find(struct slist *l, uint32_t uid);
void isync_slist_free(struct slist *l);

struct uids {
	uint32_t *v;
	size_t n, cap;
};

int isync_uids_add(struct uids *u, uint32_t x);
void isync_uids_sort(struct uids *u);
/* Ranges: pairs (lo, hi) in a struct uids. */
int isync_ranges_parse(struct uids *u, const char *s);
void isync_ranges_sort(struct uids *u);
int isync_ranges_has(const struct uids *u, uint32_t x);

/* ---- the server's folder as a message store (imapsync_store.c) ----
 * Sets are sorted struct uids; flag sets are imapflags.h's.  Each call
 * works on the folder selected last and returns 0, or -1 with e set. */

/* Close the connection (none is fine). */
void isync_store_close(struct isync *c);
/* 1 if the server announced the capability. */
int isync_store_can(const struct isync *c, const char *capability);
/* Queue SELECT (EXAMINE in dry run) of utf7 in mode (ISYNC_SEL_*, with
 * st's UIDVALIDITY and MODSEQ for QRESYNC); the tag, 0 on error.  The
 * folder's facts start afresh for its replies. */
unsigned isync_store_select_send(struct isync *c, const char *utf7,
                                 int mode, const struct mf_syncstate *st,
                                 struct mf_err *e);
/* Read the reply of tag, its FETCH and VANISHED to ev (may be NULL). */
int isync_store_reply(struct isync *c, unsigned tag,
                      const struct mf_imap_events *ev, struct mf_err *e);
/* Read and drop the reply of tag. */
int isync_store_skip_reply(struct isync *c, unsigned tag, struct mf_err *e);
/* The selected folder's facts: UIDVALIDITY, UIDNEXT, EXISTS, MODSEQ. */
const struct mf_imap_mailbox *isync_store_box(const struct isync *c);
/* The messages of set, with the UID and items (MF_IMAP_FETCH_*), to
 * ev; the bodies' bytes to hk when not NULL. */
int isync_store_fetch(struct isync *c, const struct uids *set,
                      unsigned items, const struct mf_imap_hooks *hk,
                      const struct mf_imap_events *ev, struct mf_err *e);
/* The same for every message from UID from on (0 or 1: all of them). */
int isync_store_fetch_from(struct isync *c, uint32_t from, unsigned items,
                           const struct mf_imap_hooks *hk,
                           const struct mf_imap_events *ev,
                           struct mf_err *e);

struct store_op {
	uint32_t uid;
	char *add, *del;        /* flag sets (owned by the caller) */
};

/* Add and remove the flags of each op. */
int isync_store_set_flags(struct isync *c, const struct store_op *ops,
                          size_t n, struct mf_err *e);
/* Delete the messages of del, a piece at a time: each piece is flagged
 * \Deleted and, with UIDPLUS, expunged (without, it stays flagged), then
 * handed to done. */
int isync_store_delete(struct isync *c, const struct uids *del,
                       int (*done)(void *arg, const uint32_t *uids,
                                   size_t n, struct mf_err *e),
                       void *arg, struct mf_err *e);
/* Each UID from `from` on whose header field holds value, to each. */
int isync_store_find_header(struct isync *c, uint32_t from,
                            const char *field, const char *value,
                            int (*each)(void *arg, uint32_t uid,
                                        struct mf_err *e),
                            void *arg, struct mf_err *e);
/* Upload size bytes from read to folder utf7 with the flag set; *uid is
 * the UID the server named for it (RFC 4315 §3), 0 if none. */
int isync_store_append(struct isync *c, const char *utf7,
                       const char *flagset, uint64_t size,
                       ssize_t (*read)(void *arg, char *buf, size_t n),
                       void *arg, uint32_t *uid, struct mf_err *e);

/* --idle's connections (one per watched folder beside c's, imapsync_
 * watch.c).  end closes one: at once, or with a LOGOUT; abandon marks
 * one unusable (a command left half read).  A probe is a NOOP answered
 * within timeout_ms (RFC 3501 §6.1.2), its news to ev. */
void isync_store_abandon(struct mf_imap *im);
void isync_store_end(struct mf_imap *im, int at_once);
/* IDLE (RFC 2177): begin returns the tag (0 on error); poll takes what
 * has come without waiting; end sends DONE and waits timeout_ms. */
unsigned isync_store_idle_begin(struct mf_imap *im,
                                const struct mf_imap_events *ev,
                                struct mf_err *e);
int isync_store_idle_poll(struct mf_imap *im, const struct mf_imap_events *ev,
                          struct mf_err *e);
int isync_store_idle_end(struct mf_imap *im, unsigned tag, int timeout_ms,
                         const struct mf_imap_events *ev, struct mf_err *e);
/* The descriptor to poll(2), or -2 when input is already buffered. */
int isync_store_pollfd(struct mf_imap *im);
int isync_store_probe(struct mf_imap *im, int timeout_ms,
                      const struct mf_imap_events *ev, struct mf_err *e);
/* STATUS of folder utf7 (RFC 3501 §6.3.10) answered within timeout_ms,
 * to ev->status. */
int isync_store_status(struct isync *c, const char *utf7, unsigned items,
                       int timeout_ms, const struct mf_imap_events *ev,
                       struct mf_err *e);
/* NOTIFY SET STATUS for the n folders (RFC 5465 §3). */
int isync_store_notify(struct isync *c, const char *const *utf7, size_t n,
                       struct mf_err *e);

/* ---- one folder ---- */

struct pending {            /* fetched, durable after the next group commit */
	uint32_t uid;
	char *flags;            /* flag set */
	char *base;
};

/* Free the names and flags of v[0..*n) and set *n to 0. */
void isync_pending_clear(struct pending *v, size_t *n);

struct frun {
	struct isync *c;
	const struct mf_folder *f;
	struct mf_maildir *md;
	struct mf_syncstate *st;
	struct mf_kwtable *kwt;   /* the folder's keyword letters */
	int kw_file;              /* kwt is the Maildir's dovecot-keywords */
	struct mf_imapsync_result res;
	char path[4096];
	struct lscan ls;
	struct slist sl;        /* server flags (full list or changes) */
	struct uids vanished;
	int full;               /* sl holds every server message */
	/* body streaming */
	struct mf_maildir_msg *msg;
	int cr, body_done;
	struct mf_err herr;
	struct pending *pend;
	size_t npend, cappend;
	struct pending *fly;      /* the group syncing (group_start) */
	size_t nfly, capfly;
	unsigned long long pend_bytes;
	unsigned long total_new;
	const struct uids *want;  /* the UIDs asked for (sorted) */
	uint32_t uidnext;         /* SELECT's UIDNEXT, 0 if none */
	uint32_t min_skipped;     /* lowest UID whose body was NIL, 0: none */
};

/* Is x in the sorted set u? */
int isync_uids_has(const struct uids *u, uint32_t x);

/* imapsync_local.c: rename a file so its base carries field "K=V" (NULL:
 * none) instead of any U= or A= field it had, moving it to cur/. */
int isync_rename_field(struct frun *fr, struct lfile *lf, const char *field,
                       struct mf_err *e);
int isync_rename_uid(struct frun *fr, struct lfile *lf, uint32_t uid,
                     struct mf_err *e);
/* Give the file the flag set `set` (counted; not in dry run). */
int isync_set_local_flags(struct frun *fr, struct lfile *lf,
                          const char *set, struct mf_err *e);
/* The flag set the file shows, base being the set at the last sync (""
 * for a file never synchronised). */
void isync_local_set(struct frun *fr, const struct lfile *lf,
                     const char *base, char *out, size_t len);
/* The Maildir letters for a file that had `had` and must show set; new
 * keyword letters are made durable (dovecot-keywords or the sync state)
 * before they are returned, so no file shows a letter nobody can read. */
int isync_file_letters(struct frun *fr, const char *had, const char *set,
                       char *out, size_t len, struct mf_err *e);
/* Load the folder's keyword table: the Maildir's dovecot-keywords when
 * it has one, else the sync state's. */
int isync_kw_open(struct frun *fr, struct mf_err *e);
/* 1 when isync_kw_open() will move the state's keyword table to the
 * Maildir's dovecot-keywords, renaming every file that uses it. */
int isync_kw_adopt_due(const struct frun *fr);

/* imapsync_fetch.c: pipelined UID FETCHes of the bodies of want; want
 * NULL: of every message below UIDNEXT, in one UID FETCH 1:* (a first
 * pull into an empty Maildir, which needs no list first). */
int isync_fetch_bodies(struct frun *fr, const struct uids *want,
                       struct mf_err *e);

/* imapsync_recover.c */
/* The messages of set (NULL: those from UID from on) with items
 * (MF_IMAP_FETCH_FLAGS, _SIZE, _MESSAGE_ID) into l: UID, flag set,
 * RFC822.SIZE and the Message-ID header field when present. */
int isync_fetch_ids(struct isync *c, const struct uids *set, uint32_t from,
                    unsigned items, struct slist *l, struct mf_err *e);
int isync_recover_uidvalidity(struct frun *fr, uint32_t newv,
                              struct mf_err *e);
int isync_adopt_orphans(struct frun *fr, struct mf_err *e);

/* imapsync_twoway.c */
int isync_push_flags(struct frun *fr, struct store_op *ops, size_t n,
                     struct mf_err *e);
int isync_expunge_remote(struct frun *fr, struct uids *del, struct mf_err *e);
int isync_recover_uploads(struct frun *fr, struct mf_err *e);
int isync_upload_new(struct frun *fr, struct mf_err *e);

#endif
