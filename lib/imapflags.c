/* imapflags.c - IMAP flags and keywords <-> Maildir info letters. */
#include "imapflags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maildir.h"

/* Sorted by letter, so every result below comes out sorted.  $Forwarded
 * is a keyword (RFC 5788 registry), kept as Maildir's P. */
static const struct {
	const char *imap;
	char letter;
} flagmap[] = {
	{ "\\Draft", 'D' }, { "\\Flagged", 'F' }, { "$Forwarded", 'P' },
	{ "\\Answered", 'R' }, { "\\Seen", 'S' }, { "\\Deleted", 'T' },
};
#define NFLAGS (sizeof flagmap / sizeof flagmap[0])
#define KW_MAX 256              /* keywords of one message we handle */

/* A parsed flag set: letters and keyword names (pointing into buf). */
struct fset {
	char letters[8];
	char buf[MF_FLAGSET_MAX];
	const char *kw[KW_MAX];
	size_t n;
};

/* Names collected for an output set. */
struct names {
	const char *v[3 * KW_MAX];
	size_t n;
};

static int is_ours(char c)
{
	for (size_t f = 0; f < NFLAGS; f++)
		if (flagmap[f].letter == c)
			return 1;
	return 0;
}

static int fset_has(const struct fset *s, const char *kw)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcasecmp(s->kw[i], kw))
			return 1;
	return 0;
}

static void fset_add(struct fset *s, const char *kw)
{
	if (s->n < KW_MAX && mf_kwtable_valid(kw) && !fset_has(s, kw))
		s->kw[s->n++] = kw;
}

static void fset_parse(struct fset *s, const char *in)
{
	size_t l = strcspn(in, " "), o = 0;
	char *p;

	for (size_t f = 0; f < NFLAGS; f++)
		if (memchr(in, flagmap[f].letter, l))
			s->letters[o++] = flagmap[f].letter;
	s->letters[o] = '\0';
	s->n = 0;
	mf_strlcpy(s->buf, in + l, sizeof s->buf);
	p = s->buf;
	while (*p) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		char *w = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
		fset_add(s, w);
	}
}

static int cmp_name(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static void names_add(struct names *nm, const char *kw)
{
	if (nm->n < sizeof nm->v / sizeof nm->v[0])
		nm->v[nm->n++] = kw;
}

/* letters + " name" for each of nm (sorted, unique), whole names only. */
static void emit(const char *letters, struct names *nm, char *out, size_t len)
{
	size_t o;

	if (!len)
		return;
	mf_strlcpy(out, letters, len);
	o = strlen(out);
	qsort(nm->v, nm->n, sizeof nm->v[0], cmp_name);
	for (size_t i = 0; i < nm->n; i++) {
		size_t k = strlen(nm->v[i]);
		if (i && !strcasecmp(nm->v[i], nm->v[i - 1]))
			continue;
		if (o + 1 + k + 1 > len)
			break;
		out[o++] = ' ';
		memcpy(out + o, nm->v[i], k);
		o += k;
		out[o] = '\0';
	}
}

int mf_imapflags_has(const char *set, char c)
{
	size_t l = strcspn(set, " ");

	return memchr(set, c, l) != NULL;
}

void mf_imapflags_letters(const char *set, char *out)
{
	size_t o = 0;

	for (size_t f = 0; f < NFLAGS; f++)
		if (mf_imapflags_has(set, flagmap[f].letter))
			out[o++] = flagmap[f].letter;
	out[o] = '\0';
}

void mf_imapflags_from_names(const char *const *names, size_t n,
                             char *out, size_t len)
{
	struct names nm = { .n = 0 };
	char letters[8];
	size_t o = 0;

	for (size_t f = 0; f < NFLAGS; f++)
		for (size_t k = 0; k < n; k++)
			if (!strcasecmp(names[k], flagmap[f].imap)) {
				letters[o++] = flagmap[f].letter;
				break;
			}
	letters[o] = '\0';
	for (size_t k = 0; k < n; k++)
		if (mf_kwtable_valid(names[k]) && strcasecmp(names[k], "$Forwarded"))
			names_add(&nm, names[k]);
	emit(letters, &nm, out, len);
}

void mf_imapflags_to_imap(const char *set, char *out, size_t len)
{
	struct fset *s = malloc(sizeof *s);
	size_t o = 0;

	out[0] = '\0';
	if (!s)
		return;
	fset_parse(s, set);
	for (size_t i = 0; i < NFLAGS + s->n; i++) {
		const char *w;
		if (i < NFLAGS) {
			if (!strchr(s->letters, flagmap[i].letter))
				continue;
			w = flagmap[i].imap;
		} else {
			w = s->kw[i - NFLAGS];
		}
		int n = snprintf(out + o, len - o, "%s%s", o ? " " : "", w);
		if (n < 0 || (size_t)n >= len - o) {
			out[o] = '\0';     /* no half flag */
			break;
		}
		o += (size_t)n;
	}
	free(s);
}

void mf_imapflags_local(const char *file_letters, const struct mf_kwtable *t,
                        const char *base, char *out, size_t len)
{
	struct fset *b = malloc(sizeof *b);
	struct names nm = { .n = 0 };
	char letters[8];
	size_t o = 0;

	for (size_t f = 0; f < NFLAGS; f++)
		if (strchr(file_letters, flagmap[f].letter))
			letters[o++] = flagmap[f].letter;
	letters[o] = '\0';
	for (const char *p = file_letters; t && *p; p++) {
		const char *kw = mf_kwtable_name(t, *p);
		if (kw)
			names_add(&nm, kw);
	}
	if (b) {
		fset_parse(b, base);
		for (size_t i = 0; i < b->n; i++)
			if (!t || !mf_kwtable_letter(t, b->kw[i]))
				names_add(&nm, b->kw[i]);
	}
	emit(letters, &nm, out, len);
	free(b);
}

void mf_imapflags_file_letters(const char *file_letters, const char *set,
                               struct mf_kwtable *t, char *out, size_t len)
{
	struct fset *s = malloc(sizeof *s);
	char tmp[128];
	size_t o = 0;

	for (const char *p = file_letters; *p && o + 1 < sizeof tmp; p++)
		if (!is_ours(*p) && !(t && mf_kwtable_name(t, *p)))
			tmp[o++] = *p;
	if (s) {
		fset_parse(s, set);
		for (const char *p = s->letters; *p && o + 1 < sizeof tmp; p++)
			tmp[o++] = *p;
		for (size_t i = 0; t && i < s->n && o + 1 < sizeof tmp; i++) {
			char c = mf_kwtable_assign(t, s->kw[i]);
			if (c)
				tmp[o++] = c;
		}
		free(s);
	}
	tmp[o] = '\0';
	mf_maildir_flags_normalise(tmp, out, len);
}

/* Per system flag and keyword of the union: present in the result? */
typedef int (*rule_fn)(int b, int l, int s);

static void combine(const char *base, const char *local, const char *server,
                    rule_fn rule, char *out, size_t len)
{
	struct fset *v = malloc(3 * sizeof *v);
	struct names nm = { .n = 0 };
	char letters[8];
	size_t o = 0;

	if (!v) {
		mf_strlcpy(out, server, len);   /* no memory: take the server's */
		return;
	}
	fset_parse(&v[0], base);
	fset_parse(&v[1], local);
	fset_parse(&v[2], server);
	for (size_t f = 0; f < NFLAGS; f++) {
		char c = flagmap[f].letter;
		if (rule(strchr(v[0].letters, c) != NULL,
		         strchr(v[1].letters, c) != NULL,
		         strchr(v[2].letters, c) != NULL))
			letters[o++] = c;
	}
	letters[o] = '\0';
	/* server's spelling first: it is what the server will show */
	for (int side = 2; side >= 0; side--)
		for (size_t i = 0; i < v[side].n; i++) {
			const char *kw = v[side].kw[i];
			if (rule(fset_has(&v[0], kw), fset_has(&v[1], kw),
			         fset_has(&v[2], kw)))
				names_add(&nm, kw);
		}
	/* emit's stable sort would keep the first spelling; qsort is not
	 * stable, so drop later duplicates before sorting */
	for (size_t i = 0; i < nm.n; i++)
		for (size_t j = i + 1; j < nm.n; j++)
			if (!strcasecmp(nm.v[i], nm.v[j]))
				nm.v[j--] = nm.v[--nm.n];
	emit(letters, &nm, out, len);
	free(v);
}

static int rule_merge3(int b, int l, int s)
{
	return l == s ? l : (l != b ? l : s);
}

static int rule_pull(int b, int l, int s)
{
	return s != b ? s : l;
}

static int rule_add(int b, int l, int s)
{
	(void)s;
	return !b && l;
}

void mf_imapflags_merge3(const char *base, const char *local,
                         const char *server, char *out, size_t len)
{
	combine(base, local, server, rule_merge3, out, len);
}

void mf_imapflags_pull(const char *base, const char *local,
                       const char *server, char *out, size_t len)
{
	combine(base, local, server, rule_pull, out, len);
}

void mf_imapflags_diff(const char *from, const char *to, char *add,
                       size_t alen, char *del, size_t dlen)
{
	combine(from, to, "", rule_add, add, alen);
	combine(to, from, "", rule_add, del, dlen);
}
