/* imapsync.c - the sync engine behind imap-sync. */
#include "imapsync.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "maildir.h"
#include "syncstate.h"
#include "utf7.h"

#include <sys/wait.h>

#define GROUP_COMMIT_MSGS  256
#define GROUP_COMMIT_BYTES (32u << 20)
#define UIDSET_MAX         4000   /* characters of a UID set per command */
#define HDR_MAX            (256u << 10)

/* ------------------------------------------------------------------ */
/* names                                                               */

static int bad_component(const char *c, size_t n, enum mf_imapsync_layout l,
                         const char **why)
{
	if (n == 0)
		return *why = "empty name component", 1;
	if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
		return *why = "\".\" or \"..\" component", 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c[i];
		if (ch == '/')
			return *why = "'/' in a name component", 1;
		if (ch < 0x20 || ch == 0x7F)
			return *why = "control character in the name", 1;
		if (ch == '.' && l == MF_LAYOUT_MAILDIRPP)
			return *why = "'.' in a name component (Maildir++ separator)", 1;
	}
	if (l == MF_LAYOUT_FS && c[0] == '.')
		return *why = "component starting with '.'", 1;
	if (l == MF_LAYOUT_FS && n == 3 &&
	    (!strncmp(c, "cur", 3) || !strncmp(c, "new", 3) || !strncmp(c, "tmp", 3)))
		return *why = "component named like a Maildir directory", 1;
	return 0;
}

int mf_imapsync_map_name(const char *name, char delim,
                         enum mf_imapsync_layout layout, char *out,
                         size_t outlen, struct mf_err *e)
{
	size_t o = 0;
	const char *p = name, *why = NULL;

	if (!strcasecmp(name, "INBOX")) {
		if (outlen)
			out[0] = '\0';
		return 0;
	}
	if (layout == MF_LAYOUT_MAILDIRPP && outlen > 1)
		out[o++] = '.';
	for (;;) {
		const char *end = delim ? strchr(p, delim) : NULL;
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (bad_component(p, n, layout, &why))
			return mf_err_set(e, MF_E_DATA, "unsafe folder name \"%s\": %s",
			                  name, why);
		if (o + n + 2 > outlen)
			return mf_err_set(e, MF_E_DATA, "folder name too long: %s", name);
		memcpy(out + o, p, n);
		o += n;
		if (!end)
			break;
		out[o++] = layout == MF_LAYOUT_MAILDIRPP ? '.' : '/';
		p = end + 1;
	}
	out[o] = '\0';
	return 0;
}

int mf_imapsync_match(const char *pat, const char *name, char delim)
{
	if (!*pat)
		return !*name;
	if (*pat == '*' || *pat == '%') {
		for (const char *n = name;; n++) {
			if (mf_imapsync_match(pat + 1, n, delim))
				return 1;
			if (!*n || (*pat == '%' && delim && *n == delim))
				return 0;
		}
	}
	if (*pat != *name)
		return 0;
	return *name && mf_imapsync_match(pat + 1, name + 1, delim);
}

/* ------------------------------------------------------------------ */
/* flags                                                               */

static const struct {
	const char *imap;
	char letter;
} flagmap[] = {
	{ "\\Draft", 'D' }, { "\\Flagged", 'F' }, { "\\Answered", 'R' },
	{ "\\Seen", 'S' }, { "\\Deleted", 'T' },
};
#define NFLAGS (sizeof flagmap / sizeof flagmap[0])

/* Letters of an IMAP FLAGS list, sorted. */
static void flags_from_list(const struct mf_imap_resp *r, size_t list,
                            char *out)
{
	size_t o = 0;

	for (size_t f = 0; f < NFLAGS; f++) {
		size_t end = r->toks[list].next;
		for (size_t k = list + 1; k < end; k = r->toks[k].next)
			if (r->toks[k].type == MF_IMAP_ATOM &&
			    !strcasecmp(r->toks[k].s, flagmap[f].imap)) {
				out[o++] = flagmap[f].letter;
				break;
			}
	}
	out[o] = '\0';
}

/* Only the letters we synchronise, sorted. */
static void flags_mapped(const char *in, char *out)
{
	size_t o = 0;

	for (size_t f = 0; f < NFLAGS; f++)
		if (strchr(in, flagmap[f].letter))
			out[o++] = flagmap[f].letter;
	out[o] = '\0';
}

static void flags_imap(const char *letters, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t f = 0; f < NFLAGS; f++) {
		if (!strchr(letters, flagmap[f].letter))
			continue;
		int n = snprintf(out + o, len - o, "%s%s", o ? " " : "",
		                 flagmap[f].imap);
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
}

/* Local letters with the synchronised ones replaced by `mapped`. */
static void flags_merge_local(const char *local, const char *mapped,
                              char *out, size_t len)
{
	char tmp[64];
	size_t o = 0;

	for (const char *p = local; *p && o + 1 < sizeof tmp; p++) {
		int ours = 0;
		for (size_t f = 0; f < NFLAGS; f++)
			ours |= *p == flagmap[f].letter;
		if (!ours)
			tmp[o++] = *p;
	}
	for (const char *p = mapped; *p && o + 1 < sizeof tmp; p++)
		tmp[o++] = *p;
	tmp[o] = '\0';
	mf_maildir_flags_normalise(tmp, out, len);
}

/* ------------------------------------------------------------------ */
/* run context                                                         */

struct folder {
	char *utf7, *utf8, *rel;
	char delim;
	char special[16];       /* RFC 6154 attribute, "" if none */
};

struct ctx {
	const struct mf_imapsync_params *p;
	struct mf_imap *im;
	struct mf_err *e;
	char state_dir[4096];
	int qresync, condstore, uidplus;
	struct folder *f;
	size_t nf, capf;
	size_t nf_done;         /* folders already handled by --jobs */
};

static void warnf(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void warnf(struct ctx *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->p->warn)
		c->p->warn(c->p->arg, msg);
}

/* ---- local files ---- */

struct lfile {
	char *rel;          /* "cur/NAME" */
	char *base;         /* NAME without ":2,..." */
	char flags[32];
	uint32_t ufield;    /* U= value, 0 if none */
	int used;
};

struct lscan {
	struct lfile *v;
	size_t n, cap;
};

static int scan_cb(void *arg, const char *rel)
{
	struct lscan *s = arg;
	char uf[16];
	long u;

	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		void *nv = realloc(s->v, nc * sizeof *s->v);
		if (!nv)
			return -1;
		s->v = nv;
		s->cap = nc;
	}
	struct lfile *f = &s->v[s->n];
	memset(f, 0, sizeof *f);
	f->rel = strdup(rel);
	const char *name = rel + 4;
	const char *colon = strstr(name, ":2,");
	size_t bl = colon ? (size_t)(colon - name) : strlen(name);
	f->base = strndup(name, bl);
	if (!f->rel || !f->base) {
		free(f->rel);
		free(f->base);
		return -1;
	}
	mf_maildir_name_flags(rel, f->flags, sizeof f->flags);
	if (mf_maildir_name_field(rel, "U", uf, sizeof uf) == 0 &&
	    mf_parse_long(uf, 1, 0xFFFFFFFFl, &u) == 0)
		f->ufield = (uint32_t)u;
	s->n++;
	return 0;
}

static int cmp_lbase(const void *a, const void *b)
{
	return strcmp(((const struct lfile *)a)->base,
	              ((const struct lfile *)b)->base);
}

static void lscan_free(struct lscan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].rel);
		free(s->v[i].base);
	}
	free(s->v);
	memset(s, 0, sizeof *s);
}

static int lscan_load(struct mf_maildir *md, struct lscan *s, struct mf_err *e)
{
	lscan_free(s);
	if (!md)
		return 0;
	int r = mf_maildir_scan(md, scan_cb, s, e);
	if (r != 0)
		return r < 0 && e->kind != MF_OK ? -1
		       : mf_err_set(e, MF_E_NOMEM, "out of memory scanning Maildir");
	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, cmp_lbase);
	return 0;
}

static struct lfile *lscan_find(struct lscan *s, const char *base)
{
	struct lfile key;

	key.base = (char *)base;
	return s->n ? bsearch(&key, s->v, s->n, sizeof *s->v, cmp_lbase) : NULL;
}

/* ---- server flag lists ---- */

struct sflag {
	uint32_t uid;
	char flags[8];
	uint64_t size;
	char *msgid;
	int matched;
};

struct slist {
	struct sflag *v;
	size_t n, cap;
	int sorted;
};

static int slist_add(struct slist *l, uint32_t uid, const char *flags,
                     uint64_t size, const char *msgid)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 256;
		void *nv = realloc(l->v, nc * sizeof *l->v);
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = nc;
	}
	struct sflag *s = &l->v[l->n++];
	memset(s, 0, sizeof *s);
	s->uid = uid;
	mf_strlcpy(s->flags, flags, sizeof s->flags);
	s->size = size;
	s->msgid = msgid ? strdup(msgid) : NULL;
	l->sorted = 0;
	return 0;
}

static int cmp_suid(const void *a, const void *b)
{
	uint32_t x = ((const struct sflag *)a)->uid, y = ((const struct sflag *)b)->uid;
	return x < y ? -1 : x > y;
}

static struct sflag *slist_find(struct slist *l, uint32_t uid)
{
	struct sflag key;

	if (!l->n)
		return NULL;
	if (!l->sorted) {
		if (l->n)
			qsort(l->v, l->n, sizeof *l->v, cmp_suid);
		l->sorted = 1;
	}
	key.uid = uid;
	return bsearch(&key, l->v, l->n, sizeof *l->v, cmp_suid);
}

static void slist_free(struct slist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].msgid);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* ---- UID sets ---- */

struct uids {
	uint32_t *v;
	size_t n, cap;
};

static int uids_add(struct uids *u, uint32_t x)
{
	if (u->n == u->cap) {
		size_t nc = u->cap ? u->cap * 2 : 256;
		void *nv = realloc(u->v, nc * sizeof *u->v);
		if (!nv)
			return -1;
		u->v = nv;
		u->cap = nc;
	}
	u->v[u->n++] = x;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* A set of UID ranges, stored as pairs (lo, hi) in a struct uids: a
 * server may send "1:4294967295", which must not become 4 billion
 * entries. */
static int ranges_parse(struct uids *u, const char *s)
{
	while (*s) {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a;
		if (end == s || a > 0xFFFFFFFFul)
			return -1;
		s = end;
		if (*s == ':') {
			b = strtoul(s + 1, &end, 10);
			if (end == s + 1 || b > 0xFFFFFFFFul)
				return -1;
			s = end;
		}
		if (a > b) {
			unsigned long t = a;
			a = b;
			b = t;
		}
		if (u->n >= 2000000 || uids_add(u, (uint32_t)a) < 0 ||
		    uids_add(u, (uint32_t)b) < 0)
			return -1;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return 0;
}

static int cmp_pair(const void *a, const void *b)
{
	return cmp_u32(a, b);
}

/* Sort and merge overlapping ranges so lookups can bisect. */
static void ranges_sort(struct uids *u)
{
	size_t n = u->n / 2, o = 0;

	if (!n)
		return;
	qsort(u->v, n, 2 * sizeof *u->v, cmp_pair);
	for (size_t i = 0; i < n; i++) {
		uint32_t lo = u->v[2 * i], hi = u->v[2 * i + 1];
		if (o && lo <= u->v[2 * o - 1] + 1) {
			if (hi > u->v[2 * o - 1])
				u->v[2 * o - 1] = hi;
			continue;
		}
		u->v[2 * o] = lo;
		u->v[2 * o + 1] = hi;
		o++;
	}
	u->n = 2 * o;
}

static int ranges_has(const struct uids *u, uint32_t x)
{
	size_t lo = 0, hi = u->n / 2;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (u->v[2 * mid + 1] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < u->n / 2 && u->v[2 * lo] <= x && x <= u->v[2 * lo + 1];
}

/* Write the next command-sized piece of the sorted set from *pos. */
static void uids_format(const struct uids *u, size_t *pos, char *out,
                        size_t len)
{
	size_t o = 0, i = *pos;

	out[0] = '\0';
	while (i < u->n && o + 24 < len && o < UIDSET_MAX) {
		size_t j = i;
		while (j + 1 < u->n && u->v[j + 1] == u->v[j] + 1)
			j++;
		int n = j > i ? snprintf(out + o, len - o, "%s%u:%u", o ? "," : "",
		                         u->v[i], u->v[j])
		              : snprintf(out + o, len - o, "%s%u", o ? "," : "",
		                         u->v[i]);
		o += (size_t)n;
		i = j + 1;
	}
	*pos = i;
}

/* ---- folder run ---- */

struct frun {
	struct ctx *c;
	const struct folder *f;
	struct mf_maildir *md;
	struct mf_syncstate *st;
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
	struct {
		uint32_t uid;
		char flags[8];
		char *base;
	} *pend;
	size_t npend, cappend;
	unsigned long long pend_bytes;
	unsigned long total_new;
};

static int fetch_flags_cb(void *arg, const struct mf_imap_resp *r,
                          struct mf_err *e)
{
	struct frun *fr = arg;
	uint64_t uid = 0, size = 0;
	char flags[8] = "";
	size_t k;

	(void)e;
	if (!strcmp(r->keyword, "VANISHED")) {
		size_t d = r->data_first;
		if (d < r->ntoks && r->toks[d].type == MF_IMAP_LIST)
			d = r->toks[d].next;
		if (d < r->ntoks && r->toks[d].type == MF_IMAP_ATOM &&
		    ranges_parse(&fr->vanished, r->toks[d].s) < 0)
			return mf_err_set(e, MF_E_PROTO, "bad VANISHED UID set");
		return 0;
	}
	if (strcmp(r->keyword, "FETCH") || r->data_first >= r->ntoks)
		return 0;
	k = mf_imap_fetch_item(r, r->data_first, "UID");
	if (k == (size_t)-1 || mf_imap_tok_u64(&r->toks[k], &uid) < 0 || !uid ||
	    uid > 0xFFFFFFFFu)
		return 0;
	k = mf_imap_fetch_item(r, r->data_first, "FLAGS");
	if (k == (size_t)-1 || r->toks[k].type != MF_IMAP_LIST)
		return 0;    /* e.g. a MODSEQ-only update */
	flags_from_list(r, k, flags);
	k = mf_imap_fetch_item(r, r->data_first, "RFC822.SIZE");
	if (k != (size_t)-1)
		mf_imap_tok_u64(&r->toks[k], &size);
	struct sflag *old = fr->sl.sorted ? slist_find(&fr->sl, (uint32_t)uid) : NULL;
	if (old) {
		mf_strlcpy(old->flags, flags, sizeof old->flags);
		return 0;
	}
	if (slist_add(&fr->sl, (uint32_t)uid, flags, size, NULL) < 0)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	return 0;
}

/* ---- streaming bodies into the Maildir ---- */

static int ends_with_ci(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && !strncasecmp(s + n - k, suffix, k);
}

static int lit_begin(void *arg, const char *prefix, size_t n, uint64_t size)
{
	struct frun *fr = arg;

	(void)size;
	while (n && prefix[n - 1] == ' ')
		n--;
	if (!ends_with_ci(prefix, n, "BODY[]"))
		return 0;
	if (fr->msg) {
		mf_err_set(&fr->herr, MF_E_PROTO, "two message bodies in one FETCH");
		return -1;
	}
	fr->msg = mf_maildir_begin(fr->md, &fr->herr);
	fr->cr = 0;
	fr->body_done = 0;
	return fr->msg ? 1 : -1;
}

/* CRLF -> LF: a Maildir holds messages with local line endings. */
static int lit_data(void *arg, const char *p, size_t n)
{
	struct frun *fr = arg;
	char out[16384];
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (fr->cr) {
			fr->cr = 0;
			if (p[i] != '\n')
				out[o++] = '\r';
		}
		if (p[i] == '\r') {
			fr->cr = 1;
			continue;
		}
		out[o++] = p[i];
		if (o >= sizeof out - 2) {
			if (mf_maildir_write(fr->msg, out, o, &fr->herr) < 0)
				return -1;
			o = 0;
		}
	}
	return o ? mf_maildir_write(fr->msg, out, o, &fr->herr) : 0;
}

static int lit_end(void *arg)
{
	struct frun *fr = arg;

	fr->body_done = 1;
	if (fr->cr) {
		fr->cr = 0;
		return mf_maildir_write(fr->msg, "\r", 1, &fr->herr);
	}
	return 0;
}

static int group_commit(struct frun *fr, struct mf_err *e)
{
	if (!fr->npend)
		return 0;
	/* the files' data and their directory entries must be durable before
	 * the state may say we have them (batch mode: this sync does both) */
	if (mf_maildir_sync(fr->md, e) < 0)
		return -1;
	for (size_t i = 0; i < fr->npend; i++) {
		if (mf_syncstate_put(fr->st, fr->pend[i].uid, fr->pend[i].flags, 0,
		                     fr->pend[i].base, e) < 0)
			return -1;
		free(fr->pend[i].base);
	}
	fr->npend = 0;
	fr->pend_bytes = 0;
	return mf_syncstate_commit(fr->st, e);
}

static int fetch_body_cb(void *arg, const struct mf_imap_resp *r,
                         struct mf_err *e)
{
	struct frun *fr = arg;
	uint64_t uid = 0;
	char flags[8] = "", fields[32], name[512];
	size_t k;

	if (strcmp(r->keyword, "FETCH") || !fr->msg)
		return 0;
	if (!fr->body_done)
		return mf_err_set(e, MF_E_PROTO, "FETCH body ended early");
	k = mf_imap_fetch_item(r, r->data_first, "UID");
	if (k == (size_t)-1 || mf_imap_tok_u64(&r->toks[k], &uid) < 0 || !uid ||
	    uid > 0xFFFFFFFFu) {
		mf_maildir_abort(fr->msg);
		fr->msg = NULL;
		return mf_err_set(e, MF_E_PROTO, "FETCH body without UID");
	}
	k = mf_imap_fetch_item(r, r->data_first, "FLAGS");
	if (k != (size_t)-1 && r->toks[k].type == MF_IMAP_LIST)
		flags_from_list(r, k, flags);
	struct mf_maildir_msg *m = fr->msg;
	fr->msg = NULL;
	if (mf_syncstate_get(fr->st, (uint32_t)uid)) {
		mf_maildir_abort(m);   /* already have it: a duplicate answer */
		return 0;
	}
	size_t size = mf_maildir_msg_size(m);
	snprintf(fields, sizeof fields, "U=%u", (unsigned)uid);
	if (mf_maildir_commit(m, "cur", fields, flags, name, sizeof name, e) < 0)
		return -1;
	if (fr->npend == fr->cappend) {
		size_t nc = fr->cappend ? fr->cappend * 2 : 64;
		void *nv = realloc(fr->pend, nc * sizeof *fr->pend);
		if (!nv)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
		fr->pend = nv;
		fr->cappend = nc;
	}
	char *colon = strstr(name, ":2,");
	if (colon)
		*colon = '\0';
	fr->pend[fr->npend].uid = (uint32_t)uid;
	mf_strlcpy(fr->pend[fr->npend].flags, flags, sizeof fr->pend[0].flags);
	fr->pend[fr->npend].base = strdup(name + 4);
	if (!fr->pend[fr->npend].base)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	fr->npend++;
	fr->pend_bytes += size;
	fr->res.fetched++;
	fr->res.bytes += size;
	if (fr->c->p->progress)
		fr->c->p->progress(fr->c->p->arg, fr->f->utf8, fr->res.fetched,
		                   fr->total_new);
	if (fr->npend >= GROUP_COMMIT_MSGS || fr->pend_bytes >= GROUP_COMMIT_BYTES)
		return group_commit(fr, e);
	return 0;
}

static int wait_ok(struct ctx *c, unsigned tag, mf_imap_untagged_fn fn,
                   void *arg, struct mf_err *e)
{
	struct mf_imap_status st;

	if (mf_imap_wait(c->im, tag, fn, arg, &st, e) < 0)
		return -1;
	if (!strcmp(st.status, "OK"))
		return 0;
	return mf_err_reply(e, !strcmp(st.status, "NO") ? MF_E_PERM : MF_E_PROTO,
	                    0, NULL, st.text, "IMAP server said %s: %s",
	                    st.status, st.text);
}

/* Pipelined UID FETCHes of the bodies of `want`, in command-sized sets. */
static int fetch_bodies(struct frun *fr, const struct uids *want,
                        struct mf_err *e)
{
	struct ctx *c = fr->c;
	struct mf_imap_hooks hk = { lit_begin, lit_data, lit_end, NULL, fr };
	unsigned tags[256];
	size_t pos = 0, ntags;
	char set[UIDSET_MAX + 64];
	int rc = 0;

	fr->total_new = (unsigned long)want->n;
	mf_err_clear(&fr->herr);
	mf_imap_set_literal_hooks(c->im, &hk);
	while (rc == 0 && pos < want->n) {
		/* a window of commands in flight keeps the pipe full */
		for (ntags = 0; ntags < 16 && pos < want->n; ntags++) {
			uids_format(want, &pos, set, sizeof set);
			tags[ntags] = mf_imap_send(c->im, e,
			                           "UID FETCH %s (UID FLAGS BODY.PEEK[])", set);
			if (!tags[ntags]) {
				rc = -1;
				break;
			}
		}
		for (size_t i = 0; rc == 0 && i < ntags; i++)
			if (wait_ok(c, tags[i], fetch_body_cb, fr, e) < 0)
				rc = -1;
	}
	mf_imap_set_literal_hooks(c->im, NULL);
	if (rc < 0 && fr->herr.kind != MF_OK)
		*e = fr->herr;
	if (fr->msg) {
		mf_maildir_abort(fr->msg);
		fr->msg = NULL;
	}
	/* what was committed before a failure is still recorded */
	struct mf_err e2;
	mf_err_clear(&e2);
	if (group_commit(fr, rc < 0 ? &e2 : e) < 0 && rc == 0)
		rc = -1;
	return rc;
}

/* ---- local file helpers ---- */

/* Size of the file as CRLF text (what the server counts) and its
 * Message-ID; -1 on I/O error. */
static int file_info(const char *path, uint64_t *crlf_size, char *msgid,
                     size_t idlen)
{
	FILE *fp = fopen(path, "rb");
	char buf[65536];
	size_t n;
	uint64_t size = 0;
	int prev = 0;
	struct mf_buf hdr = MF_BUF_INIT(HDR_MAX);
	int in_hdr = 1;

	if (!fp)
		return -1;
	msgid[0] = '\0';
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (buf[i] == '\n' && prev != '\r')
				size++;
			size++;
			prev = (unsigned char)buf[i];
		}
		if (in_hdr) {
			if (mf_buf_append(&hdr, buf, n, NULL) < 0 ||
			    strstr(hdr.data, "\n\n") || strstr(hdr.data, "\r\n\r\n"))
				in_hdr = 0;
		}
	}
	int err = ferror(fp);
	fclose(fp);
	*crlf_size = size;
	if (hdr.data) {
		const char *h = hdr.data;
		while (h && *h) {
			if (*h == '\n' || (*h == '\r' && h[1] == '\n'))
				break;  /* end of header */
			if (!strncasecmp(h, "Message-ID:", 11)) {
				h += 11;
				while (*h == ' ' || *h == '\t' || *h == '\r' || *h == '\n')
					h++;
				size_t k = strcspn(h, " \t\r\n");
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
	mf_buf_free(&hdr);
	return err ? -1 : 0;
}

static int fsync_path(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

/* Rename a file so its base carries field "K=V" (NULL: none) instead of
 * any U= or A= field it had. */
static int rename_field(struct frun *fr, struct lfile *lf, const char *field,
                        struct mf_err *e)
{
	char nb[512], from[4096 + 512], to[4096 + 512];
	const char *b = lf->base;
	size_t o = 0;

	/* drop every ",U=..." and ",A=..." field, keep the rest */
	while (*b && o + 1 < sizeof nb) {
		if (b[0] == ',' && (b[1] == 'U' || b[1] == 'A') && b[2] == '=') {
			b += 3;
			while (*b && *b != ',')
				b++;
			continue;
		}
		nb[o++] = *b++;
	}
	nb[o] = '\0';
	if (field) {
		size_t l = strlen(nb);
		snprintf(nb + l, sizeof nb - l, ",%s", field);
	}
	snprintf(from, sizeof from, "%s/%s", fr->path, lf->rel);
	/* a message we have seen belongs in cur/ (a file in new/ is unseen
	 * by the MUA; the flags keep that: no S) */
	snprintf(to, sizeof to, "%s/cur/%s:2,%s", fr->path, nb, lf->flags);
	if (strcmp(from, to) && rename(from, to) < 0)
		return mf_err_sys(e, MF_E_IO, errno, "rename %s", from);
	char dir[4096 + 8];
	snprintf(dir, sizeof dir, "%s/cur", fr->path);
	if (fsync_path(dir) < 0)
		return mf_err_sys(e, MF_E_IO, errno, "fsync %s", dir);
	snprintf(dir, sizeof dir, "%s/new", fr->path);
	if (strncmp(lf->rel, "cur/", 4) && fsync_path(dir) < 0)
		return mf_err_sys(e, MF_E_IO, errno, "fsync %s", dir);
	free(lf->base);
	lf->base = strdup(nb);
	char rel[600];
	snprintf(rel, sizeof rel, "cur/%s:2,%s", nb, lf->flags);
	free(lf->rel);
	lf->rel = strdup(rel);
	lf->ufield = 0;
	if (field && field[0] == 'U')
		lf->ufield = (uint32_t)strtoul(field + 2, NULL, 10);
	return lf->base && lf->rel ? 0 : mf_err_set(e, MF_E_NOMEM, "out of memory");
}

static int rename_uid(struct frun *fr, struct lfile *lf, uint32_t uid,
                      struct mf_err *e)
{
	char f[32];

	snprintf(f, sizeof f, "U=%u", uid);
	return rename_field(fr, lf, uid ? f : NULL, e);
}

static int set_local_flags(struct frun *fr, struct lfile *lf, const char *mapped,
                           struct mf_err *e)
{
	char nf[32], out[600];

	flags_merge_local(lf->flags, mapped, nf, sizeof nf);
	if (!strcmp(nf, lf->flags) && !strncmp(lf->rel, "cur/", 4))
		return 0;
	fr->res.flags_local++;
	if (fr->c->p->dry_run)
		return 0;
	if (mf_maildir_set_flags(fr->md, lf->rel, nf, out, sizeof out, e) < 0)
		return -1;
	free(lf->rel);
	lf->rel = strdup(out);
	mf_strlcpy(lf->flags, nf, sizeof lf->flags);
	return lf->rel ? 0 : mf_err_set(e, MF_E_NOMEM, "out of memory");
}

/* ---- UIDVALIDITY change ---- */

static int fetch_ids_cb(void *arg, const struct mf_imap_resp *r,
                        struct mf_err *e)
{
	struct slist *l = arg;
	uint64_t uid = 0, size = 0;
	char flags[8] = "", id[512] = "";
	size_t k;

	if (strcmp(r->keyword, "FETCH"))
		return 0;
	k = mf_imap_fetch_item(r, r->data_first, "UID");
	if (k == (size_t)-1 || mf_imap_tok_u64(&r->toks[k], &uid) < 0 || !uid)
		return 0;
	k = mf_imap_fetch_item(r, r->data_first, "FLAGS");
	if (k != (size_t)-1 && r->toks[k].type == MF_IMAP_LIST)
		flags_from_list(r, k, flags);
	k = mf_imap_fetch_item(r, r->data_first, "RFC822.SIZE");
	if (k != (size_t)-1)
		mf_imap_tok_u64(&r->toks[k], &size);
	k = mf_imap_fetch_item(r, r->data_first, "BODY[HEADER.FIELDS (MESSAGE-ID)]");
	if (k != (size_t)-1 && r->toks[k].type == MF_IMAP_STRING) {
		const char *h = r->toks[k].s;
		const char *c = strchr(h, ':');
		if (c) {
			c++;
			while (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n')
				c++;
			size_t n = strcspn(c, " \t\r\n");
			if (n >= sizeof id)
				n = sizeof id - 1;
			memcpy(id, c, n);
			id[n] = '\0';
		}
	}
	if (slist_add(l, (uint32_t)uid, flags, size, id) < 0)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	return 0;
}

/* The server's UIDs mean other messages now (RFC 3501 §2.3.1.1): match our
 * files to the new UIDs by Message-ID and size instead of downloading
 * everything again.  Idempotent, so a crash in here is simply redone. */
static int recover_uidvalidity(struct frun *fr, uint32_t newv, struct mf_err *e)
{
	struct ctx *c = fr->c;
	struct slist srv = { 0 };
	int rc = -1;

	warnf(c, "%s: UIDVALIDITY changed (%u -> %u); matching messages again",
	      fr->f->utf8, mf_syncstate_uidvalidity(fr->st), newv);
	fr->res.uidvalidity_reset = 1;
	if (mf_imap_mailbox(c->im)->exists &&
	    mf_imap_simple(c->im, fetch_ids_cb, &srv, e,
	                   "UID FETCH 1:* (UID FLAGS RFC822.SIZE "
	                   "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])") < 0)
		goto out;
	struct {
		uint32_t uid;
		char flags[8];
		char *base;
	} *m = calloc(fr->ls.n + 1, sizeof *m);
	size_t nm = 0;
	if (!m) {
		mf_err_set(e, MF_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < fr->ls.n; i++) {
		struct lfile *lf = &fr->ls.v[i];
		char path[4096 + 512], id[512];
		uint64_t size;
		if (!lf->ufield)
			continue;   /* never ours: a local-only message */
		snprintf(path, sizeof path, "%s/%s", fr->path, lf->rel);
		if (file_info(path, &size, id, sizeof id) < 0) {
			mf_err_sys(e, MF_E_IO, errno, "read %s", path);
			goto outm;
		}
		struct sflag *hit = NULL;
		for (size_t k = 0; k < srv.n && !hit; k++)
			if (!srv.v[k].matched && srv.v[k].size == size &&
			    !strcmp(srv.v[k].msgid ? srv.v[k].msgid : "", id))
				hit = &srv.v[k];
		if (c->p->dry_run) {
			if (hit) {
				hit->matched = 1;
				fr->res.adopted++;
			}
			continue;
		}
		if (rename_uid(fr, lf, hit ? hit->uid : 0, e) < 0)
			goto outm;
		if (hit) {
			hit->matched = 1;
			m[nm].uid = hit->uid;
			mf_strlcpy(m[nm].flags, hit->flags, sizeof m[nm].flags);
			m[nm].base = lf->base;
			nm++;
			fr->res.adopted++;
		}
	}
	if (!c->p->dry_run) {
		if (mf_syncstate_reset(fr->st, newv, e) < 0)
			goto outm;
		for (size_t i = 0; i < nm; i++)
			if (mf_syncstate_put(fr->st, m[i].uid, m[i].flags, 0, m[i].base,
			                     e) < 0)
				goto outm;
		if (mf_syncstate_commit(fr->st, e) < 0)
			goto outm;
		if (fr->ls.n)
			qsort(fr->ls.v, fr->ls.n, sizeof *fr->ls.v, cmp_lbase);
	}
	rc = 0;
outm:
	free(m);
out:
	slist_free(&srv);
	return rc;
}

/* ---- the folder sync proper ---- */

/* Files carrying U=x that the state does not know: ours from a run that
 * crashed between commit and record (adopt them when the server has x
 * with the same size), or copies made by other clients (left alone). */
static int adopt_orphans(struct frun *fr, struct mf_err *e)
{
	struct ctx *c = fr->c;
	struct uids want = { 0 };
	struct slist srv = { 0 };
	size_t pos = 0;
	char set[UIDSET_MAX + 64];
	int rc = 0;

	for (size_t i = 0; i < fr->ls.n; i++) {
		struct lfile *lf = &fr->ls.v[i];
		if (!lf->used && lf->ufield && !mf_syncstate_get(fr->st, lf->ufield) &&
		    uids_add(&want, lf->ufield) < 0)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
	}
	if (!want.n)
		return 0;
	qsort(want.v, want.n, sizeof *want.v, cmp_u32);
	while (rc == 0 && pos < want.n) {
		uids_format(&want, &pos, set, sizeof set);
		rc = mf_imap_simple(c->im, fetch_ids_cb, &srv, e,
		                    "UID FETCH %s (UID FLAGS RFC822.SIZE)", set);
	}
	for (size_t i = 0; rc == 0 && i < fr->ls.n; i++) {
		struct lfile *lf = &fr->ls.v[i];
		char path[4096 + 512], id[512];
		uint64_t size;
		if (lf->used || !lf->ufield || mf_syncstate_get(fr->st, lf->ufield))
			continue;
		struct sflag *s = slist_find(&srv, lf->ufield);
		snprintf(path, sizeof path, "%s/%s", fr->path, lf->rel);
		if (!s || s->matched || file_info(path, &size, id, sizeof id) < 0 ||
		    size != s->size)
			continue;
		s->matched = 1;
		lf->used = 1;
		fr->res.adopted++;
		if (!c->p->dry_run &&
		    mf_syncstate_put(fr->st, s->uid, s->flags, 0, lf->base, e) < 0)
			rc = -1;
	}
	if (rc == 0 && !c->p->dry_run)
		rc = mf_syncstate_commit(fr->st, e);
	free(want.v);
	slist_free(&srv);
	return rc;
}

struct store_op {
	uint32_t uid;
	char add[8], del[8];
};

static int push_flags(struct frun *fr, struct store_op *ops, size_t n,
                      struct mf_err *e)
{
	struct ctx *c = fr->c;
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
			flags_imap(ops[i].add, fl, sizeof fl);
			tags[nt] = mf_imap_send(c->im, e, "UID STORE %u +FLAGS.SILENT (%s)",
			                        ops[i].uid, fl);
			rc = tags[nt++] ? 0 : -1;
		}
		if (*ops[i].del && rc == 0) {
			flags_imap(ops[i].del, fl, sizeof fl);
			tags[nt] = mf_imap_send(c->im, e, "UID STORE %u -FLAGS.SILENT (%s)",
			                        ops[i].uid, fl);
			rc = tags[nt++] ? 0 : -1;
		}
	}
	for (size_t i = 0; i < nt && rc == 0; i++)
		rc = wait_ok(c, tags[i], NULL, NULL, e);
	free(tags);
	return rc;
}

static void diff_flags(const char *from, const char *to, char *add, char *del)
{
	size_t a = 0, d = 0;

	for (size_t f = 0; f < NFLAGS; f++) {
		int x = strchr(from, flagmap[f].letter) != NULL;
		int y = strchr(to, flagmap[f].letter) != NULL;
		if (!x && y)
			add[a++] = flagmap[f].letter;
		if (x && !y)
			del[d++] = flagmap[f].letter;
	}
	add[a] = del[d] = '\0';
}

/* Per flag: the side that changed since the last sync wins. */
static void merge3(const char *base, const char *local, const char *server,
                   char *out)
{
	size_t o = 0;

	for (size_t f = 0; f < NFLAGS; f++) {
		char L = flagmap[f].letter;
		int b = strchr(base, L) != NULL, l = strchr(local, L) != NULL,
		    s = strchr(server, L) != NULL;
		int r = l == s ? l : (l != b ? l : s);
		if (r)
			out[o++] = L;
	}
	out[o] = '\0';
}

static int sync_known(struct frun *fr, struct uids *del_remote,
                      struct mf_err *e)
{
	struct ctx *c = fr->c;
	const struct mf_imapsync_params *p = c->p;
	struct store_op *ops = NULL;
	size_t nops = 0, i = 0;
	int rc = 0;

	ops = calloc(mf_syncstate_count(fr->st) + 1, sizeof *ops);
	if (!ops)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	while (rc == 0 && i < mf_syncstate_count(fr->st)) {
		const struct mf_syncstate_entry *en = mf_syncstate_at(fr->st, i);
		uint32_t uid = en->uid;
		struct sflag *s = slist_find(&fr->sl, uid);
		struct lfile *lf = lscan_find(&fr->ls, en->base);
		/* a deletion recorded earlier (without --expunge) is carried
		 * out once --expunge is given */
		int gone = (en->status & MF_SS_GONE_REMOTE) ||
		           (fr->full ? s == NULL : ranges_has(&fr->vanished, uid));
		char S[8], L[8], R[8], base0[8], base[512];
		unsigned status = en->status;

		mf_strlcpy(base0, en->flags, sizeof base0);
		mf_strlcpy(base, en->base, sizeof base);
		mf_strlcpy(S, s ? s->flags : en->flags, sizeof S);
		if (lf)
			lf->used = 1;
		i++;
		if (gone) {
			if (p->expunge) {
				if (lf && !p->dry_run &&
				    mf_maildir_remove(fr->md, lf->rel, e) < 0) {
					rc = -1;
					break;
				}
				if (lf)
					fr->res.deleted_local++;
				if (!p->dry_run) {
					rc = mf_syncstate_del(fr->st, uid, e);
					i--;
				}
			} else if (!(status & MF_SS_GONE_REMOTE) && !p->dry_run) {
				rc = mf_syncstate_put(fr->st, uid, base0,
				                      status | MF_SS_GONE_REMOTE, base, e);
			}
			continue;
		}
		if (!lf) {
			if (p->two_way && p->expunge) {
				if (uids_add(del_remote, uid) < 0)
					rc = mf_err_set(e, MF_E_NOMEM, "out of memory");
			} else if (status & MF_SS_GONE_LOCAL) {
				if (strcmp(S, base0) && !p->dry_run)
					rc = mf_syncstate_put(fr->st, uid, S, status, base, e);
			} else if (!p->dry_run) {
				rc = mf_syncstate_put(fr->st, uid, base0,
				                      status | MF_SS_GONE_LOCAL, base, e);
			}
			continue;
		}
		flags_mapped(lf->flags, L);
		if (p->two_way) {
			merge3(base0, L, S, R);
			if (strcmp(R, S)) {
				diff_flags(S, R, ops[nops].add, ops[nops].del);
				ops[nops++].uid = uid;
				fr->res.flags_remote++;
			}
		} else {
			/* pull: server changes win; local-only changes stay */
			char tmp[8];
			size_t o = 0;
			for (size_t f = 0; f < NFLAGS; f++) {
				char X = flagmap[f].letter;
				int b = strchr(base0, X) != NULL, s2 = strchr(S, X) != NULL,
				    l = strchr(L, X) != NULL;
				if (s2 != b ? s2 : l)
					tmp[o++] = X;
			}
			tmp[o] = '\0';
			mf_strlcpy(R, tmp, sizeof R);
		}
		if (strcmp(R, L) && set_local_flags(fr, lf, R, e) < 0) {
			rc = -1;
			break;
		}
		const char *keep = p->two_way ? R : S;
		if (!p->dry_run && strcmp(keep, base0))
			rc = mf_syncstate_put(fr->st, uid, keep, status, base, e);
	}
	if (rc == 0)
		rc = push_flags(fr, ops, nops, e);
	free(ops);
	return rc;
}

static int expunge_remote(struct frun *fr, struct uids *del, struct mf_err *e)
{
	struct ctx *c = fr->c;
	size_t pos = 0;
	char set[UIDSET_MAX + 64];

	if (!del->n)
		return 0;
	fr->res.deleted_remote += del->n;
	if (c->p->dry_run)
		return 0;
	qsort(del->v, del->n, sizeof *del->v, cmp_u32);
	while (pos < del->n) {
		size_t start = pos;
		uids_format(del, &pos, set, sizeof set);
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
		warnf(c, "%s: server has no UIDPLUS: deleted messages were only "
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
	struct ctx *c = fr->c;
	struct slist srv = { 0 };
	char af[16];
	long from;
	int rc = 0;

	if (mf_maildir_name_field(lf->rel, "A", af, sizeof af) < 0 ||
	    mf_parse_long(af, 1, 0xFFFFFFFFl, &from) < 0)
		return 0;
	if (mf_imap_simple(c->im, fetch_ids_cb, &srv, e,
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
		diff_flags(s->flags, mapped, op.add, op.del);
		if (rename_uid(fr, lf, s->uid, e) < 0 ||
		    push_flags(fr, &op, 1, e) < 0 ||
		    mf_syncstate_put(fr->st, s->uid, mapped, 0, lf->base, e) < 0 ||
		    mf_syncstate_commit(fr->st, e) < 0)
			rc = -1;
		else
			rc = 1;
		lf->used = 1;
		fr->res.adopted++;
	}
	slist_free(&srv);
	return rc;
}

/* Before anything is fetched: files whose upload a stopped run had
 * started may already be on the server (and must not come down again). */
static int recover_uploads(struct frun *fr, struct mf_err *e)
{
	for (size_t i = 0; i < fr->ls.n; i++) {
		struct lfile *lf = &fr->ls.v[i];
		char path[4096 + 512], id[512], mapped[8], af[16];
		uint64_t size;
		if (lf->used || mf_maildir_name_field(lf->rel, "A", af, sizeof af) < 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", fr->path, lf->rel);
		if (file_info(path, &size, id, sizeof id) < 0)
			return mf_err_sys(e, MF_E_IO, errno, "read %s", path);
		flags_mapped(lf->flags, mapped);
		if (find_upload(fr, lf, size, id, mapped, e) < 0)
			return -1;
	}
	return 0;
}

static int upload_new(struct frun *fr, struct mf_err *e)
{
	struct ctx *c = fr->c;

	for (size_t i = 0; i < fr->ls.n; i++) {
		struct lfile *lf = &fr->ls.v[i];
		char path[4096 + 512], id[512], fl[128], mapped[8];
		uint64_t size;
		uint32_t uid;
		if (lf->used)
			continue;
		snprintf(path, sizeof path, "%s/%s", fr->path, lf->rel);
		if (file_info(path, &size, id, sizeof id) < 0)
			return mf_err_sys(e, MF_E_IO, errno, "read %s", path);
		flags_mapped(lf->flags, mapped);
		fr->res.uploaded++;
		if (c->p->dry_run)
			continue;
		if (!c->uidplus) {
			warnf(c, "%s: server has no UIDPLUS; not uploading %s",
			      fr->f->utf8, lf->rel);
			fr->res.uploaded--;
			continue;
		}
		/* mark the upload in the file name first (durable): a crash after
		 * the APPEND is then found by find_upload instead of uploading
		 * the message twice */
		char af[32];
		uint32_t next = mf_imap_mailbox(c->im)->uidnext;
		snprintf(af, sizeof af, "A=%u", next ? next : 1);
		if (rename_field(fr, lf, af, e) < 0)
			return -1;
		snprintf(path, sizeof path, "%s/%s", fr->path, lf->rel);
		flags_imap(mapped, fl, sizeof fl);
		struct upload u = { fopen(path, "rb"), 0 };
		if (!u.fp)
			return mf_err_sys(e, MF_E_IO, errno, "open %s", path);
		int r = mf_imap_append(c->im, fr->f->utf7, fl, size, upload_read, &u,
		                       &uid, e);
		fclose(u.fp);
		if (r < 0)
			return -1;
		if (!uid) {
			warnf(c, "%s: no APPENDUID for %s", fr->f->utf8, lf->rel);
			continue;
		}
		if (rename_uid(fr, lf, uid, e) < 0 ||
		    mf_syncstate_put(fr->st, uid, mapped, 0, lf->base, e) < 0 ||
		    mf_syncstate_commit(fr->st, e) < 0)
			return -1;
		lf->used = 1;
	}
	return 0;
}

static int new_uids(struct frun *fr, struct uids *want, uint32_t from,
                    uint32_t to, struct mf_err *e)
{
	if (fr->full) {
		for (size_t i = 0; i < fr->sl.n; i++)
			if (!mf_syncstate_get(fr->st, fr->sl.v[i].uid) &&
			    uids_add(want, fr->sl.v[i].uid) < 0)
				return mf_err_set(e, MF_E_NOMEM, "out of memory");
		return 0;
	}
	for (uint32_t u = from; u && u < to; u++)
		if (!mf_syncstate_get(fr->st, u) && uids_add(want, u) < 0)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
	return 0;
}

static int select_folder(struct frun *fr, int use_qresync, struct mf_err *e)
{
	struct ctx *c = fr->c;
	struct mf_buf q = MF_BUF_INIT(4096);
	struct mf_imap_mailbox *mb = mf_imap_mailbox(c->im);
	const char *verb = c->p->dry_run ? "EXAMINE" : "SELECT";
	int r;

	if (mf_imap_quote(&q, fr->f->utf7, e) < 0)
		return -1;
	memset(mb, 0, sizeof *mb);
	if (use_qresync)
		r = mf_imap_simple(c->im, fetch_flags_cb, fr, e,
		                   "%s %s (QRESYNC (%u %llu))", verb, q.data,
		                   mf_syncstate_uidvalidity(fr->st),
		                   (unsigned long long)mf_syncstate_modseq(fr->st));
	else if (c->condstore)
		r = mf_imap_simple(c->im, NULL, NULL, e, "%s %s (CONDSTORE)", verb,
		                   q.data);
	else
		r = mf_imap_simple(c->im, NULL, NULL, e, "%s %s", verb, q.data);
	mf_buf_free(&q);
	if (r == 0 && !mb->uidvalidity)
		r = mf_err_set(e, MF_E_PROTO, "no UIDVALIDITY for %s", fr->f->utf8);
	return r;
}

static void state_key(const char *utf7, char *out, size_t len)
{
	size_t o = 0;
	uint64_t h = 1469598103934665603ull;

	for (const unsigned char *p = (const unsigned char *)utf7; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	if (strlen(utf7) * 2 + 2 > 160 || len < 170) {
		snprintf(out, len, "h%016llx", (unsigned long long)h);
		return;
	}
	out[o++] = 'f';
	for (const unsigned char *p = (const unsigned char *)utf7; *p; p++)
		o += (size_t)snprintf(out + o, len - o, "%02x", *p);
}

static int sync_body(struct frun *fr, struct mf_err *e)
{
	struct ctx *c = fr->c;
	const struct mf_imapsync_params *p = c->p;
	struct mf_imap_mailbox *mb = mf_imap_mailbox(c->im);
	uint32_t sv = mf_syncstate_uidvalidity(fr->st);
	uint32_t old_next = mf_syncstate_uidnext(fr->st);
	int use_q = c->qresync && sv && mf_syncstate_modseq(fr->st) && old_next;
	struct uids want = { 0 }, del_remote = { 0 };
	int rc = -1;

	if (select_folder(fr, use_q, e) < 0)
		return -1;
	uint32_t select_next = mb->uidnext;
	uint64_t select_modseq = mb->nomodseq ? 0 : mb->highestmodseq;
	if (lscan_load(fr->md, &fr->ls, e) < 0)
		return -1;
	if (sv && sv != mb->uidvalidity) {
		slist_free(&fr->sl);
		fr->vanished.n = 0;
		use_q = 0;
		if (recover_uidvalidity(fr, mb->uidvalidity, e) < 0)
			return -1;
		if (p->dry_run) {
			fr->res.fetched = mb->exists - fr->res.adopted;
			return 0;
		}
	} else if (!sv && !p->dry_run) {
		if (mf_syncstate_reset(fr->st, mb->uidvalidity, e) < 0 ||
		    mf_syncstate_commit(fr->st, e) < 0)
			return -1;
	}
	/* a range walk over a huge UIDNEXT jump would be slow: list instead */
	fr->full = !use_q || !select_modseq || select_next < old_next ||
	           select_next - old_next > 1000000;
	if (fr->full) {
		slist_free(&fr->sl);
		if (mb->exists &&
		    mf_imap_simple(c->im, fetch_flags_cb, fr, e,
		                   "UID FETCH 1:* (UID FLAGS)") < 0)
			goto out;
	}
	ranges_sort(&fr->vanished);
	slist_find(&fr->sl, 0);   /* sorts */
	if (sync_known(fr, &del_remote, e) < 0 || adopt_orphans(fr, e) < 0 ||
	    (!p->dry_run && recover_uploads(fr, e) < 0))
		goto out;
	if (new_uids(fr, &want, old_next, select_next, e) < 0)
		goto out;
	if (p->dry_run) {
		if (fr->full)
			fr->res.fetched = (unsigned long)want.n;
		else if (want.n) {
			size_t pos = 0;
			char set[UIDSET_MAX + 64];
			while (pos < want.n) {
				uids_format(&want, &pos, set, sizeof set);
				if (mf_imap_simple(c->im, fetch_flags_cb, fr, e,
				                   "UID FETCH %s (UID FLAGS)", set) < 0)
					goto out;
			}
			for (size_t k = 0; k < want.n; k++)
				if (slist_find(&fr->sl, want.v[k]))
					fr->res.fetched++;
		}
	} else if (want.n && fetch_bodies(fr, &want, e) < 0) {
		goto out;
	}
	if (p->two_way && (expunge_remote(fr, &del_remote, e) < 0 ||
	                   upload_new(fr, e) < 0))
		goto out;
	if (!p->dry_run) {
		if (mf_syncstate_set_uidnext(fr->st, select_next, e) < 0 ||
		    mf_syncstate_set_modseq(fr->st, select_modseq, e) < 0 ||
		    mf_syncstate_compact(fr->st, e) < 0)
			goto out;
		fr->res.messages = (unsigned long)mf_syncstate_count(fr->st);
	}
	rc = 0;
out:
	free(want.v);
	free(del_remote.v);
	return rc;
}

static int sync_folder(struct ctx *c, const struct folder *f,
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
	if (*f->rel)
		snprintf(fr.path, sizeof fr.path, "%s/%s", c->p->maildir, f->rel);
	else
		mf_strlcpy(fr.path, c->p->maildir, sizeof fr.path);
	fr.res.path = fr.path;
	state_key(f->utf7, key, sizeof key);
	fr.st = mf_syncstate_open(c->state_dir, key, e);
	if (!fr.st)
		goto out;
	if (c->p->dry_run) {
		struct mf_err e2;
		mf_err_clear(&e2);
		fr.md = mf_maildir_open(fr.path, 0, &e2);
	} else {
		fr.md = mf_maildir_open(fr.path, 1, e);
		if (!fr.md)
			goto out;
		/* group_commit() syncs before anything is recorded: one syncfs
		 * per group instead of one fsync per message */
		mf_maildir_set_batch(fr.md, 1);
		if (c->p->layout == MF_LAYOUT_MAILDIRPP && *f->rel) {
			/* Maildir++: mark subfolders for MUAs and MDAs */
			char mf[4096 + 32];
			snprintf(mf, sizeof mf, "%s/maildirfolder", fr.path);
			int fd = open(mf, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
			if (fd >= 0)
				close(fd);
		}
	}
	rc = sync_body(&fr, e);
out:
	if (rc < 0) {
		fr.res.error = e->msg;
		fr.res.error_kind = e->kind;
	}
	if (c->p->report)
		c->p->report(c->p->arg, &fr.res);
	for (size_t i = 0; i < fr.npend; i++)
		free(fr.pend[i].base);
	free(fr.pend);
	lscan_free(&fr.ls);
	slist_free(&fr.sl);
	free(fr.vanished.v);
	mf_maildir_close(fr.md);
	mf_syncstate_free(fr.st);
	return rc;
}

/* ---- folder list ---- */

struct listctx {
	struct ctx *c;
	struct mf_err *e;
};

static void report_refused(struct ctx *c, const char *name, const char *why)
{
	struct mf_imapsync_result r;

	memset(&r, 0, sizeof r);
	r.folder = name;
	r.path = "";
	r.refused = 1;
	r.error = why;
	r.error_kind = MF_E_DATA;
	warnf(c, "refusing folder: %s", why);
	if (c->p->report)
		c->p->report(c->p->arg, &r);
}

static int add_folder(struct ctx *c, const char *utf7, char delim,
                      const char *special)
{
	struct mf_buf u8 = MF_BUF_INIT(4096);
	struct mf_err e;
	char rel[1024];

	for (size_t i = 0; i < c->nf; i++)
		if (!strcmp(c->f[i].utf7, utf7))
			return 0;
	mf_err_clear(&e);
	if (mf_utf7_decode(utf7, strlen(utf7), &u8, &e) < 0 ||
	    memchr(u8.data ? u8.data : "", '\0', u8.len)) {
		char esc[256];
		mf_transcript_escape(utf7, strlen(utf7), esc, sizeof esc);
		char why[400];
		snprintf(why, sizeof why, "folder name \"%s\" is not valid modified "
		         "UTF-7", esc);
		report_refused(c, esc, why);
		mf_buf_free(&u8);
		return 0;
	}
	const char *name = u8.data ? u8.data : "";
	for (size_t i = 0; i < c->p->nexcludes; i++)
		if (mf_imapsync_match(c->p->excludes[i], name, delim)) {
			mf_buf_free(&u8);
			return 0;
		}
	if (mf_imapsync_map_name(name, delim, c->p->layout, rel, sizeof rel, &e) < 0) {
		char esc[256];
		mf_transcript_escape(name, strlen(name), esc, sizeof esc);
		report_refused(c, esc, e.msg);
		mf_buf_free(&u8);
		return 0;
	}
	for (size_t i = 0; i < c->nf; i++)
		if (!strcmp(c->f[i].rel, rel)) {
			char why[1200];
			snprintf(why, sizeof why, "folder \"%s\" would share the local "
			         "folder of \"%s\"", name, c->f[i].utf8);
			report_refused(c, name, why);
			mf_buf_free(&u8);
			return 0;
		}
	if (c->nf == c->capf) {
		size_t nc = c->capf ? c->capf * 2 : 16;
		void *nv = realloc(c->f, nc * sizeof *c->f);
		if (!nv) {
			mf_buf_free(&u8);
			return -1;
		}
		c->f = nv;
		c->capf = nc;
	}
	struct folder *f = &c->f[c->nf];
	f->utf7 = strdup(utf7);
	f->utf8 = mf_buf_take(&u8);
	f->rel = strdup(rel);
	f->delim = delim;
	mf_strlcpy(f->special, special, sizeof f->special);
	if (!f->utf7 || !f->utf8 || !f->rel)
		return -1;
	c->nf++;
	return 0;
}

static int list_cb(void *arg, const struct mf_imap_resp *r, struct mf_err *e)
{
	struct listctx *lc = arg;
	size_t k = r->data_first;

	if (strcmp(r->keyword, "LIST") || k >= r->ntoks ||
	    r->toks[k].type != MF_IMAP_LIST)
		return 0;
	static const char *const special_use[] = {
		"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk",
		"\\Sent", "\\Trash"
	};
	const char *special = "";
	size_t end = r->toks[k].next;
	for (size_t j = k + 1; j < end; j = r->toks[j].next) {
		if (r->toks[j].type != MF_IMAP_ATOM)
			continue;
		if (!strcasecmp(r->toks[j].s, "\\Noselect") ||
		    !strcasecmp(r->toks[j].s, "\\NonExistent"))
			return 0;
		for (size_t u = 0; u < sizeof special_use / sizeof *special_use; u++)
			if (!strcasecmp(r->toks[j].s, special_use[u]))
				special = special_use[u];
	}
	size_t d = end, n = d < r->ntoks ? r->toks[d].next : r->ntoks;
	if (n >= r->ntoks)
		return mf_err_set(e, MF_E_PROTO, "malformed LIST response");
	char delim = 0;
	if (r->toks[d].type == MF_IMAP_STRING && r->toks[d].len == 1)
		delim = r->toks[d].s[0];
	if (r->toks[n].type != MF_IMAP_STRING && r->toks[n].type != MF_IMAP_ATOM)
		return mf_err_set(e, MF_E_PROTO, "malformed LIST mailbox name");
	if (strlen(r->toks[n].s) != r->toks[n].len) {
		report_refused(lc->c, "(name with NUL)", "folder name holds a NUL byte");
		return 0;
	}
	if (add_folder(lc->c, r->toks[n].s, delim, special) < 0)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	return 0;
}

/* One LIST with every pattern when LIST-EXTENDED (RFC 5258) allows it,
 * asking for SPECIAL-USE attributes (RFC 6154) when offered; else one
 * plain LIST per pattern. */
static int list_folders(struct ctx *c, struct mf_err *e)
{
	struct listctx lc = { c, e };
	const char *all[] = { "*" };
	const char *const *pats = c->p->nfolders ? c->p->folders : all;
	size_t np = c->p->nfolders ? c->p->nfolders : 1;
	int ext = mf_imap_has_cap(c->im, "LIST-EXTENDED");
	const char *ret = ext && mf_imap_has_cap(c->im, "SPECIAL-USE")
	                  ? " RETURN (SPECIAL-USE)" : "";
	struct mf_buf q = MF_BUF_INIT(65536);
	int r = 0;

	for (size_t i = 0; r == 0 && i < np; i++) {
		struct mf_buf enc = MF_BUF_INIT(4096);
		if (ext && i == 0 && np > 1)
			r = mf_buf_putc(&q, '(', e);
		else if (ext && i > 0)
			r = mf_buf_putc(&q, ' ', e);
		if (r == 0)
			r = mf_utf7_encode(pats[i], strlen(pats[i]), &enc, e);
		if (r == 0)
			r = mf_imap_quote(&q, enc.data ? enc.data : "", e);
		mf_buf_free(&enc);
		if (r == 0 && ext && np > 1 && i == np - 1)
			r = mf_buf_putc(&q, ')', e);
		if (r == 0 && (!ext || i == np - 1)) {
			r = mf_imap_simple(c->im, list_cb, &lc, e, "LIST \"\" %s%s",
			                   q.data, ret);
			mf_buf_reset(&q);
		}
	}
	mf_buf_free(&q);
	return r;
}

/* ---- run ---- */

static int connect_all(struct ctx *c, struct mf_err *e)
{
	c->im = mf_imap_connect(&c->p->imap, e);
	if (!c->im)
		return -1;
	if (mf_imap_login(c->im, &c->p->imap, e) < 0)
		return -1;
	if (mf_imap_enable(c->im, "QRESYNC CONDSTORE", e) < 0)
		return -1;
	c->qresync = mf_imap_enabled(c->im, "QRESYNC");
	c->condstore = c->qresync || mf_imap_enabled(c->im, "CONDSTORE");
	c->uidplus = mf_imap_has_cap(c->im, "UIDPLUS");
	return 0;
}

static int pick_idle_folder(const struct ctx *c)
{
	for (size_t i = 0; i < c->nf; i++)
		if (!strcasecmp(c->f[i].utf7, "INBOX"))
			return (int)i;
	return c->nf ? 0 : -1;
}

static int idle_loop(struct ctx *c, struct mf_err *e)
{
	int fi = pick_idle_folder(c);

	if (fi < 0)
		return 0;
	while (!(c->p->stop && *c->p->stop)) {
		/* RFC 2177: re-issue IDLE before 30 minutes pass */
		int r = mf_imap_idle(c->im, 29 * 60 * 1000, c->p->stop, NULL, NULL, e);
		if (r < 0)
			return -1;
		if (c->p->stop && *c->p->stop)
			break;
		if (sync_folder(c, &c->f[fi], e) < 0)
			return -1;
	}
	return 0;
}

static int atoi_safe(const char *s)
{
	long v = 0;

	mf_parse_long(s, -1000000, 1000000, &v);
	return (int)v;
}

/* ---- parallel folders (--jobs): one process and connection each ---- */

static void clean_field(char *s)
{
	for (; *s; s++)
		if (*s == '\t' || *s == '\n' || *s == '\r')
			*s = ' ';
}

struct pipe_report {
	int fd;
};

static void child_report(void *arg, const struct mf_imapsync_result *r)
{
	struct pipe_report *pr = arg;
	char folder[1024], path[4096 + 16], err[MF_ERR_MSG_MAX], line[8192];

	mf_strlcpy(folder, r->folder, sizeof folder);
	mf_strlcpy(path, r->path, sizeof path);
	mf_strlcpy(err, r->error ? r->error : "", sizeof err);
	clean_field(folder);
	clean_field(path);
	clean_field(err);
	int n = snprintf(line, sizeof line,
	                 "R\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%lu\t%llu\t%lu\t%lu\t%lu"
	                 "\t%lu\t%lu\t%lu\t%lu\n", folder, path, r->error != NULL,
	                 err, r->error_kind, r->refused, r->uidvalidity_reset,
	                 r->fetched, r->bytes, r->adopted, r->flags_local,
	                 r->flags_remote, r->uploaded, r->deleted_local,
	                 r->deleted_remote, r->messages);
	if (n > 0 && write(pr->fd, line, (size_t)n < sizeof line ? (size_t)n
	                                                         : sizeof line - 1) < 0)
		return;
}

static int parse_report(struct ctx *c, char *line, struct mf_err *first,
                        int *failed)
{
	char *f[17];
	int nf = 0;

	for (char *p = line; nf < 17; ) {
		f[nf++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (nf == 3 && !strcmp(f[0], "F")) {
		if (!*failed) {
			long k = MF_E_INTERNAL;
			mf_parse_long(f[1], 0, MF_E_INTERNAL, &k);
			mf_err_set(first, (enum mf_err_kind)k, "%s", f[2]);
		}
		*failed = 1;
		return 0;
	}
	if (nf != 17 || strcmp(f[0], "R"))
		return -1;
	struct mf_imapsync_result r;
	memset(&r, 0, sizeof r);
	r.folder = f[1];
	r.path = f[2];
	r.error = strcmp(f[3], "1") ? NULL : f[4];
	r.error_kind = atoi_safe(f[5]);
	r.refused = atoi_safe(f[6]);
	r.uidvalidity_reset = atoi_safe(f[7]);
	r.fetched = strtoul(f[8], NULL, 10);
	r.bytes = strtoull(f[9], NULL, 10);
	r.adopted = strtoul(f[10], NULL, 10);
	r.flags_local = strtoul(f[11], NULL, 10);
	r.flags_remote = strtoul(f[12], NULL, 10);
	r.uploaded = strtoul(f[13], NULL, 10);
	r.deleted_local = strtoul(f[14], NULL, 10);
	r.deleted_remote = strtoul(f[15], NULL, 10);
	r.messages = strtoul(f[16], NULL, 10);
	r.dry_run = c->p->dry_run;
	if (r.error && !r.refused && !*failed) {
		mf_err_set(first, (enum mf_err_kind)r.error_kind, "%s: %s", r.folder,
		           r.error);
		*failed = 1;
	}
	if (c->p->report)
		c->p->report(c->p->arg, &r);
	return 0;
}

static void child_run(struct ctx *c, size_t job, size_t njobs, int fd)
{
	struct mf_imapsync_params cp = *c->p;
	struct pipe_report pr = { fd };
	struct mf_err e;
	int rc = 0;

	/* the parent's connection is not ours to use or close */
	c->im = NULL;
	cp.report = child_report;
	cp.arg = &pr;
	cp.progress = NULL;
	c->p = &cp;
	mf_err_clear(&e);
	if (connect_all(c, &e) < 0) {
		char line[MF_ERR_MSG_MAX + 32], msg[MF_ERR_MSG_MAX];
		mf_strlcpy(msg, e.msg, sizeof msg);
		clean_field(msg);
		int n = snprintf(line, sizeof line, "F\t%d\t%s\n", e.kind, msg);
		if (n > 0 && write(fd, line, (size_t)n) < 0)
			_exit(1);
		_exit(1);
	}
	for (size_t i = job; i < c->nf; i += njobs) {
		mf_err_clear(&e);
		if (sync_folder(c, &c->f[i], &e) < 0)
			rc = 1;
	}
	mf_imap_free(c->im);
	_exit(rc);
}

static int run_jobs(struct ctx *c, struct mf_err *first, int *failed)
{
	size_t njobs = (size_t)c->p->jobs < c->nf ? (size_t)c->p->jobs : c->nf;
	pid_t pids[64];
	int fds[2];
	size_t started = 0;

	if (pipe(fds) < 0)
		return mf_err_sys(first, MF_E_IO, errno, "pipe");
	fflush(NULL);
	for (; started < njobs && started < 64; started++) {
		pid_t pid = fork();
		if (pid < 0)
			break;
		if (pid == 0) {
			close(fds[0]);
			child_run(c, started, njobs, fds[1]);
		}
		pids[started] = pid;
	}
	close(fds[1]);
	FILE *in = fdopen(fds[0], "r");
	char line[16384];
	while (in && fgets(line, sizeof line, in)) {
		line[strcspn(line, "\n")] = '\0';
		if (parse_report(c, line, first, failed) < 0 && !*failed) {
			mf_err_set(first, MF_E_INTERNAL, "bad report from a job");
			*failed = 1;
		}
	}
	if (in)
		fclose(in);
	else
		close(fds[0]);
	for (size_t i = 0; i < started; i++) {
		int st;
		while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
			;
		if ((!WIFEXITED(st) || WEXITSTATUS(st) != 0) && !*failed) {
			mf_err_set(first, MF_E_TEMP, "a sync job failed");
			*failed = 1;
		}
	}
	if (started < njobs && !*failed) {
		mf_err_set(first, MF_E_TEMP, "could not start %zu sync jobs", njobs);
		*failed = 1;
	}
	return 0;
}

static int run(struct ctx *c, struct mf_err *e)
{
	struct mf_maildir *root = NULL;
	struct mf_err first;
	int failed = 0;

	mf_err_clear(&first);
	if (!c->p->dry_run) {
		root = mf_maildir_open(c->p->maildir, 1, e);
		if (!root || mf_maildir_lock(root, c->p->lock_wait_ms, e) < 0) {
			mf_maildir_close(root);
			return -1;
		}
	}
	int rc = connect_all(c, e);
	if (rc == 0)
		rc = list_folders(c, e);
	if (rc == 0 && c->p->jobs > 1 && c->nf > 1) {
		run_jobs(c, &first, &failed);
		c->nf_done = c->nf;
	}
	for (size_t i = c->nf_done; rc == 0 && i < c->nf; i++) {
		if (c->p->stop && *c->p->stop)
			break;
		if (sync_folder(c, &c->f[i], e) < 0) {
			if (!failed)
				first = *e;
			failed = 1;
			/* a dead connection ends the run; a folder error does not */
			if (e->kind == MF_E_CLOSED || e->kind == MF_E_TIMEOUT ||
			    e->kind == MF_E_TLS || e->kind == MF_E_PROTO ||
			    e->kind == MF_E_LIMIT || e->kind == MF_E_NOMEM)
				rc = -1;
			mf_err_clear(e);
		}
	}
	if (rc == 0 && !failed && c->p->idle)
		rc = idle_loop(c, e);
	mf_imap_free(c->im);
	c->im = NULL;
	mf_maildir_close(root);
	if (failed) {
		*e = first;
		return -1;
	}
	return rc;
}

int mf_imapsync_run(const struct mf_imapsync_params *p, struct mf_err *e)
{
	struct ctx c;
	int rc;

	memset(&c, 0, sizeof c);
	c.p = p;
	c.e = e;
	if (!p->maildir || !*p->maildir)
		return mf_err_set(e, MF_E_CONFIG, "no Maildir given (use -m)");
	if (p->state_dir && *p->state_dir) {
		mf_strlcpy(c.state_dir, p->state_dir, sizeof c.state_dir);
	} else {
		char base[4000];
		if (mf_config_state_dir(base, sizeof base) < 0)
			return mf_err_set(e, MF_E_CONFIG, "no state directory (use --state)");
		if (mkdir(base, 0700) < 0 && errno != EEXIST) {
			/* mf_config_state_dir may name a path whose parents are
			 * missing: make them */
			char tmp[4000];
			mf_strlcpy(tmp, base, sizeof tmp);
			for (char *s = tmp + 1; *s; s++)
				if (*s == '/') {
					*s = '\0';
					mkdir(tmp, 0700);
					*s = '/';
				}
			mkdir(base, 0700);
		}
		snprintf(c.state_dir, sizeof c.state_dir, "%s/imap-sync", base);
		mkdir(c.state_dir, 0700);
		size_t l = strlen(c.state_dir);
		snprintf(c.state_dir + l, sizeof c.state_dir - l, "/%s@%s",
		         p->imap.user ? p->imap.user : "", p->imap.host);
		for (char *s = c.state_dir + l + 1; *s; s++)
			if (*s == '/')
				*s = '_';
	}
	rc = run(&c, e);
	for (size_t i = 0; i < c.nf; i++) {
		free(c.f[i].utf7);
		free(c.f[i].utf8);
		free(c.f[i].rel);
	}
	free(c.f);
	return rc;
}
