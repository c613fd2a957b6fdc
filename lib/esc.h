/* esc.h - server text made safe to show on a terminal.
 *
 * Anything a server sends (reply text, folder names, certificate fields)
 * may carry escape sequences that rewrite the user's terminal (title,
 * current line, colours).  Every piece of it printed outside -v and --json
 * goes through mf_esc_*(): valid printable UTF-8 is kept as is; these are
 * shown escaped, so the output is one line of inert text:
 *
 *   \n \r \t             \n \r \t
 *   other C0, DEL        \xHH          (ESC is \x1b, BEL \x07)
 *   C1 (U+0080-U+009F)   \u0080 ... \u009f
 *   bidi controls and    \u2028 \u2029 \u202a-\u202e \u2066-\u2069
 *   line separators
 *   invalid UTF-8        \xHH for each byte that is not part of a valid,
 *                        shortest-form sequence (RFC 3629 section 3)
 *
 * A backslash stays as it is, so escaping is idempotent: text a library
 * module escaped already (a notice, an error message quoting a reply)
 * comes out of a second pass unchanged.
 *
 * Must not: let a control byte through unescaped, print or exit. */
#ifndef MF_ESC_H
#define MF_ESC_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Worst case: each input byte becomes 4 output bytes ("\xHH"). */
#define MF_ESC_SIZE(n) (4 * (n) + 1)

/* Escape the n bytes at s into out (outlen bytes, always NUL-terminated;
 * when it does not fit, the text is cut at a character boundary and ends
 * in "...").
 * Returns out, so the call can be an argument of printf. */
const char *mf_esc_mem(char *out, size_t outlen, const void *s, size_t n);

/* The same for a NUL-terminated string (NULL is shown as ""). */
const char *mf_esc_str(char *out, size_t outlen, const char *s);

/* Append the escaped n bytes at s to b. -1 (MF_E_LIMIT/MF_E_NOMEM) when
 * b cannot grow. */
int mf_esc_buf(struct mf_buf *b, const void *s, size_t n, struct mf_err *e);

/* The same for text of several lines: each '\n' is kept, the text between
 * is escaped. */
int mf_esc_lines(struct mf_buf *b, const void *s, size_t n, struct mf_err *e);

/* Length of the valid UTF-8 sequence at s (n > 0 bytes available; RFC 3629
 * section 4: no overlong forms, no surrogates, nothing past U+10FFFF), 0 if
 * invalid; *cp receives the code point. */
size_t mf_esc_utf8(const unsigned char *s, size_t n, unsigned long *cp);

#endif
