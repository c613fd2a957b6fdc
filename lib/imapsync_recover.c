/* imapsync_recover.c - putting a folder right after the server renumbered
 * it (UIDVALIDITY change) or a run stopped between writing a file and
 * recording it: files are matched to server messages by Message-ID and
 * size instead of downloading them again. */
#include "imapsync_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "durable.h"
#include "imapflags.h"

static int
ids_cb(void *arg, const struct mf_imap_fetch *m, struct mf_err *e)
{
	struct slist *l = arg;
	char flags[MF_FLAGSET_MAX] = "", id[512] = "";

	if (!m->uid)
		return 0;
	if (m->has_flags)
		mf_imapflags_from_names(m->flags, m->nflags, flags, sizeof flags);
	/* RFC 3501 §6.4.5: the server returns the fields asked for, but one
	 * that sends more (or others) must not get its first field taken for
	 * the Message-ID: only a field of that name counts */
	if (m->msgid_fields)
		isync_header_msgid(m->msgid_fields, id, sizeof id);
	if (isync_slist_add(l, m->uid, flags, m->size, id) == -1)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	return 0;
}

int
isync_fetch_ids(struct isync *c, const struct uids *set, uint32_t from,
                unsigned items, struct slist *l, struct mf_err *e)
{
	struct mf_imap_events ev = { .fetch = ids_cb, .arg = l };

	return set ? isync_store_fetch(c, set, items, NULL, &ev, e)
	           : isync_store_fetch_from(c, from, items, NULL, &ev, e);
}

/* The first server message not yet matched with our size and Message-ID. */
static struct sflag *
match(struct slist *srv, uint64_t size, const char *id)
{
	size_t k;

	for (k = 0; k < srv->n; k++)
		if (!srv->v[k].matched && srv->v[k].size == size &&
		    !strcmp(srv->v[k].msgid ? srv->v[k].msgid : "", id))
			return &srv->v[k];
	return NULL;
}

/* Give each file that was ours its new UID (or none: it becomes a
 * local-only message), noting the matches in m[*nm]. */
static int
renumber_files(struct frun *fr, struct slist *srv,
               struct pending *m, size_t *nm, struct mf_err *e)
{
	size_t i;

	for (i = 0; i < fr->ls.n; i++) {
		struct lfile *lf = &fr->ls.v[i];
		char path[4096 + 512], id[512];
		uint64_t size;
		struct sflag *hit;
		if (!lf->ufield)
			continue;   /* never ours: a local-only message */
		if (mf_durable_join(path, sizeof path, fr->path, lf->rel, e) == -1)
			return -1;
		if (isync_file_info(path, &size, id, sizeof id) == -1)
			return mf_err_sys(e, MF_E_IO, errno, "read %s", path);
		hit = match(srv, size, id);
		if (fr->c->p->dry_run) {
			if (hit) {
				hit->matched = 1;
				fr->res.adopted++;
			}
			continue;
		}
		if (isync_rename_uid(fr, lf, hit ? hit->uid : 0, e) == -1)
			return -1;
		if (hit) {
			hit->matched = 1;
			m[*nm].uid = hit->uid;
			m[*nm].flags = hit->flags;     /* borrowed, as base */
			m[*nm].base = (char *)lf->base;  /* borrowed, not freed */
			(*nm)++;
			fr->res.adopted++;
		}
	}
	return 0;
}

/* A fresh state for UIDVALIDITY newv holding the matches. */
static int
record_matches(struct frun *fr, uint32_t newv,
               const struct pending *m, size_t nm,
               struct mf_err *e)
{
	size_t i;

	if (mf_syncstate_reset(fr->st, newv, e) == -1)
		return -1;
	for (i = 0; i < nm; i++)
		if (mf_syncstate_put(fr->st, m[i].uid, m[i].flags, 0, m[i].base,
		                     e) == -1)
			return -1;
	if (mf_syncstate_commit(fr->st, e) == -1)
		return -1;
	isync_lscan_sort(&fr->ls);
	return 0;
}

/* The server's UIDs mean other messages now (RFC 3501 §2.3.1.1): match our
 * files to the new UIDs by Message-ID and size instead of downloading
 * everything again.  Idempotent, so a crash in here is simply redone. */
int
isync_recover_uidvalidity(struct frun *fr, uint32_t newv, struct mf_err *e)
{
	struct isync *c = fr->c;
	struct slist srv = { 0 };
	struct pending *m = NULL;
	size_t nm = 0;
	int rc = -1;

	isync_warnf(c, "%s: UIDVALIDITY changed (%u -> %u); matching messages "
	            "again", fr->f->utf8, mf_syncstate_uidvalidity(fr->st), newv);
	fr->res.uidvalidity_reset = 1;
	if (isync_store_box(c)->exists &&
	    isync_fetch_ids(c, NULL, 1, MF_IMAP_FETCH_FLAGS | MF_IMAP_FETCH_SIZE |
	                    MF_IMAP_FETCH_MESSAGE_ID, &srv, e) == -1)
		goto out;
	m = calloc(fr->ls.n + 1, sizeof *m);
	if (!m) {
		mf_err_set(e, MF_E_NOMEM, "out of memory");
		goto out;
	}
	if (renumber_files(fr, &srv, m, &nm, e) == -1)
		goto out;
	if (!c->p->dry_run && record_matches(fr, newv, m, nm, e) == -1)
		goto out;
	rc = 0;
out:
	free(m);
	isync_slist_free(&srv);
	return rc;
}

/* Files carrying U=x that the state does not know: ours from a run that
 * crashed between commit and record (adopt them when the server has x
 * with the same size), or copies made by other clients (left alone). */
int
isync_adopt_orphans(struct frun *fr, struct mf_err *e)
{
	struct isync *c = fr->c;
	struct uids want = { 0 };
	struct slist srv = { 0 };
	int rc;
	size_t i;

	for (i = 0; i < fr->ls.n; i++) {
		struct lfile *lf = &fr->ls.v[i];
		if (!lf->used && lf->ufield && !mf_syncstate_get(fr->st, lf->ufield) &&
		    isync_uids_add(&want, lf->ufield) == -1)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
	}
	if (!want.n)
		return 0;
	isync_uids_sort(&want);
	rc = isync_fetch_ids(c, &want, 0, MF_IMAP_FETCH_FLAGS | MF_IMAP_FETCH_SIZE,
	                     &srv, e);
	for (i = 0; rc == 0 && i < fr->ls.n; i++) {
		struct lfile *lf = &fr->ls.v[i];
		char path[4096 + 512], id[512];
		uint64_t size;
		struct sflag *s;
		if (lf->used || !lf->ufield || mf_syncstate_get(fr->st, lf->ufield))
			continue;
		s = isync_slist_find(&srv, lf->ufield);
		if (mf_durable_join(path, sizeof path, fr->path, lf->rel, e) == -1)
			return -1;
		if (!s || s->matched || isync_file_info(path, &size, id, sizeof id) == -1 ||
		    size != s->size)
			continue;
		s->matched = 1;
		lf->used = 1;
		fr->res.adopted++;
		if (!c->p->dry_run &&
		    mf_syncstate_put(fr->st, s->uid, s->flags, 0, lf->base, e) == -1)
			rc = -1;
	}
	if (rc == 0 && !c->p->dry_run)
		rc = mf_syncstate_commit(fr->st, e);
	free(want.v);
	isync_slist_free(&srv);
	return rc;
}

