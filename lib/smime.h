/* smime.h - S/MIME signatures (RFC 8551 §3.5.3: multipart/signed with a
 * detached CMS SignedData, SHA-256, the certificate chain included).
 *
 * smime.c owns the S/MIME certificate and key and includes GnuTLS (its
 * PKCS#7 writer), like tls.c, crypto.c and dkim.c.  Encryption (CMS
 * EnvelopedData) is not written by GnuTLS and is not implemented yet.
 *
 * Must not: encrypt (smimeenc.h does), print or exit. */
#ifndef MF_SMIME_H
#define MF_SMIME_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"

struct mf_smime_signer;

/* Load the certificate chain (PEM: the signer's certificate first, then
 * its CAs) and the PEM private key.  MF_E_CONFIG when a file is missing
 * or unreadable, the key does not belong to the certificate, the
 * certificate is expired or not yet valid at `now`, or its extended key
 * usage lacks emailProtection (RFC 8550 §4.4.4). */
struct mf_smime_signer *mf_smime_signer_load(const char *cert,
                                             const char *key, time_t now,
                                             struct mf_err *e);
void mf_smime_signer_free(struct mf_smime_signer *s);

/* 1 when the certificate names addr (RFC 8550 §3: the From address must
 * be in it). */
int mf_smime_signer_has_email(const struct mf_smime_signer *s,
                              const char *addr);

/* The signer's subject, for -v. */
const char *mf_smime_signer_name(const struct mf_smime_signer *s);

/* Detached SignedData over data[0..len) (SHA-256, signing time, the
 * chain), base64 in lines of 76, appended to out. */
int mf_smime_sign(const struct mf_smime_signer *s, const char *data,
                  size_t len, struct mf_buf *out, struct mf_err *e);

#endif
