/* dkim.c - DKIM signing (RFC 6376, RFC 8463) with GnuTLS keys. */
#include "dkim.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "base64.h"
#include "crypto.h"

#define FIELDS_MAX 1000          /* header fields looked at */
#define NAME_MAX_LEN 128
#define MF_DKIM_DATA_MAX ((size_t)1 << 20)  /* the signed header data */

struct mf_dkim_key {
	gnutls_privkey_t priv;
	enum mf_dkim_alg alg;
};

/* ---- canonicalisation ---- */

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

int
mf_dkim_canon_header(const char *field, size_t len, int crlf,
                     struct mf_buf *out, struct mf_err *e)
{
	size_t i = 0, nend, colon;
	int space = 0, started = 0;
	char c;

	/* RFC 6376 §3.4.2: lower-case the name, drop WSP around the colon,
	 * unfold, turn each WSP run into one SP, drop WSP at the end. */
	while (i < len && field[i] != ':')
		i++;
	if (i == len)
		return mf_err_set(e, MF_E_DATA, "header field without a colon");
	colon = nend = i;
	while (nend > 0 && is_wsp(field[nend - 1]))
		nend--;
	for (i = 0; i < nend; i++)
		if (mf_buf_putc(out, (char)tolower((unsigned char)field[i]),
		    e) == -1)
			return -1;
	if (mf_buf_putc(out, ':', e) == -1)
		return -1;
	for (i = colon + 1; i < len; i++) {
		c = field[i];
		if (c == '\r' || c == '\n')
			continue;
		if (is_wsp(c)) {
			space = started;
			continue;
		}
		if (space && mf_buf_putc(out, ' ', e) == -1)
			return -1;
		if (mf_buf_putc(out, c, e) == -1)
			return -1;
		space = 0;
		started = 1;
	}
	return crlf ? mf_buf_puts(out, "\r\n", e) : 0;
}

/* One body line, relaxed: WSP runs to SP, none at the end. */
static int
canon_line(const char *s, size_t n, struct mf_buf *out, struct mf_err *e)
{
	size_t i;
	int space = 0;

	for (i = 0; i < n; i++) {
		if (is_wsp(s[i])) {
			space = 1;
			continue;
		}
		if (space && mf_buf_putc(out, ' ', e) == -1)
			return -1;
		space = 0;
		if (mf_buf_putc(out, s[i], e) == -1)
			return -1;
	}
	return mf_buf_puts(out, "\r\n", e);
}

static int
line_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_wsp(s[i]))
			return 0;
	return 1;
}

int
mf_dkim_canon_body(const char *body, size_t len, struct mf_buf *out,
                   struct mf_err *e)
{
	size_t i = 0, start, end, empty = 0;

	/* RFC 6376 §3.4.4; empty lines are held back until a non-empty
	 * one follows, so trailing ones vanish (and an empty body stays
	 * empty, errata 1384). */
	while (i < len) {
		start = i;
		while (i < len && body[i] != '\n')
			i++;
		end = i;
		if (end > start && body[end - 1] == '\r')
			end--;
		if (i < len)
			i++;
		if (line_blank(body + start, end - start)) {
			empty++;
			continue;
		}
		for (; empty > 0; empty--)
			if (mf_buf_puts(out, "\r\n", e) == -1)
				return -1;
		if (canon_line(body + start, end - start, out, e) == -1)
			return -1;
	}
	return 0;
}

/* ---- the header's fields ---- */

struct field {
	const char *p;
	size_t len;          /* with its CRLF */
	size_t namelen;
};

/* Split the header of msg into fields; returns the count (at most max)
 * and the header length in *hlen (the blank line included). */
static size_t
split_fields(const char *msg, size_t len, struct field *f, size_t max,
             size_t *hlen)
{
	size_t i = 0, n = 0, start, c;

	while (i < len && msg[i] != '\r' && msg[i] != '\n') {
		start = i;
		do {
			while (i < len && msg[i] != '\n')
				i++;
			if (i < len)
				i++;
		} while (i < len && is_wsp(msg[i]));
		if (n < max) {
			for (c = start; c < i && msg[c] != ':'; c++)
				;
			while (c > start && is_wsp(msg[c - 1]))
				c--;
			f[n].p = msg + start;
			f[n].len = i - start;
			f[n].namelen = c - start;
			n++;
		}
	}
	if (i < len && msg[i] == '\r')
		i++;
	if (i < len && msg[i] == '\n')
		i++;
	*hlen = i;
	return n;
}

static int
name_is(const struct field *f, const char *name, size_t nlen)
{
	return f->namelen == nlen && strncasecmp(f->p, name, nlen) == 0;
}

static size_t
count_field(const struct field *f, size_t n, const char *name, size_t nlen)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += name_is(&f[i], name, nlen);
	return k;
}

/* The next name of a ':'- or ','-separated list, with surrounding
 * white space skipped; 0 at the end. */
static int
next_name(const char **s, const char **name, size_t *nlen)
{
	const char *p = *s;

	while (*p == ':' || *p == ',' || isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return 0;
	*name = p;
	while (*p && *p != ':' && *p != ',' && !isspace((unsigned char)*p))
		p++;
	*nlen = (size_t)(p - *name);
	*s = p;
	return 1;
}

static int
valid_name(const char *s, size_t n)
{
	size_t i;

	/* RFC 5322 §3.6.8 ftext: printable ASCII but ':'. */
	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 33 || s[i] > 126 || s[i] == ':' || s[i] == ';')
			return 0;
	return 1;
}

static int
put_name(struct mf_buf *out, const char *s, size_t n, struct mf_err *e)
{
	size_t i;

	if (out->len > 0 && mf_buf_putc(out, ':', e) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (mf_buf_putc(out, (char)tolower((unsigned char)s[i]), e) == -1)
			return -1;
	return 0;
}

static int
default_list(const struct field *f, size_t n, struct mf_buf *out,
             struct mf_err *e)
{
	const char *s = MF_DKIM_DEFAULT_HEADERS, *name;
	size_t nlen, k;

	while (next_name(&s, &name, &nlen))
		for (k = count_field(f, n, name, nlen); k > 0; k--)
			if (put_name(out, name, nlen, e) == -1)
				return -1;
	/* RFC 6376 §8.15: one more instance than exists signs its absence. */
	s = MF_DKIM_OVERSIGN;
	while (next_name(&s, &name, &nlen))
		if (put_name(out, name, nlen, e) == -1)
			return -1;
	return 0;
}

int
mf_dkim_header_list(const char *msg, size_t len, const char *list,
                    struct mf_buf *out, struct mf_err *e)
{
	struct field *f;
	const char *s = list, *name;
	size_t n, nlen, hlen;
	int rc = 0, from = 0;

	if (list == NULL) {
		if ((f = calloc(FIELDS_MAX, sizeof(*f))) == NULL)
			return mf_err_sys(e, MF_E_NOMEM, errno, "header");
		n = split_fields(msg, len, f, FIELDS_MAX, &hlen);
		rc = default_list(f, n, out, e);
		free(f);
		return rc;
	}
	while (next_name(&s, &name, &nlen)) {
		if (!valid_name(name, nlen))
			return mf_err_set(e, MF_E_USAGE, "--dkim-headers: bad "
			    "header name '%.*s'", (int)(nlen > 64 ? 64 : nlen),
			    name);
		from |= nlen == 4 && strncasecmp(name, "from", 4) == 0;
		if (put_name(out, name, nlen, e) == -1)
			return -1;
	}
	/* RFC 6376 §5.4: the From field MUST be signed. */
	if (!from)
		return mf_err_set(e, MF_E_USAGE, "--dkim-headers must include "
		    "From (RFC 6376 §5.4)");
	return 0;
}

int
mf_dkim_canon_selected(const char *msg, size_t len, const char *hlist,
                       struct mf_buf *out, struct mf_err *e)
{
	struct field *f;
	const char *s = hlist, *name, *t, *prev;
	size_t n, nlen, plen, hlen, used, i;
	int rc = 0;

	if ((f = calloc(FIELDS_MAX, sizeof(*f))) == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "header");
	n = split_fields(msg, len, f, FIELDS_MAX, &hlen);
	while (rc == 0 && next_name(&s, &name, &nlen)) {
		/* RFC 6376 §5.4.2: the k-th mention of a name signs the k-th
		 * instance counted from the bottom of the header. */
		used = 0;
		for (t = hlist; next_name(&t, &prev, &plen) && prev < name;)
			used += plen == nlen && strncasecmp(prev, name, nlen) == 0;
		for (i = n; i > 0; i--) {
			if (!name_is(&f[i - 1], name, nlen))
				continue;
			if (used-- == 0) {
				rc = mf_dkim_canon_header(f[i - 1].p,
				    f[i - 1].len, 1, out, e);
				break;
			}
		}
	}
	free(f);
	return rc;
}

/* ---- keys ---- */

static int
gtls_fail(struct mf_err *e, enum mf_err_kind kind, int rc, const char *what)
{
	return mf_err_set(e, kind, "%s: %s", what, gnutls_strerror(rc));
}

struct mf_dkim_key *
mf_dkim_key_load(const char *path, struct mf_err *e)
{
	gnutls_datum_t pem = { NULL, 0 };
	gnutls_x509_privkey_t x = NULL;
	struct mf_dkim_key *k;
	unsigned bits = 0;
	int rc, pk;

	if (access(path, R_OK) == -1) {
		mf_err_sys(e, MF_E_CONFIG, errno, "DKIM key %s", path);
		return NULL;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "DKIM key");
		return NULL;
	}
	if ((rc = gnutls_load_file(path, &pem)) < 0 ||
	    (rc = gnutls_x509_privkey_init(&x)) < 0 ||
	    (rc = gnutls_x509_privkey_import2(x, &pem, GNUTLS_X509_FMT_PEM,
	    NULL, GNUTLS_PKCS_PLAIN)) < 0 ||
	    (rc = gnutls_privkey_init(&k->priv)) < 0 ||
	    (rc = gnutls_privkey_import_x509(k->priv, x,
	    GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE)) < 0) {
		mf_err_set(e, MF_E_CONFIG, "DKIM key %s: not an unencrypted PEM "
		    "private key: %s", path, gnutls_strerror(rc));
		goto fail;
	}
	x = NULL;
	pk = gnutls_privkey_get_pk_algorithm(k->priv, &bits);
	if (pk == GNUTLS_PK_RSA && bits >= 1024) {
		k->alg = MF_DKIM_RSA_SHA256;
	} else if (pk == GNUTLS_PK_EDDSA_ED25519) {
		k->alg = MF_DKIM_ED25519_SHA256;
	} else {
		/* RFC 8301 §3.2: RSA keys below 1024 bits are not verified. */
		mf_err_set(e, MF_E_CONFIG, "DKIM key %s: %s%s key (%u bits); "
		    "DKIM needs RSA (1024 bits or more) or Ed25519", path,
		    pk == GNUTLS_PK_RSA ? "" : "unsupported ",
		    gnutls_pk_get_name(pk) ? gnutls_pk_get_name(pk) : "?", bits);
		goto fail;
	}
	gnutls_memset(pem.data, 0, pem.size);
	gnutls_free(pem.data);
	return k;
fail:
	if (pem.data != NULL) {
		gnutls_memset(pem.data, 0, pem.size);
		gnutls_free(pem.data);
	}
	if (x != NULL)
		gnutls_x509_privkey_deinit(x);
	mf_dkim_key_free(k);
	return NULL;
}

void
mf_dkim_key_free(struct mf_dkim_key *k)
{
	if (k == NULL)
		return;
	if (k->priv != NULL)
		gnutls_privkey_deinit(k->priv);
	free(k);
}

enum mf_dkim_alg
mf_dkim_key_alg(const struct mf_dkim_key *k)
{
	return k->alg;
}

const char *
mf_dkim_alg_name(enum mf_dkim_alg a)
{
	return a == MF_DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

int
mf_dkim_key_record(const struct mf_dkim_key *k, struct mf_buf *out,
                   struct mf_err *e)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t d = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	int rc;

	if ((rc = gnutls_pubkey_init(&pub)) < 0 ||
	    (rc = gnutls_pubkey_import_privkey(pub, k->priv, 0, 0)) < 0)
		goto fail;
	/* RFC 6376 §3.6.1: p= is the DER SubjectPublicKeyInfo for RSA;
	 * RFC 8463 §4: the bare 32-byte key for Ed25519. */
	if (k->alg == MF_DKIM_ED25519_SHA256)
		rc = gnutls_pubkey_export_ecc_raw2(pub, &curve, &d, NULL, 0);
	else
		rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &d);
	if (rc < 0)
		goto fail;
	rc = mf_buf_printf(out, e, "v=DKIM1; k=%s; p=", k->alg ==
	    MF_DKIM_ED25519_SHA256 ? "ed25519" : "rsa") == -1 ||
	    mf_base64_encode(d.data, d.size, out, e) == -1 ? -1 : 0;
	gnutls_free(d.data);
	gnutls_pubkey_deinit(pub);
	return rc;
fail:
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	return gtls_fail(e, MF_E_CONFIG, rc, "DKIM public key");
}

/* ---- signing ---- */

static int
valid_token(const char *s, int dots)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 253)
		return 0;
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && !(dots && s[i] == '.'))
			return 0;
	return 1;
}

static int
sign_data(const struct mf_dkim_key *k, const struct mf_buf *data,
          gnutls_datum_t *sig, struct mf_err *e)
{
	unsigned char h[32];
	gnutls_datum_t d;
	int rc;

	if (k->alg == MF_DKIM_RSA_SHA256) {
		/* RFC 6376 §3.3.1: RSASSA-PKCS1-v1_5 over SHA-256. */
		d.data = (unsigned char *)data->data;
		d.size = (unsigned)data->len;
		rc = gnutls_privkey_sign_data(k->priv, GNUTLS_DIG_SHA256, 0, &d,
		    sig);
	} else {
		/* RFC 8463 §3: PureEdDSA over the SHA-256 of the data. */
		if (mf_hash(MF_SHA256, data->data, data->len, h, e) == -1)
			return -1;
		d.data = h;
		d.size = sizeof(h);
		rc = gnutls_privkey_sign_data2(k->priv,
		    GNUTLS_SIGN_EDDSA_ED25519, 0, &d, sig);
	}
	return rc < 0 ? gtls_fail(e, MF_E_INTERNAL, rc, "DKIM signature") : 0;
}

/* base64 of a signature, folded with CRLF TAB (RFC 6376 §3.5: FWS is
 * allowed anywhere in b=) */
static int
put_folded_b64(const void *p, size_t n, struct mf_buf *out, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(1 << 16);
	size_t i;
	int rc = 0;

	if (mf_base64_encode(p, n, &b, e) == -1) {
		mf_buf_free(&b);
		return -1;
	}
	for (i = 0; rc == 0 && i < b.len; i += 72) {
		if (i > 0)
			rc = mf_buf_puts(out, "\r\n\t", e);
		if (rc == 0)
			rc = mf_buf_append(out, b.data + i, b.len - i > 72 ? 72 :
			    b.len - i, e);
	}
	mf_buf_free(&b);
	return rc;
}

static int
body_hash(const char *body, size_t len, struct mf_buf *out, struct mf_err *e)
{
	struct mf_buf c = MF_BUF_INIT(len + len / 8 + 64);
	unsigned char h[32];
	int rc;

	rc = mf_dkim_canon_body(body, len, &c, e) == -1 ||
	    mf_hash(MF_SHA256, c.data ? c.data : "", c.len, h, e) == -1 ||
	    mf_base64_encode(h, sizeof(h), out, e) == -1 ? -1 : 0;
	mf_buf_free(&c);
	return rc;
}

int
mf_dkim_sign_message(const struct mf_dkim_key *k, const struct mf_dkim_sign *p,
                     struct mf_buf *msg, struct mf_err *e)
{
	struct mf_buf hl = MF_BUF_INIT(1 << 14), field = MF_BUF_INIT(1 << 16);
	struct mf_buf data = MF_BUF_INIT(MF_DKIM_DATA_MAX), out;
	struct field one;
	gnutls_datum_t sig = { NULL, 0 };
	size_t hlen;
	int rc = -1;

	if (!valid_token(p->domain, 1) || !valid_token(p->selector, 1))
		return mf_err_set(e, MF_E_USAGE, "DKIM: bad %s '%s'",
		    valid_token(p->domain, 1) ? "selector" : "domain",
		    valid_token(p->domain, 1) ? (p->selector ? p->selector :
		    "") : (p->domain ? p->domain : ""));
	if (msg->len == 0 || split_fields(msg->data, msg->len, &one, 1,
	    &hlen) == 0)
		return mf_err_set(e, MF_E_DATA, "DKIM: the message has no "
		    "header");
	if (mf_dkim_header_list(msg->data, hlen, p->headers, &hl, e) == -1)
		goto out;
	/* RFC 6376 §3.5: the tags; b= last and empty while signing. */
	if (mf_buf_printf(&field, e, "DKIM-Signature: v=1; a=%s; "
	    "c=relaxed/relaxed; d=%s; s=%s;\r\n\t", mf_dkim_alg_name(k->alg),
	    p->domain, p->selector) == -1 || (p->when != 0 &&
	    mf_buf_printf(&field, e, "t=%lld; ", (long long)p->when) == -1) ||
	    mf_buf_printf(&field, e, "h=%s;\r\n\tbh=", hl.data) == -1 ||
	    body_hash(msg->data + hlen, msg->len - hlen, &field, e) == -1 ||
	    mf_buf_puts(&field, ";\r\n\tb=", e) == -1)
		goto out;
	/* §3.7: the selected fields, then this one without its CRLF. */
	if (mf_dkim_canon_selected(msg->data, hlen, hl.data, &data, e) == -1 ||
	    mf_dkim_canon_header(field.data, field.len, 0, &data, e) == -1 ||
	    sign_data(k, &data, &sig, e) == -1 ||
	    put_folded_b64(sig.data, sig.size, &field, e) == -1 ||
	    mf_buf_puts(&field, "\r\n", e) == -1)
		goto out;
	mf_buf_init(&out, msg->max);
	if (mf_buf_append(&out, field.data, field.len, e) == -1 ||
	    mf_buf_append(&out, msg->data, msg->len, e) == -1) {
		mf_buf_free(&out);
		goto out;
	}
	mf_buf_free(msg);
	*msg = out;
	rc = 0;
out:
	gnutls_free(sig.data);
	mf_buf_free(&hl);
	mf_buf_free(&field);
	mf_buf_free(&data);
	return rc;
}
