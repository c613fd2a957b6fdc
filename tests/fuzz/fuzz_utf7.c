/* fuzz_utf7.c - IMAP modified UTF-7 (RFC 3501 §5.1.3): decode hostile
 * mailbox names; whatever the strict decoder accepts must encode back to
 * the same bytes, and whatever UTF-8 the encoder accepts must decode back
 * to itself. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "utf7.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_buf a = MF_BUF_INIT(1 << 16), b = MF_BUF_INIT(1 << 16);
	const char *in = (const char *)data;
	struct mf_err e;

	if (mf_utf7_decode(in, size, &a, &e) == 0) {
		size_t i;

		/* The encoder refuses control characters (and NUL, which
		 * would cut the name short as a C string), so the strict
		 * decoder must not produce them either. */
		for (i = 0; i < a.len; i++)
			if ((unsigned char)a.data[i] < 0x20 || a.data[i] == 0x7f)
				break;
		if (i < a.len) {
			FUZZ_CHECK(fz_known("utf7-ctl"));
			goto encode;
		}
		FUZZ_CHECK(mf_utf7_encode(a.data, a.len, &b, &e) == 0);
		FUZZ_CHECK(b.len == size &&
		    (size == 0 || memcmp(b.data, in, size) == 0));
	}
encode:
	mf_buf_reset(&a);
	mf_buf_reset(&b);
	if (mf_utf7_encode(in, size, &a, &e) == 0) {
		size_t i;

		for (i = 0; i < a.len; i++)
			FUZZ_CHECK(a.data[i] >= 0x20 && a.data[i] < 0x7f);
		FUZZ_CHECK(mf_utf7_decode(a.data, a.len, &b, &e) == 0);
		FUZZ_CHECK(b.len == size &&
		    (size == 0 || memcmp(b.data, in, size) == 0));
	}
	mf_buf_free(&a);
	mf_buf_free(&b);
	return 0;
}
