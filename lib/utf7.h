/* utf7.h - IMAP's modified UTF-7 for mailbox names (RFC 3501 §5.1.3),
 * converted to and from UTF-8, strictly.
 *
 * Owns the encoding only: pure, no IMAP I/O, and no folder-name policy
 * (which names map to which paths is folders.c's).
 *
 * Must not: apply folder-name policy (folders.h does), print or exit. */
#ifndef MF_UTF7_H
#define MF_UTF7_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Append the UTF-8 form of the modified UTF-7 name in[0..len) to out.
 * Strict: only printable US-ASCII outside shifts, "&-" for '&', shifted
 * runs that are non-empty, decode to whole UTF-16 code units with zero
 * padding bits, do not encode printable ASCII, pair their surrogates,
 * and are closed by '-'; two adjacent shifted runs are refused too (the
 * encoder never makes them).  -1 with MF_E_DATA otherwise. */
int mf_utf7_decode(const char *in, size_t len, struct mf_buf *out,
                   struct mf_err *e);

/* Append the modified UTF-7 form of the UTF-8 string in[0..len) to out.
 * -1 with MF_E_DATA on invalid UTF-8 (overlong forms, surrogates,
 * code points past U+10FFFF, NUL or other control characters). */
int mf_utf7_encode(const char *in, size_t len, struct mf_buf *out,
                   struct mf_err *e);

#endif
