/* base64.c - RFC 4648 §4 base64 (the standard alphabet, '=' padding). */
#include "base64.h"

#include <stdint.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
mf_base64_encode(const void *in, size_t len, struct mf_buf *out,
                 struct mf_err *e)
{
	const unsigned char *p = in;
	char q[4];
	size_t i;

	/* The empty append keeps data NUL-terminated even for len 0
	 * (mf_buf_reserve alone leaves a fresh allocation unterminated). */
	if (mf_buf_reserve(out, (len + 2) / 3 * 4, e) == -1 ||
	    mf_buf_append(out, "", 0, e) == -1)
		return -1;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = alphabet[(v >> 6) & 63];
		q[3] = alphabet[v & 63];
		if (mf_buf_append(out, q, 4, e) == -1)
			return -1;
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		q[3] = '=';
		if (mf_buf_append(out, q, 4, e) == -1)
			return -1;
	}
	return 0;
}

static int
value_of(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v';
}

/* Emit the bytes of a group of n (2..4) sextets. */
static int
flush_group(const int *v, int n, struct mf_buf *out, struct mf_err *e)
{
	unsigned char b[3];
	uint32_t w = 0;
	int i;

	for (i = 0; i < 4; i++)
		w = w << 6 | (uint32_t)(i < n ? v[i] : 0);
	b[0] = (unsigned char)(w >> 16);
	b[1] = (unsigned char)(w >> 8);
	b[2] = (unsigned char)w;
	return mf_buf_append(out, b, (size_t)(n - 1), e);
}

int
mf_base64_decode(const char *in, size_t len, struct mf_buf *out, int lenient,
                 struct mf_err *e)
{
	int v[4], n = 0, pad = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int x;

		if (lenient && is_space(c))
			continue;
		if (c == '=') {
			/* §3.2: padding only completes a final group of 2 or 3 sextets */
			if (n < 2)
				return mf_err_set(e, MF_E_DATA, "base64: misplaced '='"
				    " at offset %zu", i);
			pad++;
			if (n + pad > 4)
				return mf_err_set(e, MF_E_DATA, "base64: too much"
				    " padding at offset %zu", i);
			continue;
		}
		if (pad > 0)
			return mf_err_set(e, MF_E_DATA, "base64: data after"
			    " padding at offset %zu", i);
		if ((x = value_of(c)) == -1)
			return mf_err_set(e, MF_E_DATA, "base64: bad character"
			    " 0x%02x at offset %zu", c, i);
		v[n++] = x;
		if (n == 4) {
			if (flush_group(v, 4, out, e) == -1)
				return -1;
			n = 0;
		}
	}
	if (n == 1)
		return mf_err_set(e, MF_E_DATA, "base64: truncated input");
	if (n > 0) {
		if (!lenient && n + pad != 4)
			return mf_err_set(e, MF_E_DATA, "base64: missing padding");
		if (lenient && pad > 0 && n + pad != 4)
			return mf_err_set(e, MF_E_DATA, "base64: bad padding");
		/* §3.5 allows refusing nonzero pad bits; we ignore them, as
		 * most decoders do, since they carry no data. */
		return flush_group(v, n, out, e);
	}
	if (pad > 0)
		return mf_err_set(e, MF_E_DATA, "base64: misplaced '='");
	return mf_buf_append(out, "", 0, e);
}
