/* folders.c - IMAP folder names <-> local Maildir paths. */
#include "folders.h"
#include "esc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "transcript.h"
#include "utf7.h"

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

int mf_folders_map_name(const char *name, char delim,
                        enum mf_imapsync_layout layout, char *out,
                        size_t outlen, struct mf_err *e)
{
	size_t o = 0;
	const char *p = name, *why = NULL;

	/* RFC 3501 §5.1: INBOX is case-insensitive and is the root itself */
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

int mf_folders_match(const char *pat, const char *name, char delim)
{
	if (!*pat)
		return !*name;
	if (*pat == '*' || *pat == '%') {
		for (const char *n = name;; n++) {
			if (mf_folders_match(pat + 1, n, delim))
				return 1;
			if (!*n || (*pat == '%' && delim && *n == delim))
				return 0;
		}
	}
	if (*pat != *name)
		return 0;
	return *name && mf_folders_match(pat + 1, name + 1, delim);
}

void mf_folders_state_key(const char *utf7, char *out, size_t len)
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

static int refuse(struct mf_folders_refusal *why, const char *name,
                  size_t len, int escape)
{
	if (escape)
		mf_esc_mem(why->name, sizeof why->name, name, len);
	else
		mf_strlcpy(why->name, name, sizeof why->name);
	return MF_FOLDERS_REFUSED;
}

static int excluded(const struct mf_folders *fl, const char *name, char delim)
{
	for (size_t i = 0; i < fl->nexcludes; i++)
		if (mf_folders_match(fl->excludes[i], name, delim))
			return 1;
	return 0;
}

/* The name's local path, or MF_FOLDERS_REFUSED when it is unsafe or taken. */
static int local_path(const struct mf_folders *fl, const char *name,
                      char delim, char *rel, size_t rellen,
                      struct mf_folders_refusal *why)
{
	struct mf_err e;

	mf_err_clear(&e);
	if (mf_folders_map_name(name, delim, fl->layout, rel, rellen, &e) < 0) {
		mf_strlcpy(why->why, e.msg, sizeof why->why);
		return refuse(why, name, strlen(name), 1);
	}
	for (size_t i = 0; i < fl->n; i++)
		if (!strcmp(fl->v[i].rel, rel)) {
			snprintf(why->why, sizeof why->why, "folder \"%s\" would share "
			         "the local folder of \"%s\"", name, fl->v[i].utf8);
			return refuse(why, name, strlen(name), 0);
		}
	return MF_FOLDERS_ADDED;
}

static int append(struct mf_folders *fl, const char *utf7, struct mf_buf *u8,
                  const char *rel, char delim, const char *special,
                  struct mf_err *e)
{
	if (fl->n == fl->cap) {
		size_t nc = fl->cap ? fl->cap * 2 : 16;
		void *nv = realloc(fl->v, nc * sizeof *fl->v);
		if (!nv)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
		fl->v = nv;
		fl->cap = nc;
	}
	struct mf_folder *f = &fl->v[fl->n];
	f->utf7 = strdup(utf7);
	f->utf8 = mf_buf_take(u8);
	f->rel = strdup(rel);
	f->delim = delim;
	mf_strlcpy(f->special, special, sizeof f->special);
	if (!f->utf7 || !f->utf8 || !f->rel) {
		free(f->utf7);
		free(f->utf8);
		free(f->rel);
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	}
	fl->n++;
	return MF_FOLDERS_ADDED;
}

int mf_folders_add(struct mf_folders *fl, const char *utf7, size_t len,
                   char delim, const char *special,
                   struct mf_folders_refusal *why, struct mf_err *e)
{
	struct mf_buf u8 = MF_BUF_INIT(4096);
	struct mf_err de;
	char rel[1024];
	int r;

	if (strlen(utf7) != len) {
		mf_strlcpy(why->why, "folder name holds a NUL byte", sizeof why->why);
		return refuse(why, "(name with NUL)", 15, 0);
	}
	for (size_t i = 0; i < fl->n; i++)
		if (!strcmp(fl->v[i].utf7, utf7))
			return MF_FOLDERS_SKIPPED;
	mf_err_clear(&de);
	if (mf_utf7_decode(utf7, len, &u8, &de) < 0 ||
	    memchr(u8.data ? u8.data : "", '\0', u8.len)) {
		mf_buf_free(&u8);
		refuse(why, utf7, len, 1);
		snprintf(why->why, sizeof why->why, "folder name \"%s\" is not "
		         "valid modified UTF-7", why->name);
		return MF_FOLDERS_REFUSED;
	}
	const char *name = u8.data ? u8.data : "";
	if (excluded(fl, name, delim))
		r = MF_FOLDERS_SKIPPED;
	else
		r = local_path(fl, fl->names_mutf7 ? utf7 : name, delim, rel,
		               sizeof rel, why);
	if (r == MF_FOLDERS_ADDED)
		r = append(fl, utf7, &u8, rel, delim, special, e);
	mf_buf_free(&u8);
	return r;
}

void mf_folders_free(struct mf_folders *fl)
{
	for (size_t i = 0; i < fl->n; i++) {
		free(fl->v[i].utf7);
		free(fl->v[i].utf8);
		free(fl->v[i].rel);
	}
	free(fl->v);
	fl->v = NULL;
	fl->n = fl->cap = 0;
}
