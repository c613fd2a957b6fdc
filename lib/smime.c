/* smime.c - S/MIME signing with GnuTLS's PKCS#7 (CMS SignedData). */
#include "smime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>

#include "mime.h"

#define CHAIN_MAX 16

struct mf_smime_signer {
	gnutls_x509_crt_t *chain;
	unsigned nchain;
	gnutls_privkey_t key;
	char name[512];
};

static int
load_file(const char *what, const char *path, gnutls_datum_t *d,
          struct mf_err *e)
{
	int rc;

	if (access(path, R_OK) == -1)
		return mf_err_sys(e, MF_E_CONFIG, errno, "S/MIME %s %s", what,
		    path);
	if ((rc = gnutls_load_file(path, d)) < 0)
		return mf_err_set(e, MF_E_CONFIG, "S/MIME %s %s: %s", what, path,
		    gnutls_strerror(rc));
	return 0;
}

/* RFC 8550 §4.4.4: with an extended key usage, emailProtection must be
 * in it. */
static int
email_protection(gnutls_x509_crt_t c)
{
	char oid[128];
	size_t n;
	unsigned i, crit;
	int rc;

	for (i = 0;; i++) {
		n = sizeof(oid);
		rc = gnutls_x509_crt_get_key_purpose_oid(c, i, oid, &n, &crit);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return i == 0;       /* no EKU: any use */
		if (rc < 0)
			return 0;
		if (strcmp(oid, GNUTLS_KP_EMAIL_PROTECTION) == 0 ||
		    strcmp(oid, GNUTLS_KP_ANY) == 0)
			return 1;
	}
}

static int
check_cert(struct mf_smime_signer *s, const char *path, time_t now,
           struct mf_err *e)
{
	gnutls_x509_crt_t c = s->chain[0];
	gnutls_datum_t dn = { NULL, 0 };

	if (gnutls_x509_crt_get_dn3(c, &dn, 0) == 0) {
		mf_strlcpy(s->name, (const char *)dn.data, sizeof(s->name));
		gnutls_free(dn.data);
	}
	if (gnutls_x509_crt_get_expiration_time(c) < now)
		return mf_err_set(e, MF_E_CONFIG, "S/MIME certificate %s (%s) "
		    "has expired", path, s->name);
	if (gnutls_x509_crt_get_activation_time(c) > now)
		return mf_err_set(e, MF_E_CONFIG, "S/MIME certificate %s (%s) "
		    "is not valid yet", path, s->name);
	if (!email_protection(c))
		return mf_err_set(e, MF_E_CONFIG, "S/MIME certificate %s (%s) "
		    "is not for e-mail: its extended key usage lacks "
		    "emailProtection", path, s->name);
	return 0;
}

static int
key_matches(gnutls_x509_crt_t c, gnutls_privkey_t k)
{
	unsigned char a[64], b[64];
	size_t al = sizeof(a), bl = sizeof(b);
	gnutls_pubkey_t p;
	int ok;

	if (gnutls_pubkey_init(&p) < 0)
		return 0;
	ok = gnutls_pubkey_import_privkey(p, k, 0, 0) == 0 &&
	    gnutls_pubkey_get_key_id(p, GNUTLS_KEYID_USE_SHA256, a, &al) == 0 &&
	    gnutls_x509_crt_get_key_id(c, GNUTLS_KEYID_USE_SHA256, b, &bl) == 0 &&
	    al == bl && memcmp(a, b, al) == 0;
	gnutls_pubkey_deinit(p);
	return ok;
}

struct mf_smime_signer *
mf_smime_signer_load(const char *cert, const char *key, time_t now,
                     struct mf_err *e)
{
	struct mf_smime_signer *s = calloc(1, sizeof(*s));
	gnutls_datum_t cd = { NULL, 0 }, kd = { NULL, 0 };
	int rc;

	if (s == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "S/MIME");
		return NULL;
	}
	if (load_file("certificate", cert, &cd, e) == -1 ||
	    load_file("key", key, &kd, e) == -1)
		goto fail;
	if ((rc = gnutls_x509_crt_list_import2(&s->chain, &s->nchain, &cd,
	    GNUTLS_X509_FMT_PEM, 0)) < 0 || s->nchain == 0) {
		mf_err_set(e, MF_E_CONFIG, "S/MIME certificate %s: not a PEM "
		    "certificate: %s", cert, gnutls_strerror(rc));
		goto fail;
	}
	if ((rc = gnutls_privkey_init(&s->key)) < 0 ||
	    (rc = gnutls_privkey_import_x509_raw(s->key, &kd,
	    GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		mf_err_set(e, MF_E_CONFIG, "S/MIME key %s: not an unencrypted "
		    "PEM private key: %s", key, gnutls_strerror(rc));
		goto fail;
	}
	if (check_cert(s, cert, now, e) == -1)
		goto fail;
	if (!key_matches(s->chain[0], s->key)) {
		mf_err_set(e, MF_E_CONFIG, "S/MIME key %s does not belong to "
		    "the certificate %s", key, cert);
		goto fail;
	}
	gnutls_memset(kd.data, 0, kd.size);
	gnutls_free(kd.data);
	gnutls_free(cd.data);
	return s;
fail:
	if (kd.data != NULL) {
		gnutls_memset(kd.data, 0, kd.size);
		gnutls_free(kd.data);
	}
	gnutls_free(cd.data);
	mf_smime_signer_free(s);
	return NULL;
}

void
mf_smime_signer_free(struct mf_smime_signer *s)
{
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nchain; i++)
		gnutls_x509_crt_deinit(s->chain[i]);
	gnutls_free(s->chain);
	if (s->key != NULL)
		gnutls_privkey_deinit(s->key);
	free(s);
}

int
mf_smime_signer_has_email(const struct mf_smime_signer *s, const char *addr)
{
	return gnutls_x509_crt_check_email(s->chain[0], addr, 0) != 0;
}

const char *
mf_smime_signer_name(const struct mf_smime_signer *s)
{
	return s->name;
}

int
mf_smime_sign(const struct mf_smime_signer *s, const char *data, size_t len,
              struct mf_buf *out, struct mf_err *e)
{
	gnutls_pkcs7_t p7 = NULL;
	gnutls_datum_t d, der = { NULL, 0 };
	unsigned i;
	int rc;

	d.data = (unsigned char *)data;
	d.size = (unsigned)len;
	/* RFC 8551 §3.5.3: detached (the content is the first part), with
	 * the signing time and the certificates a verifier needs. */
	if ((rc = gnutls_pkcs7_init(&p7)) < 0 ||
	    (rc = gnutls_pkcs7_sign(p7, s->chain[0], s->key, &d, NULL, NULL,
	    GNUTLS_DIG_SHA256, GNUTLS_PKCS7_INCLUDE_TIME |
	    GNUTLS_PKCS7_INCLUDE_CERT)) < 0)
		goto fail;
	for (i = 1; i < s->nchain; i++)
		if ((rc = gnutls_pkcs7_set_crt(p7, s->chain[i])) < 0)
			goto fail;
	if ((rc = gnutls_pkcs7_export2(p7, GNUTLS_X509_FMT_DER, &der)) < 0)
		goto fail;
	gnutls_pkcs7_deinit(p7);
	rc = mf_mime_base64_lines(der.data, der.size, out, e);
	gnutls_free(der.data);
	return rc;
fail:
	if (p7 != NULL)
		gnutls_pkcs7_deinit(p7);
	return mf_err_set(e, MF_E_INTERNAL, "S/MIME signature: %s",
	    gnutls_strerror(rc));
}
