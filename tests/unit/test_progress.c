/* Unit tests: the progress bar. */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"
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

/* ---- the one behaviour (issue 12) ---- */

Test(progress, mode_never_draws_into_a_pipe)
{
	cr_assert_eq(mf_progress_mode(1, 1, 1), MF_PROGRESS_OFF);   /* -q */
	cr_assert_eq(mf_progress_mode(0, 0, 1), MF_PROGRESS_BAR);   /* default */
	cr_assert_eq(mf_progress_mode(0, 1, 1), MF_PROGRESS_BAR);
	cr_assert_eq(mf_progress_mode(0, 0, 0), MF_PROGRESS_OFF);
	cr_assert_eq(mf_progress_mode(0, 1, 0), MF_PROGRESS_LINES);
}

Test(progress, rate_and_time_left)
{
	char out[128] = "x";

	/* 2 MiB in 1 s, 10 of 40 done: 30 more take 3 s */
	mf_progress_rate(out, sizeof(out), 10, 40, 2u << 20, 1000);
	cr_assert_str_eq(out, "x, 2.0 MiB/s, 0:03 left");
	mf_fmt(out, sizeof(out), "y");
	mf_progress_rate(out, sizeof(out), 5, 5, 0, 2000);
	cr_assert_str_eq(out, "y, 2.5/s");
	mf_fmt(out, sizeof(out), "z");
	mf_progress_rate(out, sizeof(out), 0, 5, 0, 2000);
	cr_assert_str_eq(out, "z");
}

Test(progress, lines_mode_has_no_escape_and_ends_in_newline)
{
	struct mf_progress p;
	char out[256];
	const char *t;

	mf_progress_start(&p, MF_PROGRESS_LINES);
	t = mf_progress_update(&p, out, sizeof(out), "messages", 1, 10, 100);
	cr_assert_not_null(t);
	cr_assert(strchr(t, '\033') == NULL && strchr(t, '\r') == NULL, "%s", t);
	cr_assert_eq(t[strlen(t) - 1], '\n');
	/* the next one within MF_PROGRESS_LINE_MS is held back ... */
	cr_assert_null(mf_progress_update(&p, out, sizeof(out), "messages", 2,
	    10, 200));
	/* ... except the last */
	cr_assert_not_null(mf_progress_update(&p, out, sizeof(out), "messages",
	    10, 10, 900));
	cr_assert_str_eq(mf_progress_clear(&p), "");
}

Test(progress, bar_mode_redraws_in_place_and_off_says_nothing)
{
	struct mf_progress p;
	char out[256];
	const char *t;

	mf_progress_start(&p, MF_PROGRESS_BAR);
	t = mf_progress_update(&p, out, sizeof(out), "INBOX", 3, 10, 0);
	cr_assert_not_null(t);
	cr_assert(strncmp(t, "\r\033[K[", 5) == 0, "%s", t);
	cr_assert(strchr(t, '\n') == NULL);
	cr_assert_str_eq(mf_progress_clear(&p), "\r\033[K");
	cr_assert_str_eq(mf_progress_clear(&p), "");
	mf_progress_start(&p, MF_PROGRESS_OFF);
	cr_assert_null(mf_progress_update(&p, out, sizeof(out), "INBOX", 3, 10,
	    0));
}
