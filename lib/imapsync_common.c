/* imapsync_common.c - what every part of the sync engine shares: warnings,
 * waiting for a tagged OK, the connection (login, ENABLE QRESYNC) and the
 * folder list.  It sits below imapsync.c and its parts (imapsync_folder,
 * _fetch, _twoway, _jobs, _watch), so that no part calls up into the top
 * file that calls it. */
#include "imapsync_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "utf7.h"

void
isync_warnf(struct isync *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->p->warn)
		c->p->warn(c->p->arg, msg);
}

/* ---- folder list ---- */

static void
report_refused(struct isync *c, const char *name, const char *why)
{
	struct mf_imapsync_result r;

	memset(&r, 0, sizeof r);
	r.folder = name;
	r.path = "";
	r.refused = 1;
	r.error = why;
	r.error_kind = MF_E_DATA;
	isync_warnf(c, "refusing folder: %s", why);
	if (c->p->report)
		c->p->report(c->p->arg, &r);
}

/* The RFC 6154 attribute among the LIST attributes, "" if none; NULL
 * for a folder that cannot be selected. */
static const char *
list_special(const struct mf_imap_listed *l)
{
	const char *special = "";
	size_t j, u;

	static const char *const special_use[] = {
		"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk",
		"\\Sent", "\\Trash"
	};

	for (j = 0; j < l->nattrs; j++) {
		if (!strcasecmp(l->attrs[j], "\\Noselect") ||
		    !strcasecmp(l->attrs[j], "\\NonExistent"))
			return NULL;
		for (u = 0; u < sizeof special_use / sizeof *special_use; u++)
			if (!strcasecmp(l->attrs[j], special_use[u]))
				special = special_use[u];
	}
	return special;
}

/* RFC 5819 §2: a STATUS after the LIST of its mailbox. */
static int
lstat_cb(void *arg, const struct mf_imap_mbox_status *s, struct mf_err *e)
{
	struct isync *c = arg;
	struct isync_lstat *v, *ls;

	v = realloc(c->lstat, (c->nlstat + 1) * sizeof *v);
	if (!v)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	c->lstat = v;
	ls = &v[c->nlstat];
	memset(ls, 0, sizeof *ls);
	if (!(ls->utf7 = strndup(s->mbox, s->mbox_len)))
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	ls->items = s->items;
	ls->uidvalidity = s->uidvalidity <= 0xFFFFFFFFu ? (uint32_t)s->uidvalidity
	                                                : 0;
	ls->uidnext = s->uidnext <= 0xFFFFFFFFu ? (uint32_t)s->uidnext : 0;
	ls->modseq = s->highestmodseq;
	c->nlstat++;
	return 0;
}

int
isync_same_mailbox(const char *a, size_t alen, const char *b)
{
	if (strlen(b) != alen)
		return 0;
	return !memcmp(a, b, alen) ||
	       (alen == 5 && !strncasecmp(a, "INBOX", 5) && !strcasecmp(b, "INBOX"));
}

const struct isync_lstat *
isync_lstat_take(struct isync *c, const char *utf7)
{
	size_t i;

	for (i = 0; i < c->nlstat; i++) {
		struct isync_lstat *ls = &c->lstat[i];
		if (ls->used || !isync_same_mailbox(ls->utf7, strlen(ls->utf7), utf7))
			continue;
		ls->used = 1;
		return ls;
	}
	return NULL;
}

void
isync_lstat_free(struct isync *c)
{
	size_t i;

	for (i = 0; i < c->nlstat; i++)
		free(c->lstat[i].utf7);
	free(c->lstat);
	c->lstat = NULL;
	c->nlstat = 0;
}

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

/* RFC 3501 §7.2.2: LIST (attributes) delimiter name */
static int
list_cb(void *arg, const struct mf_imap_listed *l, struct mf_err *e)
{
	struct isync *c = arg;
	const char *special = list_special(l);
	struct mf_folders_refusal why;
	int a;

	if (!special)
		return 0;
	a = mf_folders_add(&c->fl, l->name, l->name_len, l->delim, special,
	                   &why, e);
	if (a == -1)
		return -1;
	if (a == MF_FOLDERS_REFUSED)
		report_refused(c, why.name, why.why);
	return 0;
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
	struct mf_imap_events ev = {
		.list = list_cb, .status = lstat_cb, .arg = c
	};
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

int
isync_connect_begin(struct isync *c, struct mf_err *e)
{
	c->enable_tag = 0;
	c->im = mf_imap_connect(&c->p->imap, e);
	if (!c->im)
		return -1;
	if (mf_imap_login(c->im, &c->p->imap, e) == -1)
		return -1;
	return mf_imap_enable_send(c->im, "QRESYNC CONDSTORE", &c->enable_tag, e);
}

int
isync_connect_end(struct isync *c, struct mf_err *e)
{
	unsigned t = c->enable_tag;

	c->enable_tag = 0;
	if (t && mf_imap_wait_ok(c->im, t, NULL, NULL, e) == -1)
		return -1;
	c->qresync = mf_imap_enabled(c->im, "QRESYNC");
	c->condstore = c->qresync || mf_imap_enabled(c->im, "CONDSTORE");
	c->uidplus = mf_imap_has_cap(c->im, "UIDPLUS");
	return 0;
}

int
isync_connect(struct isync *c, struct mf_err *e)
{
	if (isync_connect_begin(c, e) == -1)
		return -1;
	return isync_connect_end(c, e);
}
