/* Modified UTF-7 (RFC 3501 §5.1.3), both ways, strict. */
#include <criterion/criterion.h>
#include <string.h>

#include "utf7.h"

static const struct {
	const char *utf8, *utf7;
} pairs[] = {
	{ "INBOX", "INBOX" },
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },           /* RFC 3501's example */
	{ "Entw\xc3\xbcrfe", "Entw&APw-rfe" },
	{ "\xd9\x85\xd8\xb3\xd9\x88\xd8\xaf\xd8\xa7\xd8\xaa", "&BkUGMwZIBi8GJwYq-" },
	{ "&", "&-" },
	{ "a&b&&", "a&-b&-&-" },
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },               /* surrogate pair */
	{ "\xc3\xa4&\xc3\xb6", "&AOQ-&-&APY-" },
	{ "", "" },
};

Test(utf7, pairs_both_ways)
{
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		struct mf_buf b = MF_BUF_INIT(4096);
		struct mf_err e;
		mf_err_clear(&e);
		cr_assert_eq(mf_utf7_encode(pairs[i].utf8, strlen(pairs[i].utf8), &b, &e),
		             0, "encode %s: %s", pairs[i].utf7, e.msg);
		cr_assert_str_eq(b.data ? b.data : "", pairs[i].utf7);
		mf_buf_reset(&b);
		cr_assert_eq(mf_utf7_decode(pairs[i].utf7, strlen(pairs[i].utf7), &b, &e),
		             0, "decode %s: %s", pairs[i].utf7, e.msg);
		cr_assert_str_eq(b.data ? b.data : "", pairs[i].utf8);
		mf_buf_free(&b);
	}
}

static const char *bad_utf7[] = {
	"&",                      /* unterminated shift */
	"&U,BTFw",                /* unterminated shift */
	"&Jjo!-",                 /* '!' inside a shifted run */
	"&AGE-",                  /* shifted printable ASCII 'a' */
	"&APx-",                  /* non-zero padding bits */
	"&Zg-",                   /* less than one code unit */
	"&U,BTFw-&ZeVnLIqe-",     /* adjacent shifted runs */
	"&2D0-",                  /* lone high surrogate */
	"&3gA-",                  /* lone low surrogate */
	"a\x80",                  /* 8-bit byte */
	"a\tb",                   /* control character */
	"&U/BTFw-",               /* '/' is not modified base64 */
};

Test(utf7, decode_refuses_invalid)
{
	for (size_t i = 0; i < sizeof bad_utf7 / sizeof bad_utf7[0]; i++) {
		struct mf_buf b = MF_BUF_INIT(4096);
		struct mf_err e;
		mf_err_clear(&e);
		cr_assert_eq(mf_utf7_decode(bad_utf7[i], strlen(bad_utf7[i]), &b, &e), -1,
		             "accepted %s", bad_utf7[i]);
		cr_assert_eq(e.kind, MF_E_DATA);
		mf_buf_free(&b);
	}
}

static const char *bad_utf8[] = {
	"\xc3\x28",              /* bad continuation */
	"\xc0\xaf",              /* overlong '/' */
	"\xed\xa0\x80",          /* encoded surrogate */
	"\xf4\x90\x80\x80",      /* past U+10FFFF */
	"\xe2\x82",              /* truncated */
	"a\nb",                  /* control */
};

Test(utf7, encode_refuses_invalid_utf8)
{
	for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
		struct mf_buf b = MF_BUF_INIT(4096);
		struct mf_err e;
		mf_err_clear(&e);
		cr_assert_eq(mf_utf7_encode(bad_utf8[i], strlen(bad_utf8[i]), &b, &e), -1,
		             "accepted case %zu", i);
		mf_buf_free(&b);
	}
}

Test(utf7, decode_respects_buffer_limit)
{
	struct mf_buf b = MF_BUF_INIT(4);
	struct mf_err e;
	mf_err_clear(&e);
	cr_assert_eq(mf_utf7_decode("&BkUGMwZIBi8GJwYq-", 18, &b, &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	mf_buf_free(&b);
}

/* Control characters (C0, DEL, C1) in a mailbox name are refused both
 * ways, so decode and encode agree (found by fuzzing: "&AH8-" is DEL). */
Test(utf7, control_characters_refused_both_ways)
{
	static const char *const shifted[] = {
		"INBOX/&AH8-", "&AAE-", "&AIU-", "a&AB8-b",
	};
	static const char *const utf8[] = {
		"a\x7f", "\x01", "x\xc2\x85y",
	};
	struct mf_buf b = MF_BUF_INIT(1024);
	struct mf_err e;
	size_t i;

	for (i = 0; i < sizeof(shifted) / sizeof(shifted[0]); i++) {
		mf_buf_reset(&b);
		cr_assert_eq(mf_utf7_decode(shifted[i], strlen(shifted[i]), &b, &e),
		    -1, "%s decoded", shifted[i]);
		cr_assert_eq(e.kind, MF_E_DATA);
	}
	for (i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++) {
		mf_buf_reset(&b);
		cr_assert_eq(mf_utf7_encode(utf8[i], strlen(utf8[i]), &b, &e), -1,
		    "case %zu encoded", i);
	}
	/* U+00A0 and up are fine. */
	mf_buf_reset(&b);
	cr_assert_eq(mf_utf7_decode("&AKA-", 5, &b, &e), 0, "%s", e.msg);
	cr_assert_str_eq(b.data, "\xc2\xa0");
	mf_buf_free(&b);
}
