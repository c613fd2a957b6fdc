/* smimeenc.c - S/MIME encryption with OpenSSL's CMS (EnvelopedData);
 * libcrypto does the cryptography and the DER, we pick certificates. */
#include "smimeenc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lazy.h"
#include "mime.h"

/* libcrypto is loaded when S/MIME encryption is first asked for
 * (lazy.h): every function called below, directly or through the
 * headers' macros (sk_X509_*, BIO_get_mem_data). */
#define ASN1_STRING_get0_data MF_LAZY(MF_LIB_CRYPTO, ASN1_STRING_get0_data)
#define ASN1_STRING_length MF_LAZY(MF_LIB_CRYPTO, ASN1_STRING_length)
#define ASN1_TIME_compare MF_LAZY(MF_LIB_CRYPTO, ASN1_TIME_compare)
#define BIO_ctrl MF_LAZY(MF_LIB_CRYPTO, BIO_ctrl)
#define BIO_free MF_LAZY(MF_LIB_CRYPTO, BIO_free)
#define BIO_new MF_LAZY(MF_LIB_CRYPTO, BIO_new)
#define BIO_new_mem_buf MF_LAZY(MF_LIB_CRYPTO, BIO_new_mem_buf)
#define BIO_s_mem MF_LAZY(MF_LIB_CRYPTO, BIO_s_mem)
#define CMS_ContentInfo_free MF_LAZY(MF_LIB_CRYPTO, CMS_ContentInfo_free)
#define CMS_encrypt MF_LAZY(MF_LIB_CRYPTO, CMS_encrypt)
#define ERR_clear_error MF_LAZY(MF_LIB_CRYPTO, ERR_clear_error)
#define ERR_error_string_n MF_LAZY(MF_LIB_CRYPTO, ERR_error_string_n)
#define ERR_get_error MF_LAZY(MF_LIB_CRYPTO, ERR_get_error)
#define ERR_peek_last_error MF_LAZY(MF_LIB_CRYPTO, ERR_peek_last_error)
#define EVP_PKEY_get_base_id MF_LAZY(MF_LIB_CRYPTO, EVP_PKEY_get_base_id)
#define EVP_aes_256_cbc MF_LAZY(MF_LIB_CRYPTO, EVP_aes_256_cbc)
#define GENERAL_NAMES_free MF_LAZY(MF_LIB_CRYPTO, GENERAL_NAMES_free)
#define OPENSSL_sk_free MF_LAZY(MF_LIB_CRYPTO, OPENSSL_sk_free)
#define OPENSSL_sk_new_null MF_LAZY(MF_LIB_CRYPTO, OPENSSL_sk_new_null)
#define OPENSSL_sk_num MF_LAZY(MF_LIB_CRYPTO, OPENSSL_sk_num)
#define OPENSSL_sk_push MF_LAZY(MF_LIB_CRYPTO, OPENSSL_sk_push)
#define OPENSSL_sk_value MF_LAZY(MF_LIB_CRYPTO, OPENSSL_sk_value)
#define PEM_read_X509 MF_LAZY(MF_LIB_CRYPTO, PEM_read_X509)
#define X509_NAME_ENTRY_get_data MF_LAZY(MF_LIB_CRYPTO, X509_NAME_ENTRY_get_data)
#define X509_NAME_get_entry MF_LAZY(MF_LIB_CRYPTO, X509_NAME_get_entry)
#define X509_NAME_get_index_by_NID MF_LAZY(MF_LIB_CRYPTO, X509_NAME_get_index_by_NID)
#define X509_NAME_print_ex MF_LAZY(MF_LIB_CRYPTO, X509_NAME_print_ex)
#define X509_check_ca MF_LAZY(MF_LIB_CRYPTO, X509_check_ca)
#define X509_cmp MF_LAZY(MF_LIB_CRYPTO, X509_cmp)
#define X509_cmp_time MF_LAZY(MF_LIB_CRYPTO, X509_cmp_time)
#define X509_free MF_LAZY(MF_LIB_CRYPTO, X509_free)
#define X509_get0_notAfter MF_LAZY(MF_LIB_CRYPTO, X509_get0_notAfter)
#define X509_get0_notBefore MF_LAZY(MF_LIB_CRYPTO, X509_get0_notBefore)
#define X509_get0_pubkey MF_LAZY(MF_LIB_CRYPTO, X509_get0_pubkey)
#define X509_get_ext_d2i MF_LAZY(MF_LIB_CRYPTO, X509_get_ext_d2i)
#define X509_get_extended_key_usage MF_LAZY(MF_LIB_CRYPTO, X509_get_extended_key_usage)
#define X509_get_extension_flags MF_LAZY(MF_LIB_CRYPTO, X509_get_extension_flags)
#define X509_get_key_usage MF_LAZY(MF_LIB_CRYPTO, X509_get_key_usage)
#define X509_get_subject_name MF_LAZY(MF_LIB_CRYPTO, X509_get_subject_name)
#define i2d_CMS_bio MF_LAZY(MF_LIB_CRYPTO, i2d_CMS_bio)

#define CANDS_MAX 10000      /* certificates read from all paths */
#define SUBJ_MAX 256

struct cand {
	X509 *x;
	char *file;
	char subj[SUBJ_MAX];
	int named;           /* from a file given by name (--smime-encrypt) */
	int used;
};

struct choice {
	size_t cand;
	char *addr;
};

struct mf_smime_enc {
	struct cand *v;
	size_t n, cap;
	struct cand self;    /* x == NULL: no sender certificate */
	struct choice *ch;
	size_t nch;
};

static int
ossl_fail(struct mf_err *e, enum mf_err_kind kind, const char *what)
{
	char buf[256] = "unknown error";
	unsigned long code = ERR_get_error();

	if (code != 0)
		ERR_error_string_n(code, buf, sizeof(buf));
	ERR_clear_error();
	return mf_err_set(e, kind, "S/MIME: %s: %s", what, buf);
}

static void
subject(X509 *x, char *out, size_t outlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	mf_strlcpy(out, "?", outlen);
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(b, &p)) > 0) {
		if ((size_t)n >= outlen)
			n = (long)outlen - 1;
		memcpy(out, p, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
}

/* ---- which certificate may receive encrypted mail ---- */

/* NULL when x can receive mail encrypted at `now`, else why not. */
static const char *
unusable(X509 *x, time_t now)
{
	uint32_t flags = X509_get_extension_flags(x);
	EVP_PKEY *k = X509_get0_pubkey(x);
	int id = k != NULL ? EVP_PKEY_get_base_id(k) : NID_undef;

	if (flags & EXFLAG_INVALID)
		return "has malformed extensions";
	if (X509_cmp_time(X509_get0_notAfter(x), &now) <= 0)
		return "has expired";
	if (X509_cmp_time(X509_get0_notBefore(x), &now) >= 0)
		return "is not valid yet";
	/* RFC 8550 §4.4.4: with an extended key usage, emailProtection
	 * (or anyExtendedKeyUsage) must be in it. */
	if ((flags & EXFLAG_XKUSAGE) &&
	    !(X509_get_extended_key_usage(x) & (XKU_SMIME | XKU_ANYEKU)))
		return "is not for e-mail: its extended key usage lacks "
		    "emailProtection";
	if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC)
		return "has a key that cannot receive encrypted mail (RSA or "
		    "EC needed)";
	/* RFC 8550 §4.4.2: key transport needs keyEncipherment, key
	 * agreement keyAgreement. */
	if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(x) &
	    (id == EVP_PKEY_RSA ? KU_KEY_ENCIPHERMENT : KU_KEY_AGREEMENT)))
		return id == EVP_PKEY_RSA ? "does not allow keyEncipherment "
		    "in its key usage" : "does not allow keyAgreement in its "
		    "key usage";
	return NULL;
}

static int
same_addr(const ASN1_STRING *s, const char *addr)
{
	const unsigned char *d = ASN1_STRING_get0_data(s);
	size_t n = (size_t)ASN1_STRING_length(s);

	return n == strlen(addr) && memchr(d, '\0', n) == NULL &&
	    strncasecmp((const char *)d, addr, n) == 0;
}

/* RFC 8550 §3: the address is an rfc822Name subjectAltName or, in older
 * certificates, an emailAddress attribute of the subject. */
static int
names(X509 *x, const char *addr)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL);
	X509_NAME *subj = X509_get_subject_name(x);
	int i, found = 0;

	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_EMAIL && same_addr(g->d.rfc822Name, addr))
			found = 1;
	}
	GENERAL_NAMES_free(gens);
	for (i = -1; !found && (i = X509_NAME_get_index_by_NID(subj,
	    NID_pkcs9_emailAddress, i)) >= 0;)
		found = same_addr(X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subj, i)), addr);
	return found;
}

/* ---- reading certificates ---- */

static int
add_cand(struct mf_smime_enc *c, X509 *x, const char *file, int named,
         struct mf_err *e)
{
	struct cand *v;

	if (c->n == CANDS_MAX) {
		X509_free(x);
		return mf_err_set(e, MF_E_CONFIG, "S/MIME: more than %d "
		    "recipient certificates (at %s)", CANDS_MAX, file);
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		if ((v = realloc(c->v, c->cap * sizeof(*v))) == NULL) {
			X509_free(x);
			return mf_err_sys(e, MF_E_NOMEM, errno, "S/MIME");
		}
		c->v = v;
	}
	v = &c->v[c->n];
	memset(v, 0, sizeof(*v));
	if ((v->file = strdup(file)) == NULL) {
		X509_free(x);
		return mf_err_sys(e, MF_E_NOMEM, errno, "S/MIME");
	}
	v->x = x;
	v->named = named;
	subject(x, v->subj, sizeof(v->subj));
	c->n++;
	return 0;
}

/* Every certificate of the PEM file path (other PEM blocks, such as a
 * private key, are passed over); *count says how many. */
static int
read_pem(struct mf_smime_enc *c, const char *path, int named,
         size_t *count, struct mf_err *e)
{
	FILE *f = fopen(path, "r");
	unsigned long last;
	X509 *x;

	*count = 0;
	if (f == NULL)
		return mf_err_sys(e, MF_E_CONFIG, errno, "S/MIME recipient "
		    "certificate %s", path);
	ERR_clear_error();
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (add_cand(c, x, path, named, e) == -1) {
			fclose(f);
			return -1;
		}
		(*count)++;
	}
	fclose(f);
	/* The loop ends at the end of the file (no start line) or at a
	 * certificate that does not decode. */
	last = ERR_peek_last_error();
	if (last != 0 && !(ERR_GET_LIB(last) == ERR_LIB_PEM &&
	    ERR_GET_REASON(last) == PEM_R_NO_START_LINE)) {
		mf_err_set(e, MF_E_CONFIG, "S/MIME recipient certificate %s: "
		    "a certificate in it does not decode", path);
		ERR_clear_error();
		return -1;
	}
	ERR_clear_error();
	return 0;
}

static int
pem_name(const struct dirent *d)
{
	const char *dot = strrchr(d->d_name, '.');

	return d->d_name[0] != '.' && dot != NULL &&
	    (strcmp(dot, ".pem") == 0 || strcmp(dot, ".crt") == 0 ||
	    strcmp(dot, ".cer") == 0);
}

static int
read_dir(struct mf_smime_enc *c, const char *dir, struct mf_err *e)
{
	struct dirent **list = NULL;
	char path[PATH_MAX];
	struct stat st;
	size_t count;
	int i, n, rc = 0;

	if ((n = scandir(dir, &list, pem_name, alphasort)) == -1)
		return mf_err_sys(e, MF_E_CONFIG, errno, "S/MIME certificate "
		    "directory %s", dir);
	for (i = 0; i < n; i++) {
		if (rc == 0 && (size_t)snprintf(path, sizeof(path), "%s/%s",
		    dir, list[i]->d_name) >= sizeof(path))
			rc = mf_err_set(e, MF_E_CONFIG, "S/MIME: path too long "
			    "in %s", dir);
		else if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc = read_pem(c, path, 0, &count, e);
		free(list[i]);
	}
	free(list);
	return rc;
}

static int
read_path(struct mf_smime_enc *c, const char *path, int named,
          struct mf_err *e)
{
	struct stat st;
	size_t count;

	if (stat(path, &st) == -1)
		return mf_err_sys(e, MF_E_CONFIG, errno, "S/MIME recipient "
		    "certificate %s", path);
	if (S_ISDIR(st.st_mode))
		return read_dir(c, path, e);
	if (read_pem(c, path, named, &count, e) == -1)
		return -1;
	if (count == 0)
		return mf_err_set(e, MF_E_CONFIG, "S/MIME recipient certificate "
		    "%s: no PEM certificate in it", path);
	return 0;
}

struct mf_smime_enc *
mf_smime_enc_load(const char *const *paths, size_t npaths, const char *store,
                  struct mf_err *e)
{
	struct mf_smime_enc *c;
	size_t i;

	if (mf_lazy_open(MF_LIB_CRYPTO, e) == -1) {
		mf_err_prefix(e, "S/MIME encryption");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "S/MIME");
		return NULL;
	}
	for (i = 0; i < npaths; i++)
		if (read_path(c, paths[i], 1, e) == -1)
			goto fail;
	if (store != NULL && read_path(c, store, 0, e) == -1)
		goto fail;
	return c;
fail:
	mf_smime_enc_free(c);
	return NULL;
}

static void
clear_choice(struct mf_smime_enc *c)
{
	size_t i;

	for (i = 0; i < c->nch; i++)
		free(c->ch[i].addr);
	free(c->ch);
	c->ch = NULL;
	c->nch = 0;
}

void
mf_smime_enc_free(struct mf_smime_enc *c)
{
	size_t i;

	if (c == NULL)
		return;
	clear_choice(c);
	for (i = 0; i < c->n; i++) {
		X509_free(c->v[i].x);
		free(c->v[i].file);
	}
	free(c->v);
	X509_free(c->self.x);
	free(c->self.file);
	free(c);
}

int
mf_smime_enc_add_self(struct mf_smime_enc *c, const char *path, time_t now,
                      struct mf_err *e)
{
	FILE *f = fopen(path, "r");
	const char *why;
	X509 *x;

	if (f == NULL)
		return mf_err_sys(e, MF_E_CONFIG, errno, "S/MIME certificate %s",
		    path);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (x == NULL)
		return mf_err_set(e, MF_E_CONFIG, "S/MIME certificate %s: not a "
		    "PEM certificate", path);
	X509_free(c->self.x);
	free(c->self.file);
	c->self.x = x;
	if ((c->self.file = strdup(path)) == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "S/MIME");
	subject(x, c->self.subj, sizeof(c->self.subj));
	if ((why = unusable(x, now)) != NULL)
		return mf_err_set(e, MF_E_CONFIG, "S/MIME certificate %s (%s) "
		    "%s (the sender's own, encrypted to so that the sent copy "
		    "can be read)", path, c->self.subj, why);
	return 0;
}

/* ---- choosing ---- */

/* The index of the best usable certificate naming addr, or -1 with *bad
 * set to the first unusable one naming it (or -1) and *why to why. */
static long
best_for(const struct mf_smime_enc *c, const char *addr, time_t now,
         long *bad, const char **why)
{
	const char *r;
	long best = -1;
	size_t i;

	*bad = -1;
	for (i = 0; i < c->n; i++) {
		if (!names(c->v[i].x, addr))
			continue;
		if ((r = unusable(c->v[i].x, now)) != NULL) {
			if (*bad == -1) {
				*bad = (long)i;
				*why = r;
			}
			continue;
		}
		if (best == -1 || ASN1_TIME_compare(X509_get0_notAfter(c->v[i].x),
		    X509_get0_notAfter(c->v[best].x)) > 0)
			best = (long)i;
	}
	return best;
}

static void
warn_unused(const struct mf_smime_enc *c, mf_smime_warn_fn warn, void *arg)
{
	char text[SUBJ_MAX + PATH_MAX + 100];
	size_t i;

	for (i = 0; warn != NULL && i < c->n; i++) {
		/* A CA certificate after the recipient's (a chain file) is
		 * not meant as a recipient. */
		if (!c->v[i].named || c->v[i].used || X509_check_ca(c->v[i].x))
			continue;
		mf_fmt(text, sizeof(text), "S/MIME: the certificate in %s (%s) "
		    "is for none of the recipients: not used", c->v[i].file,
		    c->v[i].subj);
		warn(arg, text);
	}
}

int
mf_smime_enc_pick(struct mf_smime_enc *c, const char *const *addrs,
                  size_t naddrs, time_t now, mf_smime_warn_fn warn,
                  void *arg, struct mf_err *e)
{
	const char *why = NULL;
	long best, bad;
	size_t i;

	clear_choice(c);
	for (i = 0; i < c->n; i++)
		c->v[i].used = 0;
	if (naddrs > 0 && (c->ch = calloc(naddrs, sizeof(*c->ch))) == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "S/MIME");
	for (i = 0; i < naddrs; i++) {
		if ((best = best_for(c, addrs[i], now, &bad, &why)) == -1 &&
		    bad != -1)
			return mf_err_set(e, MF_E_DATA, "S/MIME: cannot encrypt "
			    "to %s: the certificate in %s (%s) %s; nothing sent",
			    addrs[i], c->v[bad].file, c->v[bad].subj, why);
		if (best == -1)
			return mf_err_set(e, MF_E_DATA, "S/MIME: no certificate "
			    "for the recipient %s (give it with --smime-encrypt "
			    "or in smime_recipient_certs); nothing sent",
			    addrs[i]);
		c->v[best].used = 1;
		c->ch[c->nch].cand = (size_t)best;
		if ((c->ch[c->nch].addr = strdup(addrs[i])) == NULL)
			return mf_err_sys(e, MF_E_NOMEM, errno, "S/MIME");
		c->nch++;
	}
	warn_unused(c, warn, arg);
	return 0;
}

void
mf_smime_enc_describe(const struct mf_smime_enc *c, char *out, size_t outlen)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < c->nch && n < outlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, "%s%s (%s)",
		    i ? ", " : "", c->ch[i].addr, c->v[c->ch[i].cand].file);
	if (c->self.x != NULL && n < outlen)
		snprintf(out + n, outlen - n, "%sthe sender (%s)",
		    c->nch ? ", " : "", c->self.file);
}

/* ---- encrypting ---- */

static int
add_unique(STACK_OF(X509) *sk, X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(sk); i++)
		if (X509_cmp(sk_X509_value(sk, i), x) == 0)
			return 0;
	return sk_X509_push(sk, x) > 0 ? 0 : -1;
}

int
mf_smime_encrypt(const struct mf_smime_enc *c, const char *data, size_t len,
                 struct mf_buf *out, struct mf_err *e)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL, *der = NULL;
	char *p;
	long n;
	size_t i;
	int rc = -1;

	if (len > INT_MAX) {
		sk_X509_free(sk);
		return mf_err_set(e, MF_E_DATA, "S/MIME: message too large");
	}
	if (sk == NULL)
		return ossl_fail(e, MF_E_NOMEM, "certificates");
	for (i = 0; i < c->nch; i++)
		if (add_unique(sk, c->v[c->ch[i].cand].x) == -1)
			goto fail;
	if (c->self.x != NULL && add_unique(sk, c->self.x) == -1)
		goto fail;
	if (sk_X509_num(sk) == 0) {
		rc = mf_err_set(e, MF_E_DATA, "S/MIME: no certificate to "
		    "encrypt to; nothing sent");
		goto out;
	}
	/* RFC 8551 §2.7: AES-256-CBC, which every S/MIME 4.0 agent reads
	 * (AES-256-GCM would need AuthEnvelopedData, RFC 5083, that older
	 * clients cannot open).  CMS_BINARY: the entity is canonical
	 * already (RFC 8551 §3.1.1), it must not be touched. */
	if ((in = BIO_new_mem_buf(data, (int)len)) == NULL ||
	    (cms = CMS_encrypt(sk, in, EVP_aes_256_cbc(), CMS_BINARY)) == NULL ||
	    (der = BIO_new(BIO_s_mem())) == NULL ||
	    i2d_CMS_bio(der, cms) != 1)
		goto fail;
	n = BIO_get_mem_data(der, &p);
	rc = mf_mime_base64_lines(p, (size_t)n, out, e);
	goto out;
fail:
	rc = ossl_fail(e, MF_E_INTERNAL, "encryption failed");
out:
	BIO_free(in);
	BIO_free(der);
	CMS_ContentInfo_free(cms);
	sk_X509_free(sk);
	return rc;
}
