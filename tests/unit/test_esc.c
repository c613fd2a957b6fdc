/* test_esc.c - server text made safe for the terminal (lib/esc.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"
#include "esc.h"

static const struct {
	const char *in;
	size_t len;            /* 0: strlen(in) */
	const char *out;
} cases[] = {
	{ "250 ok", 0, "250 ok" },
	{ "", 0, "" },
	/* the attack of issue 12: title rewrite, line erase, carriage return */
	{ "550 \x1b]0;pwned\x07\x1b[2K\rfake: message sent OK", 0,
	  "550 \\x1b]0;pwned\\x07\\x1b[2K\\rfake: message sent OK" },
	{ "a\nb\tc", 0, "a\\nb\\tc" },
	{ "\x01\x1f\x7f", 0, "\\x01\\x1f\\x7f" },
	{ "nul\0x", 5, "nul\\x00x" },
	/* valid UTF-8 stays */
	{ "Entw\xc3\xbcrfe \xe2\x82\xac \xf0\x9f\x93\xa7", 0,
	  "Entw\xc3\xbcrfe \xe2\x82\xac \xf0\x9f\x93\xa7" },
	/* C1 controls, as UTF-8 and as raw 8-bit bytes (CSI 0x9b) */
	{ "\xc2\x9b" "31m", 0, "\\u009b31m" },
	{ "\xc2\x85", 0, "\\u0085" },
	{ "\x9b" "31m", 0, "\\x9b31m" },
	/* bidi override and line separator */
	{ "\xe2\x80\xae" "txt.exe", 0, "\\u202etxt.exe" },
	{ "\xe2\x80\xa8", 0, "\\u2028" },
	/* invalid UTF-8: lone continuation, truncated, overlong, surrogate,
	 * past U+10FFFF, 0xff */
	{ "\x80", 0, "\\x80" },
	{ "\xc3", 0, "\\xc3" },
	{ "\xe2\x82", 0, "\\xe2\\x82" },
	{ "\xc0\xaf", 0, "\\xc0\\xaf" },
	{ "\xe0\x80\xaf", 0, "\\xe0\\x80\\xaf" },
	{ "\xed\xa0\x80", 0, "\\xed\\xa0\\x80" },
	{ "\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80" },
	{ "\xff", 0, "\\xff" },
	/* a backslash stays: escaping twice changes nothing */
	{ "C:\\dir \\x1b", 0, "C:\\dir \\x1b" },
};

Test(esc, table)
{
	char out[256];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = cases[i].len ? cases[i].len : strlen(cases[i].in);
		mf_esc_mem(out, sizeof(out), cases[i].in, n);
		cr_expect_str_eq(out, cases[i].out, "case %zu", i);
	}
}

Test(esc, idempotent)
{
	char once[256], twice[256];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = cases[i].len ? cases[i].len : strlen(cases[i].in);
		mf_esc_mem(once, sizeof(once), cases[i].in, n);
		mf_esc_str(twice, sizeof(twice), once);
		cr_expect_str_eq(twice, once, "case %zu", i);
	}
}

Test(esc, output_has_no_control_bytes_for_any_byte)
{
	unsigned char in[2];
	char out[32];
	size_t i;
	int a, b;

	for (a = 0; a < 256; a++) {
		for (b = 0; b < 256; b++) {
			in[0] = (unsigned char)a;
			in[1] = (unsigned char)b;
			mf_esc_mem(out, sizeof(out), in, 2);
			for (i = 0; out[i] != '\0'; i++)
				cr_assert((unsigned char)out[i] >= 0x20 &&
				    (unsigned char)out[i] != 0x7f,
				    "%02x %02x gave byte %02x", a, b,
				    (unsigned char)out[i]);
		}
	}
}

Test(esc, cut_at_a_character_boundary_with_dots)
{
	char out[10];

	mf_esc_str(out, sizeof(out), "abcdefghijkl");
	cr_assert_str_eq(out, "abcdef...");
	mf_esc_str(out, sizeof(out), "ab\x1b\x1b\x1b");
	cr_assert_str_eq(out, "ab\\x1b...");
	mf_esc_str(out, sizeof(out), "abcdefgh\xc3\xbc");
	cr_assert_str_eq(out, "abcdef...");
	mf_esc_str(out, 3, "abcdef");
	cr_assert_str_eq(out, "ab");
	mf_esc_str(out, sizeof(out), NULL);
	cr_assert_str_eq(out, "");
}

Test(esc, buffer_and_lines)
{
	struct mf_buf b = MF_BUF_INIT(1024);

	cr_assert_eq(mf_esc_buf(&b, "x\x1b[1m", 5, NULL), 0);
	cr_assert_str_eq(b.data, "x\\x1b[1m");
	mf_buf_reset(&b);
	cr_assert_eq(mf_esc_lines(&b, "one\x07\ntwo\r\n\nend", 14, NULL), 0);
	cr_assert_str_eq(b.data, "one\\x07\ntwo\\r\n\nend");
	mf_buf_free(&b);
}
