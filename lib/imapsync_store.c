/* imapsync_store.c - the server's folder as a message store, in the
 * engine's words: messages by UID set, flag sets, bodies, deletions and
 * uploads, and the connection, the folder list and SELECT that come
 * before them.  The IMAP commands behind them, the UID-set syntax (RFC 3501
 * §9 sequence-set) and how many commands are kept in flight belong here:
 * no other part of the engine formats a UID set or queues a message
 * command. */
#include "imapsync_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "durable.h"
#include "imapflags.h"
#include "utf7.h"

#define STORE_WINDOW 16         /* commands in flight at a time */

/* The next command-sized piece of the sorted set u from *pos into out
 * ("1:5,7"); *pos moves past what was written. */
static void
uids_format(const struct uids *u, size_t *pos, char *out, size_t len)
{
	size_t o = 0, i = *pos;

	out[0] = '\0';
	while (i < u->n && o + 24 < len && o < UIDSET_MAX) {
		size_t j = i;
		int n;
		while (j + 1 < u->n && u->v[j + 1] == u->v[j] + 1)
			j++;
		n = j > i ? snprintf(out + o, len - o, "%s%u:%u", o ? "," : "",
		                     u->v[i], u->v[j])
		          : snprintf(out + o, len - o, "%s%u", o ? "," : "",
		                     u->v[i]);
		o += (size_t)n;
		i = j + 1;
	}
	*pos = i;
}

int
isync_store_fetch(struct isync *c, const struct uids *set, unsigned items,
                  const struct mf_imap_hooks *hk,
                  const struct mf_imap_events *ev, struct mf_err *e)
{
	unsigned tags[STORE_WINDOW];
	char s[UIDSET_MAX + 64];
	size_t pos = 0, nt, i;
	int rc = 0;

	if (hk)
		mf_imap_set_literal_hooks(c->im, hk);
	while (rc == 0 && pos < set->n) {
		/* a window of commands in flight keeps the pipe full */
		for (nt = 0; nt < STORE_WINDOW && pos < set->n; nt++) {
			uids_format(set, &pos, s, sizeof s);
			if (mf_imap_uid_fetch_send(c->im, s, MF_IMAP_FETCH_UID | items,
			                           &tags[nt], e) == -1) {
				rc = -1;
				break;
			}
		}
		for (i = 0; rc == 0 && i < nt; i++)
			if (mf_imap_wait_events(c->im, tags[i], ev, e) == -1)
				rc = -1;
	}
	if (hk)
		mf_imap_set_literal_hooks(c->im, NULL);
	return rc;
}

int
isync_store_fetch_from(struct isync *c, uint32_t from, unsigned items,
                       const struct mf_imap_hooks *hk,
                       const struct mf_imap_events *ev, struct mf_err *e)
{
	char s[32];
	int rc;

	/* RFC 3501 §6.4.8: "n:*" names at least the highest UID, even
	 * below n, so callers check the UIDs they are handed */
	snprintf(s, sizeof s, "%u:*", from ? from : 1);
	if (hk)
		mf_imap_set_literal_hooks(c->im, hk);
	rc = mf_imap_uid_fetch(c->im, s, MF_IMAP_FETCH_UID | items, ev, e);
	if (hk)
		mf_imap_set_literal_hooks(c->im, NULL);
	return rc;
}

int
isync_store_set_flags(struct isync *c, const struct store_op *ops,
                      size_t n, struct mf_err *e)
{
	unsigned *tags;
	size_t nt = 0, i;
	int rc = 0;

	if (!n)
		return 0;
	tags = calloc(2 * n, sizeof *tags);
	if (!tags)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	/* RFC 3501 §6.4.6: +FLAGS and -FLAGS, every command in flight */
	for (i = 0; i < n && rc == 0; i++) {
		char fl[MF_FLAGSET_MAX + 64], s[16];
		snprintf(s, sizeof s, "%u", ops[i].uid);
		if (*ops[i].add) {
			mf_imapflags_to_imap(ops[i].add, fl, sizeof fl);
			rc = mf_imap_uid_store_send(c->im, s, MF_IMAP_STORE_ADD, fl,
			                            &tags[nt++], e);
		}
		if (*ops[i].del && rc == 0) {
			mf_imapflags_to_imap(ops[i].del, fl, sizeof fl);
			rc = mf_imap_uid_store_send(c->im, s, MF_IMAP_STORE_REMOVE,
			                            fl, &tags[nt++], e);
		}
	}
	for (i = 0; i < nt && rc == 0; i++)
		rc = mf_imap_wait_ok(c->im, tags[i], NULL, NULL, e);
	free(tags);
	return rc;
}

int
isync_store_delete(struct isync *c, const struct uids *del,
                   int (*done)(void *arg, const uint32_t *uids, size_t n,
                               struct mf_err *e),
                   void *arg, struct mf_err *e)
{
	char s[UIDSET_MAX + 64];
	size_t pos = 0;

	while (pos < del->n) {
		size_t start = pos;
		uids_format(del, &pos, s, sizeof s);
		if (mf_imap_uid_store(c->im, s, MF_IMAP_STORE_ADD, "\\Deleted",
		                      e) == -1)
			return -1;
		/* RFC 4315 §2.1: expunge only these, not others' \Deleted mail */
		if (c->uidplus && mf_imap_uid_expunge(c->im, s, e) == -1)
			return -1;
		if (done(arg, del->v + start, pos - start, e) == -1)
			return -1;
	}
	return 0;
}

int
isync_store_find_header(struct isync *c, uint32_t from, const char *field,
                        const char *value,
                        int (*each)(void *arg, uint32_t uid, struct mf_err *e),
                        void *arg, struct mf_err *e)
{
	return mf_imap_uid_search_header(c->im, from, field, value, each, arg, e);
}

int
isync_store_append(struct isync *c, const char *utf7, const char *flagset,
                   uint64_t size,
                   ssize_t (*read)(void *arg, char *buf, size_t n),
                   void *arg, uint32_t *uid, struct mf_err *e)
{
	char fl[MF_FLAGSET_MAX + 64];

	mf_imapflags_to_imap(flagset, fl, sizeof fl);
	return mf_imap_append(c->im, utf7, fl, size, read, arg, uid, e);
}

/* ---- the connection and the folder list ---- */

/* The STATUS to ask for with LIST: what tells an unchanged folder in a
 * one-shot pull run (RFC 7162 §3.1.6: HIGHESTMODSEQ needs CONDSTORE;
 * with QRESYNC it also rises with every expunge); 0 when the server
 * cannot say or the run would not use it (--idle syncs a folder again
 * later, two-way mode has local changes to send). */
static unsigned
list_status_items(struct isync *c, int ext)
{
	const struct mf_imapsync_params *p = c->p;

	if (!ext || !mf_imap_has_cap(c->im, "LIST-STATUS") ||
	    !mf_imap_has_cap(c->im, "QRESYNC") || p->idle || p->two_way ||
	    p->dry_run)
		return 0;
	return MF_IMAP_STATUS_UIDVALIDITY | MF_IMAP_STATUS_UIDNEXT |
	       MF_IMAP_STATUS_HIGHESTMODSEQ;
}

/* The patterns in modified UTF-7 (RFC 3501 §5.1.3), into enc[0..np). */
static int
encode_patterns(const char *const *pats, size_t np,
                struct mf_buf *enc, const char **out,
                struct mf_err *e)
{
	size_t i;

	for (i = 0; i < np; i++) {
		if (mf_utf7_encode(pats[i], strlen(pats[i]), &enc[i], e) == -1)
			return -1;
		out[i] = enc[i].data ? enc[i].data : "";
	}
	return 0;
}

/* One LIST with every pattern when LIST-EXTENDED (RFC 5258) allows it,
 * asking for SPECIAL-USE attributes (RFC 6154) when offered; else one
 * plain LIST per pattern, all queued at once. */
int
isync_list_send(struct isync *c, struct mf_err *e)
{
	const char *all[] = { "*" };
	const char *const *pats = c->p->nfolders ? c->p->folders : all;
	size_t np = c->p->nfolders ? c->p->nfolders : 1;
	int ext = mf_imap_has_cap(c->im, "LIST-EXTENDED");
	unsigned how = ext && mf_imap_has_cap(c->im, "SPECIAL-USE")
	               ? MF_IMAP_LIST_SPECIAL_USE : 0;
	struct mf_buf *enc;
	const char **utf7;
	int r;
	size_t i;

	free(c->list_tags);
	c->nlist = 0;
	c->list_tags = calloc(np, sizeof *c->list_tags);
	enc = calloc(np, sizeof *enc);
	utf7 = calloc(np, sizeof *utf7);
	if (!c->list_tags || !enc || !utf7)
		r = mf_err_set(e, MF_E_NOMEM, "out of memory");
	else {
		for (i = 0; i < np; i++)
			mf_buf_init(&enc[i], 4096);
		r = encode_patterns(pats, np, enc, utf7, e);
	}
	/* ext: all patterns in one command; else one each */
	for (i = 0; r == 0 && i < np; i += ext ? np : 1) {
		r = mf_imap_list_send(c->im, utf7 + i, ext ? np : 1, how,
		                      list_status_items(c, ext),
		                      &c->list_tags[c->nlist], e);
		if (r == 0)
			c->nlist++;
	}
	for (i = 0; enc && i < np; i++)
		mf_buf_free(&enc[i]);
	free(enc);
	free(utf7);
	if (r == -1)
		mf_err_prefix(e, "listing the folders (LIST)");
	return r;
}

int
isync_list_wait(struct isync *c, struct mf_err *e)
{
	int r = 0;
	struct mf_imap_events ev = isync_list_events(c);
	size_t i;

	for (i = 0; r == 0 && i < c->nlist; i++) {
		r = mf_imap_wait_events(c->im, c->list_tags[i], &ev, e);
		if (r == -1)
			mf_err_prefix(e, "listing the folders (LIST)");
	}
	free(c->list_tags);
	c->list_tags = NULL;
	c->nlist = 0;
	return r;
}

int
isync_list_folders(struct isync *c, struct mf_err *e)
{
	if (isync_list_send(c, e) == -1)
		return -1;
	return isync_list_wait(c, e);
}

/* What the last run learnt of the server's capabilities
 * (mf_imap_hint): STATE/capabilities, read into out ("" if none). */
#define HINT_FILE "capabilities"
#define HINT_BYTES 16384

static void
hint_read(const struct isync *c, char *out, size_t len)
{
	char path[4200];
	ssize_t n = -1;
	int fd;

	out[0] = '\0';
	if (snprintf(path, sizeof path, "%s/" HINT_FILE, c->state_dir) >=
	    (int)sizeof path)
		return;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return;
	n = read(fd, out, len - 1);
	close(fd);
	/* a short or odd file is no hint: mf_imap_connect_ahead checks */
	out[n > 0 ? n : 0] = '\0';
}

/* Keep the session's hint for the next run when it changed; a hint that
 * cannot be written costs the next run a round trip, nothing else. */
static void
hint_save(const struct isync *c, const char *old)
{
	struct mf_buf b = MF_BUF_INIT(HINT_BYTES - 1);
	char path[4200];
	struct mf_err e;

	mf_err_clear(&e);
	if (c->p->dry_run || mf_imap_hint(c->im, &b, &e) == -1 ||
	    !strcmp(b.data ? b.data : "", old) ||
	    snprintf(path, sizeof path, "%s/" HINT_FILE, c->state_dir) >=
	    (int)sizeof path) {
		mf_buf_free(&b);
		return;
	}
	if (b.len)
		(void)mf_durable_replace(path, NULL, b.data, b.len, 0600, &e);
	else
		(void)unlink(path);
	mf_buf_free(&b);
}

int
isync_connect_begin(struct isync *c, int ahead, struct mf_err *e)
{
	int queued;

	c->enable_tag = 0;
	hint_read(c, c->hint, sizeof c->hint);
	c->im = mf_imap_connect_ahead(&c->p->imap, ahead ? c->hint : NULL,
	                              &queued, e);
	if (!c->im || (!queued && mf_imap_login(c->im, &c->p->imap, e) == -1))
		return -1;
	return mf_imap_enable_send(c->im, "QRESYNC CONDSTORE", &c->enable_tag, e);
}

int
isync_connect_end(struct isync *c, struct mf_err *e)
{
	unsigned t = c->enable_tag;
	int r = mf_imap_ahead_finish(c->im, e);

	if (r != 1)
		return r == 0 ? 1 : -1;
	c->enable_tag = 0;
	if (t && mf_imap_wait_ok(c->im, t, NULL, NULL, e) == -1)
		return -1;
	c->qresync = mf_imap_enabled(c->im, "QRESYNC");
	c->condstore = c->qresync || mf_imap_enabled(c->im, "CONDSTORE");
	c->uidplus = mf_imap_has_cap(c->im, "UIDPLUS");
	hint_save(c, c->hint);
	return 0;
}

int
isync_connect(struct isync *c, struct mf_err *e)
{
	if (isync_connect_begin(c, 0, e) == -1)
		return -1;
	return isync_connect_end(c, e);
}

void
isync_store_close(struct isync *c)
{
	mf_imap_free(c->im);
	c->im = NULL;
}

int
isync_store_can(const struct isync *c, const char *capability)
{
	return mf_imap_has_cap(c->im, capability);
}

/* ---- one folder: SELECT and its replies ---- */

unsigned
isync_store_select_send(struct isync *c, const char *utf7, int mode,
                        const struct mf_syncstate *st, struct mf_err *e)
{
	struct mf_imap_qresync q = { mf_syncstate_uidvalidity(st),
	                             mf_syncstate_modseq(st) };
	unsigned how = c->p->dry_run ? MF_IMAP_SELECT_READONLY : 0;
	unsigned t;

	if (mode == ISYNC_SEL_CONDSTORE)
		how |= MF_IMAP_SELECT_CONDSTORE;
	/* RFC 7162 §3.2.5: QRESYNC names what the state knows */
	if (mf_imap_select_send(c->im, utf7, how, mode == ISYNC_SEL_QRESYNC ?
	                        &q : NULL, &t, e) == -1)
		return 0;
	return t;
}

int
isync_store_reply(struct isync *c, unsigned tag,
                  const struct mf_imap_events *ev, struct mf_err *e)
{
	return mf_imap_wait_events(c->im, tag, ev, e);
}

int
isync_store_skip_reply(struct isync *c, unsigned tag, struct mf_err *e)
{
	struct mf_imap_status st;

	return mf_imap_wait(c->im, tag, NULL, NULL, &st, e);
}

const struct mf_imap_mailbox *
isync_store_box(const struct isync *c)
{
	return mf_imap_mailbox(c->im);
}

/* ---- watching: IDLE, NOTIFY, STATUS and probes (--idle) ----
 * These take the connection itself: --idle keeps one per watched
 * folder beside c's. */

void
isync_store_abandon(struct mf_imap *im)
{
	mf_imap_abandon(im);
}

void
isync_store_end(struct mf_imap *im, int at_once)
{
	if (at_once)
		mf_imap_abandon(im);
	mf_imap_free(im);
}

unsigned
isync_store_idle_begin(struct mf_imap *im, const struct mf_imap_events *ev,
                       struct mf_err *e)
{
	return mf_imap_idle_begin(im, ev, e);
}

int
isync_store_idle_poll(struct mf_imap *im, const struct mf_imap_events *ev,
                      struct mf_err *e)
{
	return mf_imap_idle_poll(im, 0, ev, e);
}

int
isync_store_idle_end(struct mf_imap *im, unsigned tag, int timeout_ms,
                     const struct mf_imap_events *ev, struct mf_err *e)
{
	return mf_imap_idle_end(im, tag, timeout_ms, ev, e);
}

int
isync_store_pollfd(struct mf_imap *im)
{
	return mf_imap_pollfd(im);
}

int
isync_store_probe(struct mf_imap *im, int timeout_ms,
                  const struct mf_imap_events *ev, struct mf_err *e)
{
	int old, rc;

	if (!im)
		return mf_err_set(e, MF_E_CLOSED, "not connected");
	old = mf_imap_set_timeout(im, timeout_ms);
	rc = mf_imap_noop(im, ev, e);
	mf_imap_set_timeout(im, old);
	return rc;
}

int
isync_store_status(struct isync *c, const char *utf7, unsigned items,
                   int timeout_ms, const struct mf_imap_events *ev,
                   struct mf_err *e)
{
	int old, rc;

	if (!c->im)
		return mf_err_set(e, MF_E_CLOSED, "not connected");
	old = mf_imap_set_timeout(c->im, timeout_ms);
	rc = mf_imap_status(c->im, utf7, items, ev, e);
	mf_imap_set_timeout(c->im, old);
	return rc;
}

int
isync_store_notify(struct isync *c, const char *const *utf7, size_t n,
                   struct mf_err *e)
{
	return mf_imap_notify_set_status(c->im, utf7, n, e);
}
