/* imapsync_watch.c - imap-sync --idle as a service: keep every selected
 * folder current until told to stop, across server restarts, dropped
 * connections and suspends.
 *
 * A session connects, lists the folders, synchronises them all, then
 * watches them:
 *  - with NOTIFY (RFC 5465) one connection IDLEs and the server names the
 *    folders that changed in STATUS responses;
 *  - else the first --idle-connections folders (INBOX first) get a
 *    connection each, IDLEing with the folder selected (RFC 2177), and the
 *    others are polled with STATUS (RFC 3501 §6.3.10) on the main
 *    connection every --poll-interval;
 *  - in two-way mode inotify on the folders' cur/ and new/ pushes local
 *    changes after a short quiet time.
 * Every connection is probed each keepalive interval (IDLE ended, NOOP
 * answered within the probe timeout, IDLE begun again), and at once after
 * a clock jump.  A session that fails for a reason a retry can cure ends
 * in a reconnect after an exponential, jittered delay, and the next
 * session starts with a full sync.  Policy lives in lib/imapidle.c. */
#include "imapsync_int.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "buf.h"
#include "imapidle.h"
#include "mdwatch.h"

#define MAIN_CONN ((size_t)-1)

struct wconn {
	struct mf_imap *im;
	size_t fi;              /* the folder it IDLEs on, or MAIN_CONN */
	unsigned idle_tag;      /* IDLE in progress: its tag, else 0 */
	int64_t probed;         /* ms of the last proof of life */
};

struct watch {
	struct isync *c;
	struct mf_imapsync_idle o;      /* with the defaults filled in */
	struct wconn *conn;             /* [0] is the main connection */
	size_t nconn;
	size_t nfolders;                /* size of the per-folder arrays */
	unsigned char *dirty;           /* server side changed */
	struct mf_debounce *local;      /* local changes, two-way */
	size_t *owner;                  /* index into conn watching it */
	char **status;                  /* last STATUS of a polled folder */
	size_t selected;                /* folder selected on main, or -1 */
	int notify;                     /* NOTIFY in use on main */
	int64_t next_poll;
	struct mf_mdwatch *md;
	struct mf_backoff bo;
	struct mf_clocks clk;
	int sessions;
};

enum { SESSION_STOP, SESSION_RELOAD };

static int64_t
now_ms(void)
{
	struct mf_clocks k;

	mf_clocks_now(&k);
	return k.mono;
}

static void notef(struct watch *w, int trouble, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
notef(struct watch *w, int trouble, const char *fmt, ...)
{
	const struct mf_imapsync_params *p = w->c->p;
	char msg[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (p->notice)
		p->notice(p->arg, trouble, msg);
	else if (p->warn)
		p->warn(p->arg, msg);
}

static int
flag_set(volatile int *f)
{
	return f && *f;
}

/* A dead connection ends the session; a folder error does not. */
static int
ends_session(enum mf_err_kind k)
{
	return k == MF_E_CLOSED || k == MF_E_TIMEOUT || k == MF_E_TLS ||
	       k == MF_E_PROTO || k == MF_E_LIMIT || k == MF_E_NOMEM ||
	       k == MF_E_CONNECT || k == MF_E_NOHOST || mf_imapidle_fatal(k);
}

/* ---- per-folder state ---- */

static void
folders_free(struct watch *w)
{
	size_t i;

	for (i = 0; i < w->nfolders; i++)
		free(w->status ? w->status[i] : NULL);
	free(w->status);
	free(w->dirty);
	free(w->local);
	free(w->owner);
	w->status = NULL;
	w->dirty = NULL;
	w->local = NULL;
	w->owner = NULL;
	w->nfolders = 0;
}

static int
folders_alloc(struct watch *w, struct mf_err *e)
{
	size_t n = w->c->fl.n ? w->c->fl.n : 1;

	folders_free(w);
	w->dirty = calloc(n, 1);
	w->local = calloc(n, sizeof *w->local);
	w->owner = calloc(n, sizeof *w->owner);
	w->status = calloc(n, sizeof *w->status);
	if (!w->dirty || !w->local || !w->owner || !w->status)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	w->nfolders = w->c->fl.n;
	return 0;
}

static int idle_end(struct watch *w, size_t k, struct mf_err *e);

/* Close every connection; clean: end IDLE first (RFC 2177: a LOGOUT
 * inside IDLE is a bad DONE, and the server waits on). */
static void
conns_close(struct watch *w, int clean)
{
	struct mf_err e2;
	size_t i;

	for (i = 0; clean && i < w->nconn; i++) {
		mf_err_clear(&e2);
		if (w->conn[i].idle_tag && idle_end(w, i, &e2) == -1)
			isync_store_abandon(w->conn[i].im);
	}
	for (i = 1; i < w->nconn; i++)
		isync_store_end(w->conn[i].im, !clean);
	isync_store_end(w->c->im, !clean);
	w->c->im = NULL;
	free(w->conn);
	w->conn = NULL;
	w->nconn = 0;
}

/* ---- syncing on a given connection ---- */

/* Synchronise folder fi over connection k (which then has it selected). */
static int
sync_on(struct watch *w, size_t k, size_t fi, struct mf_err *e)
{
	struct isync *c = w->c;
	struct mf_imap *saved = c->im;
	int rc;

	c->im = w->conn[k].im;
	rc = isync_sync_folder(c, &c->fl.v[fi], e);
	c->im = saved;
	if (k == 0)
		w->selected = fi;
	if (rc == -1 && flag_set(c->p->stop))
		isync_store_abandon(w->conn[k].im);   /* a FETCH left unfinished */
	if (rc == -1 && flag_set(c->p->stop) && !ends_session(e->kind))
		return 0;
	if (rc == -1 && !ends_session(e->kind)) {
		mf_err_clear(e);     /* reported; the folder is tried next time */
		return 0;
	}
	return rc;
}

struct cbarg {
	struct watch *w;
	size_t k;
};

static struct mf_imap_events watch_events(struct cbarg *a);

static int
idle_begin(struct watch *w, size_t k, struct mf_err *e)
{
	struct wconn *cn = &w->conn[k];
	struct cbarg a = { w, k };
	struct mf_imap_events ev = watch_events(&a);

	if (k == 0 && !w->notify)
		return 0;        /* main only answers NOOPs between polls */
	cn->idle_tag = isync_store_idle_begin(cn->im, &ev, e);
	return cn->idle_tag ? 0 : -1;
}

static int
idle_end(struct watch *w, size_t k, struct mf_err *e)
{
	struct wconn *cn = &w->conn[k];
	struct cbarg a = { w, k };
	struct mf_imap_events ev = watch_events(&a);
	unsigned tag = cn->idle_tag;

	if (!tag)
		return 0;
	cn->idle_tag = 0;
	return isync_store_idle_end(cn->im, tag, w->o.probe_timeout_ms, &ev, e);
}

/* Synchronise folder fi on the connection watching it. */
static int
sync_folder(struct watch *w, size_t fi, struct mf_err *e)
{
	size_t k = w->owner[fi];

	w->dirty[fi] = 0;
	if (idle_end(w, k, e) == -1 || sync_on(w, k, fi, e) == -1)
		return -1;
	return idle_begin(w, k, e);
}

/* ---- what the server says while IDLEing ---- */

static size_t
folder_by_name(struct watch *w, const char *name, size_t len)
{
	struct isync *c = w->c;
	size_t i;

	for (i = 0; i < c->fl.n; i++)
		if (isync_same_mailbox(name, len, c->fl.v[i].utf7))
			return i;
	return (size_t)-1;
}

/* EXISTS, EXPUNGE, VANISHED or FETCH on connection a->k: its folder
 * changed. */
static int
changed_cb(void *arg, struct mf_err *e)
{
	struct cbarg *a = arg;
	struct watch *w = a->w;
	size_t fi = a->k == 0 ? w->selected : w->conn[a->k].fi;

	(void)e;
	if (fi < w->nfolders)
		w->dirty[fi] = 1;
	return 0;
}

/* RFC 5465 §5.2: changes in other mailboxes come as STATUS */
static int
notify_status_cb(void *arg, const struct mf_imap_mbox_status *s,
                 struct mf_err *e)
{
	struct cbarg *a = arg;
	size_t f = folder_by_name(a->w, s->mbox, s->mbox_len);

	(void)e;
	if (f != (size_t)-1)
		a->w->dirty[f] = 1;
	return 0;
}

/* What the server says while IDLEing, or with any answer on a. */
static struct mf_imap_events
watch_events(struct cbarg *a)
{
	struct mf_imap_events ev = {
		.changed = changed_cb, .status = notify_status_cb, .arg = a
	};

	return ev;
}

/* ---- STATUS polling of the folders without a connection ---- */

struct status_acc {
	char *text;             /* the folder's STATUS, for comparing */
	struct cbarg main;      /* the main connection, for changed_cb */
};

static int
status_acc_cb(void *arg, const struct mf_imap_mbox_status *s,
              struct mf_err *e)
{
	struct status_acc *sa = arg;
	char buf[128];

	free(sa->text);
	snprintf(buf, sizeof buf, "%x %llu %llu %llu %llu", s->items,
	         (unsigned long long)s->messages, (unsigned long long)s->uidnext,
	         (unsigned long long)s->uidvalidity,
	         (unsigned long long)s->highestmodseq);
	if (!(sa->text = strdup(buf)))
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	return 0;
}

/* news of the mailbox selected on main (EXISTS, EXPUNGE, FETCH) may come
 * with any command's answer and are not repeated */
static int
status_changed_cb(void *arg, struct mf_err *e)
{
	struct status_acc *sa = arg;

	return changed_cb(&sa->main, e);
}

/* STATUS of folder fi into *out (malloc'd); -1 on connection errors. */
static int
folder_status(struct watch *w, size_t fi, char **out,
              struct mf_err *e)
{
	struct isync *c = w->c;
	struct status_acc sa = { NULL, { w, 0 } };
	struct mf_imap_events ev = {
		.status = status_acc_cb, .changed = status_changed_cb, .arg = &sa
	};
	unsigned items = MF_IMAP_STATUS_MESSAGES | MF_IMAP_STATUS_UIDNEXT |
	                 MF_IMAP_STATUS_UIDVALIDITY;
	int rc;

	*out = NULL;
	/* HIGHESTMODSEQ (RFC 7162 §3.1.6) shows flag changes too */
	if (c->condstore)
		items |= MF_IMAP_STATUS_HIGHESTMODSEQ;
	/* STATUS answers at once: a silent connection is found as fast as
	 * by a probe */
	rc = isync_store_status(c, c->fl.v[fi].utf7, items, w->o.probe_timeout_ms,
	                        &ev, e);
	if (rc == 0)
		*out = strdup(sa.text ? sa.text : "");
	free(sa.text);
	if (rc == -1 && !ends_session(e->kind)) {
		mf_err_clear(e);      /* a folder gone meanwhile: sync says so */
		*out = strdup("?");
		rc = 0;
	}
	if (rc == 0 && !*out)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	return rc;
}

/* Poll every folder without a connection of its own; sync the changed. */
static int
poll_folders(struct watch *w, int baseline, struct mf_err *e)
{
	int rc = 0;
	size_t fi;

	for (fi = 0; rc == 0 && fi < w->nfolders; fi++) {
		char *st;
		int changed;
		if (w->owner[fi] != 0 || w->notify)
			continue;
		/* RFC 3501 §6.3.10: STATUS is not for the selected mailbox
		 * (Dovecot answers from the session's old view of it); a NOOP
		 * brings its changes as EXISTS, EXPUNGE and FETCH, which
		 * idle_cb marks */
		if (fi == w->selected) {
			struct cbarg a = { w, 0 };
			struct mf_imap_events ev = watch_events(&a);
			rc = isync_store_probe(w->c->im, w->o.probe_timeout_ms, &ev, e);
			continue;
		}
		if ((rc = folder_status(w, fi, &st, e)) == -1)
			break;
		changed = !w->status[fi] || strcmp(w->status[fi], st) != 0 ||
		          !strcmp(st, "?");
		free(w->status[fi]);
		w->status[fi] = st;
		if (changed && !baseline)
			w->dirty[fi] = 1;
	}
	w->next_poll = now_ms() + w->o.poll_ms;
	return rc;
}

/* ---- local changes (two-way) ---- */

static void
on_local(void *arg, size_t id)
{
	struct watch *w = arg;
	int64_t t = now_ms();

	if (id == (size_t)-1) {           /* queue overflow: everything */
		size_t i;
		for (i = 0; i < w->nfolders; i++)
			mf_debounce_note(&w->local[i], t);
	} else if (id < w->nfolders) {
		mf_debounce_note(&w->local[id], t);
	}
}

static int
watch_local(struct watch *w, struct mf_err *e)
{
	struct isync *c = w->c;
	char path[4096 + 8];
	size_t i;

	if (!c->p->two_way || c->p->dry_run)
		return 0;
	if (!w->md && !(w->md = mf_mdwatch_new(e)))
		return -1;
	mf_mdwatch_clear(w->md);
	for (i = 0; i < c->fl.n; i++) {
		const char *rel = c->fl.v[i].rel;
		int n = snprintf(path, sizeof path, "%s%s%s", c->p->maildir,
		                 *rel ? "/" : "", rel);
		if (n < 0 || (size_t)n >= sizeof path)
			continue;
		if (mf_mdwatch_add(w->md, path, i, e) == -1) {
			isync_warnf(c, "%s: local changes are noticed only at the "
			            "next sync: %s", c->fl.v[i].utf8, e->msg);
			mf_err_clear(e);
		}
	}
	return 0;
}

/* Forget the file events our own syncs caused. */
static void
drain_local(struct watch *w)
{
	struct mf_err e2;
	size_t i;

	if (!w->md)
		return;
	mf_err_clear(&e2);
	mf_mdwatch_read(w->md, on_local, w, &e2);
	for (i = 0; i < w->nfolders; i++)
		w->local[i].first = w->local[i].last = 0;
}

/* ---- a session ---- */

/* The folders that get a connection of their own: INBOX first, then in
 * LIST order, up to the configured number. */
static void
plan(struct watch *w)
{
	struct isync *c = w->c;
	size_t want = (size_t)w->o.connections, n = 0;
	size_t i;
	int pass;

	if (w->notify || !isync_store_can(c, "IDLE"))
		want = 0;
	for (i = 0; i < c->fl.n; i++)
		w->owner[i] = 0;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < c->fl.n && n < want; i++) {
			int inbox = !strcasecmp(c->fl.v[i].utf7, "INBOX");
			if ((pass == 0) != inbox || w->owner[i])
				continue;
			w->owner[i] = ++n;   /* conn index; [0] is main */
		}
}

static int
full_sync(struct watch *w, struct mf_err *e)
{
	struct isync *c = w->c;
	struct mf_err first;
	int failed = 0;
	size_t fi;

	mf_err_clear(&first);
	if (c->p->jobs > 1 && c->fl.n > 1) {
		isync_run_jobs(c, &first, &failed);
		if (failed && mf_imapidle_fatal(first.kind)) {
			*e = first;
			return -1;
		}
		/* watched folders are synced again (cheap with QRESYNC) when
		 * their connection selects them; the others are current */
		return 0;
	}
	for (fi = 0; fi < c->fl.n; fi++) {
		if (flag_set(c->p->stop))
			return 0;
		if (w->owner[fi] == 0 && sync_on(w, 0, fi, e) == -1)
			return -1;
	}
	return 0;
}

static int
notify_set(struct watch *w, struct mf_err *e)
{
	struct isync *c = w->c;
	const char **names = calloc(c->fl.n + 1, sizeof *names);
	int rc;
	size_t i;

	if (!names)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	for (i = 0; i < c->fl.n; i++)
		names[i] = c->fl.v[i].utf7;
	rc = isync_store_notify(c, names, c->fl.n, e);
	free(names);
	return rc;
}

/* The connection slots the plan asks for; [0] is the main connection. */
static int
conns_alloc(struct watch *w, struct mf_err *e)
{
	struct isync *c = w->c;
	size_t n = 0;
	size_t i;

	for (i = 0; i < c->fl.n; i++)
		if (w->owner[i] > n)
			n = w->owner[i];
	w->conn = calloc(n + 1, sizeof *w->conn);
	if (!w->conn)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	w->nconn = n + 1;
	w->conn[0].im = c->im;
	w->conn[0].fi = MAIN_CONN;
	w->conn[0].probed = now_ms();
	return 0;
}

static int
open_watchers(struct watch *w, struct mf_err *e)
{
	struct isync *c = w->c;
	size_t fi;

	for (fi = 0; fi < c->fl.n; fi++) {
		size_t k = w->owner[fi];
		struct mf_imap *main_im;
		int rc;
		if (!k)
			continue;
		main_im = c->im;
		rc = isync_connect(c, e);
		w->conn[k].im = c->im;
		c->im = main_im;
		w->conn[0].im = main_im;
		w->conn[k].fi = fi;
		w->conn[k].probed = now_ms();
		if (rc == -1 || sync_on(w, k, fi, e) == -1 || idle_begin(w, k, e) == -1)
			return -1;
	}
	if (w->notify && (notify_set(w, e) == -1 || idle_begin(w, 0, e) == -1))
		return -1;
	return 0;
}

static int
session_start(struct watch *w, struct mf_err *e)
{
	struct isync *c = w->c;
	size_t i, nw, np;

	w->selected = (size_t)-1;
	if (isync_connect(c, e) == -1)
		return -1;
	mf_folders_free(&c->fl);
	c->fl.layout = c->p->layout;
	c->fl.excludes = c->p->excludes;
	c->fl.nexcludes = c->p->nexcludes;
	if (isync_list_folders(c, e) == -1 || folders_alloc(w, e) == -1)
		return -1;
	w->notify = !w->o.no_notify && isync_store_can(c, "NOTIFY");
	plan(w);
	if (conns_alloc(w, e) == -1)
		return -1;
	/* the baseline before the sync: a change in between shows next poll */
	if (poll_folders(w, 1, e) == -1 || full_sync(w, e) == -1)
		return -1;
	if (flag_set(c->p->stop) || flag_set(c->p->reload))
		return 0;         /* session() ends at once */
	if (open_watchers(w, e) == -1 || watch_local(w, e) == -1)
		return -1;
	drain_local(w);
	nw = w->nconn - 1;
	np = 0;
	for (i = 0; i < c->fl.n; i++)
		np += w->owner[i] == 0;
	if (w->notify)
		notef(w, 0, "watching %zu folder%s with NOTIFY", c->fl.n,
		      c->fl.n == 1 ? "" : "s");
	else
		notef(w, 0, "watching %zu folder%s with IDLE, polling %zu every %d s",
		      nw, nw == 1 ? "" : "s", np, w->o.poll_ms / 1000);
	return 0;
}

/* Prove connection k alive: end IDLE, NOOP, IDLE again. */
static int
probe(struct watch *w, size_t k, struct mf_err *e)
{
	struct wconn *cn = &w->conn[k];
	struct cbarg a = { w, k };
	struct mf_imap_events ev = watch_events(&a);

	if (idle_end(w, k, e) == -1)
		return -1;
	if (isync_store_probe(cn->im, w->o.probe_timeout_ms, &ev, e) == -1)
		return -1;
	cn->probed = now_ms();
	return idle_begin(w, k, e);
}

static int
poll_fds(struct watch *w, int timeout_ms, struct mf_err *e)
{
	struct pollfd pf[MF_IMAPIDLE_CONNECTIONS_MAX + 2];
	size_t n = 0;
	size_t k;
	int r;

	for (k = 0; k < w->nconn && n < MF_IMAPIDLE_CONNECTIONS_MAX + 1;
	     k++) {
		int fd;
		if (!w->conn[k].idle_tag)
			continue;
		fd = isync_store_pollfd(w->conn[k].im);
		if (fd == -2)
			return 1;
		pf[n].fd = fd;
		pf[n].events = POLLIN;
		n++;
	}
	if (w->md) {
		pf[n].fd = mf_mdwatch_fd(w->md);
		pf[n].events = POLLIN;
		n++;
	}
	r = poll(pf, n, timeout_ms);
	if (r == -1 && errno != EINTR)
		return mf_err_sys(e, MF_E_IO, errno, "poll");
	return r > 0;
}

/* One turn of the loop: react to signals, clocks, the server, the
 * Maildir and the timers, then wait up to a second. */
static int
turn(struct watch *w, struct mf_err *e)
{
	struct isync *c = w->c;
	const struct mf_imapsync_params *p = c->p;
	struct mf_clocks k;
	int64_t t = now_ms();
	int probe_all = 0;
	int64_t j;
	size_t i;
	int wait;
	size_t fi;
	int synced;

	mf_clocks_now(&k);
	j = mf_clocks_jump(&w->clk, &k, MF_IMAPIDLE_JUMP_MS);
	w->clk = k;
	if (j) {
		notef(w, 0, "the clock jumped %lld s (suspend?): checking the "
		      "connections", (long long)(j / 1000));
		probe_all = 1;
	}
	if (flag_set(p->sync_now)) {
		*p->sync_now = 0;
		notef(w, 0, "synchronising every folder now");
		/* --jobs: the others in parallel, each watched one on its own
		 * connection (cheap with QRESYNC) */
		if (c->p->jobs > 1 && full_sync(w, e) == -1)
			return -1;
		for (fi = 0; fi < w->nfolders; fi++)
			w->dirty[fi] = c->p->jobs <= 1 || w->owner[fi] != 0;
	}
	for (i = 0; i < w->nconn; i++) {
		struct cbarg a = { w, i };
		struct mf_imap_events ev = watch_events(&a);
		if (w->conn[i].idle_tag &&
		    isync_store_idle_poll(w->conn[i].im, &ev, e) == -1)
			return -1;
		if ((probe_all || t - w->conn[i].probed >= w->o.keepalive_ms) &&
		    probe(w, i, e) == -1)
			return -1;
	}
	if (!w->notify && t >= w->next_poll && poll_folders(w, 0, e) == -1)
		return -1;
	wait = 1000;
	if (w->md && mf_mdwatch_read(w->md, on_local, w, e) == -1)
		return -1;
	for (fi = 0; fi < w->nfolders; fi++)
		if (mf_debounce_due(&w->local[fi], t, MF_IMAPIDLE_DEBOUNCE_MS,
		                    MF_IMAPIDLE_DEBOUNCE_MAX_MS, &wait))
			w->dirty[fi] = 1;
	synced = 0;
	for (fi = 0; fi < w->nfolders; fi++) {
		if (flag_set(p->stop) || flag_set(p->reload))
			return 0;
		if (w->dirty[fi]) {
			if (sync_folder(w, fi, e) == -1)
				return -1;
			synced = 1;
		}
	}
	if (synced) {
		drain_local(w);
		/* months of syncs and reconnects must not grow the process:
		 * give freed pages back (glibc keeps them otherwise) */
		malloc_trim(0);
	}
	if (flag_set(p->stop) || flag_set(p->reload) || flag_set(p->sync_now))
		return 0;
	return poll_fds(w, wait, e) == -1 ? -1 : 0;
}

static int
session(struct watch *w, struct mf_err *e)
{
	const struct mf_imapsync_params *p = w->c->p;

	if (session_start(w, e) == -1)
		return -1;
	if (w->sessions++ > 0)
		notef(w, 0, "reconnected after %u attempt%s", w->bo.attempt,
		      w->bo.attempt == 1 ? "" : "s");
	mf_backoff_reset(&w->bo);
	mf_clocks_now(&w->clk);
	while (!flag_set(p->stop) && !flag_set(p->reload))
		if (turn(w, e) == -1)
			return -1;
	return flag_set(p->reload) ? SESSION_RELOAD : SESSION_STOP;
}

/* Sleep ms in short steps, awake for signals; 1 when a flag ended it. */
static int
backoff_sleep(const struct mf_imapsync_params *p, int ms)
{
	while (ms > 0) {
		struct timespec ts = { 0, 0 };
		int step;

		if (flag_set(p->stop) || flag_set(p->reload) ||
		    flag_set(p->sync_now))
			return 1;
		step = ms < 200 ? ms : 200;
		ts.tv_nsec = (long)step * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return 0;
}

static void
defaults(struct mf_imapsync_idle *o)
{
	if (o->backoff_min_ms <= 0)
		o->backoff_min_ms = MF_IMAPIDLE_BACKOFF_MIN_MS;
	if (o->backoff_max_ms <= 0)
		o->backoff_max_ms = MF_IMAPIDLE_BACKOFF_MAX_MS;
	if (o->backoff_max_ms < o->backoff_min_ms)
		o->backoff_max_ms = o->backoff_min_ms;
	o->keepalive_ms = mf_imapidle_keepalive_ms(o->keepalive_ms);
	if (o->probe_timeout_ms <= 0)
		o->probe_timeout_ms = MF_IMAPIDLE_PROBE_TIMEOUT_MS;
	if (o->poll_ms <= 0)
		o->poll_ms = MF_IMAPIDLE_POLL_MS;
	if (o->connections < 0)
		o->connections = 0;
	if (o->connections > MF_IMAPIDLE_CONNECTIONS_MAX)
		o->connections = MF_IMAPIDLE_CONNECTIONS_MAX;
}

int
isync_watch(struct isync *c, struct mf_err *e)
{
	const struct mf_imapsync_params *p = c->p;
	struct watch w;
	int rc;

	memset(&w, 0, sizeof w);
	w.c = c;
	w.o = p->idle_opts;
	if (!p->idle_opts.connections)
		w.o.connections = MF_IMAPIDLE_CONNECTIONS;
	defaults(&w.o);
	w.bo.min_ms = w.o.backoff_min_ms;
	w.bo.max_ms = w.o.backoff_max_ms;
	for (;;) {
		uint32_t rnd;
		int first;
		int d;
		mf_err_clear(e);
		rc = session(&w, e);
		conns_close(&w, rc >= 0);
		malloc_trim(0);
		if (rc >= 0 || flag_set(p->stop) || flag_set(p->reload))
			break;
		if (mf_imapidle_fatal(e->kind))
			break;      /* a person must act: the tool exits */
		rnd = 0;
		if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
			rnd = (uint32_t)now_ms();
		first = w.bo.attempt == 0;
		d = mf_backoff_next(&w.bo, rnd);
		notef(&w, 1, "%s: %s; reconnecting in %d.%d s (attempt %u)",
		      first ? "connection lost" : "reconnect failed", e->msg,
		      d / 1000, d % 1000 / 100, w.bo.attempt);
		if (backoff_sleep(p, d) && (flag_set(p->stop) ||
		                            flag_set(p->reload)))
			break;
		if (flag_set(p->sync_now))
			*p->sync_now = 0;
	}
	mf_mdwatch_free(w.md);
	folders_free(&w);
	if (rc == -1 && (flag_set(p->stop) || flag_set(p->reload)))
		rc = flag_set(p->reload) ? SESSION_RELOAD : SESSION_STOP;
	if (rc == -1)
		return -1;
	return rc == SESSION_RELOAD ? 1 : 0;
}
