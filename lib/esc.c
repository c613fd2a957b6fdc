/* esc.c - server text made safe to show on a terminal (see esc.h). */
#include "esc.h"

#include <stdio.h>
#include <string.h>

size_t
mf_esc_utf8(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned long c;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points a terminal acts on or that reorder/split the line. */
static int
dangerous(unsigned long c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* The output for the character at s: rep (NUL-terminated) and how many
 * input bytes it stands for. */
static size_t
one(const unsigned char *s, size_t n, char rep[16])
{
	unsigned long c;
	size_t len;

	len = mf_esc_utf8(s, n, &c);
	if (len == 0) {
		snprintf(rep, 16, "\\x%02x", s[0]);
		return 1;
	}
	if (c == '\n')
		memcpy(rep, "\\n", 3);
	else if (c == '\r')
		memcpy(rep, "\\r", 3);
	else if (c == '\t')
		memcpy(rep, "\\t", 3);
	else if (c < 0x20 || c == 0x7f)
		snprintf(rep, 16, "\\x%02x", (unsigned)c);
	else if (dangerous(c))
		snprintf(rep, 16, "\\u%04x", (unsigned)(c & 0xffff));
	else {
		memcpy(rep, s, len);
		rep[len] = '\0';
	}
	return len;
}

const char *
mf_esc_mem(char *out, size_t outlen, const void *s, size_t n)
{
	const unsigned char *p = s;
	size_t o = 0, used, rl;
	char rep[16];

	size_t mark = 0;   /* where "..." goes if the text is cut */

	if (outlen == 0)
		return out;
	while (n > 0) {
		used = one(p, n, rep);
		rl = strlen(rep);
		if (o + rl >= outlen) {
			if (outlen > 3) {
				memcpy(out + mark, "...", 4);
				return out;
			}
			break;
		}
		memcpy(out + o, rep, rl);
		o += rl;
		if (o + 3 < outlen)
			mark = o;
		p += used;
		n -= used;
	}
	out[o] = '\0';
	return out;
}

const char *
mf_esc_str(char *out, size_t outlen, const char *s)
{
	return mf_esc_mem(out, outlen, s != NULL ? s : "",
	    s != NULL ? strlen(s) : 0);
}

int
mf_esc_buf(struct mf_buf *b, const void *s, size_t n, struct mf_err *e)
{
	const unsigned char *p = s;
	size_t used;
	char rep[16];

	while (n > 0) {
		used = one(p, n, rep);
		if (mf_buf_puts(b, rep, e) == -1)
			return -1;
		p += used;
		n -= used;
	}
	return 0;
}

int
mf_esc_lines(struct mf_buf *b, const void *s, size_t n, struct mf_err *e)
{
	const char *p = s, *nl;
	size_t len;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		len = nl != NULL ? (size_t)(nl - p) : n;
		if (mf_esc_buf(b, p, len, e) == -1)
			return -1;
		if (nl == NULL)
			break;
		if (mf_buf_putc(b, '\n', e) == -1)
			return -1;
		p += len + 1;
		n -= len + 1;
	}
	return mf_buf_puts(b, "", e);
}
