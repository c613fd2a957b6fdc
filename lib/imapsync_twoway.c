/* imapsync_twoway.c - local changes sent to the server (--two-way): flag
 * changes as UID STORE, deletions as STORE \Deleted + UID EXPUNGE, new
 * local messages as APPEND, with UIDPLUS (RFC 4315) naming their UIDs. */
#include "imapsync_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "buf.h"
#include "imapflags.h"

int isync_push_flags(struct frun *fr, struct store_op *ops, size_t n,
                      struct mf_err *e)
{
	struct isync *c = fr->c;
	unsigned *tags;
	size_t nt = 0;
	int rc = 0;

	if (!n || c->p->dry_run)
		return 0;
	tags = calloc(2 * n, sizeof *tags);
	if (!tags)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n && rc == 0; i++) {
		char fl[128];
		if (*ops[i].add) {
			mf_imapflags_to_imap(ops[i].add, fl, sizeof fl);
			tags[nt] = mf_imap_send(c->im, e, "UID STORE %u +FLAGS.SILENT (%s)",
			                        ops[i].uid, fl);
			rc = tags[nt++] ? 0 : -1;
		}
		if (*ops[i].del && rc == 0) {
			mf_imapflags_to_imap(ops[i].del, fl, sizeof fl);
			tags[nt] = mf_imap_send(c->im, e, "UID STORE %u -FLAGS.SILENT (%s)",
			                        ops[i].uid, fl);
			rc = tags[nt++] ? 0 : -1;
		}
	}
	for (size_t i = 0; i < nt && rc == 0; i++)
		rc = isync_wait_ok(c, tags[i], NULL, NULL, e);
	free(tags);
	return rc;
}

int isync_expunge_remote(struct frun *fr, struct uids *del, struct mf_err *e)
{
	struct isync *c = fr->c;
	size_t pos = 0;
	char set[UIDSET_MAX + 64];

	if (!del->n)
		return 0;
	fr->res.deleted_remote += del->n;
	if (c->p->dry_run)
		return 0;
	isync_uids_sort(del);
	while (pos < del->n) {
		size_t start = pos;
		isync_uids_format(del, &pos, set, sizeof set);
		if (mf_imap_simple(c->im, NULL, NULL, e,
		                   "UID STORE %s +FLAGS.SILENT (\\Deleted)", set) < 0)
			return -1;
		/* RFC 4315 §2.1: expunge only these, not others' \Deleted mail */
		if (c->uidplus && mf_imap_simple(c->im, NULL, NULL, e,
		                                 "UID EXPUNGE %s", set) < 0)
			return -1;
		for (size_t k = start; k < pos; k++)
			if (mf_syncstate_del(fr->st, del->v[k], e) < 0)
				return -1;
	}
	if (!c->uidplus)
		isync_warnf(c, "%s: server has no UIDPLUS: deleted messages were only "
		            "flagged \\Deleted", fr->f->utf8);
	return mf_syncstate_commit(fr->st, e);
}

struct upload {
	FILE *fp;
	int pending_lf;
};

static ssize_t upload_read(void *arg, char *buf, size_t n)
{
	struct upload *u = arg;
	size_t o = 0;
	int prev = 0;

	/* LF -> CRLF; a CR already before the LF stays single */
	while (o + 2 <= n) {
		if (u->pending_lf) {
			buf[o++] = '\n';
			u->pending_lf = 0;
			continue;
		}
		int ch = fgetc(u->fp);
		if (ch == EOF)
			break;
		if (ch == '\n' && prev != '\r') {
			buf[o++] = '\r';
			u->pending_lf = 1;
		} else {
			buf[o++] = (char)ch;
		}
		prev = ch;
	}
	if (u->pending_lf && o < n) {
		buf[o++] = '\n';
		u->pending_lf = 0;
	}
	return ferror(u->fp) ? -1 : (ssize_t)o;
}

/* A file marked ",A=n" was being uploaded when a run stopped: if the
 * server has, from UID n on, a message of the same size and Message-ID
 * that we do not know yet, that is our upload. 1 adopted, 0 not found. */
static int find_upload(struct frun *fr, struct lfile *lf, uint64_t size,
                       const char *id, const char *mapped, struct mf_err *e)
{
	struct isync *c = fr->c;
	struct slist srv = { 0 };
	char af[16];
	long from;
	int rc = 0;

	if (mf_maildir_name_field(lf->rel, "A", af, sizeof af) < 0 ||
	    mf_parse_long(af, 1, 0xFFFFFFFFl, &from) < 0)
		return 0;
	if (mf_imap_simple(c->im, isync_fetch_ids_cb, &srv, e,
	                   "UID FETCH %ld:* (UID RFC822.SIZE "
	                   "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])", from) < 0)
		return -1;
	for (size_t k = 0; k < srv.n && rc == 0; k++) {
		struct sflag *s = &srv.v[k];
		if (s->uid < (uint32_t)from || s->size != size ||
		    strcmp(s->msgid ? s->msgid : "", id) ||
		    mf_syncstate_get(fr->st, s->uid))
			continue;
		/* the APPEND may have lost the flags set since: send them */
		struct store_op op;
		memset(&op, 0, sizeof op);
		op.uid = s->uid;
		mf_imapflags_diff(s->flags, mapped, op.add, op.del);
		if (isync_rename_uid(fr, lf, s->uid, e) < 0 ||
		    isync_push_flags(fr, &op, 1, e) < 0 ||
		    mf_syncstate_put(fr->st, s->uid, mapped, 0, lf->base, e) < 0 ||
		    mf_syncstate_commit(fr->st, e) < 0)
			rc = -1;
		else
			rc = 1;
		lf->used = 1;
		fr->res.adopted++;
	}
	isync_slist_free(&srv);
	return rc;
}

/* Before anything is fetched: files whose upload a stopped run had
 * started may already be on the server (and must not come down again). */
int isync_recover_uploads(struct frun *fr, struct mf_err *e)
{
	for (size_t i = 0; i < fr->ls.n; i++) {
		struct lfile *lf = &fr->ls.v[i];
		char path[4096 + 512], id[512], mapped[8], af[16];
		uint64_t size;
		if (lf->used || mf_maildir_name_field(lf->rel, "A", af, sizeof af) < 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", fr->path, lf->rel);
		if (isync_file_info(path, &size, id, sizeof id) < 0)
			return mf_err_sys(e, MF_E_IO, errno, "read %s", path);
		mf_imapflags_mapped(lf->flags, mapped);
		if (find_upload(fr, lf, size, id, mapped, e) < 0)
			return -1;
	}
	return 0;
}

/* APPEND one file (RFC 3501 §6.3.11) with the flags mapped; *uid is the
 * APPENDUID (RFC 4315 §3), 0 if the server named none. */
static int upload_one(struct frun *fr, struct lfile *lf, uint64_t size,
                      const char *mapped, uint32_t *uid, struct mf_err *e)
{
	struct isync *c = fr->c;
	char path[4096 + 512], fl[128], af[32];

	/* mark the upload in the file name first (durable): a crash after
	 * the APPEND is then found by find_upload instead of uploading
	 * the message twice */
	uint32_t next = mf_imap_mailbox(c->im)->uidnext;
	snprintf(af, sizeof af, "A=%u", next ? next : 1);
	if (isync_rename_field(fr, lf, af, e) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/%s", fr->path, lf->rel);
	mf_imapflags_to_imap(mapped, fl, sizeof fl);
	struct upload u = { fopen(path, "rb"), 0 };
	if (!u.fp)
		return mf_err_sys(e, MF_E_IO, errno, "open %s", path);
	int r = mf_imap_append(c->im, fr->f->utf7, fl, size, upload_read, &u,
	                       uid, e);
	fclose(u.fp);
	return r;
}

int isync_upload_new(struct frun *fr, struct mf_err *e)
{
	struct isync *c = fr->c;

	for (size_t i = 0; i < fr->ls.n; i++) {
		struct lfile *lf = &fr->ls.v[i];
		char path[4096 + 512], id[512], mapped[8];
		uint64_t size;
		uint32_t uid;
		if (lf->used)
			continue;
		snprintf(path, sizeof path, "%s/%s", fr->path, lf->rel);
		if (isync_file_info(path, &size, id, sizeof id) < 0)
			return mf_err_sys(e, MF_E_IO, errno, "read %s", path);
		mf_imapflags_mapped(lf->flags, mapped);
		fr->res.uploaded++;
		if (c->p->dry_run)
			continue;
		if (!c->uidplus) {
			isync_warnf(c, "%s: server has no UIDPLUS; not uploading %s",
			            fr->f->utf8, lf->rel);
			fr->res.uploaded--;
			continue;
		}
		if (upload_one(fr, lf, size, mapped, &uid, e) < 0)
			return -1;
		if (!uid) {
			isync_warnf(c, "%s: no APPENDUID for %s", fr->f->utf8, lf->rel);
			continue;
		}
		if (isync_rename_uid(fr, lf, uid, e) < 0 ||
		    mf_syncstate_put(fr->st, uid, mapped, 0, lf->base, e) < 0 ||
		    mf_syncstate_commit(fr->st, e) < 0)
			return -1;
		lf->used = 1;
	}
	return 0;
}
