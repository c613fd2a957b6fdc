/* imapsync_twoway.c - local changes sent to the server (--two-way): flag
 * changes as UID STORE, deletions as STORE \Deleted + UID EXPUNGE, new
 * local messages as APPEND, with UIDPLUS (RFC 4315) naming their UIDs.
 * Without UIDPLUS an upload carries a tracking header (X-Mailflow-Id) and
 * its UID is found with UID SEARCH HEADER (RFC 3501 §6.4.4). */
#include "imapsync_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "durable.h"
#include "imapflags.h"

#define TRACK_HDR   "X-Mailflow-Id"
#define TRACK_BYTES 16                  /* random bytes, 32 hex digits */
#define TRACK_LEN   (2 * TRACK_BYTES + 1)
#define LINE_MAX_T  1024                /* first line read to find ours */

int
isync_push_flags(struct frun *fr, struct store_op *ops, size_t n,
                  struct mf_err *e)
{
	if (fr->c->p->dry_run)
		return 0;
	return isync_store_set_flags(fr->c, ops, n, e);
}

/* The messages of a piece of a deletion are gone from the server. */
static int
expunged(void *arg, const uint32_t *uids, size_t n, struct mf_err *e)
{
	struct frun *fr = arg;
	size_t k;

	for (k = 0; k < n; k++)
		if (mf_syncstate_del(fr->st, uids[k], e) == -1)
			return -1;
	return 0;
}

int
isync_expunge_remote(struct frun *fr, struct uids *del, struct mf_err *e)
{
	struct isync *c = fr->c;

	if (!del->n)
		return 0;
	fr->res.deleted_remote += del->n;
	if (c->p->dry_run)
		return 0;
	isync_uids_sort(del);
	if (isync_store_delete(c, del, expunged, fr, e) == -1)
		return -1;
	if (!c->uidplus)
		isync_warnf(c, "%s: server has no UIDPLUS: deleted messages were only "
		            "flagged \\Deleted", fr->f->utf8);
	return mf_syncstate_commit(fr->st, e);
}

struct upload {
	FILE *fp;
	int pending_lf;
};

static ssize_t
upload_read(void *arg, char *buf, size_t n)
{
	struct upload *u = arg;
	size_t o = 0;
	int prev = 0;

	/* LF -> CRLF; a CR already before the LF stays single */
	while (o + 2 <= n) {
		int ch;
		if (u->pending_lf) {
			buf[o++] = '\n';
			u->pending_lf = 0;
			continue;
		}
		ch = fgetc(u->fp);
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

/* ---- tracking header: how an upload is found without UIDPLUS ----
 * The header goes into the local file first (durably), and exactly those
 * bytes are uploaded, so the file and the server copy stay the same
 * message (same size, same Message-ID) for every later comparison. */

/* The file's first line, at most len - 1 bytes (NUL bytes kept); *n its
 * length. */
static void
first_line(FILE *fp, char *line, size_t len, size_t *n)
{
	int ch;

	*n = 0;
	while (*n + 1 < len && (ch = fgetc(fp)) != EOF) {
		line[(*n)++] = (char)ch;
		if (ch == '\n')
			break;
	}
	line[*n] = '\0';
}

/* 1 when line (n bytes) is a complete tracking header line of ours; the
 * token goes to token (TRACK_LEN bytes) when not NULL. */
static int
track_parse(const char *line, size_t n, char *token)
{
	size_t hl = sizeof TRACK_HDR - 1, k;
	const char *v;

	if (n < hl + 1 || line[n - 1] != '\n' || strncasecmp(line, TRACK_HDR, hl) ||
	    line[hl] != ':')
		return 0;
	v = line + hl + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	for (k = 0; k < TRACK_LEN - 1; k++)
		if (!strchr("0123456789abcdef", v[k]) || !v[k])
			return 0;
	if (v[k] != '\r' && v[k] != '\n')
		return 0;
	if (token) {
		memcpy(token, v, TRACK_LEN - 1);
		token[TRACK_LEN - 1] = '\0';
	}
	return 1;
}

/* The token of the tracking header at the top of path: 1 found, 0 none,
 * -1 unreadable. */
static int
track_read(const char *path, char *token)
{
	char line[LINE_MAX_T];
	size_t n;
	FILE *fp = fopen(path, "rb");
	int err;

	if (!fp)
		return -1;
	first_line(fp, line, sizeof line, &n);
	err = ferror(fp);
	fclose(fp);
	return err ? -1 : track_parse(line, n, token);
}

/* Copy in (after its first line, already read) to out with a fresh
 * tracking header on top: a header of ours from an earlier attempt is
 * replaced, anything else kept.  The header ends like the first line. */
static int
track_copy(FILE *in, FILE *out, const char *token)
{
	char line[LINE_MAX_T], buf[65536];
	size_t n, k;
	const char *eol;

	first_line(in, line, sizeof line, &n);
	eol = n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n'
	      ? "\r\n" : "\n";
	if (fprintf(out, TRACK_HDR ": %s%s", token, eol) < 0)
		return -1;
	if (!track_parse(line, n, NULL) && fwrite(line, 1, n, out) != n)
		return -1;
	while ((k = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, k, out) != k)
			return -1;
	return ferror(in) ? -1 : 0;
}

/* Put a new tracking header with a random token into the file of lf,
 * atomically (tmp/ then rename) and durably: an upload that a crash
 * interrupts is then found by the token in the file. */
static int
track_add(struct frun *fr, struct lfile *lf, char *token,
          struct mf_err *e)
{
	unsigned char rnd[TRACK_BYTES];
	char path[4096 + 512], tmp[4096 + 64];
	struct stat sb;
	FILE *in, *out;
	int fd, rc;

	if (mf_random(rnd, sizeof rnd, e) == -1)
		return -1;
	mf_hex(rnd, sizeof rnd, token);
	if (mf_durable_join(path, sizeof path, fr->path, lf->rel, e) == -1 ||
	    mf_durable_path(tmp, sizeof tmp, e, "%s/tmp/mailflow-track.%ld",
	                    fr->path, (long)getpid()) == -1)
		return -1;
	if (!(in = fopen(path, "rb")) || fstat(fileno(in), &sb) == -1) {
		rc = mf_err_sys(e, MF_E_IO, errno, "open %s", path);
		if (in)
			fclose(in);
		return rc;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	          sb.st_mode & 0777);
	if (fd == -1 || !(out = fdopen(fd, "wb"))) {
		rc = mf_err_sys(e, MF_E_IO, errno, "create %s", tmp);
		if (fd >= 0)
			close(fd);
		fclose(in);
		unlink(tmp);
		return rc;
	}
	rc = track_copy(in, out, token);
	fclose(in);
	if (rc == -1 || fflush(out) == EOF || fsync(fileno(out)) == -1) {
		rc = mf_err_sys(e, MF_E_IO, errno, "write %s", tmp);
		fclose(out);
		unlink(tmp);
		return rc;
	}
	if (fclose(out) == EOF) {
		rc = mf_err_sys(e, MF_E_IO, errno, "write %s", tmp);
		unlink(tmp);
		return rc;
	}
	if (mf_durable_rename(tmp, path, e) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

struct track_hit {
	struct frun *fr;
	uint32_t uid;
};

/* A UID the search found: keep the highest we do not know. */
static int
search_each(void *arg, uint32_t uid, struct mf_err *e)
{
	struct track_hit *h = arg;

	(void)e;
	if (uid > h->uid && !mf_syncstate_get(h->fr->st, uid))
		h->uid = uid;
	return 0;
}

/* The UID (from `from` on) of the message carrying our token; 0 none. */
static int
track_search(struct frun *fr, uint32_t from, const char *token,
             uint32_t *uid, struct mf_err *e)
{
	struct track_hit h = { fr, 0 };

	if (isync_store_find_header(fr->c, from, TRACK_HDR, token, search_each,
	                            &h, e) == -1)
		return -1;
	*uid = h.uid;
	return 0;
}

/* Tie lf to the server's uid after an interrupted upload: the APPEND may
 * have lost flags set since, so they are sent again. */
static int
adopt_upload(struct frun *fr, struct lfile *lf, uint32_t uid,
             const char *srv_flags, const char *mapped,
             struct mf_err *e)
{
	char add[MF_FLAGSET_MAX], del[MF_FLAGSET_MAX];
	struct store_op op = { uid, add, del };

	mf_imapflags_diff(srv_flags, mapped, add, sizeof add, del, sizeof del);
	lf->used = 1;
	fr->res.adopted++;
	if (isync_rename_uid(fr, lf, uid, e) == -1 ||
	    isync_push_flags(fr, &op, 1, e) == -1 ||
	    mf_syncstate_put(fr->st, uid, mapped, 0, lf->base, e) == -1 ||
	    mf_syncstate_commit(fr->st, e) == -1)
		return -1;
	return 1;
}

/* A file marked ",A=n" was being uploaded when a run stopped: if the
 * server has, from UID n on, a message that we do not know yet carrying
 * the file's tracking header (without UIDPLUS), or else of the same size
 * and Message-ID, that is our upload. 1 adopted, 0 not found. */
static int
find_upload(struct frun *fr, struct lfile *lf, uint64_t size,
            const char *id, const char *mapped, struct mf_err *e)
{
	struct isync *c = fr->c;
	struct slist srv = { 0 };
	char af[16], path[4096 + 512], token[TRACK_LEN];
	long from;
	int rc = 0;
	size_t k;

	if (mf_maildir_name_field(lf->rel, "A", af, sizeof af) == -1 ||
	    mf_parse_long(af, 1, 0xFFFFFFFFl, &from) == -1)
		return 0;
	if (mf_durable_join(path, sizeof path, fr->path, lf->rel, e) == -1)
		return -1;
	if (!c->uidplus && track_read(path, token) == 1) {
		uint32_t uid;
		if (track_search(fr, (uint32_t)from, token, &uid, e) == -1)
			return -1;
		return uid ? adopt_upload(fr, lf, uid, "", mapped, e) : 0;
	}
	if (isync_fetch_ids(c, NULL, (uint32_t)from, MF_IMAP_FETCH_SIZE |
	                    MF_IMAP_FETCH_MESSAGE_ID, &srv, e) == -1)
		return -1;
	for (k = 0; k < srv.n && rc == 0; k++) {
		struct sflag *s = &srv.v[k];
		if (s->uid < (uint32_t)from || s->size != size ||
		    strcmp(s->msgid ? s->msgid : "", id) ||
		    mf_syncstate_get(fr->st, s->uid))
			continue;
		rc = adopt_upload(fr, lf, s->uid, s->flags, mapped, e);
	}
	isync_slist_free(&srv);
	return rc;
}

/* Before anything is fetched: files whose upload a stopped run had
 * started may already be on the server (and must not come down again). */
int
isync_recover_uploads(struct frun *fr, struct mf_err *e)
{
	size_t i;

	for (i = 0; i < fr->ls.n; i++) {
		struct lfile *lf = &fr->ls.v[i];
		char path[4096 + 512], id[512], mapped[MF_FLAGSET_MAX], af[16];
		uint64_t size;
		if (lf->used || mf_maildir_name_field(lf->rel, "A", af, sizeof af) == -1)
			continue;
		if (mf_durable_join(path, sizeof path, fr->path, lf->rel, e) == -1)
			return -1;
		if (isync_file_info(path, &size, id, sizeof id) == -1)
			return mf_err_sys(e, MF_E_IO, errno, "read %s", path);
		isync_local_set(fr, lf, "", mapped, sizeof mapped);
		if (find_upload(fr, lf, size, id, mapped, e) == -1)
			return -1;
	}
	return 0;
}

/* APPEND one file (RFC 3501 §6.3.11) with the flags mapped; *uid is the
 * APPENDUID (RFC 4315 §3), 0 if the server named none; *from the UID
 * the server was to give next (the file's A= field). */
static int
upload_one(struct frun *fr, struct lfile *lf, uint64_t size,
           const char *mapped, uint32_t *uid, uint32_t *from,
           struct mf_err *e)
{
	struct isync *c = fr->c;
	char path[4096 + 512], af[32];
	struct upload u = { NULL, 0 };
	uint32_t next;
	int r;

	/* mark the upload in the file name first (durable): a crash after
	 * the APPEND is then found by find_upload instead of uploading
	 * the message twice */
	next = isync_store_box(c)->uidnext;
	*from = next ? next : 1;
	mf_maildir_field_num(af, sizeof af, "A", *from);
	if (isync_rename_field(fr, lf, af, e) == -1)
		return -1;
	if (mf_durable_join(path, sizeof path, fr->path, lf->rel, e) == -1)
		return -1;
	u.fp = fopen(path, "rb");
	if (!u.fp)
		return mf_err_sys(e, MF_E_IO, errno, "open %s", path);
	r = isync_store_append(c, fr->f->utf7, mapped, size, upload_read, &u,
	                       uid, e);
	fclose(u.fp);
	return r;
}

int
isync_upload_new(struct frun *fr, struct mf_err *e)
{
	struct isync *c = fr->c;
	size_t i;

	for (i = 0; i < fr->ls.n; i++) {
		struct lfile *lf = &fr->ls.v[i];
		char path[4096 + 512], id[512], mapped[MF_FLAGSET_MAX];
		char token[TRACK_LEN];
		uint64_t size;
		uint32_t uid, from;
		if (lf->used)
			continue;
		if (mf_durable_join(path, sizeof path, fr->path, lf->rel, e) == -1)
			return -1;
		if (isync_file_info(path, &size, id, sizeof id) == -1)
			return mf_err_sys(e, MF_E_IO, errno, "read %s", path);
		isync_local_set(fr, lf, "", mapped, sizeof mapped);
		fr->res.uploaded++;
		if (c->p->dry_run)
			continue;
		/* no UIDPLUS: the tracking header names the upload instead */
		if (!c->uidplus) {
			if (track_add(fr, lf, token, e) == -1)
				return -1;
			if (isync_file_info(path, &size, id, sizeof id) == -1)
				return mf_err_sys(e, MF_E_IO, errno, "read %s", path);
		}
		if (upload_one(fr, lf, size, mapped, &uid, &from, e) == -1)
			return -1;
		if (!c->uidplus && !uid && track_search(fr, from, token, &uid, e) == -1)
			return -1;
		if (!uid) {
			isync_warnf(c, "%s: no %s for %s", fr->f->utf8,
			            c->uidplus ? "APPENDUID" : "UID found by SEARCH",
			            lf->rel);
			continue;
		}
		if (isync_rename_uid(fr, lf, uid, e) == -1 ||
		    mf_syncstate_put(fr->st, uid, mapped, 0, lf->base, e) == -1 ||
		    mf_syncstate_commit(fr->st, e) == -1)
			return -1;
		lf->used = 1;
	}
	return 0;
}
