/* crypto.c - hashes, HMAC, PBKDF2 and random bytes from GnuTLS.
 *
 * Thin on purpose: GnuTLS has the vetted implementations; this file only
 * maps our enum to its algorithm ids and its error codes to struct mf_err. */
#include "crypto.h"

#include <stdint.h>
#include <stdlib.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

size_t
mf_hash_len(enum mf_hash h)
{
	switch (h) {
	case MF_MD5:
		return 16;
	case MF_SHA1:
		return 20;
	case MF_SHA256:
		return 32;
	case MF_SHA512:
		return 64;
	}
	return 0;
}

static gnutls_digest_algorithm_t
dig_of(enum mf_hash h)
{
	switch (h) {
	case MF_MD5:
		return GNUTLS_DIG_MD5;
	case MF_SHA1:
		return GNUTLS_DIG_SHA1;
	case MF_SHA256:
		return GNUTLS_DIG_SHA256;
	case MF_SHA512:
		return GNUTLS_DIG_SHA512;
	}
	return GNUTLS_DIG_UNKNOWN;
}

static gnutls_mac_algorithm_t
mac_of(enum mf_hash h)
{
	switch (h) {
	case MF_MD5:
		return GNUTLS_MAC_MD5;
	case MF_SHA1:
		return GNUTLS_MAC_SHA1;
	case MF_SHA256:
		return GNUTLS_MAC_SHA256;
	case MF_SHA512:
		return GNUTLS_MAC_SHA512;
	}
	return GNUTLS_MAC_UNKNOWN;
}

int
mf_hash(enum mf_hash h, const void *data, size_t len, unsigned char *out,
        struct mf_err *e)
{
	gnutls_digest_algorithm_t d = dig_of(h);
	int r;

	if (d == GNUTLS_DIG_UNKNOWN)
		return mf_err_set(e, MF_E_INTERNAL, "unknown hash %d", (int)h);
	r = gnutls_hash_fast(d, data, len, out);
	if (r < 0)
		return mf_err_set(e, MF_E_INTERNAL, "hash %s failed: %s",
		    gnutls_digest_get_name(d), gnutls_strerror(r));
	return 0;
}

struct mf_hash_ctx {
	gnutls_hash_hd_t hd;
	size_t len;
};

struct mf_hash_ctx *
mf_hash_begin(enum mf_hash h, struct mf_err *e)
{
	gnutls_digest_algorithm_t d = dig_of(h);
	struct mf_hash_ctx *c;
	int r;

	if (d == GNUTLS_DIG_UNKNOWN) {
		mf_err_set(e, MF_E_INTERNAL, "unknown hash %d", (int)h);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		mf_err_set(e, MF_E_NOMEM, "hash context");
		return NULL;
	}
	r = gnutls_hash_init(&c->hd, d);
	if (r < 0) {
		free(c);
		mf_err_set(e, MF_E_INTERNAL, "hash %s failed: %s",
		    gnutls_digest_get_name(d), gnutls_strerror(r));
		return NULL;
	}
	c->len = mf_hash_len(h);
	return c;
}

void
mf_hash_update(struct mf_hash_ctx *ctx, const void *data, size_t len)
{
	if (len > 0)
		gnutls_hash(ctx->hd, data, len);
}

void
mf_hash_end(struct mf_hash_ctx *ctx, unsigned char *out)
{
	unsigned char scratch[64];

	if (ctx == NULL)
		return;
	gnutls_hash_deinit(ctx->hd, out != NULL ? out : scratch);
	free(ctx);
}

int
mf_hmac(enum mf_hash h, const void *key, size_t keylen, const void *data,
        size_t len, unsigned char *out, struct mf_err *e)
{
	gnutls_mac_algorithm_t m = mac_of(h);
	int r;

	if (m == GNUTLS_MAC_UNKNOWN)
		return mf_err_set(e, MF_E_INTERNAL, "unknown MAC %d", (int)h);
	r = gnutls_hmac_fast(m, key, keylen, data, len, out);
	if (r < 0)
		return mf_err_set(e, MF_E_INTERNAL, "HMAC-%s failed: %s",
		    gnutls_mac_get_name(m), gnutls_strerror(r));
	return 0;
}

int
mf_pbkdf2(enum mf_hash h, const void *pass, size_t passlen, const void *salt,
          size_t saltlen, unsigned iterations, unsigned char *out,
          size_t outlen, struct mf_err *e)
{
	gnutls_mac_algorithm_t m = mac_of(h);
	gnutls_datum_t k, s;
	int r;

	if (m == GNUTLS_MAC_UNKNOWN)
		return mf_err_set(e, MF_E_INTERNAL, "unknown MAC %d", (int)h);
	if (iterations == 0)
		return mf_err_set(e, MF_E_DATA, "PBKDF2 needs at least one "
		    "iteration");
	/* gnutls_datum_t holds an unsigned length; a NULL pointer with length
	 * 0 is how an empty password is passed (RFC 6070 has none, but SCRAM
	 * allows it after SASLprep). */
	k.data = (unsigned char *)(uintptr_t)pass;
	k.size = (unsigned)passlen;
	s.data = (unsigned char *)(uintptr_t)salt;
	s.size = (unsigned)saltlen;
	r = gnutls_pbkdf2(m, &k, &s, iterations, out, outlen);
	if (r < 0)
		return mf_err_set(e, MF_E_INTERNAL, "PBKDF2-%s failed: %s",
		    gnutls_mac_get_name(m), gnutls_strerror(r));
	return 0;
}

int
mf_random(void *out, size_t len, struct mf_err *e)
{
	/* Nonces are public, so the NONCE level is enough (SCRAM RFC 5802
	 * §5.1 only asks for uniqueness and unpredictability). */
	int r = gnutls_rnd(GNUTLS_RND_NONCE, out, len);

	if (r < 0)
		return mf_err_set(e, MF_E_INTERNAL, "no random bytes: %s",
		    gnutls_strerror(r));
	return 0;
}

void
mf_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}
