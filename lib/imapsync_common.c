/* imapsync_common.c - what every part of the sync engine shares: warnings,
 * the folder list as LIST builds it and the STATUS that came with it.  It sits below imapsync.c and its parts (imapsync_folder,
 * _fetch, _twoway, _jobs, _watch), so that no part calls up into the top
 * file that calls it. */
#include "imapsync_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


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

struct mf_imap_events
isync_list_events(struct isync *c)
{
	struct mf_imap_events ev = {
		.list = list_cb, .status = lstat_cb, .arg = c
	};

	return ev;
}
