/* crypto.h - the hash, MAC, KDF and random primitives that SASL, Maildir
 * names and DANE need (the other GnuTLS user besides tls.c).
 *
 * Owns the primitives only: no protocol, no key storage, no I/O beyond the
 * system's random source; callers wipe the secrets they pass in.
 *
 * Must not: know a protocol or a key file, print or exit. */
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
/* Incremental hashing (a message streamed to disk): _begin returns NULL
 * with e set on failure; _update never fails; _end writes the digest
 * (mf_hash_len bytes) to out when out is not NULL and frees ctx (NULL is
 * fine). */
struct mf_hash_ctx;
struct mf_hash_ctx *mf_hash_begin(enum mf_hash h, struct mf_err *e);
void mf_hash_update(struct mf_hash_ctx *ctx, const void *data, size_t len);
void mf_hash_end(struct mf_hash_ctx *ctx, unsigned char *out);
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
