/* test_base64.c - RFC 4648 §10 vectors, strict and lenient decoding. */
#include <criterion/criterion.h>
#include <string.h>

#include "base64.h"

struct vec {
	const char *plain, *b64;
};

/* RFC 4648 §10 */
static const struct vec rfc4648[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

Test(base64, rfc4648_vectors_both_ways)
{
	size_t i;

	for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		struct mf_buf b = MF_BUF_INIT(1024);
		struct mf_err e;

		cr_assert_eq(mf_base64_encode(rfc4648[i].plain,
		    strlen(rfc4648[i].plain), &b, &e), 0);
		cr_expect_str_eq(b.data ? b.data : "", rfc4648[i].b64, "enc %zu", i);
		mf_buf_reset(&b);
		cr_assert_eq(mf_base64_decode(rfc4648[i].b64,
		    strlen(rfc4648[i].b64), &b, 0, &e), 0, "dec %zu: %s", i, e.msg);
		cr_expect_eq(b.len, strlen(rfc4648[i].plain));
		cr_expect_str_eq(b.data ? b.data : "", rfc4648[i].plain, "dec %zu", i);
		mf_buf_free(&b);
	}
}

Test(base64, binary_round_trip_all_lengths)
{
	unsigned char in[300];
	size_t n, i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + 3);
	for (n = 0; n <= sizeof(in); n += 1) {
		struct mf_buf enc = MF_BUF_INIT(1024), dec = MF_BUF_INIT(1024);
		struct mf_err e;

		cr_assert_eq(mf_base64_encode(in, n, &enc, &e), 0);
		cr_assert_eq(enc.len, (n + 2) / 3 * 4);
		cr_assert_eq(mf_base64_decode(enc.data ? enc.data : "", enc.len,
		    &dec, 0, &e), 0, "%zu: %s", n, e.msg);
		cr_assert_eq(dec.len, n);
		cr_assert(n == 0 || memcmp(dec.data, in, n) == 0);
		mf_buf_free(&enc);
		mf_buf_free(&dec);
	}
}

Test(base64, all_alphabet_characters)
{
	struct mf_buf b = MF_BUF_INIT(1024);
	struct mf_err e;
	const unsigned char want[] = { 0xfb, 0xff, 0xbf };

	cr_assert_eq(mf_base64_decode("+/+/", 4, &b, 0, &e), 0);
	cr_assert_eq(b.len, 3);
	cr_assert(memcmp(b.data, want, 3) == 0);
	mf_buf_reset(&b);
	cr_assert_eq(mf_base64_encode(want, 3, &b, &e), 0);
	cr_assert_str_eq(b.data, "+/+/");
	mf_buf_free(&b);
}

struct dcase {
	const char *in;
	int lenient;
	const char *want;   /* NULL: must fail with MF_E_DATA */
};

static const struct dcase dcases[] = {
	{ "Zm9v\r\nYmFy", 0, NULL },        /* whitespace refused when strict */
	{ "Zm9v\r\nYmFy", 1, "foobar" },
	{ " Zm 9v\tYg = =\n", 1, "foob" },
	{ "Zm9vYg", 0, NULL },              /* missing padding */
	{ "Zm9vYg", 1, "foob" },
	{ "Zm9vYmE", 1, "fooba" },
	{ "Zm9vY", 0, NULL },               /* one sextet left over */
	{ "Zm9vY", 1, NULL },
	{ "Zm9v!mFy", 0, NULL },            /* bad character */
	{ "Zm9v!mFy", 1, NULL },
	{ "Zm9v-_==", 0, NULL },            /* base64url alphabet is not ours */
	{ "Zg==Zg==", 0, NULL },            /* data after padding */
	{ "Zg=", 0, NULL },
	{ "Zg===", 0, NULL },               /* too much padding */
	{ "=", 0, NULL },
	{ "Z===", 0, NULL },
	{ "Zm9v====", 0, NULL },
	{ "Zg=x", 1, NULL },
};

Test(base64, strict_and_lenient_decoding)
{
	size_t i;

	for (i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		struct mf_buf b = MF_BUF_INIT(1024);
		struct mf_err e;
		int r;

		mf_err_clear(&e);
		r = mf_base64_decode(dcases[i].in, strlen(dcases[i].in), &b,
		    dcases[i].lenient, &e);
		if (dcases[i].want == NULL) {
			cr_expect_eq(r, -1, "case %zu '%s' should fail", i, dcases[i].in);
			cr_expect_eq(e.kind, MF_E_DATA, "case %zu", i);
		} else {
			cr_expect_eq(r, 0, "case %zu: %s", i, e.msg);
			cr_expect_str_eq(b.data ? b.data : "", dcases[i].want, "case %zu", i);
		}
		mf_buf_free(&b);
	}
}

Test(base64, decode_respects_buffer_limit)
{
	struct mf_buf b = MF_BUF_INIT(4);
	struct mf_err e;

	cr_assert_eq(mf_base64_decode("Zm9vYmFy", 8, &b, 0, &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	mf_buf_free(&b);
}

Test(base64, decode_appends)
{
	struct mf_buf b = MF_BUF_INIT(64);
	struct mf_err e;

	mf_buf_puts(&b, "x:", &e);
	cr_assert_eq(mf_base64_decode("Zm9v", 4, &b, 0, &e), 0);
	cr_assert_str_eq(b.data, "x:foo");
	mf_buf_free(&b);
}
