/* imapsync_sets.c - the server's messages as imap-sync lists them, and
 * sets of UIDs (RFC 3501 §9 sequence-set) for commands and VANISHED. */
#include "imapsync_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "syncstate.h"

int
isync_slist_set_flags(struct sflag *s, const char *flags)
{
	char *f = strdup(flags);

	if (!f)
		return -1;
	free(s->flags);
	s->flags = f;
	return 0;
}

int
isync_slist_add(struct slist *l, uint32_t uid, const char *flags,
                 uint64_t size, const char *msgid)
{
	struct sflag *s;

	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 256;
		void *nv = realloc(l->v, nc * sizeof *l->v);
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = nc;
	}
	s = &l->v[l->n++];
	memset(s, 0, sizeof *s);
	s->uid = uid;
	s->flags = strdup(flags);
	s->size = size;
	s->msgid = msgid ? strdup(msgid) : NULL;
	l->sorted = 0;
	return s->flags && (s->msgid || !msgid) ? 0 : -1;
}

static int
cmp_suid(const void *a, const void *b)
{
	uint32_t x = ((const struct sflag *)a)->uid, y = ((const struct sflag *)b)->uid;
	return x < y ? -1 : x > y;
}

struct sflag *
isync_slist_find(struct slist *l, uint32_t uid)
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

void
isync_slist_free(struct slist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].msgid);
		free(l->v[i].flags);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* ---- UID sets ---- */

int
isync_uids_add(struct uids *u, uint32_t x)
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

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void
isync_uids_sort(struct uids *u)
{
	if (u->n)
		qsort(u->v, u->n, sizeof *u->v, cmp_u32);
}

int
isync_uids_has(const struct uids *u, uint32_t x)
{
	return u->n && bsearch(&x, u->v, u->n, sizeof *u->v, cmp_u32) != NULL;
}

/* A set of UID ranges, stored as pairs (lo, hi) in a struct uids: a
 * server may send "1:4294967295", which must not become 4 billion
 * entries. */

int
isync_ranges_parse(struct uids *u, const char *s)
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
		if (u->n >= 2000000 || isync_uids_add(u, (uint32_t)a) == -1 ||
		    isync_uids_add(u, (uint32_t)b) == -1)
			return -1;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return 0;
}

static int
cmp_pair(const void *a, const void *b)
{
	return cmp_u32(a, b);
}

/* Sort and merge overlapping ranges so lookups can bisect. */
void
isync_ranges_sort(struct uids *u)
{
	size_t n = u->n / 2, o = 0;
	size_t i;

	if (!n)
		return;
	qsort(u->v, n, 2 * sizeof *u->v, cmp_pair);
	for (i = 0; i < n; i++) {
		uint32_t lo = u->v[2 * i], hi = u->v[2 * i + 1];
		if (o && (uint64_t)lo <= (uint64_t)u->v[2 * o - 1] + 1) {
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

int
isync_ranges_has(const struct uids *u, uint32_t x)
{
	return mf_uid_ranges_has(u->v, u->n / 2, x);
}
