/* test_dkim.c - RFC 6376 relaxed canonicalisation (the §3.4.5 example and
 * more), header selection and over-signing, key loading errors, and
 * signatures checked with the public key (rsa-sha256, ed25519-sha256). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "base64.h"
#include "crypto.h"
#include "dkim.h"

static char *
canon_h(const char *f)
{
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_err e;

	cr_assert_eq(mf_dkim_canon_header(f, strlen(f), 1, &b, &e), 0, "%s",
	    e.msg);
	return mf_buf_take(&b);
}

static char *
canon_b(const char *s)
{
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_err e;

	cr_assert_eq(mf_dkim_canon_body(s, strlen(s), &b, &e), 0);
	return b.data ? mf_buf_take(&b) : strdup("");
}

/* RFC 6376 §3.4.5 */
Test(dkim, rfc6376_example_relaxed)
{
	char *a = canon_h("A: X\r\n");
	char *b = canon_h("B : Y\t\r\n\tZ  \r\n");
	char *body = canon_b(" C \r\nD \t E\r\n\r\n\r\n");

	cr_expect_str_eq(a, "a:X\r\n");
	cr_expect_str_eq(b, "b:Y Z\r\n");
	cr_expect_str_eq(body, " C\r\nD E\r\n");
	free(a);
	free(b);
	free(body);
}

struct bvec {
	const char *in, *out;
};

static const struct bvec bodies[] = {
	{ "", "" },                              /* errata 1384: empty */
	{ "\r\n\r\n", "" },                      /* only empty lines */
	{ "x", "x\r\n" },                        /* no final CRLF */
	{ "a\nb\n", "a\r\nb\r\n" },              /* bare LF */
	{ "a  \t b\t\r\n", "a b\r\n" },
	{ "a\r\n\r\n \t\r\nb\r\n", "a\r\n\r\n\r\nb\r\n" },  /* inner blanks kept */
	{ "a\r\n \r\n\t\r\n", "a\r\n" },         /* trailing blank lines go */
};

Test(dkim, body_table)
{
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char *c = canon_b(bodies[i].in);

		cr_expect_str_eq(c, bodies[i].out, "body %zu", i);
		free(c);
	}
}

Test(dkim, header_value_edges)
{
	char *a = canon_h("SUBJECT:no space\r\n");
	char *b = canon_h("X-Empty:   \r\n");
	char *c = canon_h("Folded: a\r\n  b\r\n\t c \r\n");

	cr_expect_str_eq(a, "subject:no space\r\n");
	cr_expect_str_eq(b, "x-empty:\r\n");
	cr_expect_str_eq(c, "folded:a b c\r\n");
	free(a);
	free(b);
	free(c);
}

static const char msg[] =
    "From: A <a@example.test>\r\n"
    "To: b@example.test\r\n"
    "Subject: first\r\n"
    "Received: x\r\n"
    "Subject: second\r\n"
    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    "\r\n"
    "body\r\n";

Test(dkim, default_list_oversigns)
{
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_err e;

	cr_assert_eq(mf_dkim_header_list(msg, strlen(msg), NULL, &b, &e), 0);
	cr_expect_str_eq(b.data, "from:to:subject:subject:date:"
	    "from:to:subject:date");
	mf_buf_free(&b);
}

Test(dkim, user_list_needs_from)
{
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_err e;

	cr_expect_eq(mf_dkim_header_list(msg, strlen(msg), "to:subject", &b,
	    &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
	mf_buf_reset(&b);
	cr_expect_eq(mf_dkim_header_list(msg, strlen(msg), "From, bad;name",
	    &b, &e), -1);
	mf_buf_reset(&b);
	cr_assert_eq(mf_dkim_header_list(msg, strlen(msg), "From,To : Date",
	    &b, &e), 0);
	cr_expect_str_eq(b.data, "from:to:date");
	mf_buf_free(&b);
}

/* RFC 6376 §5.4.2: instances from the bottom up; an extra name adds
 * nothing. */
Test(dkim, selection_bottom_up)
{
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_err e;

	cr_assert_eq(mf_dkim_canon_selected(msg, strlen(msg),
	    "subject:from:subject:subject:x-none", &b, &e), 0);
	cr_expect_str_eq(b.data, "subject:second\r\nfrom:A <a@example.test>\r\n"
	    "subject:first\r\n");
	mf_buf_free(&b);
}

Test(dkim, key_errors)
{
	struct mf_err e;
	char path[] = "/tmp/test_dkim_XXXXXX";
	int fd;

	cr_expect_null(mf_dkim_key_load("/nonexistent/key.pem", &e));
	cr_expect_eq(e.kind, MF_E_CONFIG);
	cr_expect(strstr(e.msg, "/nonexistent/key.pem") != NULL, "%s", e.msg);
	fd = mkstemp(path);
	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, "not a key\n", 10), 10);
	close(fd);
	cr_expect_null(mf_dkim_key_load(path, &e));
	cr_expect_eq(e.kind, MF_E_CONFIG);
	cr_expect(strstr(e.msg, "not an unencrypted PEM") != NULL, "%s", e.msg);
	unlink(path);
}

/* A fresh key of the given kind written to a temporary PEM file. */
static void
new_key(gnutls_pk_algorithm_t pk, unsigned bits, char *path)
{
	gnutls_x509_privkey_t x;
	gnutls_datum_t pem;
	FILE *f;
	int fd;

	cr_assert_eq(gnutls_x509_privkey_init(&x), 0);
	cr_assert_eq(gnutls_x509_privkey_generate(x, pk, bits, 0), 0);
	cr_assert_eq(gnutls_x509_privkey_export2_pkcs8(x, GNUTLS_X509_FMT_PEM,
	    NULL, GNUTLS_PKCS_PLAIN, &pem), 0);
	fd = mkstemp(path);
	cr_assert_neq(fd, -1);
	f = fdopen(fd, "w");
	fwrite(pem.data, 1, pem.size, f);
	fclose(f);
	gnutls_free(pem.data);
	gnutls_x509_privkey_deinit(x);
}

/* The value of tag t in the DKIM-Signature of m, FWS removed. */
static void
tag(const char *m, const char *t, char *out, size_t outlen)
{
	const char *end = strstr(m, "\r\n") ;
	const char *p;
	size_t o = 0;
	char pat[16];

	/* the field ends at the first line not starting with WSP */
	while (end && (end[2] == '\t' || end[2] == ' '))
		end = strstr(end + 2, "\r\n");
	snprintf(pat, sizeof(pat), "%s=", t);
	for (p = strstr(m, pat); p != NULL && p[-1] != ' ' && p[-1] != '\t';
	    p = strstr(p + 1, pat))
		;
	cr_assert(p != NULL && p < end, "no %s=", t);
	for (p += strlen(pat); p < end && *p != ';' && o + 1 < outlen; p++)
		if (*p != '\r' && *p != '\n' && *p != '\t' && *p != ' ')
			out[o++] = *p;
	out[o] = '\0';
}

static void
sign_and_check(gnutls_pk_algorithm_t pk, unsigned bits, const char *alg)
{
	char path[] = "/tmp/test_dkim_XXXXXX", v[4096];
	struct mf_buf m = MF_BUF_INIT(1 << 20), data = MF_BUF_INIT(1 << 20);
	struct mf_buf sig = MF_BUF_INIT(4096), rec = MF_BUF_INIT(4096);
	struct mf_dkim_sign p = { "example.test", "sel", NULL, 1700000000 };
	struct mf_dkim_key *k;
	struct mf_err e;
	gnutls_pubkey_t pub;
	gnutls_datum_t d, s;
	unsigned char h[32];
	const char *field;
	size_t flen;

	new_key(pk, bits, path);
	k = mf_dkim_key_load(path, &e);
	unlink(path);
	cr_assert_not_null(k, "%s", e.msg);
	cr_expect_str_eq(mf_dkim_alg_name(mf_dkim_key_alg(k)), alg);
	cr_assert_eq(mf_dkim_key_record(k, &rec, &e), 0);
	cr_expect(strncmp(rec.data, "v=DKIM1; k=", 11) == 0);
	mf_buf_puts(&m, msg, &e);
	cr_assert_eq(mf_dkim_sign_message(k, &p, &m, &e), 0, "%s", e.msg);
	cr_assert(strncmp(m.data, "DKIM-Signature: v=1; a=", 23) == 0);
	tag(m.data, "a", v, sizeof(v));
	cr_expect_str_eq(v, alg);
	tag(m.data, "t", v, sizeof(v));
	cr_expect_str_eq(v, "1700000000");
	tag(m.data, "bh", v, sizeof(v));
	/* sha256("body\r\n") */
	cr_assert_eq(mf_hash(MF_SHA256, "body\r\n", 6, h, &e), 0);
	mf_buf_reset(&sig);
	mf_base64_encode(h, 32, &sig, &e);
	cr_expect_str_eq(v, sig.data);

	/* Rebuild what a verifier hashes (§3.7) and check b= with the
	 * public key. */
	tag(m.data, "h", v, sizeof(v));
	field = m.data;
	flen = (size_t)(strstr(field, "\tb=") + 3 - field);
	cr_assert_eq(mf_dkim_canon_selected(m.data, m.len, v, &data, &e), 0);
	cr_assert_eq(mf_dkim_canon_header(field, flen, 0, &data, &e), 0);
	tag(m.data, "b", v, sizeof(v));
	mf_buf_reset(&sig);
	cr_assert_eq(mf_base64_decode(v, strlen(v), &sig, 0, &e), 0);
	cr_assert_eq(gnutls_pubkey_init(&pub), 0);
	{
		/* the public key from the private one, via the key record */
		const char *b64 = strstr(rec.data, "p=") + 2;
		struct mf_buf der = MF_BUF_INIT(4096);

		cr_assert_eq(mf_base64_decode(b64, strlen(b64), &der, 0, &e), 0);
		d.data = (unsigned char *)der.data;
		d.size = (unsigned)der.len;
		if (pk == GNUTLS_PK_RSA)
			cr_assert_eq(gnutls_pubkey_import(pub, &d,
			    GNUTLS_X509_FMT_DER), 0);
		else
			cr_assert_eq(gnutls_pubkey_import_ecc_raw(pub,
			    GNUTLS_ECC_CURVE_ED25519, &d, NULL), 0);
		mf_buf_free(&der);
	}
	s.data = (unsigned char *)sig.data;
	s.size = (unsigned)sig.len;
	if (pk == GNUTLS_PK_RSA) {
		d.data = (unsigned char *)data.data;
		d.size = (unsigned)data.len;
		cr_expect_geq(gnutls_pubkey_verify_data2(pub,
		    GNUTLS_SIGN_RSA_SHA256, 0, &d, &s), 0);
	} else {
		cr_assert_eq(mf_hash(MF_SHA256, data.data, data.len, h, &e), 0);
		d.data = h;
		d.size = 32;
		cr_expect_geq(gnutls_pubkey_verify_data2(pub,
		    GNUTLS_SIGN_EDDSA_ED25519, 0, &d, &s), 0);
	}
	gnutls_pubkey_deinit(pub);
	mf_dkim_key_free(k);
	mf_buf_free(&m);
	mf_buf_free(&data);
	mf_buf_free(&sig);
	mf_buf_free(&rec);
}

Test(dkim, rsa_sha256_verifies)
{
	sign_and_check(GNUTLS_PK_RSA, 1024, "rsa-sha256");
}

Test(dkim, ed25519_sha256_verifies)
{
	sign_and_check(GNUTLS_PK_EDDSA_ED25519, 256, "ed25519-sha256");
}

Test(dkim, small_rsa_refused)
{
	char path[] = "/tmp/test_dkim_XXXXXX";
	struct mf_err e;

	new_key(GNUTLS_PK_RSA, 512, path);
	cr_expect_null(mf_dkim_key_load(path, &e));
	unlink(path);
	cr_expect_eq(e.kind, MF_E_CONFIG);
	cr_expect(strstr(e.msg, "1024") != NULL, "%s", e.msg);
}

Test(dkim, bad_domain_refused)
{
	char path[] = "/tmp/test_dkim_XXXXXX";
	struct mf_buf m = MF_BUF_INIT(1 << 16);
	struct mf_dkim_sign p = { "exa mple;test", "sel", NULL, 0 };
	struct mf_dkim_key *k;
	struct mf_err e;

	new_key(GNUTLS_PK_EDDSA_ED25519, 256, path);
	k = mf_dkim_key_load(path, &e);
	unlink(path);
	cr_assert_not_null(k);
	mf_buf_puts(&m, msg, &e);
	cr_expect_eq(mf_dkim_sign_message(k, &p, &m, &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
	cr_expect_str_eq(m.data, msg);
	mf_dkim_key_free(k);
	mf_buf_free(&m);
}
