/* test_idn.c - IDNA2008 names (lib/idn.c), with the examples of RFC 5890
 * §2.3.2.1, RFC 5891 §4/§5 and RFC 5892's code point classes. */
#include <criterion/criterion.h>
#include <string.h>

#include "idn.h"

static const struct {
	const char *in;
	const char *out;          /* NULL: refused */
	const char *why;          /* part of the message when refused */
} cases[] = {
	/* ASCII passes through unchanged: LDH names, service labels, IP
	 * addresses, upper case (DNS compares without case). */
	{ "example.com", "example.com", NULL },
	{ "Mail.Example.COM", "Mail.Example.COM", NULL },
	{ "_mta-sts.example", "_mta-sts.example", NULL },
	{ "127.0.0.1", "127.0.0.1", NULL },
	/* U-labels to A-labels */
	{ "bücher.example", "xn--bcher-kva.example", NULL },
	{ "mx.bücher.example", "mx.xn--bcher-kva.example", NULL },
	{ "münchen.de", "xn--mnchen-3ya.de", NULL },
	/* upper case is folded before encoding (UTS #46 mapping) */
	{ "BÜCHER.example", "xn--bcher-kva.example", NULL },
	/* IDNA2008 keeps sharp s (PVALID), unlike IDNA2003's "ss" */
	{ "faß.de", "xn--fa-hia.de", NULL },
	/* a trailing dot (the root) is kept */
	{ "bücher.example.", "xn--bcher-kva.example.", NULL },
	/* an A-label given as such is checked and kept */
	{ "xn--bcher-kva.example", "xn--bcher-kva.example", NULL },
	{ "XN--BCHER-KVA.example", "XN--BCHER-KVA.example", NULL },
	/* refused */
	{ "-bücher.example", NULL, "hyphen" },
	{ "bücher-.example", NULL, "hyphen" },
	{ "a\xe2\x98\x83.example", NULL, "not allowed" },   /* U+2603 snowman */
	{ "b\xc3\xbc\xff.example", NULL, "UTF-8" },
	{ "xn--zz.example", NULL, "A-label" },
	{ "\xc3\xbc"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  ".example", NULL, "63" },
};

Test(idn, to_ascii_table)
{
	char out[MF_IDN_NAME_MAX];
	struct mf_err e;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mf_err_clear(&e);
		rc = mf_idn_to_ascii(cases[i].in, out, sizeof(out), MF_E_DATA,
		    &e);
		if (cases[i].out != NULL) {
			cr_expect_eq(rc, 0, "case %zu %s: %s", i, cases[i].in,
			    e.msg);
			cr_expect_str_eq(out, cases[i].out, "case %zu", i);
			continue;
		}
		cr_expect_eq(rc, -1, "case %zu %s accepted as %s", i,
		    cases[i].in, out);
		cr_expect_eq(e.kind, MF_E_DATA, "case %zu", i);
		cr_expect(strstr(e.msg, cases[i].why) != NULL,
		    "case %zu: %s", i, e.msg);
		cr_expect(strstr(e.msg, "invalid domain name") != NULL,
		    "case %zu: %s", i, e.msg);
	}
}

Test(idn, error_names_the_name_and_uses_the_callers_kind)
{
	char out[MF_IDN_NAME_MAX];
	struct mf_err e;

	cr_assert_eq(mf_idn_to_ascii("-bücher.example", out, sizeof(out),
	    MF_E_USAGE, &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
	cr_expect(strstr(e.msg, "\"-bücher.example\"") != NULL, "%s", e.msg);
	/* invalid UTF-8 is shown escaped, never raw */
	cr_assert_eq(mf_idn_to_ascii("x\xff.example", out, sizeof(out),
	    MF_E_DATA, &e), -1);
	cr_expect(strstr(e.msg, "x\\xff.example") != NULL, "%s", e.msg);
}

Test(idn, output_too_small)
{
	char out[8];
	struct mf_err e;

	cr_expect_eq(mf_idn_to_ascii("bücher.example", out, sizeof(out),
	    MF_E_DATA, &e), -1);
	cr_expect_eq(mf_idn_to_ascii("example.example", out, sizeof(out),
	    MF_E_DATA, &e), -1);
}

Test(idn, to_unicode_and_display)
{
	char out[MF_IDN_NAME_MAX];

	mf_idn_to_unicode("xn--bcher-kva.example", out, sizeof(out));
	cr_expect_str_eq(out, "bücher.example");
	mf_idn_to_unicode("example.com", out, sizeof(out));
	cr_expect_str_eq(out, "example.com");
	mf_idn_to_unicode("xn--zz.example", out, sizeof(out));
	cr_expect_str_eq(out, "xn--zz.example");
	mf_idn_display("mx.xn--bcher-kva.example", out, sizeof(out));
	cr_expect_str_eq(out, "mx.bücher.example (mx.xn--bcher-kva.example)");
	mf_idn_display("example.com", out, sizeof(out));
	cr_expect_str_eq(out, "example.com");
	cr_expect_eq(mf_idn_has_unicode("xn--bcher-kva.example"), 1);
	cr_expect_eq(mf_idn_has_unicode("example.com"), 0);
	cr_expect_eq(mf_idn_has_unicode("xn--zz.example"), 0);
}

Test(idn, addresses)
{
	char out[MF_IDN_NAME_MAX];
	struct mf_err e;
	int u8 = -1;

	cr_assert_eq(mf_idn_addr_to_ascii("info@bücher.example", out,
	    sizeof(out), &u8, MF_E_DATA, &e), 0, "%s", e.msg);
	cr_expect_str_eq(out, "info@xn--bcher-kva.example");
	cr_expect_eq(u8, 0);
	cr_assert_eq(mf_idn_addr_to_ascii("jörg@bücher.example", out,
	    sizeof(out), &u8, MF_E_DATA, &e), 0, "%s", e.msg);
	cr_expect_str_eq(out, "jörg@xn--bcher-kva.example");
	cr_expect_eq(u8, 1);
	cr_assert_eq(mf_idn_addr_to_ascii("a@[127.0.0.1]", out, sizeof(out),
	    &u8, MF_E_DATA, &e), 0);
	cr_expect_str_eq(out, "a@[127.0.0.1]");
	cr_assert_eq(mf_idn_addr_to_ascii("", out, sizeof(out), &u8,
	    MF_E_DATA, &e), 0);
	cr_expect_str_eq(out, "");
	cr_expect_eq(mf_idn_addr_to_ascii("a@-bücher.example", out,
	    sizeof(out), &u8, MF_E_DATA, &e), -1);
	cr_expect_eq(e.kind, MF_E_DATA);
}

/* A name as typed (UTF-8, any case) shows as its wire form's U-labels
 * and A-labels, the same as the A-label form itself (issue 12: one
 * display convention for every tool). */
Test(idn, display_takes_typed_and_wire_names)
{
	static const struct {
		const char *in, *shown, *wire;
	} t[] = {
		{ "bücher.example", "bücher.example (xn--bcher-kva.example)",
		  "xn--bcher-kva.example" },
		{ "BÜCHER.example", "bücher.example (xn--bcher-kva.example)",
		  "xn--bcher-kva.example" },
		{ "xn--bcher-kva.example", "bücher.example (xn--bcher-kva.example)",
		  "xn--bcher-kva.example" },
		{ "mail.example.test", "mail.example.test", "mail.example.test" },
		{ "127.0.0.1", "127.0.0.1", "127.0.0.1" },
		{ "unix:/run/x.sock", "unix:/run/x.sock", "unix:/run/x.sock" },
		/* not an IDN: shown and "used" as typed; its use fails later */
		{ "a\xe2\x98\x83.example", "a\xe2\x98\x83.example",
		  "a\xe2\x98\x83.example" },
		{ "xn--zz.example", "xn--zz.example", "xn--zz.example" },
	};
	char out[MF_IDN_NAME_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mf_idn_display(t[i].in, out, sizeof(out));
		cr_expect_str_eq(out, t[i].shown, "display %zu", i);
		mf_idn_wire_name(t[i].in, out, sizeof(out));
		cr_expect_str_eq(out, t[i].wire, "wire %zu", i);
	}
	mf_idn_display("bücher.example", out, 8);
	cr_expect_eq(strlen(out), 7);
}

/* What goes into MAIL/RCPT and into a generated header: A-label domains,
 * a UTF-8 local part keeps the whole address (RFC 6531 §3.3). */
Test(idn, addr_wire)
{
	char out[MF_IDN_NAME_MAX];
	struct mf_err e;
	int u8 = -1;

	cr_assert_eq(mf_idn_addr_wire("info@BÜCHER.example", out, sizeof(out),
	    &u8, MF_E_USAGE, &e), 0, "%s", e.msg);
	cr_expect_str_eq(out, "info@xn--bcher-kva.example");
	cr_expect_eq(u8, 0);
	cr_assert_eq(mf_idn_addr_wire("jörg@bücher.example", out, sizeof(out),
	    &u8, MF_E_USAGE, &e), 0, "%s", e.msg);
	cr_expect_str_eq(out, "jörg@bücher.example");
	cr_expect_eq(u8, 1);
	cr_assert_eq(mf_idn_addr_wire("a@b.test", out, sizeof(out), NULL,
	    MF_E_USAGE, &e), 0);
	cr_expect_str_eq(out, "a@b.test");
	cr_expect_eq(mf_idn_addr_wire("a@-bücher.example", out, sizeof(out),
	    &u8, MF_E_USAGE, &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
	cr_expect_eq(mf_idn_addr_wire("jörg@bücher.example", out, 10, &u8,
	    MF_E_USAGE, &e), -1);
}
