/* fuzz_base64.c - RFC 4648 base64: strict and lenient decoding of hostile
 * text, and encode -> strict decode round trips of arbitrary bytes (also
 * lenient after inserting line breaks, as MIME bodies have them). */
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_buf a = MF_BUF_INIT(1 << 16), b = MF_BUF_INIT(1 << 16);
	struct mf_buf c = MF_BUF_INIT(1 << 16);
	const char *in = (const char *)data;
	struct mf_err e;
	size_t i;
	int strict;

	strict = mf_base64_decode(in, size, &a, 0, &e);
	if (strict == 0) {
		FUZZ_CHECK(a.len <= size / 4 * 3);
		/* strict accepts the canonical form up to the pad bits of
		 * the last character (RFC 4648 §3.5 lets decoders ignore
		 * them; this one does) */
		FUZZ_CHECK(mf_base64_encode(a.data, a.len, &b, &e) == 0);
		FUZZ_CHECK(b.len == size);
		if (size > 0) {
			size_t last = size - 1;

			while (last > 0 && in[last] == '=')
				last--;
			FUZZ_CHECK(memcmp(b.data, in, last) == 0);
			FUZZ_CHECK(memcmp(b.data + last + 1, in + last + 1,
			    size - last - 1) == 0);
		}
		/* lenient accepts all that strict does, with the same result */
		mf_buf_reset(&b);
		FUZZ_CHECK(mf_base64_decode(in, size, &b, 1, &e) == 0);
		FUZZ_CHECK(b.len == a.len && memcmp(a.data, b.data, a.len) == 0);
	} else {
		mf_buf_reset(&b);
		if (mf_base64_decode(in, size, &b, 1, &e) == 0)
			FUZZ_CHECK(b.len <= size / 4 * 3 + 2);
	}

	/* round trip */
	mf_buf_reset(&a);
	mf_buf_reset(&b);
	FUZZ_CHECK(mf_base64_encode(data, size, &a, &e) == 0);
	FUZZ_CHECK(a.len == (size + 2) / 3 * 4);
	FUZZ_CHECK(mf_base64_decode(a.data, a.len, &b, 0, &e) == 0);
	FUZZ_CHECK(b.len == size && (size == 0 || memcmp(b.data, data, size) == 0));
	/* lenient with CRLF every 7 characters and padding removed */
	for (i = 0; i < a.len; i++) {
		if (a.data[i] == '=')
			break;
		if (i > 0 && i % 7 == 0)
			FUZZ_CHECK(mf_buf_puts(&c, "\r\n", &e) == 0);
		FUZZ_CHECK(mf_buf_putc(&c, a.data[i], &e) == 0);
	}
	mf_buf_reset(&b);
	FUZZ_CHECK(mf_base64_decode(c.data ? c.data : "", c.len, &b, 1, &e) == 0);
	FUZZ_CHECK(b.len == size && (size == 0 || memcmp(b.data, data, size) == 0));
	mf_buf_free(&a);
	mf_buf_free(&b);
	mf_buf_free(&c);
	return 0;
}
