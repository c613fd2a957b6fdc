/* pgp.h - OpenPGP signatures and encryption for PGP/MIME (RFC 3156)
 * through gpgme: the keys are GnuPG's (GNUPGHOME), passphrases go through
 * gpg-agent and its pinentry, never through mailflow.  Only pgp.c
 * includes gpgme.h for OpenPGP.  The MIME structure around what this
 * module returns is mimepart.h's.
 *
 * Must not: handle a passphrase (gpg-agent does), print or exit; only
 * pgp.c includes gpgme.h. */
#ifndef MF_PGP_H
#define MF_PGP_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct mf_pgp;

/* A GnuPG session.  MF_E_CONFIG when gpgme or gpg is not usable. */
struct mf_pgp *mf_pgp_new(struct mf_err *e);
void mf_pgp_free(struct mf_pgp *p);

/* Choose the signing key: `id` (a fingerprint, key id or user id) or,
 * when NULL, the secret key for the address `from`.  Its description
 * ("ed25519 key 0x... <a@b>") goes to desc.  MF_E_CONFIG when there is
 * no usable (unexpired, unrevoked, signing-capable) secret key. */
int mf_pgp_set_signer(struct mf_pgp *p, const char *id, const char *from,
                      char *desc, size_t desclen, struct mf_err *e);

/* Detached ASCII-armoured signature of data[0..len) with the signer
 * into sig; its hash as RFC 3156 §5 micalg ("pgp-sha256") into micalg. */
int mf_pgp_sign(struct mf_pgp *p, const char *data, size_t len,
                struct mf_buf *sig, char *micalg, size_t micalglen,
                struct mf_err *e);

/* ASCII-armoured encryption of data[0..len) to the public keys of every
 * address in addrs and of `self` (the sender), signed too when `sign`
 * (RFC 3156 §6.2, combined).  MF_E_DATA naming the first address without
 * a usable encryption key. */
int mf_pgp_encrypt(struct mf_pgp *p, const char *data, size_t len,
                   const char *const *addrs, size_t naddrs, const char *self,
                   int sign, struct mf_buf *out, struct mf_err *e);

#endif
