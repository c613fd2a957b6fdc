/* The keyword table: Dovecot's dovecot-keywords parsed and written,
 * letters allocated a-z, 26 at most, and the file round-trips. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kwtable.h"

Test(kwtable, parse_dovecot_keywords)
{
	/* as Dovecot writes it, plus what it would skip */
	static const char text[] =
	    "0 $Forwarded\n1 $Junk\n"
	    "3 NonJunk\r\n"          /* a gap and a CRLF */
	    "26 TooFar\n"            /* index past z */
	    "x Bad\n"                /* no index */
	    "4 bad(name\n"           /* not an atom */
	    "5\n"                    /* no name */
	    "7 $MDNSent";            /* no final newline */
	struct mf_kwtable *t = mf_kwtable_new();
	struct mf_err e;

	mf_err_clear(&e);
	cr_assert_eq(mf_kwtable_parse(t, text, strlen(text), &e), 0, "%s", e.msg);
	cr_assert_eq(mf_kwtable_count(t), 4);
	cr_assert_str_eq(mf_kwtable_name(t, 'a'), "$Forwarded");
	cr_assert_str_eq(mf_kwtable_name(t, 'b'), "$Junk");
	cr_assert_null(mf_kwtable_name(t, 'c'));
	cr_assert_str_eq(mf_kwtable_name(t, 'd'), "NonJunk");
	cr_assert_str_eq(mf_kwtable_name(t, 'h'), "$MDNSent");
	cr_assert_null(mf_kwtable_name(t, 'A'));
	cr_assert_eq(mf_kwtable_letter(t, "$junk"), 'b');   /* any case */
	cr_assert_eq(mf_kwtable_letter(t, "Other"), 0);
	cr_assert_eq(mf_kwtable_dirty(t), 0);
	/* the first free letter is taken: c */
	cr_assert_eq(mf_kwtable_assign(t, "Work"), 'c');
	cr_assert_eq(mf_kwtable_assign(t, "work"), 'c');
	cr_assert_eq(mf_kwtable_dirty(t), 1u << 2);
	cr_assert_eq(mf_kwtable_assign(t, "\\Seen"), 0);  /* not a keyword */
	/* letters to avoid (another table's, being merged in) are skipped */
	cr_assert_eq(mf_kwtable_assign_avoid(t, "New", 1u << 4 | 1u << 5), 'g');
	cr_assert_eq(mf_kwtable_assign_avoid(t, "$junk", 1u << 1), 'b');
	mf_kwtable_free(t);
}

Test(kwtable, one_letter_two_meanings_is_an_error)
{
	struct mf_kwtable *t = mf_kwtable_new();
	struct mf_err e;

	mf_err_clear(&e);
	cr_assert_eq(mf_kwtable_parse(t, "0 A\n0 B\n", 8, &e), -1);
	cr_assert_eq(e.kind, MF_E_DATA);
	mf_kwtable_free(t);
	t = mf_kwtable_new();
	cr_assert_eq(mf_kwtable_parse(t, "0 A\n1 a\n", 8, &e), -1);
	cr_assert_eq(mf_kwtable_set(t, 0, "A", &e), 0);     /* same: fine */
	mf_kwtable_free(t);
}

Test(kwtable, more_than_26_keywords_have_no_letter)
{
	struct mf_kwtable *t = mf_kwtable_new();
	char kw[16];

	for (int i = 0; i < 26; i++) {
		snprintf(kw, sizeof kw, "k%d", i);
		cr_assert_eq(mf_kwtable_assign(t, kw), 'a' + i);
	}
	cr_assert_eq(mf_kwtable_assign(t, "k26"), 0);
	cr_assert_eq(mf_kwtable_letter(t, "k26"), 0);
	cr_assert_eq(mf_kwtable_assign(t, "k25"), 'z');
	cr_assert_eq(mf_kwtable_count(t), 26);
	cr_assert_eq(mf_kwtable_dirty(t), (1u << 26) - 1);
	mf_kwtable_free(t);
}

Test(kwtable, valid_names)
{
	cr_assert(mf_kwtable_valid("$Junk"));
	cr_assert(mf_kwtable_valid("Label_1.x"));
	cr_assert(!mf_kwtable_valid(""));
	cr_assert(!mf_kwtable_valid("\\Seen"));
	cr_assert(!mf_kwtable_valid("a b"));
	cr_assert(!mf_kwtable_valid("-"));
	cr_assert(!mf_kwtable_valid("a]"));
	cr_assert(!mf_kwtable_valid("a\x7f"));
	cr_assert(!mf_kwtable_valid("caf\xc3\xa9"));
	char long_kw[300];
	memset(long_kw, 'x', sizeof long_kw - 1);
	long_kw[sizeof long_kw - 1] = '\0';
	cr_assert(!mf_kwtable_valid(long_kw));
}

Test(kwtable, save_and_load_round_trip)
{
	char dir[] = "/tmp/mf-kwtable-XXXXXX", path[64];
	struct mf_kwtable *t = mf_kwtable_new(), *u = mf_kwtable_new();
	struct mf_err e;
	struct stat sb;

	mf_err_clear(&e);
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(mf_kwtable_load(t, dir, &e), 1, "no file: 1");
	cr_assert_eq(mf_kwtable_set(t, 2, "$NotJunk", &e), 0);
	cr_assert_eq(mf_kwtable_assign(t, "$Junk"), 'a');
	cr_assert_eq(mf_kwtable_save(t, dir, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_kwtable_dirty(t), 0);
	snprintf(path, sizeof path, "%s/dovecot-keywords", dir);
	FILE *fp = fopen(path, "r");
	char buf[128] = "";
	cr_assert(fp);
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	cr_assert_str_eq(buf, "0 $Junk\n2 $NotJunk\n");
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	cr_assert_eq(mf_kwtable_load(u, dir, &e), 0, "%s", e.msg);
	cr_assert_str_eq(mf_kwtable_name(u, 'a'), "$Junk");
	cr_assert_str_eq(mf_kwtable_name(u, 'c'), "$NotJunk");
	cr_assert_eq(mf_kwtable_assign(u, "x"), 'b');
	unlink(path);
	rmdir(dir);
	mf_kwtable_free(t);
	mf_kwtable_free(u);
}
