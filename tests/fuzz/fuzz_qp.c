/* fuzz_qp.c - body encodings of mailsend (RFC 2045 §6.7, §6.8) on
 * arbitrary bytes: quoted-printable output is printable ASCII in lines of
 * at most 76 characters without trailing white space and decodes back to
 * the input (line ends as CRLF); base64 lines are at most 76 characters
 * and decode back exactly. */
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "fuzz_common.h"
#include "mime.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
qp(const uint8_t *data, size_t size)
{
	struct mf_buf out = MF_BUF_INIT(1 << 20), want = MF_BUF_INIT(1 << 20);
	struct mf_buf got = MF_BUF_INIT(1 << 20);
	struct mf_err e;
	size_t i, col = 0;

	FUZZ_CHECK(mf_mime_qp_encode((const char *)data, size, &out, &e) == 0);
	for (i = 0; i < size; i++) {
		if (data[i] == '\r' || data[i] == '\n') {
			if (data[i] == '\r' && i + 1 < size && data[i + 1] == '\n')
				i++;
			FUZZ_CHECK(mf_buf_putc(&want, '\n', &e) == 0);
		} else {
			FUZZ_CHECK(mf_buf_putc(&want, (char)data[i], &e) == 0);
		}
	}
	for (i = 0; i < out.len; i++) {
		char c = out.data[i];

		if (c == '\r') {
			FUZZ_CHECK(i + 1 < out.len && out.data[i + 1] == '\n');
			FUZZ_CHECK(i == 0 || (out.data[i - 1] != ' ' &&
			    out.data[i - 1] != '\t'));
			FUZZ_CHECK(mf_buf_putc(&got, '\n', &e) == 0);
			i++;
			col = 0;
			continue;
		}
		FUZZ_CHECK((c >= 0x20 && c < 0x7f) || c == '\t');
		FUZZ_CHECK(++col <= 76);
		if (c == '=') {
			FUZZ_CHECK(i + 2 < out.len);
			if (out.data[i + 1] == '\r') {
				FUZZ_CHECK(out.data[i + 2] == '\n');
				i += 2;
				col = 0;
				continue;
			}
			FUZZ_CHECK(hexval(out.data[i + 1]) >= 0 &&
			    hexval(out.data[i + 2]) >= 0);
			FUZZ_CHECK(mf_buf_putc(&got, (char)(hexval(out.data[i + 1]) << 4 |
			    hexval(out.data[i + 2])), &e) == 0);
			i += 2;
			col += 2;
			FUZZ_CHECK(col <= 76);
			continue;
		}
		FUZZ_CHECK(mf_buf_putc(&got, c, &e) == 0);
	}
	FUZZ_CHECK(col == 0 || out.data[out.len - 1] != ' ');
	FUZZ_CHECK(got.len == want.len &&
	    (got.len == 0 || memcmp(got.data, want.data, got.len) == 0));
	mf_buf_free(&out);
	mf_buf_free(&want);
	mf_buf_free(&got);
}

static void
b64(const uint8_t *data, size_t size)
{
	struct mf_buf out = MF_BUF_INIT(1 << 20), dec = MF_BUF_INIT(1 << 20);
	struct mf_err e;
	size_t i, col = 0;

	FUZZ_CHECK(mf_mime_base64_lines(data, size, &out, &e) == 0);
	for (i = 0; i < out.len; i++) {
		if (out.data[i] == '\r') {
			FUZZ_CHECK(i + 1 < out.len && out.data[i + 1] == '\n');
			i++;
			col = 0;
			continue;
		}
		FUZZ_CHECK(++col <= 76);
	}
	FUZZ_CHECK(mf_base64_decode(out.data ? out.data : "", out.len, &dec, 1,
	    &e) == 0);
	FUZZ_CHECK(dec.len == size &&
	    (size == 0 || memcmp(dec.data, data, size) == 0));
	mf_buf_free(&out);
	mf_buf_free(&dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	qp(data, size);
	b64(data, size);
	return 0;
}
