/* smimeenc.h - S/MIME encryption (RFC 8551 §3.3): a CMS EnvelopedData
 * (RFC 5652 §6) of a MIME entity, AES-256-CBC (RFC 8551 §2.7, RFC 3565)
 * with the content key transported to each recipient's certificate
 * (RSA, RFC 8551 §2.4.2; EC keys by ECDH, RFC 5753).
 *
 * smimeenc.c owns the recipient certificates and is the only module that
 * includes OpenSSL's libcrypto: GnuTLS, which smime.c signs with, has no
 * EnvelopedData writer, and gpgsm (gpgme's CMS engine) encrypts only to
 * certificates imported into a keyring whose chain gpg-agent trusts.
 *
 * Certificates come from PEM files (one or more certificates each) and
 * directories of them (*.pem, *.crt, *.cer); each recipient address is
 * matched against a certificate's rfc822Name subjectAltNames and its
 * subject's emailAddress attributes (RFC 8550 §3), case-insensitively.
 *
 * Must not: sign (smime.h does), print or exit; only smimeenc.c
 * includes OpenSSL. */
#ifndef MF_SMIMEENC_H
#define MF_SMIMEENC_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"

struct mf_smime_enc;

/* Told about a certificate given by name that no recipient uses. */
typedef void (*mf_smime_warn_fn)(void *arg, const char *text);

/* Read the candidate certificates: paths[] given one by one (files or
 * directories; a file's certificates are expected to be used, see
 * mf_smime_enc_pick), then store (a file or directory that is only
 * looked in; may be NULL).  In a directory, files without a certificate
 * (private keys ...) are skipped.  MF_E_CONFIG naming the file when a
 * path is missing or unreadable, or a file given by name holds no PEM
 * certificate. */
struct mf_smime_enc *mf_smime_enc_load(const char *const *paths,
                                       size_t npaths, const char *store,
                                       struct mf_err *e);
void mf_smime_enc_free(struct mf_smime_enc *c);

/* Add the sender's own certificate (the first of the PEM file path, as
 * --smime-cert holds it) so the sent copy can be read.  MF_E_CONFIG when
 * the file cannot be read or its certificate cannot receive encrypted
 * mail at `now` (expired, not yet valid, no emailProtection ...). */
int mf_smime_enc_add_self(struct mf_smime_enc *c, const char *path,
                          time_t now, struct mf_err *e);

/* Choose, for every address, the usable certificate naming it that
 * expires last (usable: valid at `now`, emailProtection or no extended
 * key usage (RFC 8550 §4.4.4), key usage allowing key encipherment or
 * agreement (§4.4.2), an RSA or EC key).  MF_E_DATA naming the first
 * address without one, and why its certificates are not usable.  A
 * certificate from a file given by name that names no address is
 * reported to warn (may be NULL) and not used.  Replaces the previous
 * choice; the sender's certificate stays. */
int mf_smime_enc_pick(struct mf_smime_enc *c, const char *const *addrs,
                      size_t naddrs, time_t now, mf_smime_warn_fn warn,
                      void *arg, struct mf_err *e);

/* The chosen certificates for -v: "a@b (file), c@d (file), the sender
 * (file)" into out. */
void mf_smime_enc_describe(const struct mf_smime_enc *c, char *out,
                           size_t outlen);

/* EnvelopedData of data[0..len) (the MIME entity in canonical CRLF
 * form) for the chosen certificates and the sender's, DER in base64
 * lines of 76, appended to out.  MF_E_INTERNAL when libcrypto fails. */
int mf_smime_encrypt(const struct mf_smime_enc *c, const char *data,
                     size_t len, struct mf_buf *out, struct mf_err *e);

#endif
