/* mimepart.h - the MIME surgery signing and encryption need: make a
 * message 7-bit, split it into its outer header and its content entity,
 * and wrap a signed or encrypted entity into the security multiparts of
 * RFC 1847 (multipart/signed, multipart/encrypted) or a single part.
 *
 * Input is CRLF wire form (mf_smtp_normalise).  Pure: no crypto here;
 * pgp.c and smime.c hand in the signature or ciphertext bytes.
 *
 * Must not: sign or encrypt (pgp.h, smime.h and smimeenc.h do), do I/O,
 * print or exit. */
#ifndef MF_MIMEPART_H
#define MF_MIMEPART_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define MF_MIMEPART_DEPTH_MAX 20   /* nested multiparts looked into */

/* Copy msg to out with every leaf part whose body has 8-bit bytes, NUL
 * or lines over 998 octets re-encoded (RFC 2045 §6: quoted-printable
 * for text, base64 for everything else; message/rfc822 parts are looked
 * into instead, RFC 2046 §5.2.1), so that no relay needs to convert it
 * and no signature breaks.  A top-level body without Content-Type that
 * is valid UTF-8 is labelled text/plain; charset=UTF-8.  *changed is set
 * when anything was re-encoded. */
int mf_mimepart_7bit(const char *msg, size_t len, struct mf_buf *out,
                     int *changed, struct mf_err *e);

/* Split msg into the outer header (every field but MIME-Version and
 * Content-*, with its line endings, no blank line) and the content
 * entity (the Content-* fields -- text/plain; charset=us-ascii when
 * there are none, RFC 2045 §5.2 -- a blank line, the body). */
int mf_mimepart_split(const char *msg, size_t len, struct mf_buf *outer,
                      struct mf_buf *entity, struct mf_err *e);

/* The entity as it is signed (RFC 3156 §5, RFC 8551 §3.1.1): the bytes
 * that go between the boundaries, without the CRLF before the closing
 * delimiter: entity with one trailing CRLF removed. */
size_t mf_mimepart_signed_len(const char *entity, size_t len);

/* outer + multipart/signed (RFC 1847 §2.1) of the first signed_len bytes
 * of entity and the signature part (sig_fields: its Content-* fields,
 * each ending CRLF; sig: its body).  ctype_params: the parameters after
 * "multipart/signed; " (protocol, micalg), the boundary is added. */
int mf_mimepart_signed(const struct mf_buf *outer, const char *entity,
                       size_t signed_len, const char *ctype_params,
                       const char *sig_fields, const char *sig,
                       size_t siglen, struct mf_buf *out, struct mf_err *e);

/* outer + multipart/encrypted (RFC 1847 §2.2, RFC 3156 §4) with the
 * control part and the ciphertext part. */
int mf_mimepart_encrypted(const struct mf_buf *outer, const char *protocol,
                          const char *control_fields, const char *control,
                          const char *data_fields, const char *data,
                          size_t datalen, struct mf_buf *out,
                          struct mf_err *e);

/* outer + MIME-Version + fields (each ending CRLF) + blank line + body. */
int mf_mimepart_single(const struct mf_buf *outer, const char *fields,
                       const char *body, size_t bodylen, struct mf_buf *out,
                       struct mf_err *e);

#endif
