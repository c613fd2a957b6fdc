/* popfetch.h - pop-fetch's retrieve step on top of pop3.h: list the
 * mailbox by UIDL, select what is new (journal of popstate.h), fetch in
 * groups (pipelined when the server allows), deliver into a Maildir or an
 * MDA, record each delivered UID, and delete when asked.  Nothing here
 * prints: progress and notices go to the caller's callbacks.
 *
 * Must not: spell POP3 commands (pop3.h's calls do; the last ones are
 * listed in tests/check-layers.py), DELE a message this run neither
 * delivered nor verified, print or exit. */
#ifndef MF_POPFETCH_H
#define MF_POPFETCH_H

#include "err.h"
#include "pop3.h"

struct mf_popfetch_stats {
	unsigned long listed;     /* messages on the server */
	unsigned long todo;       /* selected for fetching */
	unsigned long fetched;    /* delivered this run */
	unsigned long skipped;    /* too big, vanished, or recovered */
	unsigned long deleted;    /* DELE acknowledged (committed at QUIT) */
	unsigned long dele_failed; /* DELE refused (-ERR) */
	unsigned long long bytes; /* message bytes delivered */
	unsigned long long todo_bytes;
	double seconds;
};

/* Progress and notices for the tool (the library never prints). */
typedef void (*mf_popfetch_progress_fn)(void *arg,
                                        const struct mf_popfetch_stats *st);
typedef void (*mf_popfetch_notice_fn)(void *arg, const char *msg);

struct mf_popfetch_params {
	struct mf_conn conn;      /* the server (mf_pop3_connect) and the
	                             account (conn.cred, mf_pop3_auth) */
	const char *maildir;      /* deliver here (created if missing) ... */
	const char *mda;          /* ... or to this command (sh -c), exit 0 = ok */
	const char *state;        /* state file path */
	const char *account;      /* "user@host": names the Maildir tags */
	int delete_after;         /* DELE delivered messages */
	int all;                  /* fetch also messages already recorded */
	unsigned long long max_size; /* 0: no limit; bigger ones are left */
	unsigned long limit;      /* 0: no limit; at most this many messages */
	unsigned batch;           /* messages per group commit; 0: 256 */
	mf_popfetch_progress_fn progress;
	mf_popfetch_notice_fn notice;
	void *cb_arg;
};

/* The whole retrieve step. st (may be NULL) is filled also on failure.
 * Order per group: RETR (pipelined when PIPELINING is offered, else one at
 * a time), deliver, fsync the Maildir, record the UIDs and fsync the
 * journal, then DELE (if asked); QUIT at the end commits the deletions.
 * Errors: the kinds of mf_pop3_connect() and mf_pop3_auth(), MF_E_USAGE
 * unless exactly one of maildir and mda is set, MF_E_IO for local
 * delivery failures (full disk), MF_E_UNSUPPORTED for a server without
 * UIDL, MF_E_TEMP when some message vanished or a DELE was refused (the
 * others are delivered).  Only messages delivered by this run, or whose
 * content this run matched with a recorded delivery, are ever deleted. */
int mf_popfetch_run(const struct mf_popfetch_params *fp,
                    struct mf_popfetch_stats *st, struct mf_err *e);

/* The same over a session the caller opened (mf_pop3_attach over a
 * scripted transport in the unit tests) and logged in when needed;
 * fp->conn is not used.  p is owned from now on: freed
 * (without QUIT) on return, also on failure. */
int mf_popfetch_run_on(struct mf_pop3 *p, const struct mf_popfetch_params *fp,
                       struct mf_popfetch_stats *st, struct mf_err *e);

#endif
