/* imapflags.c - IMAP system flags <-> Maildir info letters. */
#include "imapflags.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "maildir.h"

/* Sorted by letter, so every result below comes out sorted. */
static const struct {
	const char *imap;
	char letter;
} flagmap[] = {
	{ "\\Draft", 'D' }, { "\\Flagged", 'F' }, { "\\Answered", 'R' },
	{ "\\Seen", 'S' }, { "\\Deleted", 'T' },
};
#define NFLAGS (sizeof flagmap / sizeof flagmap[0])

static int has(const char *letters, size_t f)
{
	return strchr(letters, flagmap[f].letter) != NULL;
}

void mf_imapflags_from_list(const struct mf_imap_resp *r, size_t list,
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

void mf_imapflags_mapped(const char *in, char *out)
{
	size_t o = 0;

	for (size_t f = 0; f < NFLAGS; f++)
		if (has(in, f))
			out[o++] = flagmap[f].letter;
	out[o] = '\0';
}

void mf_imapflags_to_imap(const char *letters, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t f = 0; f < NFLAGS; f++) {
		if (!has(letters, f))
			continue;
		int n = snprintf(out + o, len - o, "%s%s", o ? " " : "",
		                 flagmap[f].imap);
		if (n < 0 || (size_t)n >= len - o) {
			out[o] = '\0';     /* no half flag */
			break;
		}
		o += (size_t)n;
	}
}

void mf_imapflags_merge_local(const char *local, const char *mapped,
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

void mf_imapflags_diff(const char *from, const char *to, char *add, char *del)
{
	size_t a = 0, d = 0;

	for (size_t f = 0; f < NFLAGS; f++) {
		int x = has(from, f), y = has(to, f);
		if (!x && y)
			add[a++] = flagmap[f].letter;
		if (x && !y)
			del[d++] = flagmap[f].letter;
	}
	add[a] = del[d] = '\0';
}

void mf_imapflags_merge3(const char *base, const char *local,
                         const char *server, char *out)
{
	size_t o = 0;

	for (size_t f = 0; f < NFLAGS; f++) {
		int b = has(base, f), l = has(local, f), s = has(server, f);
		int r = l == s ? l : (l != b ? l : s);
		if (r)
			out[o++] = flagmap[f].letter;
	}
	out[o] = '\0';
}

void mf_imapflags_pull(const char *base, const char *local,
                       const char *server, char *out)
{
	size_t o = 0;

	for (size_t f = 0; f < NFLAGS; f++) {
		int b = has(base, f), s = has(server, f), l = has(local, f);
		if (s != b ? s : l)
			out[o++] = flagmap[f].letter;
	}
	out[o] = '\0';
}
