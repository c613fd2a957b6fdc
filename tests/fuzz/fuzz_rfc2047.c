/* fuzz_rfc2047.c - RFC 2047 encoding of header text (Subject, display
 * names): must not crash, output only printable ASCII folded with CRLF
 * SP, encoded-words of at most 75 characters, and the words must decode
 * (base64, here) back to exactly the input. */
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "fuzz_common.h"
#include "mime.h"

static void
check_words(const char *in, const struct mf_buf *out)
{
	struct mf_buf dec = MF_BUF_INIT(1 << 16);
	const char *p = out->data, *end = out->data + out->len;
	struct mf_err e;

	while (p < end) {
		const char *w = p, *q;

		FUZZ_CHECK((size_t)(end - p) > 12 &&
		    memcmp(p, "=?UTF-8?B?", 10) == 0);
		q = memchr(p + 10, '?', (size_t)(end - p - 10));
		FUZZ_CHECK(q != NULL && q + 1 < end && q[1] == '=');
		FUZZ_CHECK(q + 2 - w <= 75);
		FUZZ_CHECK(mf_base64_decode(p + 10, (size_t)(q - p - 10), &dec, 0,
		    &e) == 0);
		p = q + 2;
		if (p < end) {
			FUZZ_CHECK(end - p > 3 && memcmp(p, "\r\n ", 3) == 0);
			p += 3;
		}
	}
	FUZZ_CHECK(dec.len == strlen(in) && memcmp(dec.data, in, dec.len) == 0);
	mf_buf_free(&dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_buf out = MF_BUF_INIT(1 << 20);
	struct mf_err e;
	size_t used, i;
	char *s;

	if (size < 1)
		return 0;
	used = data[0] % 100;
	s = fz_cstr(data + 1, size - 1);
	if (mf_mime_encode_header(s, used, &out, &e) == 0) {
		size_t col = used;

		for (i = 0; i < out.len; i++) {
			unsigned char c = (unsigned char)out.data[i];

			if (c == '\r') {
				FUZZ_CHECK(i + 2 < out.len &&
				    out.data[i + 1] == '\n' &&
				    out.data[i + 2] == ' ');
				col = 0;
				i++;
				continue;
			}
			FUZZ_CHECK((c >= 0x20 && c < 0x7f) || c == '\t');
			col++;
		}
		if (strlen(s) == out.len && memcmp(s, out.data, out.len) == 0) {
			/* passed through as is: printable ASCII without "=?" */
			FUZZ_CHECK(strstr(s, "=?") == NULL);
		} else {
			check_words(s, &out);
		}
		(void)col;
	} else {
		FUZZ_CHECK(strpbrk(s, "\r\n") != NULL ||
		    !mf_mime_utf8_valid(s, strlen(s)));
	}
	mf_buf_free(&out);
	free(s);
	return 0;
}
