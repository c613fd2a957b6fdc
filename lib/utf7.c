/* utf7.c - modified UTF-7 (RFC 3501 §5.1.3; base64 of RFC 2152 with ','
 * for '/', '&' as the shift character, no implicit shift end). */
#include "utf7.h"

#include <stdint.h>

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

/* Decode one shifted run in[i..) up to '-'; *pos is left after the '-'. */
static int decode_run(const char *in, size_t len, size_t *pos,
                      struct mf_buf *out, struct mf_err *e)
{
	size_t i = *pos;
	uint32_t bits = 0, hi = 0;
	int nbits = 0, units = 0;

	for (; i < len && in[i] != '-'; i++) {
		int v = b64val((unsigned char)in[i]);
		if (v < 0)
			return mf_err_set(e, MF_E_DATA,
			                  "modified UTF-7: bad character in shifted run");
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = (bits >> nbits) & 0xFFFF;
		bits &= (1u << nbits) - 1;
		units++;
		if (hi) {
			if (u < 0xDC00 || u > 0xDFFF)
				return mf_err_set(e, MF_E_DATA,
				                  "modified UTF-7: unpaired surrogate");
			if (mf_buf_put_utf8(out, 0x10000 + ((hi - 0xD800) << 10) + (u - 0xDC00), e) < 0)
				return -1;
			hi = 0;
		} else if (u >= 0xD800 && u <= 0xDBFF) {
			hi = u;
		} else if (u >= 0xDC00 && u <= 0xDFFF) {
			return mf_err_set(e, MF_E_DATA, "modified UTF-7: unpaired surrogate");
		} else if (u >= 0x20 && u <= 0x7E) {
			return mf_err_set(e, MF_E_DATA,
			                  "modified UTF-7: printable ASCII must not be shifted");
		} else if (u < 0x20 || u == 0x7F || (u >= 0x80 && u < 0xA0)) {
			/* A mailbox name with control characters (C0, DEL, C1) can
			 * only be hostile; the encoder refuses them too. */
			return mf_err_set(e, MF_E_DATA,
			                  "modified UTF-7: control character in a mailbox name");
		} else if (mf_buf_put_utf8(out, u, e) < 0) {
			return -1;
		}
	}
	if (i >= len)
		return mf_err_set(e, MF_E_DATA, "modified UTF-7: unterminated shift");
	if (units == 0 || hi || nbits >= 6 || bits != 0)
		return mf_err_set(e, MF_E_DATA, "modified UTF-7: bad shifted run");
	*pos = i + 1;
	return 0;
}

int mf_utf7_decode(const char *in, size_t len, struct mf_buf *out,
                   struct mf_err *e)
{
	size_t i = 0;
	int after_run = 0;

	while (i < len) {
		unsigned char c = (unsigned char)in[i];
		if (c < 0x20 || c > 0x7E)
			return mf_err_set(e, MF_E_DATA,
			                  "modified UTF-7: byte 0x%02x not allowed", c);
		if (c != '&') {
			if (mf_buf_putc(out, (char)c, e) < 0)
				return -1;
			i++;
			after_run = 0;
			continue;
		}
		if (i + 1 < len && in[i + 1] == '-') {
			if (mf_buf_putc(out, '&', e) < 0)
				return -1;
			i += 2;
			after_run = 0;
			continue;
		}
		if (after_run)
			return mf_err_set(e, MF_E_DATA,
			                  "modified UTF-7: adjacent shifted runs");
		i++;
		if (decode_run(in, len, &i, out, e) < 0)
			return -1;
		after_run = 1;
	}
	return 0;
}

/* Read one code point from UTF-8; returns its length or -1. */
static int get_utf8(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c = s[0];
	int n;
	uint32_t min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xE0) == 0xC0) {
		n = 2; c &= 0x1F; min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3; c &= 0x0F; min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4; c &= 0x07; min = 0x10000;
	} else {
		return -1;
	}
	if ((size_t)n > len)
		return -1;
	for (int k = 1; k < n; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (s[k] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	*cp = c;
	return n;
}

static int flush_run(const uint16_t *u, size_t n, struct mf_buf *out,
                     struct mf_err *e)
{
	uint32_t bits = 0;
	int nbits = 0;

	if (mf_buf_putc(out, '&', e) < 0)
		return -1;
	for (size_t k = 0; k < n; k++) {
		bits = (bits << 16) | u[k];
		nbits += 16;
		while (nbits >= 6) {
			nbits -= 6;
			if (mf_buf_putc(out, b64[(bits >> nbits) & 0x3F], e) < 0)
				return -1;
		}
		bits &= (1u << nbits) - 1;
	}
	if (nbits > 0 && mf_buf_putc(out, b64[(bits << (6 - nbits)) & 0x3F], e) < 0)
		return -1;
	return mf_buf_putc(out, '-', e);
}

int mf_utf7_encode(const char *in, size_t len, struct mf_buf *out,
                   struct mf_err *e)
{
	const unsigned char *s = (const unsigned char *)in;
	uint16_t run[256];
	size_t nrun = 0, i = 0;

	while (i < len) {
		uint32_t cp;
		int n = get_utf8(s + i, len - i, &cp);
		if (n < 0 || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
			return mf_err_set(e, MF_E_DATA,
			                  "folder name is not valid UTF-8 text");
		i += (size_t)n;
		if (cp >= 0x20 && cp <= 0x7E) {
			if (nrun && flush_run(run, nrun, out, e) < 0)
				return -1;
			nrun = 0;
			if (mf_buf_putc(out, (char)cp, e) < 0)
				return -1;
			if (cp == '&' && mf_buf_putc(out, '-', e) < 0)
				return -1;
			continue;
		}
		if (nrun + 2 > sizeof run / sizeof run[0]) {
			/* A run split in two would be two adjacent runs, which
			 * strict decoders refuse: names this long are refused. */
			return mf_err_set(e, MF_E_DATA, "folder name too long");
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			run[nrun++] = (uint16_t)(0xD800 + (cp >> 10));
			run[nrun++] = (uint16_t)(0xDC00 + (cp & 0x3FF));
		} else {
			run[nrun++] = (uint16_t)cp;
		}
	}
	if (nrun && flush_run(run, nrun, out, e) < 0)
		return -1;
	return 0;
}
