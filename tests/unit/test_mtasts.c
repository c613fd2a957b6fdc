/* Unit tests: MTA-STS record and policy parsing, MX pattern matching
 * (RFC 8461 §3.1, §3.2, §4.1), TLS-RPT records (RFC 8460 §3). */
#include <criterion/criterion.h>
#include <string.h>

#include "mtasts.h"

struct txt_case {
	const char *txt;
	int is_sts;      /* 0 parsed as STS record, -1 not one */
	int valid;
	const char *id;
};

Test(mtasts, txt_records)
{
	static const struct txt_case cases[] = {
		{ "v=STSv1; id=20160831085700Z;", 0, 1, "20160831085700Z" },
		{ "v=STSv1;id=abc", 0, 1, "abc" },
		{ "v=STSv1; id = x1 ; ext=foo", 0, 1, "x1" },
		{ "v=STSv1; id=", 0, 0, "" },
		{ "v=STSv1;", 0, 0, "" },
		{ "v=STSv1; id=has-dash", 0, 0, "" },
		{ "v=STSv1; id=123456789012345678901234567890123", 0, 0, "" },
		{ "v=STSv10; id=1", -1, 0, "" },
		{ "v=spf1 -all", -1, 0, "" },
		{ " v=STSv1; id=1", -1, 0, "" },
	};
	struct mf_mtasts_txt r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(mf_mtasts_parse_txt(cases[i].txt, &r),
		    cases[i].is_sts, "%s", cases[i].txt);
		if (cases[i].is_sts == 0) {
			cr_assert_eq(r.valid, cases[i].valid, "%s", cases[i].txt);
			if (cases[i].valid)
				cr_assert_str_eq(r.id, cases[i].id);
			else
				cr_assert_neq(r.error[0], '\0');
		}
	}
}

Test(mtasts, policy_from_the_rfc)
{
	static const char body[] = "version: STSv1\r\nmode: enforce\r\n"
	    "mx: mail.example.com\r\nmx: *.example.net\r\n"
	    "mx: backupmx.example.com\r\nmax_age: 604800\r\n";
	struct mf_mtasts_policy p;

	cr_assert_eq(mf_mtasts_parse_policy(body, strlen(body), &p), 0, "%s",
	    p.error);
	cr_assert(p.valid);
	cr_assert_eq(p.mode, MF_STS_MODE_ENFORCE);
	cr_assert_eq(p.max_age, 604800);
	cr_assert_eq(p.nmx, 3);
	cr_assert_str_eq(p.mx[1], "*.example.net");
	cr_assert(mf_mtasts_mx_allowed(&p, "mail.example.com"));
	cr_assert(mf_mtasts_mx_allowed(&p, "a.example.net"));
	cr_assert_not(mf_mtasts_mx_allowed(&p, "evil.example.com"));
}

struct pol_case {
	const char *body;
	int ok;
	enum mf_mtasts_mode mode;
};

Test(mtasts, policy_cases)
{
	static const struct pol_case cases[] = {
		{ "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 1\n", 0,
		  MF_STS_MODE_TESTING },
		{ "version: STSv1\nmode: none\nmax_age: 0", 0, MF_STS_MODE_NONE },
		{ "version: STSv1\nmode: enforce\nmx: a\nmax_age: 5\nfoo: bar\n",
		  0, MF_STS_MODE_ENFORCE },
		{ "mode: enforce\nmx: a\nmax_age: 5\n", -1, 0 },
		{ "version: STSv2\nmode: enforce\nmx: a\nmax_age: 5\n", -1, 0 },
		{ "version: STSv1\nmode: strict\nmx: a\nmax_age: 5\n", -1, 0 },
		{ "version: STSv1\nmode: enforce\nmx: a\n", -1, 0 },
		{ "version: STSv1\nmode: enforce\nmax_age: 5\n", -1, 0 },
		{ "version: STSv1\nmode: enforce\nmx: a\nmax_age: 31557601\n", -1, 0 },
		{ "version: STSv1\nmode: enforce\nmx: a\nmax_age: -1\n", -1, 0 },
		{ "version: STSv1\nmode enforce\nmx: a\nmax_age: 5\n", -1, 0 },
		{ "", -1, 0 },
	};
	struct mf_mtasts_policy p;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(mf_mtasts_parse_policy(cases[i].body,
		    strlen(cases[i].body), &p), cases[i].ok, "case %zu", i);
		cr_assert_eq(p.valid, cases[i].ok == 0, "case %zu", i);
		if (cases[i].ok == 0)
			cr_assert_eq(p.mode, cases[i].mode, "case %zu", i);
		else
			cr_assert_neq(p.error[0], '\0', "case %zu", i);
	}
}

struct match_case {
	const char *pattern, *host;
	int want;
};

Test(mtasts, mx_patterns)
{
	static const struct match_case cases[] = {
		{ "mail.example.com", "mail.example.com", 1 },
		{ "mail.example.com", "MAIL.Example.COM", 1 },
		{ "mail.example.com", "mail.example.com.", 1 },
		{ "mail.example.com.", "mail.example.com", 1 },
		{ "mail.example.com", "mail.example.co", 0 },
		{ "mail.example.com", "xmail.example.com", 0 },
		{ "*.example.com", "mx1.example.com", 1 },
		{ "*.example.com", "MX1.EXAMPLE.COM.", 1 },
		{ "*.example.com", "example.com", 0 },
		{ "*.example.com", "a.b.example.com", 0 },
		{ "*.example.com", ".example.com", 0 },
		{ "*.example.com", "mx1.example.org", 0 },
		{ "*.example.com", "mx1xexample.com", 0 },
		{ "", "mx1.example.com", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(mf_mtasts_match(cases[i].pattern, cases[i].host),
		    cases[i].want, "%s vs %s", cases[i].pattern, cases[i].host);
}

struct rpt_case {
	const char *txt;
	int is_rpt, valid;
};

Test(mtasts, tlsrpt_records)
{
	static const struct rpt_case cases[] = {
		{ "v=TLSRPTv1; rua=mailto:reports@example.com", 0, 1 },
		{ "v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt", 0, 1 },
		{ "v=TLSRPTv1; rua=mailto:a@example.com,https://r.example/x", 0, 1 },
		{ "v=TLSRPTv1;", 0, 0 },
		{ "v=TLSRPTv1; rua=ftp://example.com/", 0, 0 },
		{ "v=TLSRPTv1; rua=mailto:nobody", 0, 0 },
		{ "v=STSv1; id=1", -1, 0 },
	};
	struct mf_tlsrpt r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(mf_tlsrpt_parse(cases[i].txt, &r), cases[i].is_rpt,
		    "%s", cases[i].txt);
		if (cases[i].is_rpt == 0)
			cr_assert_eq(r.valid, cases[i].valid, "%s", cases[i].txt);
	}
}

/* Found by tests/fuzz/fuzz_mtasts.c: the body is not NUL-terminated, but
 * an error quoted the bad line with "%.60s" (reading past the body) and a
 * value at the very end ("mx:" then end) was read past the body too. */
Test(mtasts, policy_reads_only_the_body)
{
	static const char text[] = "version: STSv1\nmode: testing\n"
	    "max_age: 5\nmx:  evil.example";
	static const char bad[] = "version: STSv1\nno colon here\nmode: enforce";
	struct mf_mtasts_policy p;
	size_t len = strlen(text) - strlen(" evil.example");

	(void)mf_mtasts_parse_policy(text, len, &p);
	cr_assert_eq(p.nmx, 1);
	cr_assert_str_eq(p.mx[0], "");

	cr_assert_eq(mf_mtasts_parse_policy(bad, sizeof(bad) - 1, &p), -1);
	cr_assert_str_eq(p.error, "line without a colon: \"no colon here\"");
}
