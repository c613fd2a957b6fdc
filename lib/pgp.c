/* pgp.c - OpenPGP through gpgme (GnuPG does the cryptography and owns the
 * keys; we only pick keys and move bytes). */
#include "pgp.h"
#include "cred.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpgme.h>

#include "lazy.h"

/* gpgme is loaded when OpenPGP is first asked for (lazy.h). */
#define gpgme_check_version_internal MF_LAZY(MF_LIB_GPGME, gpgme_check_version_internal)
#define gpgme_data_new MF_LAZY(MF_LIB_GPGME, gpgme_data_new)
#define gpgme_data_new_from_mem MF_LAZY(MF_LIB_GPGME, gpgme_data_new_from_mem)
#define gpgme_data_release MF_LAZY(MF_LIB_GPGME, gpgme_data_release)
#define gpgme_data_release_and_get_mem MF_LAZY(MF_LIB_GPGME, gpgme_data_release_and_get_mem)
#define gpgme_engine_check_version MF_LAZY(MF_LIB_GPGME, gpgme_engine_check_version)
#define gpgme_free MF_LAZY(MF_LIB_GPGME, gpgme_free)
#define gpgme_hash_algo_name MF_LAZY(MF_LIB_GPGME, gpgme_hash_algo_name)
#define gpgme_key_unref MF_LAZY(MF_LIB_GPGME, gpgme_key_unref)
#define gpgme_new MF_LAZY(MF_LIB_GPGME, gpgme_new)
#define gpgme_op_encrypt MF_LAZY(MF_LIB_GPGME, gpgme_op_encrypt)
#define gpgme_op_encrypt_sign MF_LAZY(MF_LIB_GPGME, gpgme_op_encrypt_sign)
#define gpgme_op_keylist_end MF_LAZY(MF_LIB_GPGME, gpgme_op_keylist_end)
#define gpgme_op_keylist_next MF_LAZY(MF_LIB_GPGME, gpgme_op_keylist_next)
#define gpgme_op_keylist_start MF_LAZY(MF_LIB_GPGME, gpgme_op_keylist_start)
#define gpgme_op_sign MF_LAZY(MF_LIB_GPGME, gpgme_op_sign)
#define gpgme_op_sign_result MF_LAZY(MF_LIB_GPGME, gpgme_op_sign_result)
#define gpgme_pubkey_algo_name MF_LAZY(MF_LIB_GPGME, gpgme_pubkey_algo_name)
#define gpgme_release MF_LAZY(MF_LIB_GPGME, gpgme_release)
#define gpgme_set_armor MF_LAZY(MF_LIB_GPGME, gpgme_set_armor)
#define gpgme_set_locale MF_LAZY(MF_LIB_GPGME, gpgme_set_locale)
#define gpgme_set_protocol MF_LAZY(MF_LIB_GPGME, gpgme_set_protocol)
#define gpgme_set_textmode MF_LAZY(MF_LIB_GPGME, gpgme_set_textmode)
#define gpgme_signers_add MF_LAZY(MF_LIB_GPGME, gpgme_signers_add)
#define gpgme_signers_clear MF_LAZY(MF_LIB_GPGME, gpgme_signers_clear)
#define gpgme_strerror MF_LAZY(MF_LIB_GPGME, gpgme_strerror)

#define KEYS_MAX 1001        /* recipients + the sender */

/* Every gpgme call below that may start gpg (and through it a gpg-agent
 * that stays) runs with MAILFLOW_PASSWORD hidden (mf_cred_env_hide): no
 * child gets a password it was not meant to get. */

struct mf_pgp {
	gpgme_ctx_t ctx;
	gpgme_key_t signer;
};

static int
gpg_fail(struct mf_err *e, enum mf_err_kind kind, gpgme_error_t err,
         const char *what)
{
	return mf_err_set(e, kind, "OpenPGP: %s: %s", what, gpgme_strerror(err));
}

struct mf_pgp *
mf_pgp_new(struct mf_err *e)
{
	struct mf_pgp *p;
	struct mf_secret env;
	gpgme_error_t err;

	if (mf_lazy_open(MF_LIB_GPGME, e) == -1) {
		mf_err_prefix(e, "OpenPGP");
		return NULL;
	}
	gpgme_check_version(NULL);
	setlocale(LC_CTYPE, "");
	gpgme_set_locale(NULL, LC_CTYPE, setlocale(LC_CTYPE, NULL));
	if (mf_cred_env_hide(&env, e) == -1)
		return NULL;
	err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
	mf_cred_env_restore(&env);
	if (err != 0) {
		gpg_fail(e, MF_E_CONFIG, err, "GnuPG is not usable");
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "OpenPGP");
		return NULL;
	}
	if ((err = gpgme_new(&p->ctx)) != 0) {
		gpg_fail(e, MF_E_CONFIG, err, "gpgme");
		free(p);
		return NULL;
	}
	gpgme_set_protocol(p->ctx, GPGME_PROTOCOL_OpenPGP);
	gpgme_set_armor(p->ctx, 1);
	/* RFC 3156 §5: the signed part is canonical text already. */
	gpgme_set_textmode(p->ctx, 0);
	return p;
}

void
mf_pgp_free(struct mf_pgp *p)
{
	if (p == NULL)
		return;
	if (p->signer != NULL)
		gpgme_key_unref(p->signer);
	gpgme_release(p->ctx);
	free(p);
}

static int
usable(gpgme_key_t k, int secret)
{
	if (k->revoked || k->expired || k->disabled || k->invalid)
		return 0;
	return secret ? k->can_sign && k->secret : k->can_encrypt;
}

/* The first usable key matching pattern ("<addr>" for an address). */
static gpgme_key_t
find_key(gpgme_ctx_t ctx, const char *pattern, int secret)
{
	gpgme_key_t k, found = NULL;
	struct mf_secret env;

	if (mf_cred_env_hide(&env, NULL) == -1)
		return NULL;
	if (gpgme_op_keylist_start(ctx, pattern, secret) == 0) {
		while (gpgme_op_keylist_next(ctx, &k) == 0) {
			if (found == NULL && usable(k, secret))
				found = k;
			else
				gpgme_key_unref(k);
		}
		gpgme_op_keylist_end(ctx);
	}
	mf_cred_env_restore(&env);
	return found;
}

static void
addr_pattern(const char *addr, char *out, size_t outlen)
{
	/* "<a@b>" matches the mail address exactly (gpg's user id search). */
	snprintf(out, outlen, "<%s>", addr);
}

int
mf_pgp_set_signer(struct mf_pgp *p, const char *id, const char *from,
                  char *desc, size_t desclen, struct mf_err *e)
{
	char pat[600];
	gpgme_key_t k;
	gpgme_error_t err;

	if (id == NULL && from == NULL)
		return mf_err_set(e, MF_E_CONFIG, "OpenPGP: no sender address "
		    "to find the signing key by; give --pgp-key");
	if (id != NULL)
		mf_strlcpy(pat, id, sizeof(pat));
	else
		addr_pattern(from, pat, sizeof(pat));
	if ((k = find_key(p->ctx, pat, 1)) == NULL)
		return mf_err_set(e, MF_E_CONFIG, "OpenPGP: no usable secret "
		    "key for %s in the GnuPG keyring (GNUPGHOME)", id ? id : from);
	gpgme_signers_clear(p->ctx);
	if ((err = gpgme_signers_add(p->ctx, k)) != 0) {
		gpgme_key_unref(k);
		return gpg_fail(e, MF_E_CONFIG, err, "signing key");
	}
	if (p->signer != NULL)
		gpgme_key_unref(p->signer);
	p->signer = k;
	snprintf(desc, desclen, "%s key %s %s",
	    k->subkeys && k->subkeys->pubkey_algo ?
	    gpgme_pubkey_algo_name(k->subkeys->pubkey_algo) : "OpenPGP",
	    k->subkeys && k->subkeys->fpr ? k->subkeys->fpr : "?",
	    k->uids && k->uids->uid ? k->uids->uid : "");
	return 0;
}

/* Everything gpgme wrote into d, appended to out; d is released. */
static int
take_data(gpgme_data_t d, struct mf_buf *out, struct mf_err *e)
{
	size_t n;
	char *mem = gpgme_data_release_and_get_mem(d, &n);
	int rc;

	if (mem == NULL)
		return mf_err_set(e, MF_E_NOMEM, "OpenPGP output");
	rc = mf_buf_append(out, mem, n, e);
	gpgme_free(mem);
	return rc;
}

int
mf_pgp_sign(struct mf_pgp *p, const char *data, size_t len, struct mf_buf *sig,
            char *micalg, size_t micalglen, struct mf_err *e)
{
	gpgme_data_t in = NULL, out = NULL;
	gpgme_sign_result_t r;
	gpgme_error_t err;
	struct mf_secret env;
	const char *h;
	size_t i;

	if ((err = gpgme_data_new_from_mem(&in, data, len, 0)) != 0 ||
	    (err = gpgme_data_new(&out)) != 0) {
		gpgme_data_release(in);
		return gpg_fail(e, MF_E_NOMEM, err, "buffers");
	}
	if (mf_cred_env_hide(&env, e) == -1) {
		gpgme_data_release(in);
		gpgme_data_release(out);
		return -1;
	}
	err = gpgme_op_sign(p->ctx, in, out, GPGME_SIG_MODE_DETACH);
	mf_cred_env_restore(&env);
	gpgme_data_release(in);
	r = gpgme_op_sign_result(p->ctx);
	if (err != 0 || r == NULL || r->signatures == NULL) {
		gpgme_data_release(out);
		return gpg_fail(e, MF_E_CONFIG, err, "signing failed");
	}
	/* RFC 3156 §5: micalg is "pgp-" and the hash's lower-case name. */
	h = gpgme_hash_algo_name(r->signatures->hash_algo);
	snprintf(micalg, micalglen, "pgp-%s", h ? h : "sha256");
	for (i = 0; micalg[i]; i++)
		micalg[i] = (char)tolower((unsigned char)micalg[i]);
	return take_data(out, sig, e);
}

static void
unref_all(gpgme_key_t *keys)
{
	size_t i;

	for (i = 0; keys[i] != NULL; i++)
		gpgme_key_unref(keys[i]);
}

int
mf_pgp_encrypt(struct mf_pgp *p, const char *data, size_t len,
               const char *const *addrs, size_t naddrs, const char *self,
               int sign, struct mf_buf *out, struct mf_err *e)
{
	gpgme_key_t *keys = calloc(KEYS_MAX + 1, sizeof(*keys));
	gpgme_data_t in = NULL, cipher = NULL;
	gpgme_error_t err;
	struct mf_secret env;
	char pat[600];
	size_t i, n = 0;
	int rc = -1;

	if (keys == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "OpenPGP keys");
	for (i = 0; i <= naddrs && n < KEYS_MAX; i++) {
		const char *a = i < naddrs ? addrs[i] : self;

		if (a == NULL)
			continue;
		addr_pattern(a, pat, sizeof(pat));
		if ((keys[n] = find_key(p->ctx, pat, 0)) == NULL) {
			mf_err_set(e, MF_E_DATA, "OpenPGP: no usable public key "
			    "for %s%s in the GnuPG keyring; nothing sent", a,
			    i == naddrs ? " (the sender)" : "");
			goto out;
		}
		n++;
	}
	if ((err = gpgme_data_new_from_mem(&in, data, len, 0)) != 0 ||
	    (err = gpgme_data_new(&cipher)) != 0) {
		gpg_fail(e, MF_E_NOMEM, err, "buffers");
		goto out;
	}
	/* The keyring is the user's: its keys are the ones to use, whether
	 * or not the web of trust vouches for them. */
	if (mf_cred_env_hide(&env, e) == -1)
		goto out;
	err = sign ? gpgme_op_encrypt_sign(p->ctx, keys,
	    GPGME_ENCRYPT_ALWAYS_TRUST, in, cipher) :
	    gpgme_op_encrypt(p->ctx, keys, GPGME_ENCRYPT_ALWAYS_TRUST, in,
	    cipher);
	mf_cred_env_restore(&env);
	if (err != 0) {
		gpg_fail(e, MF_E_DATA, err, "encryption failed");
		goto out;
	}
	rc = take_data(cipher, out, e);
	cipher = NULL;
out:
	gpgme_data_release(in);
	gpgme_data_release(cipher);
	unref_all(keys);
	free(keys);
	return rc;
}
