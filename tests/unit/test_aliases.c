/* Unit tests: msmtp-style aliases for recipients without a domain. */
#include <criterion/criterion.h>
#include <string.h>

#include "aliases.h"

Test(aliases, lookup_and_default)
{
	struct mf_err e;
	struct mf_aliases *a = mf_aliases_parse(
	    "# comment\n"
	    "\n"
	    "root: admin@example.org, ops@example.org\n"
	    "  www-data :web@example.org  \r\n"
	    "default: catchall@example.org\n", "al", &e);

	cr_assert_not_null(a, "%s", e.msg);
	cr_expect_str_eq(mf_aliases_lookup(a, "root"),
	    "admin@example.org, ops@example.org");
	cr_expect_str_eq(mf_aliases_lookup(a, "ROOT"),
	    "admin@example.org, ops@example.org");
	cr_expect_str_eq(mf_aliases_lookup(a, "www-data"), "web@example.org");
	cr_expect_str_eq(mf_aliases_lookup(a, "nobody"), "catchall@example.org");
	mf_aliases_free(a);
}

Test(aliases, no_default_no_mapping)
{
	struct mf_err e;
	struct mf_aliases *a = mf_aliases_parse("root: a@example.org", "al", &e);

	cr_assert_not_null(a, "%s", e.msg);
	cr_expect_null(mf_aliases_lookup(a, "daemon"));
	cr_expect_null(mf_aliases_lookup(NULL, "root"));
	mf_aliases_free(a);
}

Test(aliases, errors_name_file_and_line)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		{ "root a@example.org\n", "al:1: expected 'name: address" },
		{ "ok: a@b.c\nroot: admin\n", "al:2: 'root' must map to addresses "
		  "with a domain" },
		{ "root: a@b.c, bob\n", "al:1: 'root' must map" },
		{ ": a@b.c\n", "al:1: bad alias name ''" },
		{ "a@b: c@d.e\n", "al:1: bad alias name 'a@b'" },
		{ "root:\n", "al:1: 'root' must map" },
	};
	struct mf_err e;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mf_err_clear(&e);
		cr_expect_null(mf_aliases_parse(t[i].text, "al", &e), "case %zu", i);
		cr_expect_eq(e.kind, MF_E_CONFIG, "case %zu", i);
		cr_expect(strstr(e.msg, t[i].want) != NULL, "case %zu: %s", i,
		    e.msg);
	}
}

Test(aliases, missing_file_names_it)
{
	struct mf_err e;

	cr_expect_null(mf_aliases_load("/nonexistent/aliases", &e));
	cr_expect_eq(e.kind, MF_E_CONFIG);
	cr_expect(strstr(e.msg, "/nonexistent/aliases") != NULL, "%s", e.msg);
}

Test(aliases, is_local)
{
	cr_expect(mf_aliases_is_local("root"));
	cr_expect(!mf_aliases_is_local("root@example.org"));
}
