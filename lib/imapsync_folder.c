/* imapsync_folder.c - one folder, by UID (RFC 3501 §2.3.1.1): SELECT
 * (with QRESYNC, RFC 7162 §3.2.5, only the changes come back), merge the
 * flags of the messages we know, fetch the new ones, and in two-way mode
 * send the local changes. */
#include "imapsync_int.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "durable.h"
#include "imapflags.h"
#include "utf7.h"

/* FETCH (UID FLAGS) answers, and with QRESYNC the changes that SELECT
 * returns (RFC 7162 §3.2.5.2). */
static int
flags_fetch_cb(void *arg, const struct mf_imap_fetch *m, struct mf_err *e)
{
	struct frun *fr = arg;
	char flags[MF_FLAGSET_MAX] = "";
	struct sflag *old;

	if (!m->uid || !m->has_flags)
		return 0;    /* e.g. a MODSEQ-only update */
	mf_imapflags_from_names(m->flags, m->nflags, flags, sizeof flags);
	old = fr->sl.sorted ? isync_slist_find(&fr->sl, m->uid) : NULL;
	if (old)
		return isync_slist_set_flags(old, flags) == -1
		       ? mf_err_set(e, MF_E_NOMEM, "out of memory") : 0;
	if (isync_slist_add(&fr->sl, m->uid, flags, m->size, NULL) == -1)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	return 0;
}

/* VANISHED (EARLIER) UIDs (RFC 7162 §3.2.10). */
static int
vanished_cb(void *arg, const char *uids, int earlier, struct mf_err *e)
{
	struct frun *fr = arg;

	(void)earlier;
	if (isync_ranges_parse(&fr->vanished, uids) == -1)
		return mf_err_set(e, MF_E_PROTO, "bad VANISHED UID set");
	return 0;
}

static struct mf_imap_events
flag_events(struct frun *fr)
{
	struct mf_imap_events ev = {
		.fetch = flags_fetch_cb, .vanished = vanished_cb, .arg = fr
	};

	return ev;
}

/* UIDs the state lacks: from the full list, or (QRESYNC) every UID from
 * the old UIDNEXT on; UIDs never used are simply not returned. */
static int
new_uids(struct frun *fr, struct uids *want, uint32_t from,
         uint32_t to, struct mf_err *e)
{
	uint32_t u;

	if (fr->full) {
		size_t i;

		for (i = 0; i < fr->sl.n; i++) {
			u = fr->sl.v[i].uid;
			if (to && u >= to) {
				/* RFC 3501 §2.3.1.1: UIDNEXT is greater than
				 * every UID in the mailbox */
				isync_warnf(fr->c, "%s: ignoring UID %u, at or "
				            "above UIDNEXT %u", fr->f->utf8, u, to);
				continue;
			}
			if (!mf_syncstate_get(fr->st, u) && isync_uids_add(want, u) == -1)
				return mf_err_set(e, MF_E_NOMEM, "out of memory");
		}
		return 0;
	}
	for (u = from; u && u < to; u++)
		if (!mf_syncstate_get(fr->st, u) && isync_uids_add(want, u) == -1)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
	return 0;
}

/* What QRESYNC needs from the state (RFC 7162 §3.2.5): a UIDVALIDITY, a
 * MODSEQ and a UIDNEXT to ask for changes since. */
static int
select_mode(int qresync, int condstore,
            const struct mf_syncstate *st)
{
	if (qresync && mf_syncstate_uidvalidity(st) && mf_syncstate_modseq(st) &&
	    mf_syncstate_uidnext(st))
		return ISYNC_SEL_QRESYNC;
	return condstore ? ISYNC_SEL_CONDSTORE : ISYNC_SEL_PLAIN;
}

/* The folder the run syncs first, as far as it can be known before
 * LIST answers: the first pattern when it names one folder, else INBOX
 * when the pattern matches it (LIST names INBOX in upper case, RFC 3501
 * §5.1).  0 when there is no good guess. */
static int
preselect_guess(const struct isync *c, char *utf7, size_t len)
{
	const char *pat = c->p->nfolders ? c->p->folders[0] : "*";
	const char *name = pat;
	struct mf_buf enc = MF_BUF_INIT(4096);
	struct mf_err e;
	int ok;
	size_t i;

	if (strpbrk(pat, "*%"))
		name = "INBOX";
	if (!strcasecmp(name, "INBOX"))
		name = "INBOX";
	if (name != pat && !mf_folders_match(pat, name, 0))
		return 0;
	for (i = 0; i < c->p->nexcludes; i++)
		if (mf_folders_match(c->p->excludes[i], name, 0))
			return 0;
	mf_err_clear(&e);
	ok = mf_utf7_encode(name, strlen(name), &enc, &e) == 0 && enc.data &&
	     enc.len < len;
	if (ok)
		mf_strlcpy(utf7, enc.data, len);
	mf_buf_free(&enc);
	return ok;
}

int
isync_preselect_send(struct isync *c, struct mf_err *e)
{
	struct isync_pre *pr = &c->pre;
	char key[200];
	struct mf_err e2;
	int q = isync_store_can(c, "QRESYNC");

	isync_preselect_drop(c);
	if (!preselect_guess(c, pr->utf7, sizeof pr->utf7))
		return 0;
	mf_folders_state_key(pr->utf7, key, sizeof key);
	mf_err_clear(&e2);
	/* a state that cannot be read now is reported by the folder's own
	 * sync; the guess is only skipped */
	if (!(pr->st = mf_syncstate_open_head(c->state_dir, key, &e2)))
		return 0;
	/* isync_connect_end() will find enabled what ENABLE asked for */
	pr->mode = select_mode(q, q || isync_store_can(c, "CONDSTORE"),
	                       pr->st);
	pr->tag = isync_store_select_send(c, pr->utf7, pr->mode, pr->st, e);
	if (!pr->tag) {
		isync_preselect_drop(c);
		return -1;
	}
	return 0;
}

void
isync_preselect_first(struct isync *c)
{
	struct mf_folder f;
	size_t k;

	if (!c->pre.tag)
		return;
	for (k = c->nf_done; k < c->fl.n; k++)
		if (!strcmp(c->fl.v[k].utf7, c->pre.utf7))
			break;
	if (k == c->fl.n || k == c->nf_done)
		return;
	f = c->fl.v[k];
	memmove(&c->fl.v[c->nf_done + 1], &c->fl.v[c->nf_done],
	        (k - c->nf_done) * sizeof f);
	c->fl.v[c->nf_done] = f;
}

void
isync_preselect_finish(struct isync *c)
{
	struct mf_err e;

	mf_err_clear(&e);
	if (c->pre.tag && c->im)
		(void)isync_store_skip_reply(c, c->pre.tag, &e);
	isync_preselect_drop(c);
}

void
isync_preselect_drop(struct isync *c)
{
	mf_syncstate_free(c->pre.st);
	memset(&c->pre, 0, sizeof c->pre);
}

/* The state of folder f when the guessed SELECT is for it (fr then owns
 * it), else NULL. */
static struct mf_syncstate *
preselect_take(struct isync *c,
               const struct mf_folder *f)
{
	struct mf_syncstate *st = c->pre.st;

	c->pre.taken = 0;
	if (!c->pre.tag || !st || strcmp(c->pre.utf7, f->utf7))
		return NULL;
	c->pre.taken = 1;
	c->pre.st = NULL;
	return st;
}

/* The guessed SELECT's reply when it is this folder's in the mode
 * wanted: 1 and r its result.  Else its reply is read and dropped (its
 * untagged responses must not reach this folder's callbacks) and 0. */
static int
preselect_use(struct frun *fr, int mode, int *r, struct mf_err *e)
{
	struct isync *c = fr->c;
	unsigned t = c->pre.tag;
	int mine = c->pre.taken && c->pre.mode == mode;
	struct mf_imap_events ev = flag_events(fr);

	c->pre.tag = 0;
	c->pre.taken = 0;
	isync_preselect_drop(c);
	if (!t)
		return 0;
	if (mine) {
		*r = isync_store_reply(c, t, mode == ISYNC_SEL_QRESYNC ? &ev : NULL,
		                       e);
		return 1;
	}
	if (isync_store_skip_reply(c, t, e) == -1) {
		*r = -1;
		return 1;
	}
	return 0;
}

static int
select_folder(struct frun *fr, int use_qresync, struct mf_err *e)
{
	struct isync *c = fr->c;
	const struct mf_imap_mailbox *mb = isync_store_box(c);
	int mode = use_qresync ? ISYNC_SEL_QRESYNC : c->condstore
	           ? ISYNC_SEL_CONDSTORE : ISYNC_SEL_PLAIN;
	struct mf_imap_events ev = flag_events(fr);
	unsigned t;
	int r;

	if (!preselect_use(fr, mode, &r, e)) {
		t = isync_store_select_send(c, fr->f->utf7, mode, fr->st, e);
		r = t ? isync_store_reply(c, t, mode == ISYNC_SEL_QRESYNC ? &ev
		                          : NULL, e) : -1;
	}
	if (r == 0 && !mb->uidvalidity)
		r = mf_err_set(e, MF_E_PROTO, "no UIDVALIDITY for %s", fr->f->utf8);
	return r;
}


/* ---- the messages the state knows ---- */

/* One state entry, copied: the state may move entries as it changes. */
struct known {
	uint32_t uid;
	unsigned status;
	char base0[MF_FLAGSET_MAX];  /* flag set at the last sync */
	char base[512];         /* file name base */
	char S[MF_FLAGSET_MAX]; /* server's flag set now */
	struct lfile *lf;       /* the file, NULL if gone locally */
};

/* The server no longer has it.  *i steps back when the entry is removed. */
static int
known_gone(struct frun *fr, const struct known *k, size_t *i,
           struct mf_err *e)
{
	const struct mf_imapsync_params *p = fr->c->p;

	if (!p->expunge) {
		/* recorded, so a later --expunge still carries it out */
		if (!(k->status & MF_SS_GONE_REMOTE) && !p->dry_run)
			return mf_syncstate_put(fr->st, k->uid, k->base0,
			                        k->status | MF_SS_GONE_REMOTE, k->base, e);
		return 0;
	}
	if (k->lf && !p->dry_run && mf_maildir_remove(fr->md, k->lf->rel, e) == -1)
		return -1;
	if (k->lf)
		fr->res.deleted_local++;
	if (p->dry_run)
		return 0;
	(*i)--;
	return mf_syncstate_del(fr->st, k->uid, e);
}

/* Our file is gone: an expunge for the server in two-way mode with
 * --expunge, else only recorded. */
static int
known_missing(struct frun *fr, const struct known *k,
              struct uids *del_remote, struct mf_err *e)
{
	const struct mf_imapsync_params *p = fr->c->p;

	if (p->two_way && p->expunge) {
		if (isync_uids_add(del_remote, k->uid) == -1)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
	} else if (k->status & MF_SS_GONE_LOCAL) {
		if (strcmp(k->S, k->base0) && !p->dry_run)
			return mf_syncstate_put(fr->st, k->uid, k->S, k->status, k->base, e);
	} else if (!p->dry_run) {
		return mf_syncstate_put(fr->st, k->uid, k->base0,
		                        k->status | MF_SS_GONE_LOCAL, k->base, e);
	}
	return 0;
}

/* Both sides have it: merge the flags; a change for the server goes to
 * *op (and *push is set). */
static int
known_flags(struct frun *fr, const struct known *k,
            struct store_op *op, int *push, struct mf_err *e)
{
	const struct mf_imapsync_params *p = fr->c->p;
	char L[MF_FLAGSET_MAX], R[MF_FLAGSET_MAX];
	const char *keep;

	isync_local_set(fr, k->lf, k->base0, L, sizeof L);
	if (p->two_way) {
		mf_imapflags_merge3(k->base0, L, k->S, R, sizeof R);
		if (strcmp(R, k->S)) {
			char add[MF_FLAGSET_MAX], del[MF_FLAGSET_MAX];
			mf_imapflags_diff(k->S, R, add, sizeof add, del, sizeof del);
			op->uid = k->uid;
			op->add = strdup(add);
			op->del = strdup(del);
			if (!op->add || !op->del)
				return mf_err_set(e, MF_E_NOMEM, "out of memory");
			*push = 1;
			fr->res.flags_remote++;
		}
	} else {
		/* pull: server changes win; local-only changes stay */
		mf_imapflags_pull(k->base0, L, k->S, R, sizeof R);
	}
	if (strcmp(R, L) && isync_set_local_flags(fr, k->lf, R, e) == -1)
		return -1;
	keep = p->two_way ? R : k->S;
	if (!p->dry_run && strcmp(keep, k->base0))
		return mf_syncstate_put(fr->st, k->uid, keep, k->status, k->base, e);
	return 0;
}

static void
known_load(struct frun *fr, size_t i, struct known *k, int *gone)
{
	const struct mf_syncstate_entry *en = mf_syncstate_at(fr->st, i);
	struct sflag *s = isync_slist_find(&fr->sl, en->uid);

	k->uid = en->uid;
	k->status = en->status;
	k->lf = isync_lscan_find(&fr->ls, en->base);
	/* a deletion recorded earlier (without --expunge) is carried out
	 * once --expunge is given */
	*gone = (en->status & MF_SS_GONE_REMOTE) ||
	        (fr->full ? s == NULL : isync_ranges_has(&fr->vanished, en->uid));
	mf_strlcpy(k->base0, en->flags, sizeof k->base0);
	mf_strlcpy(k->base, en->base, sizeof k->base);
	mf_strlcpy(k->S, s ? s->flags : en->flags, sizeof k->S);
	if (k->lf)
		k->lf->used = 1;
}

static int
sync_known(struct frun *fr, struct uids *del_remote,
           struct mf_err *e)
{
	size_t nops = 0, i = 0, nalloc = mf_syncstate_held(fr->st) + 1;
	struct store_op *ops;
	int rc = 0;
	size_t j;

	ops = calloc(nalloc, sizeof *ops);
	if (!ops)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	while (rc == 0 && i < mf_syncstate_held(fr->st)) {
		struct known k;
		int gone, push = 0;
		known_load(fr, i++, &k, &gone);
		if (gone)
			rc = known_gone(fr, &k, &i, e);
		else if (!k.lf)
			rc = known_missing(fr, &k, del_remote, e);
		else
			rc = known_flags(fr, &k, &ops[nops], &push, e);
		nops += (size_t)push;
	}
	if (rc == 0)
		rc = isync_push_flags(fr, ops, nops, e);
	for (j = 0; j <= nops && j < nalloc; j++) {
		free(ops[j].add);
		free(ops[j].del);
	}
	free(ops);
	return rc;
}

/* ---- the folder ---- */

/* A UIDVALIDITY different from the state's means the server renumbered
 * the folder; none in the state, a first sync.  1: nothing more to do. */
static int
check_uidvalidity(struct frun *fr, uint32_t sv, int *use_q,
                  struct mf_err *e)
{
	const struct mf_imap_mailbox *mb = isync_store_box(fr->c);
	int dry = fr->c->p->dry_run;

	if (sv && sv != mb->uidvalidity) {
		isync_slist_free(&fr->sl);
		fr->vanished.n = 0;
		*use_q = 0;
		if (isync_recover_uidvalidity(fr, mb->uidvalidity, e) == -1)
			return -1;
		if (dry) {
			fr->res.fetched = mb->exists - fr->res.adopted;
			return 1;
		}
	} else if (!sv && !dry) {
		if (mf_syncstate_reset(fr->st, mb->uidvalidity, e) == -1 ||
		    mf_syncstate_commit(fr->st, e) == -1)
			return -1;
	}
	return 0;
}

/* 1 when QRESYNC's changes will not do and every message's flags must
 * be listed: without them, or when a range walk over a huge UIDNEXT
 * jump would be slow. */
static int
needs_full(int use_q, uint32_t old_next, uint32_t select_next,
           uint64_t select_modseq)
{
	return !use_q || !select_modseq || select_next < old_next ||
	       select_next - old_next > 1000000;
}

/* Without QRESYNC's changes (or when they would not do) list every
 * message's flags. */
static int
list_flags(struct frun *fr, int use_q, uint32_t old_next,
           uint32_t select_next, uint64_t select_modseq,
           struct mf_err *e)
{
	struct mf_imap_events ev = flag_events(fr);
	const struct mf_imap_mailbox *mb = isync_store_box(fr->c);

	fr->full = needs_full(use_q, old_next, select_next, select_modseq);
	if (fr->full) {
		isync_slist_free(&fr->sl);
		if (mb->exists &&
		    isync_store_fetch_from(fr->c, 1, MF_IMAP_FETCH_FLAGS, NULL, &ev,
		                           e) == -1)
			return -1;
	}
	isync_ranges_sort(&fr->vanished);
	isync_slist_find(&fr->sl, 0);   /* sorts */
	return 0;
}

/* --dry-run: how many of want the server really has. */
static int
count_new(struct frun *fr, const struct uids *want,
          struct mf_err *e)
{
	struct mf_imap_events ev = flag_events(fr);
	size_t k;

	if (fr->full) {
		fr->res.fetched = (unsigned long)want->n;
		return 0;
	}
	if (isync_store_fetch(fr->c, want, MF_IMAP_FETCH_FLAGS, NULL, &ev,
	                      e) == -1)
		return -1;
	for (k = 0; k < want->n; k++)
		if (isync_slist_find(&fr->sl, want->v[k]))
			fr->res.fetched++;
	return 0;
}

/* A first pull into an empty Maildir (no state, no file): every message
 * is new and no local file can stand for one, so the bodies are asked
 * for at once, without listing the folder's flags first -- a round trip
 * and the list's memory saved. */
static int
fresh_pull(const struct frun *fr, uint32_t sv)
{
	return !sv && !fr->c->p->dry_run && fr->ls.n == 0;
}

/* 1 when the folder's local Maildir is there (its cur/). */
static int
has_cur(const struct frun *fr)
{
	char cur[4096 + 8];
	struct stat sb;

	return snprintf(cur, sizeof cur, "%s/cur", fr->path) < (int)sizeof cur &&
	       stat(cur, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* 1 when the SELECT, with QRESYNC, shows what unchanged() shows from
 * LIST-STATUS: the server as the last complete sync left it -- the same
 * UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ, which every flag change and,
 * under QRESYNC, every expunge raises (RFC 7162 §3.1.2.1, §3.2.10), and
 * no VANISHED or FETCH reported.  A pull run (no --two-way, --expunge or
 * --dry-run) has nothing to do then: the state's entries are not read,
 * the Maildir is not listed and nothing is written. */
static int
still(const struct frun *fr, int use_q, uint32_t next, uint64_t modseq)
{
	const struct mf_imapsync_params *p = fr->c->p;
	const struct mf_imap_mailbox *mb = isync_store_box(fr->c);

	if (!use_q || !modseq || p->two_way || p->expunge || p->dry_run ||
	    fr->vanished.n || fr->sl.n)
		return 0;
	if (mb->uidvalidity != mf_syncstate_uidvalidity(fr->st) ||
	    next != mf_syncstate_uidnext(fr->st) ||
	    modseq != mf_syncstate_modseq(fr->st))
		return 0;
	return has_cur(fr);
}

/* ---- a pull of the changes alone ---- */

/* 1 when a pull needs only what the server's changes touch: QRESYNC
 * listed them (RFC 7162 §3.2.5.2) against an unchanged UIDVALIDITY, and
 * neither --two-way, --expunge nor --dry-run looks at the rest, nor a
 * keyword table about to move (isync_kw_adopt_due).  Local changes to
 * other messages are then seen by the next run that reads everything,
 * as with unchanged() and still(). */
static int
delta(const struct frun *fr, int use_q, uint32_t sv, uint32_t old_next,
      uint32_t next, uint64_t modseq)
{
	const struct mf_imapsync_params *p = fr->c->p;

	return sv && sv == isync_store_box(fr->c)->uidvalidity && old_next &&
	       !needs_full(use_q, old_next, next, modseq) && !p->two_way &&
	       !p->expunge && !p->dry_run && !isync_kw_adopt_due(fr);
}

/* What the changes touch: the UIDs reported changed or vanished and
 * every one from the old UIDNEXT on (new messages, and a stopped run's
 * files among them), as sorted ranges. */
static int
delta_ranges(struct frun *fr, uint32_t old_next, struct uids *r,
             struct mf_err *e)
{
	size_t i;

	for (i = 0; i < fr->sl.n; i++)
		if (isync_uids_add(r, fr->sl.v[i].uid) == -1 ||
		    isync_uids_add(r, fr->sl.v[i].uid) == -1)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
	for (i = 0; i < fr->vanished.n; i++)
		if (isync_uids_add(r, fr->vanished.v[i]) == -1)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
	if (isync_uids_add(r, old_next) == -1 ||
	    isync_uids_add(r, 0xFFFFFFFFu) == -1)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	isync_ranges_sort(r);
	return 0;
}

struct dkeep {
	struct uids r;          /* the ranges picked */
	size_t uploads;         /* files of an upload in flight seen */
};

/* The files of picked UIDs: every file the state knows carries its UID
 * (U=), and a stopped run's files are among the new UIDs.  A file of an
 * upload in flight (A=) is counted: finding it needs everything. */
static int
delta_keeps(void *arg, const char *rel)
{
	struct dkeep *k = arg;
	char f[16];
	long u;

	if (mf_maildir_name_field(rel, "A", f, sizeof f) == 0) {
		k->uploads++;
		return 0;
	}
	return mf_maildir_name_field(rel, "U", f, sizeof f) == 0 &&
	       mf_parse_long(f, 1, 0xFFFFFFFFl, &u) == 0 &&
	       isync_ranges_has(&k->r, (uint32_t)u);
}

/* The state's entries and the Maildir's files the run needs: those the
 * server's changes touch when delta() allows (memory then grows with
 * the changes, not the folder), else all of them. */
static int
load_local(struct frun *fr, int pick, uint32_t old_next, struct mf_err *e)
{
	struct dkeep k = { { 0 }, 0 };
	int r = 0;

	if (pick) {
		if (delta_ranges(fr, old_next, &k.r, e) == -1 ||
		    isync_lscan_load_some(fr->md, &fr->ls, delta_keeps, &k, e) == -1)
			r = -1;
		else if (!k.uploads)
			r = mf_syncstate_load_some(fr->st, k.r.v, k.r.n / 2, e);
		free(k.r.v);
		if (r != 0)
			return r == 1 ? 0 : -1;
	}
	return mf_syncstate_load(fr->st, e) == -1 ||
	       isync_lscan_load(fr->md, &fr->ls, e) == -1 ? -1 : 0;
}

static int
sync_body(struct frun *fr, struct mf_err *e)
{
	struct isync *c = fr->c;
	const struct mf_imapsync_params *p = c->p;
	const struct mf_imap_mailbox *mb = isync_store_box(c);
	uint32_t sv = mf_syncstate_uidvalidity(fr->st);
	uint32_t old_next = mf_syncstate_uidnext(fr->st);
	int use_q = select_mode(c->qresync, c->condstore, fr->st) ==
	            ISYNC_SEL_QRESYNC;
	struct uids want = { 0 }, del_remote = { 0 };
	int rc = -1, r;
	uint32_t select_next;
	uint64_t select_modseq;

	if (select_folder(fr, use_q, e) == -1)
		return -1;
	select_next = mb->uidnext;
	select_modseq = mb->nomodseq ? 0 : mb->highestmodseq;
	if (still(fr, use_q, select_next, select_modseq)) {
		fr->res.messages = (unsigned long)mf_syncstate_count(fr->st);
		return 0;
	}
	if (load_local(fr, delta(fr, use_q, sv, old_next, select_next,
	                         select_modseq), old_next, e) == -1 ||
	    isync_kw_open(fr, e) == -1)
		return -1;
	if ((r = check_uidvalidity(fr, sv, &use_q, e)) != 0)
		return r == -1 ? -1 : 0;
	fr->uidnext = select_next;
	if (fresh_pull(fr, sv)) {
		/* every entry is new: kept in the journal, not in memory */
		if (mf_syncstate_stream(fr->st, e) == -1 ||
		    (mb->exists && isync_fetch_bodies(fr, NULL, e) == -1))
			goto out;
	} else if (list_flags(fr, use_q, old_next, select_next, select_modseq,
	                      e) == -1 ||
	           sync_known(fr, &del_remote, e) == -1 ||
	           isync_adopt_orphans(fr, e) == -1 ||
	           (!p->dry_run && isync_recover_uploads(fr, e) == -1) ||
	           new_uids(fr, &want, old_next, select_next, e) == -1 ||
	           (p->dry_run ? count_new(fr, &want, e) == -1
	                       : want.n && isync_fetch_bodies(fr, &want, e) == -1)) {
		goto out;
	}
	if (p->two_way && (isync_expunge_remote(fr, &del_remote, e) == -1 ||
	                   isync_upload_new(fr, e) == -1))
		goto out;
	/* a body the server did not send is asked for again next time */
	if (fr->min_skipped && (!select_next || fr->min_skipped < select_next))
		select_next = fr->min_skipped;
	if (!p->dry_run) {
		if (mf_syncstate_set_uidnext(fr->st, select_next, e) == -1 ||
		    mf_syncstate_set_modseq(fr->st, select_modseq, e) == -1 ||
		    mf_syncstate_compact(fr->st, e) == -1)
			goto out;
		fr->res.messages = (unsigned long)mf_syncstate_count(fr->st);
	}
	if (fr->res.bodies_skipped) {
		mf_err_set(e, MF_E_TEMP, "%lu message(s) fetched, %lu skipped: "
		           "the server sent no body (NIL)", fr->res.fetched,
		           fr->res.bodies_skipped);
		goto out;
	}
	rc = 0;
out:
	free(want.v);
	free(del_remote.v);
	return rc;
}

/* The folder's Maildir, created unless in dry run (where it may be
 * missing: md stays NULL). */
static int
open_maildir(struct frun *fr, struct mf_err *e)
{
	struct isync *c = fr->c;

	if (c->p->dry_run) {
		struct mf_err e2;
		mf_err_clear(&e2);
		fr->md = mf_maildir_open(fr->path, 0, &e2);
		return 0;
	}
	fr->md = mf_maildir_open(fr->path, 1, e);
	if (!fr->md)
		return -1;
	/* a group is synced (on the Maildir's thread, while the next one
	 * arrives) before any of it is recorded: the files' fdatasyncs and
	 * one directory fsync per group, not an fsync each */
	mf_maildir_set_batch(fr->md, 1);
	if (c->p->layout == MF_LAYOUT_MAILDIRPP && *fr->f->rel) {
		/* Maildir++: mark subfolders for MUAs and MDAs */
		char mf[4096 + 32];
		int fd;
		if (mf_durable_join(mf, sizeof mf, fr->path, "maildirfolder", e) == -1)
			return -1;
		fd = open(mf, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static void
frun_free(struct frun *fr)
{
	isync_pending_clear(fr->pend, &fr->npend);
	free(fr->pend);
	isync_pending_clear(fr->fly, &fr->nfly);
	free(fr->fly);
	mf_kwtable_free(fr->kwt);
	isync_lscan_free(&fr->ls);
	isync_slist_free(&fr->sl);
	free(fr->vanished.v);
	mf_maildir_close(fr->md);
	mf_syncstate_free(fr->st);
}

/* A deletion recorded without --expunge waits for one. */
static int
gone_remote_pending(const struct mf_syncstate *st)
{
	size_t i;

	for (i = 0; i < mf_syncstate_held(st); i++)
		if (mf_syncstate_at(st, i)->status & MF_SS_GONE_REMOTE)
			return 1;
	return 0;
}

/* 1 when the folder's STATUS that came with LIST (RFC 5819) shows the
 * server unchanged since the last complete sync recorded its UIDVALIDITY,
 * UIDNEXT and HIGHESTMODSEQ: no new message (UIDNEXT), no flag change
 * and, with QRESYNC, no expunge (each raises HIGHESTMODSEQ, RFC 7162
 * §3.1.2.1, §3.2.10).  A pull run then has nothing to do there and need
 * not SELECT it.  Never for a folder whose SELECT is in flight anyway,
 * nor when --expunge has recorded deletions to carry out or the local
 * folder is missing. */
static int
unchanged(struct frun *fr)
{
	struct isync *c = fr->c;
	const struct isync_lstat *ls = isync_lstat_take(c, fr->f->utf7);
	const unsigned need = MF_IMAP_STATUS_UIDVALIDITY |
	                      MF_IMAP_STATUS_UIDNEXT | MF_IMAP_STATUS_HIGHESTMODSEQ;
	struct mf_err e2;

	mf_err_clear(&e2);
	if (!ls || (ls->items & need) != need || c->pre.taken || c->p->two_way ||
	    c->p->dry_run || !ls->uidvalidity || !ls->modseq)
		return 0;
	if (ls->uidvalidity != mf_syncstate_uidvalidity(fr->st) ||
	    ls->uidnext != mf_syncstate_uidnext(fr->st) ||
	    ls->modseq != mf_syncstate_modseq(fr->st))
		return 0;
	if (c->p->expunge && (mf_syncstate_load(fr->st, &e2) == -1 ||
	                      gone_remote_pending(fr->st)))
		return 0;
	return has_cur(fr);
}

int
isync_sync_folder(struct isync *c, const struct mf_folder *f,
                  struct mf_err *e)
{
	struct frun fr;
	char key[200];
	int rc = -1;

	memset(&fr, 0, sizeof fr);
	fr.c = c;
	fr.f = f;
	fr.res.folder = f->utf8;
	fr.res.special_use = f->special;
	fr.res.dry_run = c->p->dry_run;
	if (mf_durable_path(fr.path, sizeof fr.path, e, "%s%s%s", c->p->maildir,
	                    *f->rel ? "/" : "", f->rel) == 0) {
		mf_folders_state_key(f->utf7, key, sizeof key);
		fr.st = preselect_take(c, f);
		if (!fr.st)
			fr.st = mf_syncstate_open_head(c->state_dir, key, e);
	}
	fr.res.path = fr.path;
	if (fr.st && unchanged(&fr)) {
		fr.res.messages = (unsigned long)mf_syncstate_count(fr.st);
		rc = 0;
	} else if (fr.st && open_maildir(&fr, e) == 0) {
		rc = sync_body(&fr, e);
	}
	if (rc == -1) {
		fr.res.error = e->msg;
		fr.res.error_kind = e->kind;
	}
	if (c->p->report)
		c->p->report(c->p->arg, &fr.res);
	frun_free(&fr);
	return rc;
}
