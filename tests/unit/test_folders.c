/* Folder names from a possibly hostile server -> local Maildir paths:
 * mapping, refusal of names that leave the root, collisions, state keys. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "folders.h"

static const struct {
	const char *name;
	char delim;
	enum mf_imapsync_layout layout;
	const char *out;   /* NULL: refused */
} names[] = {
	{ "INBOX", '/', MF_LAYOUT_MAILDIRPP, "" },
	{ "InBoX", '/', MF_LAYOUT_FS, "" },
	{ "Sent", '/', MF_LAYOUT_MAILDIRPP, ".Sent" },
	{ "Sent", '/', MF_LAYOUT_FS, "Sent" },
	{ "a/b/c", '/', MF_LAYOUT_MAILDIRPP, ".a.b.c" },
	{ "a/b/c", '/', MF_LAYOUT_FS, "a/b/c" },
	{ "a.b", '.', MF_LAYOUT_FS, "a/b" },
	{ "INBOX/x", '/', MF_LAYOUT_MAILDIRPP, ".INBOX.x" },
	{ "\xd9\x85\xd8\xb3\xd9\x88\xd8\xaf\xd8\xa7\xd8\xaa", '/',
	  MF_LAYOUT_FS, "\xd9\x85\xd8\xb3\xd9\x88\xd8\xaf\xd8\xa7\xd8\xaa" },
	/* leaving the root */
	{ "..", '/', MF_LAYOUT_MAILDIRPP, NULL },
	{ "..", '/', MF_LAYOUT_FS, NULL },
	{ ".", '/', MF_LAYOUT_FS, NULL },
	{ "../../x", '/', MF_LAYOUT_MAILDIRPP, NULL },
	{ "../../x", '/', MF_LAYOUT_FS, NULL },
	{ "../../x", '.', MF_LAYOUT_FS, NULL },
	{ "a/../../b", '/', MF_LAYOUT_MAILDIRPP, NULL },
	{ "a/../../b", '/', MF_LAYOUT_FS, NULL },
	{ "a/./b", '/', MF_LAYOUT_FS, NULL },
	{ "/etc", '/', MF_LAYOUT_MAILDIRPP, NULL },
	{ "/etc", '/', MF_LAYOUT_FS, NULL },
	{ "/etc", '.', MF_LAYOUT_FS, NULL },         /* '/' inside a component */
	{ "/etc", 0, MF_LAYOUT_FS, NULL },
	{ "a\\..\\b", '\\', MF_LAYOUT_FS, NULL },
	/* confusing the layout */
	{ "", '/', MF_LAYOUT_FS, NULL },
	{ "a//b", '/', MF_LAYOUT_FS, NULL },
	{ "a/", '/', MF_LAYOUT_FS, NULL },
	{ "/", '/', MF_LAYOUT_MAILDIRPP, NULL },
	{ "a.b", '/', MF_LAYOUT_MAILDIRPP, NULL },
	{ ".a", '/', MF_LAYOUT_FS, NULL },
	{ "x/new", '/', MF_LAYOUT_FS, NULL },
	{ "tmp", '/', MF_LAYOUT_FS, NULL },
	{ "cur", '/', MF_LAYOUT_MAILDIRPP, ".cur" },
	{ "a\nb", '/', MF_LAYOUT_MAILDIRPP, NULL },
	{ "a\x7f", '/', MF_LAYOUT_FS, NULL },
	{ "\x1b[2J", '/', MF_LAYOUT_FS, NULL },
};

Test(folders, map_name_table)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char out[256] = "untouched";
		struct mf_err e;
		mf_err_clear(&e);
		int r = mf_folders_map_name(names[i].name, names[i].delim,
		                            names[i].layout, out, sizeof out, &e);
		if (!names[i].out) {
			cr_assert_eq(r, -1, "case %zu accepted as \"%s\"", i, out);
			cr_assert_eq(e.kind, MF_E_DATA, "case %zu", i);
			cr_assert(strstr(e.msg, "unsafe folder name"), "case %zu: %s", i,
			          e.msg);
		} else {
			cr_assert_eq(r, 0, "case %zu: %s", i, e.msg);
			cr_assert_str_eq(out, names[i].out, "case %zu", i);
		}
	}
}

Test(folders, map_name_never_overflows)
{
	char name[600], out[64];
	struct mf_err e;

	memset(name, 'a', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	mf_err_clear(&e);
	cr_assert_eq(mf_folders_map_name(name, '/', MF_LAYOUT_FS, out, sizeof out,
	                                 &e), -1);
	cr_assert_eq(e.kind, MF_E_DATA);
	cr_assert(strstr(e.msg, "too long"));
	/* exactly what fits (the limit keeps room for a separator and NUL) */
	memset(name, 'a', 62);
	name[62] = '\0';
	cr_assert_eq(mf_folders_map_name(name, '/', MF_LAYOUT_FS, out, sizeof out,
	                                 &e), 0);
	cr_assert_eq(strlen(out), 62);
	name[62] = 'a';
	name[63] = '\0';
	cr_assert_eq(mf_folders_map_name(name, '/', MF_LAYOUT_FS, out, sizeof out,
	                                 &e), -1);
}

Test(folders, match)
{
	static const struct {
		const char *pat, *name;
		char delim;
		int want;
	} t[] = {
		{ "*", "", '/', 1 }, { "*", "a/b", '/', 1 }, { "%", "a/b", '/', 0 },
		{ "%", "a", '/', 1 }, { "a/%", "a/b", '/', 1 },
		{ "a/%/c", "a/b/c", '/', 1 }, { "a/%/c", "a/b/x/c", '/', 0 },
		{ "a/*/c", "a/b/x/c", '/', 1 }, { "A", "a", '/', 0 },
		{ "%", "a/b", 0, 1 }, { "", "", '/', 1 }, { "", "x", '/', 0 },
		{ "x*", "x", '/', 1 }, { "*x", "ab", '/', 0 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		cr_assert_eq(mf_folders_match(t[i].pat, t[i].name, t[i].delim),
		             t[i].want, "case %zu: %s ~ %s", i, t[i].pat, t[i].name);
}

Test(folders, state_key)
{
	char a[200], b[200], small[20];

	mf_folders_state_key("INBOX", a, sizeof a);
	cr_assert_str_eq(a, "f494e424f58");
	mf_folders_state_key("../x", a, sizeof a);
	cr_assert_eq(strchr(a, '/'), NULL);
	cr_assert_eq(strchr(a, '.'), NULL);
	/* long names and small buffers get the hash */
	char longname[200];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	mf_folders_state_key(longname, a, sizeof a);
	cr_assert_eq(a[0], 'h');
	cr_assert_eq(strlen(a), 17);
	mf_folders_state_key("INBOX", small, sizeof small);
	cr_assert_eq(small[0], 'h');
	mf_folders_state_key("INBOY", b, sizeof b);
	mf_folders_state_key("INBOX", a, sizeof a);
	cr_assert_str_neq(a, b);
}

/* ---- the folder list a LIST builds ---- */

struct lcase {
	const char *utf7;
	size_t len;             /* 0: strlen */
	char delim;
	int want;               /* MF_FOLDERS_* */
	const char *why;        /* substring of the refusal */
};

static void run_list(struct mf_folders *fl, const struct lcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct mf_folders_refusal why;
		struct mf_err e;
		memset(&why, 0, sizeof why);
		mf_err_clear(&e);
		size_t len = c[i].len ? c[i].len : strlen(c[i].utf7);
		int r = mf_folders_add(fl, c[i].utf7, len, c[i].delim, "", &why, &e);
		cr_assert_eq(r, c[i].want, "case %zu (%s): %d, %s", i, c[i].utf7, r,
		             why.why);
		if (c[i].why)
			cr_assert(strstr(why.why, c[i].why), "case %zu: %s", i, why.why);
		if (r == MF_FOLDERS_REFUSED)
			cr_assert(why.name[0], "case %zu: no name shown", i);
	}
}

Test(folders, add_refuses_hostile_names)
{
	struct mf_folders fl;
	static const struct lcase c[] = {
		{ "INBOX", 0, '/', MF_FOLDERS_ADDED, NULL },
		{ "..", 0, '/', MF_FOLDERS_REFUSED, "\"..\"" },
		{ "../../x", 0, '/', MF_FOLDERS_REFUSED, "\"..\"" },
		{ "a/../../b", 0, '/', MF_FOLDERS_REFUSED, "\"..\"" },
		{ "/etc", 0, '/', MF_FOLDERS_REFUSED, "empty" },
		{ "/etc", 0, '.', MF_FOLDERS_REFUSED, "'/'" },
		{ "a\0/../x", 7, '/', MF_FOLDERS_REFUSED, "NUL" },
		{ "&AAA-", 0, '/', MF_FOLDERS_REFUSED, "modified UTF-7" },  /* U+0000 */
		{ "&-&", 0, '/', MF_FOLDERS_REFUSED, "modified UTF-7" },
		{ "&AC4ALg-", 0, '/', MF_FOLDERS_REFUSED, "modified UTF-7" }, /* ".." */
		{ "&Li4-", 0, '/', MF_FOLDERS_ADDED, NULL },  /* U+2E2E, not ".." */
		{ "a\x1b", 0, '/', MF_FOLDERS_REFUSED, "modified UTF-7" },
		{ "Entw&APw-rfe", 0, '/', MF_FOLDERS_ADDED, NULL },
	};
	memset(&fl, 0, sizeof fl);
	fl.layout = MF_LAYOUT_FS;
	run_list(&fl, c, sizeof c / sizeof c[0]);
	cr_assert_eq(fl.n, 3);
	cr_assert_str_eq(fl.v[0].rel, "");
	cr_assert_str_eq(fl.v[1].rel, "\xe2\xb8\xae");
	cr_assert_str_eq(fl.v[2].utf8, "Entw\xc3\xbcrfe");
	cr_assert_str_eq(fl.v[2].rel, "Entw\xc3\xbcrfe");
	cr_assert_str_eq(fl.v[2].utf7, "Entw&APw-rfe");
	mf_folders_free(&fl);
	cr_assert_eq(fl.n, 0);
}

Test(folders, add_refuses_collisions)
{
	struct mf_folders fl;
	static const struct lcase c[] = {
		{ "a/b", 0, '/', MF_FOLDERS_ADDED, NULL },
		{ "a/b", 0, '/', MF_FOLDERS_SKIPPED, NULL },     /* listed twice */
		{ "a.b", 0, '.', MF_FOLDERS_REFUSED, "would share" },  /* same a/b */
		{ "inbox", 0, '/', MF_FOLDERS_ADDED, NULL },
		{ "INBOX", 0, '/', MF_FOLDERS_REFUSED, "would share" },
		{ "A/b", 0, '/', MF_FOLDERS_ADDED, NULL },       /* case matters */
	};
	memset(&fl, 0, sizeof fl);
	fl.layout = MF_LAYOUT_FS;
	run_list(&fl, c, sizeof c / sizeof c[0]);
	cr_assert_eq(fl.n, 3);
	mf_folders_free(&fl);

	/* Maildir++: "x" with delimiter '/' and "x" under "." are the same */
	static const struct lcase d[] = {
		{ "p/q", 0, '/', MF_FOLDERS_ADDED, NULL },
		{ "p.q", 0, '.', MF_FOLDERS_REFUSED, "would share" },
		{ "p.q", 0, '/', MF_FOLDERS_REFUSED, "Maildir++" },
	};
	memset(&fl, 0, sizeof fl);
	fl.layout = MF_LAYOUT_MAILDIRPP;
	run_list(&fl, d, sizeof d / sizeof d[0]);
	cr_assert_eq(fl.n, 1);
	cr_assert_str_eq(fl.v[0].rel, ".p.q");
	mf_folders_free(&fl);
}

Test(folders, add_excludes_and_special)
{
	struct mf_folders fl;
	struct mf_folders_refusal why;
	struct mf_err e;
	const char *ex[] = { "Trash", "Archive/*" };

	memset(&fl, 0, sizeof fl);
	fl.layout = MF_LAYOUT_MAILDIRPP;
	fl.excludes = ex;
	fl.nexcludes = 2;
	mf_err_clear(&e);
	cr_assert_eq(mf_folders_add(&fl, "Trash", 5, '/', "\\Trash", &why, &e),
	             MF_FOLDERS_SKIPPED);
	cr_assert_eq(mf_folders_add(&fl, "Archive/2024", 12, '/', "", &why, &e),
	             MF_FOLDERS_SKIPPED);
	/* an excluded hostile name is simply skipped, never mapped */
	cr_assert_eq(mf_folders_add(&fl, "Archive/../..", 13, '/', "", &why, &e),
	             MF_FOLDERS_SKIPPED);
	cr_assert_eq(mf_folders_add(&fl, "Sent", 4, '/', "\\Sent", &why, &e),
	             MF_FOLDERS_ADDED);
	cr_assert_eq(fl.n, 1);
	cr_assert_str_eq(fl.v[0].special, "\\Sent");
	cr_assert_eq(fl.v[0].delim, '/');
	cr_assert_str_eq(fl.v[0].rel, ".Sent");
	mf_folders_free(&fl);
}

Test(folders, refusal_name_is_escaped)
{
	struct mf_folders fl;
	struct mf_folders_refusal why;
	struct mf_err e;

	memset(&fl, 0, sizeof fl);
	fl.layout = MF_LAYOUT_FS;
	mf_err_clear(&e);
	/* valid modified UTF-7 that decodes to a control character */
	cr_assert_eq(mf_folders_add(&fl, "a&ABs-b", 7, '/', "", &why, &e),
	             MF_FOLDERS_REFUSED);
	cr_assert_eq(strchr(why.name, '\x1b'), NULL, "%s", why.name);
	cr_assert_eq(fl.n, 0);
}

/* --folder-names mutf7: the local path keeps the server's modified UTF-7
 * spelling (as Dovecot's Maildir++ does); the shown name is UTF-8, and
 * the exclude patterns still match the UTF-8 name. */
Test(folders, names_mutf7_keeps_the_server_spelling)
{
	struct mf_folders fl;
	struct mf_folders_refusal why;
	struct mf_err e;
	const char *ex[] = { "Entwürfe/alt" };

	memset(&fl, 0, sizeof fl);
	fl.layout = MF_LAYOUT_MAILDIRPP;
	fl.names_mutf7 = 1;
	fl.excludes = ex;
	fl.nexcludes = 1;
	mf_err_clear(&e);
	cr_assert_eq(mf_folders_add(&fl, "Entw&APw-rfe", 12, '/', "", &why, &e),
	             MF_FOLDERS_ADDED);
	cr_assert_eq(mf_folders_add(&fl, "Entw&APw-rfe/alt", 16, '/', "", &why,
	             &e), MF_FOLDERS_SKIPPED);
	cr_assert_eq(mf_folders_add(&fl, "a/b", 3, '/', "", &why, &e),
	             MF_FOLDERS_ADDED);
	cr_assert_str_eq(fl.v[0].rel, ".Entw&APw-rfe");
	cr_assert_str_eq(fl.v[0].utf8, "Entwürfe");
	cr_assert_str_eq(fl.v[1].rel, ".a.b");
	mf_folders_free(&fl);
	memset(&fl, 0, sizeof fl);
	fl.layout = MF_LAYOUT_FS;
	fl.names_mutf7 = 1;
	cr_assert_eq(mf_folders_add(&fl, "&BkUGMwZIBi8GJw-/x", 18, '/', "", &why,
	             &e), MF_FOLDERS_ADDED);
	cr_assert_str_eq(fl.v[0].rel, "&BkUGMwZIBi8GJw-/x");
	mf_folders_free(&fl);
}
