/* IMAP system flags <-> Maildir letters and the merge rules of imap-sync. */
#include <criterion/criterion.h>
#include <string.h>

#include "imapflags.h"

Test(imapflags, from_fetch_list)
{
	const char *in = "* 1 FETCH (UID 7 FLAGS (\\Seen $Label \\deleted "
	                 "\\Recent \\Flagged))\r\n";
	struct mf_err e;
	int done = 0;
	char out[8];

	mf_err_clear(&e);
	struct mf_imap_parser *p = mf_imap_parser_new(NULL, NULL);
	cr_assert(p);
	cr_assert_eq(mf_imap_parser_feed(p, in, strlen(in), &done, &e),
	             (ssize_t)strlen(in), "%s", e.msg);
	cr_assert(done);
	const struct mf_imap_resp *r = mf_imap_parser_response(p);
	size_t k = mf_imap_fetch_item(r, r->data_first, "FLAGS");
	cr_assert_neq(k, (size_t)-1);
	mf_imapflags_from_list(r, k, out);
	cr_assert_str_eq(out, "FST");
	mf_imap_parser_free(p);
}

Test(imapflags, mapping)
{
	char out[64];

	mf_imapflags_mapped("PRSabT", out);
	cr_assert_str_eq(out, "RST");
	mf_imapflags_mapped("", out);
	cr_assert_str_eq(out, "");
	mf_imapflags_to_imap("DFRST", out, sizeof out);
	cr_assert_str_eq(out, "\\Draft \\Flagged \\Answered \\Seen \\Deleted");
	mf_imapflags_to_imap("S", out, sizeof out);
	cr_assert_str_eq(out, "\\Seen");
	mf_imapflags_to_imap("FS", out, 12);     /* only whole flags */
	cr_assert_str_eq(out, "\\Flagged");
	mf_imapflags_merge_local("PSab", "F", out, sizeof out);
	cr_assert_str_eq(out, "FP");             /* a, b are not flags A-Z */
	mf_imapflags_merge_local("DPT", "RS", out, sizeof out);
	cr_assert_str_eq(out, "PRS");
}

Test(imapflags, diff)
{
	char add[8], del[8];

	mf_imapflags_diff("ST", "FS", add, del);
	cr_assert_str_eq(add, "F");
	cr_assert_str_eq(del, "T");
	mf_imapflags_diff("S", "S", add, del);
	cr_assert_str_eq(add, "");
	cr_assert_str_eq(del, "");
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
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char out[8];
		mf_imapflags_merge3(t[i].base, t[i].local, t[i].server, out);
		cr_assert_str_eq(out, t[i].two_way, "two-way case %zu", i);
		mf_imapflags_pull(t[i].base, t[i].local, t[i].server, out);
		cr_assert_str_eq(out, t[i].pull, "pull case %zu", i);
	}
}
