/* crypto.h - the hash, MAC, KDF and random primitives that SASL, Maildir
 * names and DANE need (the other GnuTLS user besides tls.c). */
#ifndef MF_CRYPTO_H
#define MF_CRYPTO_H

#include <stddef.h>

#include "err.h"

enum mf_hash { MF_MD5, MF_SHA1, MF_SHA256, MF_SHA512 };

/* Digest length in bytes (16, 20, 32, 64). */
size_t mf_hash_len(enum mf_hash h);

/* out must hold mf_hash_len(h) bytes. */
int mf_hash(enum mf_hash h, const void *data, size_t len, unsigned char *out,
            struct mf_err *e);
int mf_hmac(enum mf_hash h, const void *key, size_t keylen, const void *data,
            size_t len, unsigned char *out, struct mf_err *e);
/* PBKDF2 with HMAC-h (RFC 8018), as SCRAM's Hi(). */
int mf_pbkdf2(enum mf_hash h, const void *pass, size_t passlen,
              const void *salt, size_t saltlen, unsigned iterations,
              unsigned char *out, size_t outlen, struct mf_err *e);
/* Cryptographically strong random bytes (nonces). */
int mf_random(void *out, size_t len, struct mf_err *e);

/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void mf_hex(const unsigned char *in, size_t len, char *out);

#endif
