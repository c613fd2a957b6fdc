/* base64.h - RFC 4648 base64, as SASL and MIME need it.
 *
 * Owns the encoding and a strict decoding (bad characters and padding are
 * errors).  Pure: no I/O, no line wrapping policy (MIME's 76 columns are
 * mime.c's), never logs what it decodes (SASL secrets pass through here).
 *
 * Must not: wrap lines (that is MIME's policy), print or exit. */
#ifndef MF_BASE64_H
#define MF_BASE64_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Append the base64 of in[0..len) to out (no line breaks). */
int mf_base64_encode(const void *in, size_t len, struct mf_buf *out,
                     struct mf_err *e);

/* Append the decoded bytes of the base64 text in[0..len) to out.
 * Strict: padding required, whitespace refused, bad characters refused
 * (MF_E_DATA).  With lenient != 0, whitespace and line breaks are skipped
 * and missing padding is accepted (MIME bodies). */
int mf_base64_decode(const char *in, size_t len, struct mf_buf *out,
                     int lenient, struct mf_err *e);

#endif
