/* imap_resp.c - part of the IMAP module: the token helpers and the
 * decoding of the untagged responses the engines act on (FETCH,
 * VANISHED, LIST, STATUS) into the typed records of imap.h, so that no
 * engine walks a token tree.  Calls nothing else of imap.c. */
#include "imap.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* More names than this in one list take a heap array. */
#define NAMES_ON_STACK 64

int
mf_imap_tok_u64(const struct mf_imap_tok *t, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (t->type != MF_IMAP_ATOM || t->len == 0 || t->len > 19)
		return -1;
	for (i = 0; i < t->len; i++) {
		if (!isdigit((unsigned char)t->s[i]))
			return -1;
		v = v * 10 + (uint64_t)(t->s[i] - '0');
	}
	*out = v;
	return 0;
}

size_t
mf_imap_fetch_item(const struct mf_imap_resp *r, size_t list,
                   const char *name)
{
	size_t end;
	size_t k;

	if (list >= r->ntoks || r->toks[list].type != MF_IMAP_LIST)
		return (size_t)-1;
	end = r->toks[list].next;
	k = list + 1;
	while (k < end) {
		size_t v = r->toks[k].next;
		if (v >= end)
			return (size_t)-1;
		if (r->toks[k].type == MF_IMAP_ATOM && !strcasecmp(r->toks[k].s, name))
			return v;
		k = r->toks[v].next;
	}
	return (size_t)-1;
}

/* The atoms of the list at toks[list] into *names (stack, or malloc'd
 * when there are more than NAMES_ON_STACK: free it when it is not
 * stack).  -1 when out of memory. */
static int
list_atoms(const struct mf_imap_resp *r, size_t list, const char **stack,
           const char ***names, size_t *n)
{
	size_t end = r->toks[list].next;
	size_t k, cnt = 0;

	for (k = list + 1; k < end; k = r->toks[k].next)
		cnt += r->toks[k].type == MF_IMAP_ATOM;
	*names = stack;
	if (cnt > NAMES_ON_STACK &&
	    !(*names = malloc(cnt * sizeof **names)))
		return -1;
	*n = 0;
	for (k = list + 1; k < end; k = r->toks[k].next)
		if (r->toks[k].type == MF_IMAP_ATOM)
			(*names)[(*n)++] = r->toks[k].s;
	return 0;
}

/* The numeric item `name` of a FETCH list, 0 when absent or no number. */
static uint64_t
item_u64(const struct mf_imap_resp *r, const char *name)
{
	uint64_t v = 0;
	size_t k = mf_imap_fetch_item(r, r->data_first, name);

	if (k == (size_t)-1 || mf_imap_tok_u64(&r->toks[k], &v) == -1)
		return 0;
	return v;
}

/* BODY[] of a FETCH (RFC 3501 §7.4.2): where its bytes are. */
static void
fetch_body(const struct mf_imap_resp *r, struct mf_imap_fetch *m)
{
	size_t k = mf_imap_fetch_item(r, r->data_first, "BODY[]");

	m->body = MF_IMAP_BODY_NONE;
	if (k == (size_t)-1)
		return;
	switch (r->toks[k].type) {
	case MF_IMAP_STREAMED:
		m->body = MF_IMAP_BODY_STREAMED;
		break;
	case MF_IMAP_STRING:
		m->body = MF_IMAP_BODY_INLINE;
		m->body_data = r->toks[k].s;
		m->body_len = r->toks[k].len;
		break;
	default:
		m->body = MF_IMAP_BODY_NIL;   /* NIL, or anything but a string */
		break;
	}
}

/* "* n FETCH (...)": one message, to ev->fetch. */
static int
on_fetch(const struct mf_imap_events *ev, const struct mf_imap_resp *r,
         struct mf_err *e)
{
	struct mf_imap_fetch m;
	const char *stack[NAMES_ON_STACK];
	const char **names = NULL;
	size_t k;
	uint64_t uid;
	int rc;

	if (!ev->fetch || r->data_first >= r->ntoks ||
	    r->toks[r->data_first].type != MF_IMAP_LIST)
		return 0;
	memset(&m, 0, sizeof m);
	m.seq = r->has_number && r->number <= 0xFFFFFFFFul
	        ? (uint32_t)r->number : 0;
	uid = item_u64(r, "UID");
	m.uid = uid <= 0xFFFFFFFFu ? (uint32_t)uid : 0;
	m.size = item_u64(r, "RFC822.SIZE");
	k = mf_imap_fetch_item(r, r->data_first, "FLAGS");
	if (k != (size_t)-1 && r->toks[k].type == MF_IMAP_LIST) {
		if (list_atoms(r, k, stack, &names, &m.nflags) == -1)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
		m.flags = names;
		m.has_flags = 1;
	}
	k = mf_imap_fetch_item(r, r->data_first,
	                       "BODY[HEADER.FIELDS (MESSAGE-ID)]");
	if (k != (size_t)-1 && r->toks[k].type == MF_IMAP_STRING)
		m.msgid_fields = r->toks[k].s;
	fetch_body(r, &m);
	rc = ev->fetch(ev->arg, &m, e);
	if (names != stack)
		free(names);
	return rc;
}

/* "* VANISHED [(EARLIER)] uid-set" (RFC 7162 §3.2.10). */
static int
on_vanished(const struct mf_imap_events *ev, const struct mf_imap_resp *r,
            struct mf_err *e)
{
	size_t d = r->data_first;
	int earlier = 0;

	if (!ev->vanished)
		return 0;
	if (d < r->ntoks && r->toks[d].type == MF_IMAP_LIST) {
		earlier = 1;
		d = r->toks[d].next;
	}
	if (d >= r->ntoks || r->toks[d].type != MF_IMAP_ATOM)
		return 0;
	return ev->vanished(ev->arg, r->toks[d].s, earlier, e);
}

/* "* LIST (attributes) delimiter name" (RFC 3501 §7.2.2). */
static int
on_list(const struct mf_imap_events *ev, const struct mf_imap_resp *r,
        struct mf_err *e)
{
	struct mf_imap_listed l;
	const char *stack[NAMES_ON_STACK];
	const char **names;
	size_t k = r->data_first, d, n;
	int rc;

	if (!ev->list || k >= r->ntoks || r->toks[k].type != MF_IMAP_LIST)
		return 0;
	d = r->toks[k].next;
	n = d < r->ntoks ? r->toks[d].next : r->ntoks;
	if (n >= r->ntoks)
		return mf_err_set(e, MF_E_PROTO, "malformed LIST response");
	if (r->toks[n].type != MF_IMAP_STRING && r->toks[n].type != MF_IMAP_ATOM)
		return mf_err_set(e, MF_E_PROTO, "malformed LIST mailbox name");
	memset(&l, 0, sizeof l);
	if (r->toks[d].type == MF_IMAP_STRING && r->toks[d].len == 1)
		l.delim = r->toks[d].s[0];
	l.name = r->toks[n].s;
	l.name_len = r->toks[n].len;
	if (list_atoms(r, k, stack, &names, &l.nattrs) == -1)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	l.attrs = names;
	rc = ev->list(ev->arg, &l, e);
	if (names != stack)
		free(names);
	return rc;
}

/* "* STATUS mailbox (name value ...)" (RFC 3501 §7.2.4, RFC 7162
 * §3.1.6 for HIGHESTMODSEQ); unknown attributes are skipped. */
static int
on_status(const struct mf_imap_events *ev, const struct mf_imap_resp *r,
          struct mf_err *e)
{
	static const struct {
		const char *name;
		unsigned item;
	} attr[] = {
		{ "MESSAGES", MF_IMAP_STATUS_MESSAGES },
		{ "UIDNEXT", MF_IMAP_STATUS_UIDNEXT },
		{ "UIDVALIDITY", MF_IMAP_STATUS_UIDVALIDITY },
		{ "HIGHESTMODSEQ", MF_IMAP_STATUS_HIGHESTMODSEQ },
	};
	struct mf_imap_mbox_status s;
	uint64_t *dst[] = { &s.messages, &s.uidnext, &s.uidvalidity,
	                    &s.highestmodseq };
	size_t d = r->data_first, a, k, end;

	if (!ev->status || d >= r->ntoks ||
	    (r->toks[d].type != MF_IMAP_STRING && r->toks[d].type != MF_IMAP_ATOM))
		return 0;
	memset(&s, 0, sizeof s);
	s.mbox = r->toks[d].s;
	s.mbox_len = r->toks[d].len;
	a = r->toks[d].next;
	end = a < r->ntoks && r->toks[a].type == MF_IMAP_LIST ? r->toks[a].next : a;
	for (k = a + 1; k < end && r->toks[k].next < end; k = r->toks[r->toks[k].next].next) {
		uint64_t v;
		size_t i;
		if (mf_imap_tok_u64(&r->toks[r->toks[k].next], &v) == -1)
			continue;
		for (i = 0; i < sizeof attr / sizeof *attr; i++)
			if (r->toks[k].type == MF_IMAP_ATOM &&
			    !strcasecmp(r->toks[k].s, attr[i].name)) {
				s.items |= attr[i].item;
				*dst[i] = v;
			}
	}
	return ev->status(ev->arg, &s, e);
}

int
mf_imap_events_fn(void *events, const struct mf_imap_resp *r,
                  struct mf_err *e)
{
	const struct mf_imap_events *ev = events;
	const char *kw = r->keyword;

	if (r->kind != MF_IMAP_UNTAGGED)
		return 0;
	if (ev->changed && (!strcmp(kw, "EXISTS") || !strcmp(kw, "EXPUNGE") ||
	    !strcmp(kw, "VANISHED") || !strcmp(kw, "FETCH")) &&
	    ev->changed(ev->arg, e) == -1)
		return -1;
	if (!strcmp(kw, "FETCH"))
		return on_fetch(ev, r, e);
	if (!strcmp(kw, "VANISHED"))
		return on_vanished(ev, r, e);
	if (!strcmp(kw, "LIST"))
		return on_list(ev, r, e);
	if (!strcmp(kw, "STATUS"))
		return on_status(ev, r, e);
	return 0;
}
