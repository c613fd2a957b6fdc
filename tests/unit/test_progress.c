/* Unit tests: the progress bar. */
#include <criterion/criterion.h>
#include <string.h>

#include "progress.h"

Test(progress, table)
{
	static const struct {
		const char *label;
		unsigned long done, total;
		unsigned long long bytes;
		const char *want;
	} t[] = {
		{ "INBOX", 0, 2000, 0,
		  "[..............................]   0% INBOX 0/2000" },
		{ "INBOX", 600, 2000, 0,
		  "[#########.....................]  30% INBOX 600/2000" },
		{ NULL, 2000, 2000, 4404019,
		  "[##############################] 100% 2000/2000, 4.2 MiB" },
		{ "", 5, 0, 0, "[..............................]   0% 5/0" },
		{ "x", 7, 5, 0, "[##############################] 100% x 7/5" },
	};
	char out[128];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mf_progress_format(out, sizeof(out), t[i].label, t[i].done,
		    t[i].total, t[i].bytes);
		cr_assert_str_eq(out, t[i].want, "case %zu", i);
	}
}

Test(progress, truncates_safely)
{
	char out[8];

	mf_progress_format(out, sizeof(out), "INBOX", 1, 2, 0);
	cr_assert_eq(strlen(out), 7);
	mf_progress_format(out, 1, "INBOX", 1, 2, 0);
	cr_assert_str_eq(out, "");
}
