/* imapsync_local.c - the local side of a folder: its Maildir files, their
 * names (",U=uid" ties a file to a server message, ",A=uid" marks an
 * upload in flight) and their flags. */
#include "imapsync_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "durable.h"
#include "imapflags.h"

#define HDR_MAX            (256u << 10)

/* Point lf at rel: one allocation holding rel, then its base name and
 * its flag letters (the old one is freed).  -1 when out of memory or when
 * rel has no base a file of ours can have. */
static int
lfile_set(struct lfile *lf, const char *rel)
{
	char base[256], flags[64];   /* base: NAME_MAX */
	size_t rl = strlen(rel) + 1, bl, fl;
	char *p;

	if (mf_maildir_name_base(rel, base, sizeof base) == -1)
		return -1;
	mf_maildir_name_flags(rel, flags, sizeof flags);
	bl = strlen(base) + 1;
	fl = strlen(flags) + 1;
	if (!(p = malloc(rl + bl + fl)))
		return -1;
	memcpy(p, rel, rl);
	memcpy(p + rl, base, bl);
	memcpy(p + rl + bl, flags, fl);
	free(lf->rel);
	lf->rel = p;
	lf->base = p + rl;
	lf->flags = p + rl + bl;
	return 0;
}

static int
scan_cb(void *arg, const char *rel)
{
	struct lscan *s = arg;
	char uf[16];
	long u;
	struct lfile *f;

	if (s->keep && !s->keep(s->keep_arg, rel))
		return 0;

	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		void *nv = realloc(s->v, nc * sizeof *s->v);
		if (!nv)
			return -1;
		s->v = nv;
		s->cap = nc;
	}
	f = &s->v[s->n];
	memset(f, 0, sizeof *f);
	if (lfile_set(f, rel) == -1)
		return -1;
	if (mf_maildir_name_field(rel, "U", uf, sizeof uf) == 0 &&
	    mf_parse_long(uf, 1, 0xFFFFFFFFl, &u) == 0)
		f->ufield = (uint32_t)u;
	s->n++;
	return 0;
}

static int
cmp_lbase(const void *a, const void *b)
{
	return strcmp(((const struct lfile *)a)->base,
	              ((const struct lfile *)b)->base);
}

void
isync_lscan_sort(struct lscan *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, cmp_lbase);
}

void
isync_lscan_free(struct lscan *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].rel);
	free(s->v);
	memset(s, 0, sizeof *s);
}

int
isync_lscan_load(struct mf_maildir *md, struct lscan *s, struct mf_err *e)
{
	return isync_lscan_load_some(md, s, NULL, NULL, e);
}

int
isync_lscan_load_some(struct mf_maildir *md, struct lscan *s,
                      int (*keep)(void *, const char *), void *arg,
                      struct mf_err *e)
{
	int r;

	isync_lscan_free(s);
	if (!md)
		return 0;
	s->keep = keep;
	s->keep_arg = arg;
	r = mf_maildir_scan(md, scan_cb, s, e);
	s->keep = NULL;
	if (r != 0)
		return r == -1 && e->kind != MF_OK ? -1
		       : mf_err_set(e, MF_E_NOMEM, "out of memory scanning Maildir");
	isync_lscan_sort(s);
	return 0;
}

struct lfile *
isync_lscan_find(struct lscan *s, const char *base)
{
	struct lfile key;

	key.base = (char *)base;
	return s->n ? bsearch(&key, s->v, s->n, sizeof *s->v, cmp_lbase) : NULL;
}

void
isync_header_msgid(const char *h, char *msgid, size_t idlen)
{
	while (h && *h) {
		if (*h == '\n' || (*h == '\r' && h[1] == '\n'))
			break;  /* end of header */
		if (!strncasecmp(h, "Message-ID:", 11)) {
			size_t k;
			h += 11;
			while (*h == ' ' || *h == '\t' || *h == '\r' || *h == '\n')
				h++;
			k = strcspn(h, " \t\r\n");
			if (k >= idlen)
				k = idlen - 1;
			memcpy(msgid, h, k);
			msgid[k] = '\0';
			break;
		}
		h = strchr(h, '\n');
		if (h)
			h++;
	}
}

int
isync_file_info(const char *path, uint64_t *crlf_size, char *msgid,
                 size_t idlen)
{
	FILE *fp = fopen(path, "rb");
	char buf[65536];
	size_t n;
	uint64_t size = 0;
	int prev = 0;
	struct mf_buf hdr = MF_BUF_INIT(HDR_MAX);
	int in_hdr = 1;
	int err;

	if (!fp)
		return -1;
	msgid[0] = '\0';
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0) {
		size_t i;
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n' && prev != '\r')
				size++;
			size++;
			prev = (unsigned char)buf[i];
		}
		if (in_hdr) {
			if (mf_buf_append(&hdr, buf, n, NULL) == -1 ||
			    strstr(hdr.data, "\n\n") || strstr(hdr.data, "\r\n\r\n"))
				in_hdr = 0;
		}
	}
	err = ferror(fp);
	fclose(fp);
	*crlf_size = size;
	if (hdr.data)
		isync_header_msgid(hdr.data, msgid, idlen);
	mf_buf_free(&hdr);
	return err ? -1 : 0;
}

int
isync_rename_field(struct frun *fr, struct lfile *lf, const char *field,
                    struct mf_err *e)
{
	char nb[512], rel[600], from[4096 + 512], to[4096 + 512];
	int in_new;

	/* drop every ",U=..." and ",A=..." field, keep the rest; a file in
	 * new/ (unseen by the MUA, no info part) stays there: only the MUA
	 * moves it to cur/ */
	in_new = !strncmp(lf->rel, "new/", 4) && !*lf->flags;
	if (mf_maildir_name_refield(lf->base, "UA", field, nb, sizeof nb) == -1 ||
	    mf_maildir_name_format(rel, sizeof rel, in_new ? "new" : "cur", nb,
	                           lf->flags) == -1)
		return mf_err_set(e, MF_E_IO, "Maildir name too long: %s",
		                  lf->rel);
	if (mf_durable_join(from, sizeof from, fr->path, lf->rel, e) == -1 ||
	    mf_durable_join(to, sizeof to, fr->path, rel, e) == -1)
		return -1;
	/* new/ to cur/: both directories are synced (mf_durable_move) */
	if (strcmp(from, to) && mf_durable_move(from, to, e) == -1)
		return -1;
	lf->ufield = 0;
	if (field && field[0] == 'U')
		lf->ufield = (uint32_t)strtoul(field + 2, NULL, 10);
	return lfile_set(lf, rel) == 0 ? 0 :
	       mf_err_set(e, MF_E_NOMEM, "out of memory");
}

int
isync_rename_uid(struct frun *fr, struct lfile *lf, uint32_t uid,
                  struct mf_err *e)
{
	char f[32];

	mf_maildir_field_num(f, sizeof f, "U", uid);
	return isync_rename_field(fr, lf, uid ? f : NULL, e);
}

/* Tell the folder's keyword letters assigned since the last call to
 * whoever keeps them, durably, before any file name shows them. */
static int
kw_persist(struct frun *fr, struct mf_err *e)
{
	uint32_t dirty = mf_kwtable_dirty(fr->kwt);

	if (!dirty || fr->c->p->dry_run)
		return 0;
	if (fr->kw_file) {
		if (mf_kwtable_save(fr->kwt, fr->path, e) == -1)
			return -1;
	} else {
		unsigned i;
		for (i = 0; i < MF_KWTABLE_MAX; i++)
			if ((dirty & (1u << i)) &&
			    mf_syncstate_set_keyword(fr->st, i,
			        mf_kwtable_name(fr->kwt, (char)('a' + i)), e) == -1)
				return -1;
		if (mf_syncstate_commit(fr->st, e) == -1)
			return -1;
	}
	mf_kwtable_clean(fr->kwt);
	return 0;
}

void
isync_local_set(struct frun *fr, const struct lfile *lf,
                const char *base, char *out, size_t len)
{
	mf_imapflags_local(lf->flags, fr->kwt, base, out, len);
}

int
isync_file_letters(struct frun *fr, const char *had, const char *set,
                   char *out, size_t len, struct mf_err *e)
{
	mf_imapflags_file_letters(had, set, fr->kwt, out, len);
	return kw_persist(fr, e);
}

/* The state kept the folder's letters and now the Maildir has a
 * dovecot-keywords file too (a Dovecot started using it): the file's
 * table rules.  The state's keywords join it at their own letters where
 * those are free; files whose letters the file gives to other keywords
 * are renamed to the letters the file gives theirs.  Then the state's
 * table is dropped. */
static int
kw_adopt_state(struct frun *fr, struct mf_err *e)
{
	char from[MF_KWTABLE_MAX + 1] = "", to[MF_KWTABLE_MAX + 1] = "";
	size_t nmove = 0;
	uint32_t old = 0;
	int any = 0;
	unsigned i;
	size_t k;

	/* a moved keyword never lands on a letter the state used: renaming
	 * is then idempotent, and a run stopped halfway is simply redone */
	for (i = 0; i < MF_KWTABLE_MAX; i++)
		if (mf_syncstate_keyword(fr->st, i))
			old |= 1u << i;
	for (i = 0; i < MF_KWTABLE_MAX; i++) {
		const char *kw = mf_syncstate_keyword(fr->st, i);
		char c = (char)('a' + i);
		const char *now;
		if (!kw)
			continue;
		any = 1;
		now = mf_kwtable_name(fr->kwt, c);
		if (now && !strcasecmp(now, kw))
			continue;
		if (!now && !mf_kwtable_letter(fr->kwt, kw)) {
			struct mf_err e2;
			if (mf_kwtable_set(fr->kwt, i, kw, &e2) == 0) {
				/* saved below with the rest */
				continue;
			}
		}
		from[nmove] = c;
		to[nmove++] = mf_kwtable_assign_avoid(fr->kwt, kw, old); /* 0: none */
	}
	if (!any || fr->c->p->dry_run)
		return 0;
	isync_warnf(fr->c, "%s: the Maildir has a dovecot-keywords file now: "
	            "keyword letters follow it", fr->f->utf8);
	if (mf_kwtable_save(fr->kwt, fr->path, e) == -1)
		return -1;
	for (k = 0; k < fr->ls.n && nmove; k++) {
		struct lfile *lf = &fr->ls.v[k];
		char nf[64], out[600];
		size_t o = 0;
		const char *p;
		for (p = lf->flags; *p && o + 1 < sizeof nf; p++) {
			const char *m = memchr(from, *p, nmove);
			if (!m)
				nf[o++] = *p;
			else if (to[m - from])
				nf[o++] = to[m - from];
		}
		nf[o] = '\0';
		mf_maildir_flags_normalise(nf, out, sizeof nf);
		mf_strlcpy(nf, out, sizeof nf);
		if (!strcmp(nf, lf->flags))
			continue;
		if (mf_maildir_set_flags(fr->md, lf->rel, nf, out, sizeof out, e) == -1)
			return -1;
		if (lfile_set(lf, out) == -1)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
	}
	for (i = 0; i < MF_KWTABLE_MAX; i++)
		if (mf_syncstate_keyword(fr->st, i) &&
		    mf_syncstate_set_keyword(fr->st, i, NULL, e) == -1)
			return -1;
	return mf_syncstate_commit(fr->st, e);
}

int
isync_kw_adopt_due(const struct frun *fr)
{
	char path[4096 + 32];
	unsigned i;

	for (i = 0; i < MF_KWTABLE_MAX; i++)
		if (mf_syncstate_keyword(fr->st, i))
			break;
	if (i == MF_KWTABLE_MAX)
		return 0;
	return snprintf(path, sizeof path, "%s/%s", fr->path, MF_KWTABLE_FILE) >=
	       (int)sizeof path || access(path, F_OK) == 0;
}

int
isync_kw_open(struct frun *fr, struct mf_err *e)
{
	int r;
	unsigned i;

	fr->kwt = mf_kwtable_new();
	if (!fr->kwt)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	r = mf_kwtable_load(fr->kwt, fr->path, e);
	if (r == -1)
		return -1;
	fr->kw_file = r == 0;
	if (fr->kw_file)
		return kw_adopt_state(fr, e);
	for (i = 0; i < MF_KWTABLE_MAX; i++) {
		const char *kw = mf_syncstate_keyword(fr->st, i);
		if (kw && mf_kwtable_set(fr->kwt, i, kw, e) == -1)
			return -1;
	}
	return 0;
}

int
isync_set_local_flags(struct frun *fr, struct lfile *lf, const char *set,
                       struct mf_err *e)
{
	char nf[64], out[600];

	if (isync_file_letters(fr, lf->flags, set, nf, sizeof nf, e) == -1)
		return -1;
	/* a file in new/ whose letters stay the same stays there */
	if (!strcmp(nf, lf->flags))
		return 0;
	fr->res.flags_local++;
	if (fr->c->p->dry_run)
		return 0;
	if (mf_maildir_set_flags(fr->md, lf->rel, nf, out, sizeof out, e) == -1)
		return -1;
	return lfile_set(lf, out) == 0 ? 0 :
	       mf_err_set(e, MF_E_NOMEM, "out of memory");
}
