/* buf.c - growable buffer with a hard maximum. */
#include "buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
mf_buf_init(struct mf_buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

int
mf_buf_reserve(struct mf_buf *b, size_t extra, struct mf_err *e)
{
	size_t need, ncap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return mf_err_set(e, MF_E_LIMIT,
		    "data exceeds the limit of %zu bytes", b->max);
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	p = realloc(b->data, ncap);
	if (p == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "buffer allocation");
	b->data = p;
	b->cap = ncap;
	b->data[b->len] = '\0';	/* the first allocation too */
	return 0;
}

int
mf_buf_append(struct mf_buf *b, const void *p, size_t n, struct mf_err *e)
{
	if (mf_buf_reserve(b, n, e) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
mf_buf_puts(struct mf_buf *b, const char *s, struct mf_err *e)
{
	return mf_buf_append(b, s, strlen(s), e);
}

int
mf_buf_putc(struct mf_buf *b, char c, struct mf_err *e)
{
	return mf_buf_append(b, &c, 1, e);
}

int
mf_buf_vprintf(struct mf_buf *b, struct mf_err *e, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return mf_err_set(e, MF_E_INTERNAL, "bad format string");
	if (mf_buf_reserve(b, (size_t)n, e) == -1)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
mf_buf_put_utf8(struct mf_buf *b, unsigned long cp, struct mf_err *e)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return mf_buf_append(b, u, n, e);
}

int
mf_buf_printf(struct mf_buf *b, struct mf_err *e, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = mf_buf_vprintf(b, e, fmt, ap);
	va_end(ap);
	return r;
}

void
mf_buf_consume(struct mf_buf *b, size_t n)
{
	if (n >= b->len) {
		mf_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void
mf_buf_reset(struct mf_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
mf_buf_free(struct mf_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
mf_buf_wipe(struct mf_buf *b)
{
	if (b->data != NULL)
		mf_memwipe(b->data, b->cap);
	mf_buf_free(b);
}

char *
mf_buf_take(struct mf_buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
mf_memwipe(void *p, size_t n)
{
	if (p != NULL)
		explicit_bzero(p, n);
}

size_t
mf_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

void
mf_fmt(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;

	if (outlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
}

int
mf_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
