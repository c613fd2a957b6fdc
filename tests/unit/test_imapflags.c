/* IMAP flags and keywords <-> Maildir letters and the merge rules of
 * imap-sync. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "imap.h"
#include "imapflags.h"
#include "maildir.h"

struct flags_out {
	char *out;
	size_t len;
	int seen;
};

static int
on_fetch(void *arg, const struct mf_imap_fetch *m, struct mf_err *e)
{
	struct flags_out *fo = arg;

	(void)e;
	cr_assert(m->has_flags);
	mf_imapflags_from_names(m->flags, m->nflags, fo->out, fo->len);
	fo->seen++;
	return 0;
}

/* The flag set of the FLAGS list of FETCH response `in`, decoded the way
 * the engines get it (mf_imap_events_fn). */
static void from_list(const char *in, char *out, size_t len)
{
	struct mf_err e;
	int done = 0;
	struct flags_out fo = { out, len, 0 };
	struct mf_imap_events ev = { .fetch = on_fetch, .arg = &fo };

	mf_err_clear(&e);
	struct mf_imap_parser *p = mf_imap_parser_new(NULL, NULL);
	cr_assert(p);
	cr_assert_eq(mf_imap_parser_feed(p, in, strlen(in), &done, &e),
	             (ssize_t)strlen(in), "%s", e.msg);
	cr_assert(done);
	cr_assert_eq(mf_imap_events_fn(&ev, mf_imap_parser_response(p), &e), 0);
	cr_assert_eq(fo.seen, 1);
	mf_imap_parser_free(p);
}

Test(imapflags, from_fetch_list)
{
	char out[MF_FLAGSET_MAX];

	from_list("* 1 FETCH (UID 7 FLAGS (\\Seen $Label \\deleted "
	          "\\Recent \\Flagged))\r\n", out, sizeof out);
	cr_assert_str_eq(out, "FST $Label");
	/* $Forwarded is P; keywords sorted without regard to case; \Recent
	 * and unknown system flags dropped */
	from_list("* 1 FETCH (UID 7 FLAGS ($MDNSent $forwarded work $Junk "
	          "\\Answered \\X-Unknown))\r\n", out, sizeof out);
	cr_assert_str_eq(out, "PR $Junk $MDNSent work");
	from_list("* 1 FETCH (UID 7 FLAGS ($NotJunk))\r\n", out, sizeof out);
	cr_assert_str_eq(out, " $NotJunk");
	from_list("* 1 FETCH (UID 7 FLAGS ())\r\n", out, sizeof out);
	cr_assert_str_eq(out, "");
	/* too long: whole keywords only */
	from_list("* 1 FETCH (UID 7 FLAGS (\\Seen aaaa bbbb))\r\n", out, 8);
	cr_assert_str_eq(out, "S aaaa");
}

Test(imapflags, to_imap)
{
	char out[128];

	mf_imapflags_to_imap("DFRST", out, sizeof out);
	cr_assert_str_eq(out, "\\Draft \\Flagged \\Answered \\Seen \\Deleted");
	mf_imapflags_to_imap("PS $Junk Work", out, sizeof out);
	cr_assert_str_eq(out, "$Forwarded \\Seen $Junk Work");
	mf_imapflags_to_imap(" $MDNSent", out, sizeof out);
	cr_assert_str_eq(out, "$MDNSent");
	mf_imapflags_to_imap("FS", out, 12);     /* only whole flags */
	cr_assert_str_eq(out, "\\Flagged");
	mf_imapflags_letters("FS $Junk", out);
	cr_assert_str_eq(out, "FS");
	cr_assert(mf_imapflags_has("FS $Junk", 'S'));
	cr_assert(!mf_imapflags_has(" $Junk", 'J'));
}

/* A file's letters, read through the folder's table, and back. */
Test(imapflags, local_side_through_the_keyword_table)
{
	struct mf_kwtable *t = mf_kwtable_new();
	char out[MF_FLAGSET_MAX], let[64];

	cr_assert(t);
	cr_assert_eq(mf_kwtable_assign(t, "$Junk"), 'a');
	cr_assert_eq(mf_kwtable_assign(t, "Work"), 'b');
	mf_kwtable_clean(t);
	/* X: not ours, kept aside; x: no keyword behind it, ignored */
	mf_imapflags_local("PSXax", t, "", out, sizeof out);
	cr_assert_str_eq(out, "PS $Junk");
	/* a keyword without a letter (say past 26) comes from the base */
	mf_imapflags_local("S", t, "S $Junk Zzz", out, sizeof out);
	cr_assert_str_eq(out, "S Zzz");
	mf_imapflags_local("S", NULL, "S $Junk", out, sizeof out);
	cr_assert_str_eq(out, "S $Junk");
	/* back to letters: ours replaced, X and the unknown x kept, a new
	 * keyword gets the next letter (and the table says so) */
	mf_imapflags_file_letters("PSXax", "F Work $MDNSent", t, let, sizeof let);
	cr_assert_str_eq(let, "FXbcx");
	cr_assert_eq(mf_kwtable_dirty(t), 1u << 2);
	cr_assert_str_eq(mf_kwtable_name(t, 'c'), "$MDNSent");
	mf_imapflags_file_letters("DT", "", t, let, sizeof let);
	cr_assert_str_eq(let, "");
	mf_kwtable_free(t);
}

Test(imapflags, diff)
{
	char add[64], del[64];

	mf_imapflags_diff("ST", "FS", add, sizeof add, del, sizeof del);
	cr_assert_str_eq(add, "F");
	cr_assert_str_eq(del, "T");
	mf_imapflags_diff("S", "S", add, sizeof add, del, sizeof del);
	cr_assert_str_eq(add, "");
	cr_assert_str_eq(del, "");
	mf_imapflags_diff("S $Junk a", "PS $junk B", add, sizeof add, del,
	                  sizeof del);
	cr_assert_str_eq(add, "P B");
	cr_assert_str_eq(del, " a");
}

Test(imapflags, merge_rules)
{
	static const struct {
		const char *base, *local, *server, *two_way, *pull;
	} t[] = {
		{ "", "", "", "", "" },
		{ "", "S", "", "S", "S" },          /* changed locally only */
		{ "", "", "S", "S", "S" },          /* changed on the server only */
		{ "S", "", "S", "", "" },           /* unset locally */
		{ "S", "S", "", "", "" },           /* unset on the server */
		{ "", "S", "S", "S", "S" },         /* both, the same way */
		{ "F", "", "FS", "S", "S" },        /* one flag each side */
		{ "S", "FS", "", "F", "F" },
		{ "DFRST", "", "DFRST", "", "" },
		{ "", "T", "R", "RT", "RT" },
		/* keywords follow the same rules, and P ($Forwarded) too */
		{ "", " $Junk", "", " $Junk", " $Junk" },
		{ "", "", "P $Junk", "P $Junk", "P $Junk" },
		{ "S $Junk", "S", "S $Junk", "S", "S" },
		{ "S $Junk", "S $Junk", "S", "S", "S" },
		{ "P a", "P a b", " a c", " a b c", " a b c" },
		{ " $Junk", " $Junk", " $NotJunk", " $NotJunk", " $NotJunk" },
		/* a spelling change is no change: the server's spelling */
		{ " work", " WORK", " Work", " Work", " Work" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char out[MF_FLAGSET_MAX];
		mf_imapflags_merge3(t[i].base, t[i].local, t[i].server, out,
		                    sizeof out);
		cr_assert_str_eq(out, t[i].two_way, "two-way case %zu", i);
		mf_imapflags_pull(t[i].base, t[i].local, t[i].server, out,
		                  sizeof out);
		cr_assert_str_eq(out, t[i].pull, "pull case %zu", i);
	}
}

/* A mail reader moving a file from new/ to cur/ (":2," or nothing added)
 * changes no flag, so two-way has nothing to send; adding ":2,S" on the
 * way is one flag change, \Seen, and nothing else. */
Test(imapflags, move_from_new_to_cur_is_no_change)
{
	static const struct {
		const char *before, *after, *add, *del;
	} t[] = {
		{ "new/1.M2P3.host,U=5", "cur/1.M2P3.host,U=5:2,", "", "" },
		{ "new/1.M2P3.host,U=5", "cur/1.M2P3.host,U=5", "", "" },
		{ "new/1.M2P3.host,U=5", "cur/1.M2P3.host,U=5:2,S", "S", "" },
		{ "cur/1.host,U=5:2,a", "cur/1.host,U=5:2,Sa", "S", "" },
		{ "cur/1.host,U=5:2,PSa", "cur/1.host,U=5:2,S", "", "P $Junk" },
	};
	struct mf_kwtable *kt = mf_kwtable_new();

	cr_assert_eq(mf_kwtable_assign(kt, "$Junk"), 'a');
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char l0[64], l1[64], base[MF_FLAGSET_MAX], local[MF_FLAGSET_MAX];
		char merged[MF_FLAGSET_MAX], add[64], del[64];
		/* the last sync left the server and the state as the file was */
		mf_maildir_name_flags(t[i].before, l0, sizeof l0);
		mf_imapflags_local(l0, kt, "", base, sizeof base);
		mf_maildir_name_flags(t[i].after, l1, sizeof l1);
		mf_imapflags_local(l1, kt, base, local, sizeof local);
		mf_imapflags_merge3(base, local, base, merged, sizeof merged);
		mf_imapflags_diff(base, merged, add, sizeof add, del, sizeof del);
		cr_assert_str_eq(add, t[i].add, "case %zu", i);
		cr_assert_str_eq(del, t[i].del, "case %zu", i);
	}
	mf_kwtable_free(kt);
}
