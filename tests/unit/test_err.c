/* test_err.c - the one exit policy: lib/err.c's map is the table in
 * mailflow(7), row for row. */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "err.h"

#define NKINDS (MF_E_NOUSER + 1)

static const struct { const char *name; int value; } ex_names[] = {
	{ "EX_OK", EX_OK }, { "EX_USAGE", EX_USAGE },
	{ "EX_DATAERR", EX_DATAERR }, { "EX_NOUSER", EX_NOUSER },
	{ "EX_UNAVAILABLE", EX_UNAVAILABLE }, { "EX_SOFTWARE", EX_SOFTWARE },
	{ "EX_OSERR", EX_OSERR }, { "EX_IOERR", EX_IOERR },
	{ "EX_TEMPFAIL", EX_TEMPFAIL }, { "EX_PROTOCOL", EX_PROTOCOL },
	{ "EX_NOPERM", EX_NOPERM }, { "EX_CONFIG", EX_CONFIG },
};

static int
ex_value(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ex_names) / sizeof(ex_names[0]); i++)
		if (strcmp(ex_names[i].name, name) == 0)
			return ex_names[i].value;
	return -1;
}

Test(err, mailflow7_table_is_the_map)
{
	/* The unit layer runs from the top of the tree (make unit). */
	FILE *f = fopen("man/mailflow.7", "r");
	int seen[NKINDS] = { 0 };
	char line[512], num[8], ex[32], kind[32];
	regmatch_t m[4];
	regex_t re;
	int k, rows = 0;

	cr_assert_not_null(f, "man/mailflow.7 not found from the cwd");
	cr_assert_eq(regcomp(&re, "^\\.It ([0-9]+) Ta Dv (EX_[A-Z]+) Ta Sy "
	    "([a-z-]+) Ta", REG_EXTENDED), 0);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (regexec(&re, line, 4, m, 0) != 0)
			continue;
		snprintf(num, sizeof(num), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
		    line + m[1].rm_so);
		snprintf(ex, sizeof(ex), "%.*s", (int)(m[2].rm_eo - m[2].rm_so),
		    line + m[2].rm_so);
		snprintf(kind, sizeof(kind), "%.*s", (int)(m[3].rm_eo - m[3].rm_so),
		    line + m[3].rm_so);
		rows++;
		cr_expect_eq(ex_value(ex), (int)strtol(num, NULL, 10),
		    "%s is not %s", ex, num);
		for (k = 0; k < NKINDS; k++)
			if (strcmp(mf_err_kind_name((enum mf_err_kind)k), kind) == 0)
				break;
		cr_assert_lt(k, NKINDS, "mailflow(7) names an unknown kind %s",
		    kind);
		seen[k]++;
		cr_expect_eq(mf_err_kind_exit((enum mf_err_kind)k),
		    (int)strtol(num, NULL, 10), "kind %s: lib/err.c says %d, "
		    "mailflow(7) %s", kind, mf_err_kind_exit((enum mf_err_kind)k),
		    num);
	}
	regfree(&re);
	fclose(f);
	cr_assert_gt(rows, 0);
	for (k = 0; k < NKINDS; k++)
		cr_expect_eq(seen[k], 1, "kind %s is in mailflow(7) %d times",
		    mf_err_kind_name((enum mf_err_kind)k), seen[k]);
}

Test(err, same_failure_same_status)
{
	struct mf_err e;

	mf_err_set(&e, MF_E_CONNECT, "refused");
	cr_assert_eq(mf_err_exit_code(&e), EX_TEMPFAIL);
	mf_err_set(&e, MF_E_CONFIG, "no server");
	cr_assert_eq(mf_err_exit_code(&e), EX_CONFIG);
	cr_assert_eq(mf_err_exit_code(NULL), EX_SOFTWARE);
	cr_assert_eq(mf_err_kind_exit((enum mf_err_kind)999), EX_SOFTWARE);
}
