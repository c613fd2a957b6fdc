/* imapsync.h - the imap-sync engine: IMAP folders <-> a local Maildir tree.
 *
 * Per folder, by UID (RFC 3501 §2.3.1.1): new server messages are fetched
 * with pipelined range UID FETCHes and streamed to disk; flags are mapped
 * \Seen->S \Answered->R \Flagged->F \Deleted->T \Draft->D; with QRESYNC
 * (RFC 7162) an unchanged folder costs one SELECT.  Two-way mode also
 * sends local flag changes, deletions (with expunge) and new local
 * messages (APPEND, UIDPLUS) to the server.  Flags are merged flag by
 * flag against the last synchronised state, so a flag changed on one side
 * wins and a flag changed on both sides was changed the same way; a
 * deletion wins over a flag change.  State lives in lib/syncstate; folder
 * names are mapped by lib/folders, flags by lib/imapflags; the engine's
 * own files are listed in lib/imapsync_int.h.
 *
 * Must not: spell IMAP commands (imap.h's typed calls do; the last ones
 * are listed in tests/check-layers.py), print or exit (reports go
 * through the callbacks). */
#ifndef MF_IMAPSYNC_H
#define MF_IMAPSYNC_H

#include <stddef.h>

#include "err.h"
#include "folders.h"   /* enum mf_imapsync_layout */
#include "imap.h"

/* What happened to one folder (handed to the report callback). */
struct mf_imapsync_result {
	const char *folder;          /* UTF-8 name */
	const char *path;            /* local Maildir, "" if refused */
	const char *special_use;     /* "\\Sent", "\\Drafts" ... (RFC 6154) or "" */
	const char *error;           /* NULL when the folder synced fine */
	int error_kind;              /* enum mf_err_kind of error */
	int refused;                 /* name refused (unsafe or colliding) */
	int uidvalidity_reset;
	unsigned long fetched;       /* message bodies downloaded */
	unsigned long long bytes;    /* body bytes downloaded */
	unsigned long adopted;       /* local files matched to server UIDs */
	unsigned long flags_local;   /* local files whose flags changed */
	unsigned long flags_remote;  /* server messages whose flags changed */
	unsigned long uploaded;
	unsigned long deleted_local; /* local files removed */
	unsigned long deleted_remote;/* server messages expunged */
	unsigned long messages;      /* messages known after the sync */
	unsigned long bodies_skipped;/* wanted, but the server sent no body
	                                (NIL): not recorded, tried again */
	int dry_run;
};

/* The --idle service's knobs; 0 means the default (lib/imapidle.h). */
struct mf_imapsync_idle {
	int backoff_min_ms, backoff_max_ms;   /* reconnect delays */
	int keepalive_ms;       /* IDLE ended and NOOP probed this often */
	int probe_timeout_ms;   /* a probe not answered by then: dead */
	int poll_ms;            /* STATUS poll of folders without IDLE */
	int connections;        /* IDLE connections; -1: none (poll all) */
	int no_notify;          /* do not use NOTIFY even when offered */
};

struct mf_imapsync_params {
	struct mf_conn imap;
	const char *maildir;            /* root */
	const char *state_dir;          /* where folder states live */
	enum mf_imapsync_layout layout;
	int names_mutf7;                /* folder names on disk as modified
	                                   UTF-7 (Dovecot, Courier, mbsync),
	                                   not UTF-8; recorded in the Maildir,
	                                   and a switch is refused */
	const char *const *folders;     /* LIST patterns (UTF-8); none: "*" */
	size_t nfolders;
	const char *const *excludes;    /* patterns matched locally */
	size_t nexcludes;
	int two_way, expunge, dry_run, idle, jobs;
	int lock_wait_ms;
	void (*report)(void *arg, const struct mf_imapsync_result *r);
	void (*warn)(void *arg, const char *msg);
	void (*progress)(void *arg, const char *folder, unsigned long done,
	                 unsigned long total);
	void *arg;
	volatile int *stop;             /* set by a signal handler: stop --idle
	                                   (after the message being fetched) */
	/* --idle as a service (imapsync_watch.c) */
	struct mf_imapsync_idle idle_opts;
	volatile int *sync_now;         /* set: sync every folder now (cleared) */
	volatile int *reload;           /* set: return 1 so the tool re-reads
	                                   its configuration */
	/* Service events (reconnects, clock jumps): always worth a log line;
	 * trouble is 1 for a lost connection or a failed attempt. */
	void (*notice)(void *arg, int trouble, const char *msg);
};

/* Synchronise every selected folder.  Returns 0 when every folder
 * synced; -1 with e set to the first failure otherwise (folders after a
 * folder-level failure are still tried; connection, TLS and
 * authentication failures stop the run).
 * With idle set it runs as a service instead: every folder is watched and
 * synchronised when it changes, lost connections are retried with
 * backoff, and it returns 0 when *stop is set, 1 when *reload is set, and
 * -1 only for failures a retry cannot cure (mf_imapidle_fatal()). */
int mf_imapsync_run(const struct mf_imapsync_params *p, struct mf_err *e);

/* Map a UTF-8 folder name with hierarchy delimiter delim (0: none) to a
 * path relative to the Maildir root ("" for INBOX). -1 (MF_E_DATA, a
 * reason in e) for names that could leave the root or confuse the
 * layout: empty components, "." or "..", '/', control characters,
 * '.' in a Maildir++ component, "cur"/"new"/"tmp" in the fs layout.
 * The same as mf_folders_map_name() (folders.h). */
int mf_imapsync_map_name(const char *name, char delim,
                         enum mf_imapsync_layout layout, char *out,
                         size_t outlen, struct mf_err *e);

/* IMAP LIST-style match: '*' matches anything, '%' anything but delim.
 * The same as mf_folders_match() (folders.h). */
int mf_imapsync_match(const char *pattern, const char *name, char delim);

#endif
