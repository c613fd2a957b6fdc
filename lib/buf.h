/* buf.h - a growable byte buffer with a hard maximum.
 *
 * The contents are always NUL-terminated (data[len] == 0) so text can be
 * used as a C string; binary data may contain NULs.  Growth past `max`
 * fails with MF_E_LIMIT instead of eating memory: every buffer that holds
 * peer-controlled data must have a max.
 *
 * Must not: grow past its maximum, leave the data without its NUL, print
 * or exit. */
#ifndef MF_BUF_H
#define MF_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "err.h"

struct mf_buf {
	char *data;   /* NULL until first append; never NULL after */
	size_t len;   /* bytes used, excluding the terminating NUL */
	size_t cap;   /* bytes allocated */
	size_t max;   /* hard limit on len */
};

#define MF_BUF_INIT(maxlen) { NULL, 0, 0, (maxlen) }

void mf_buf_init(struct mf_buf *b, size_t max);

/* Make room for `extra` more bytes (plus NUL). -1 with MF_E_LIMIT past max,
 * MF_E_NOMEM if allocation fails. */
int mf_buf_reserve(struct mf_buf *b, size_t extra, struct mf_err *e);

int mf_buf_append(struct mf_buf *b, const void *p, size_t n, struct mf_err *e);
int mf_buf_puts(struct mf_buf *b, const char *s, struct mf_err *e);
int mf_buf_putc(struct mf_buf *b, char c, struct mf_err *e);
/* Append Unicode code point cp (at most 0x10FFFF) in UTF-8. */
int mf_buf_put_utf8(struct mf_buf *b, unsigned long cp, struct mf_err *e);
int mf_buf_printf(struct mf_buf *b, struct mf_err *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int mf_buf_vprintf(struct mf_buf *b, struct mf_err *e, const char *fmt,
                   va_list ap) __attribute__((format(printf, 3, 0)));

/* Drop the first n bytes (n > len drops everything). */
void mf_buf_consume(struct mf_buf *b, size_t n);

/* Set len to 0, keep the allocation. */
void mf_buf_reset(struct mf_buf *b);

/* Free the storage. mf_buf_wipe() zeroes it first (use for secrets). */
void mf_buf_free(struct mf_buf *b);
void mf_buf_wipe(struct mf_buf *b);

/* Hand the NUL-terminated contents to the caller (free() them) and reset
 * the buffer. Returns an empty allocated string for an unused buffer, NULL
 * only when out of memory. */
char *mf_buf_take(struct mf_buf *b);

/* Zero memory in a way the compiler may not elide. */
void mf_memwipe(void *p, size_t n);

/* Bounded string helpers used instead of strcpy/strcat/atoi. */
size_t mf_strlcpy(char *dst, const char *src, size_t size);
/* snprintf for text where a cut-off tail is acceptable (summaries,
 * explanations): always NUL-terminated, truncation is not an error. */
void mf_fmt(char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Parse a whole decimal string into [min,max]; -1 on junk or range. */
int mf_parse_long(const char *s, long min, long max, long *out);

#endif
