/* test_smimeenc.c - lib/smimeenc.c (which certificate each recipient is
 * encrypted to, and why one is refused) and the S/MIME enveloped-data
 * message lib/seal.c builds, opened by the openssl command.  The
 * certificates are made by certtool at test time. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "hookrun.h"
#include "seal.h"
#include "smimeenc.h"

static char dir[256];
static int gen_failed;

#define run(...) hook_run(&gen_failed, __VA_ARGS__)

/* certs/NAME.pem, self-signed with KEY-key.pem, from template lines. */
static void
cert(const char *name, const char *key, const char *tmpl)
{
	run("cd %s && printf '%%s\\n' %s >%s.tmpl && certtool "
	    "--generate-self-signed --load-privkey %s-key.pem --template "
	    "%s.tmpl --outfile certs/%s.pem >/dev/null 2>&1", dir, tmpl, name,
	    key, name, name);
}

#define MAIL "'email_protection_key' 'encryption_key' 'signing_key' "
#define YEAR "'expiration_days = 365'"

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	snprintf(dir, sizeof(dir), "/tmp/mf-test-smime.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return;
	run("cd %s && mkdir certs && certtool --generate-privkey "
	    "--key-type=rsa --bits=2048 --outfile rsa-key.pem >/dev/null 2>&1 "
	    "&& certtool --generate-privkey --key-type=ecdsa --outfile "
	    "ec-key.pem >/dev/null 2>&1 && certtool --generate-privkey "
	    "--key-type=ed25519 --outfile ed-key.pem >/dev/null 2>&1", dir);
	cert("bob", "rsa", "'cn = Bob' 'email = bob@example.test' " MAIL YEAR);
	cert("bob-old", "rsa", "'cn = Bob old' 'email = bob@example.test' "
	    MAIL "'expiration_days = 10'");
	cert("carol", "rsa", "'cn = Carol' 'email = carol@example.test' " MAIL
	    "'activation_date = \"2020-01-01 00:00:00\"' "
	    "'expiration_date = \"2021-01-01 00:00:00\"'");
	/* certtool writes no rfc822Name with a TLS-only extended key usage:
	 * the address goes into the subject. */
	cert("dave", "rsa", "'cn = Dave' "
	    "'dn_oid = 1.2.840.113549.1.9.1 dave@example.test' "
	    "'tls_www_server' 'encryption_key' " YEAR);
	cert("erin", "rsa", "'cn = Erin' 'email = erin@example.test' "
	    "'email_protection_key' 'signing_key' " YEAR);
	cert("frank", "rsa", "'cn = Frank' 'email = frank@example.test' "
	    "'encryption_key' " YEAR);
	cert("gina", "ec", "'cn = Gina' 'email = gina@example.test' "
	    "'email_protection_key' 'key_agreement' " YEAR);
	cert("hank", "ed", "'cn = Hank' 'email = hank@example.test' "
	    "'email_protection_key' 'signing_key' " YEAR);
	cert("ivy", "rsa", "'cn = Ivy' "
	    "'dn_oid = 1.2.840.113549.1.9.1 ivy@example.test' " MAIL YEAR);
	cert("ca", "ec", "'cn = Some CA' 'ca' 'cert_signing_key' " YEAR);
	run("cd %s && cat certs/bob.pem certs/ca.pem >bob-chain.pem && "
	    "printf 'not a certificate\\n' >junk.pem && cp rsa-key.pem certs/",
	    dir);
	/* The tests run in processes of their own: tell them where. */
	if (!gen_failed)
		setenv("MF_TEST_SMIME_DIR", dir, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char cmd[300];

	(void)stats;
	/* MF_TEST_KEEP=1 leaves the files for a look. */
	if (getenv("MF_TEST_KEEP") == NULL &&
	    strncmp(dir, "/tmp/mf-test-smime.", 19) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
}

/* DIR/name (certs/x.pem, rsa-key.pem ...). */
static const char *
path(const char *name)
{
	static char paths[8][512];
	static int next;
	char *p = paths[next++ % 8];
	const char *d = getenv("MF_TEST_SMIME_DIR");

	cr_assert_not_null(d, "certificates were not generated (certtool "
	    "from gnutls-bin is needed)");
	if (dir[0] == '\0')
		mf_strlcpy(dir, d, sizeof(dir));
	snprintf(p, 512, "%s/%s", d, name);
	return p;
}

static struct mf_smime_enc *
load1(const char *name, const char *store)
{
	const char *p[1];
	struct mf_smime_enc *c;
	struct mf_err e;

	p[0] = path(name);
	c = mf_smime_enc_load(p, 1, store, &e);
	cr_assert_not_null(c, "%s", e.msg);
	return c;
}

static char warnings[4096];

static void
collect(void *arg, const char *text)
{
	size_t n = strlen(warnings);

	(void)arg;
	snprintf(warnings + n, sizeof(warnings) - n, "%s\n", text);
}

/* Pick for one address; returns the result, e filled. */
static int
pick1(struct mf_smime_enc *c, const char *addr, struct mf_err *e)
{
	const char *a[1] = { addr };

	warnings[0] = '\0';
	mf_err_clear(e);
	return mf_smime_enc_pick(c, a, 1, time(NULL), collect, NULL, e);
}

Test(load, missing_unreadable_and_non_pem_files_are_config_errors)
{
	const char *p[1];
	struct mf_err e;

	p[0] = path("certs/nosuch.pem");
	cr_assert_null(mf_smime_enc_load(p, 1, NULL, &e));
	cr_assert_eq(e.kind, MF_E_CONFIG);
	cr_assert(strstr(e.msg, "nosuch.pem: No such file") != NULL, "%s", e.msg);
	p[0] = path("junk.pem");
	cr_assert_null(mf_smime_enc_load(p, 1, NULL, &e));
	cr_assert_eq(e.kind, MF_E_CONFIG);
	cr_assert(strstr(e.msg, "junk.pem: no PEM certificate") != NULL, "%s",
	    e.msg);
	/* A private key given as a certificate holds none either. */
	p[0] = path("rsa-key.pem");
	cr_assert_null(mf_smime_enc_load(p, 1, NULL, &e));
	cr_assert_eq(e.kind, MF_E_CONFIG);
	/* The store is read as well, before anything is sent. */
	p[0] = path("certs/bob.pem");
	cr_assert_null(mf_smime_enc_load(p, 1, path("nostore"), &e));
	cr_assert(strstr(e.msg, "nostore") != NULL, "%s", e.msg);
}

Test(pick, the_certificate_naming_the_address_case_insensitively)
{
	struct mf_smime_enc *c = load1("certs/bob.pem", NULL);
	struct mf_err e;
	char d[1024];

	cr_assert_eq(pick1(c, "Bob@Example.TEST", &e), 0, "%s", e.msg);
	mf_smime_enc_describe(c, d, sizeof(d));
	cr_assert(strstr(d, "Bob@Example.TEST (") != NULL, "%s", d);
	cr_assert(strstr(d, "certs/bob.pem)") != NULL, "%s", d);
	cr_assert_str_empty(warnings);
	mf_smime_enc_free(c);
}

Test(pick, a_recipient_without_certificate_is_a_data_error_naming_it)
{
	struct mf_smime_enc *c = load1("certs/bob.pem", NULL);
	const char *a[2] = { "bob@example.test", "zoe@example.test" };
	struct mf_err e;

	cr_assert_eq(mf_smime_enc_pick(c, a, 2, time(NULL), NULL, NULL, &e), -1);
	cr_assert_eq(e.kind, MF_E_DATA);
	cr_assert(strstr(e.msg, "no certificate for the recipient "
	    "zoe@example.test") != NULL, "%s", e.msg);
	/* Near misses do not match. */
	cr_assert_eq(pick1(c, "ob@example.test", &e), -1);
	cr_assert_eq(pick1(c, "bob@example.tes", &e), -1);
	cr_assert_eq(pick1(c, "bob@example.test.evil", &e), -1);
	mf_smime_enc_free(c);
}

/* Each unusable certificate: the address, the file and the reason. */
Test(pick, unusable_certificates_are_refused_with_the_reason)
{
	static const struct {
		const char *file, *addr, *why;
	} t[] = {
		{ "certs/carol.pem", "carol@example.test", "has expired" },
		{ "certs/dave.pem", "dave@example.test", "lacks emailProtection" },
		{ "certs/erin.pem", "erin@example.test", "keyEncipherment" },
		{ "certs/hank.pem", "hank@example.test", "RSA or EC needed" },
	};
	struct mf_smime_enc *c;
	struct mf_err e;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		c = load1(t[i].file, NULL);
		cr_assert_eq(pick1(c, t[i].addr, &e), -1, "%s", t[i].file);
		cr_assert_eq(e.kind, MF_E_DATA);
		cr_assert(strstr(e.msg, t[i].addr) != NULL, "%s", e.msg);
		cr_assert(strstr(e.msg, t[i].file) != NULL, "%s", e.msg);
		cr_assert(strstr(e.msg, t[i].why) != NULL, "%s", e.msg);
		cr_assert(strstr(e.msg, "nothing sent") != NULL, "%s", e.msg);
		mf_smime_enc_free(c);
	}
}

Test(pick, no_eku_ec_keys_and_subject_email_are_usable)
{
	struct mf_smime_enc *c = load1("certs/frank.pem", path("certs"));
	const char *a[3] = { "frank@example.test", "gina@example.test",
	    "ivy@example.test" };
	struct mf_err e;

	cr_assert_eq(mf_smime_enc_pick(c, a, 3, time(NULL), NULL, NULL, &e), 0,
	    "%s", e.msg);
	mf_smime_enc_free(c);
}

Test(pick, a_directory_skips_keys_and_prefers_the_latest_expiry)
{
	const char *p[1];
	struct mf_smime_enc *c;
	struct mf_err e;
	char d[1024];

	/* certs/ holds bob.pem and bob-old.pem for the same address, an
	 * expired one for carol and a private key. */
	p[0] = path("certs");
	cr_assert_not_null(c = mf_smime_enc_load(p, 1, NULL, &e), "%s", e.msg);
	cr_assert_eq(pick1(c, "bob@example.test", &e), 0, "%s", e.msg);
	mf_smime_enc_describe(c, d, sizeof(d));
	cr_assert(strstr(d, "certs/bob.pem") != NULL, "%s", d);
	cr_assert_eq(pick1(c, "carol@example.test", &e), -1);
	cr_assert(strstr(e.msg, "has expired") != NULL, "%s", e.msg);
	/* A directory's certificates are looked in, never warned about. */
	cr_assert_str_empty(warnings);
	mf_smime_enc_free(c);
}

Test(pick, a_named_certificate_for_no_recipient_is_warned_about_and_unused)
{
	const char *p[2];
	struct mf_smime_enc *c;
	struct mf_err e;
	char d[1024];

	p[0] = path("bob-chain.pem");   /* its CA is no recipient: no word */
	p[1] = path("certs/frank.pem");
	cr_assert_not_null(c = mf_smime_enc_load(p, 2, NULL, &e), "%s", e.msg);
	cr_assert_eq(pick1(c, "bob@example.test", &e), 0, "%s", e.msg);
	cr_assert(strstr(warnings, "frank.pem (CN=Frank) is for none of the "
	    "recipients: not used\n") != NULL, "%s", warnings);
	cr_assert_null(strstr(warnings, "Some CA"), "%s", warnings);
	mf_smime_enc_describe(c, d, sizeof(d));
	cr_assert_null(strstr(d, "frank"), "%s", d);
	mf_smime_enc_free(c);
}

Test(self, the_senders_certificate_must_be_usable)
{
	struct mf_smime_enc *c = load1("certs/bob.pem", NULL);
	struct mf_err e;
	char d[1024];

	cr_assert_eq(mf_smime_enc_add_self(c, path("certs/carol.pem"),
	    time(NULL), &e), -1);
	cr_assert_eq(e.kind, MF_E_CONFIG);
	cr_assert(strstr(e.msg, "carol.pem (CN=Carol) has expired") != NULL,
	    "%s", e.msg);
	cr_assert_eq(mf_smime_enc_add_self(c, path("nosuch.pem"), time(NULL),
	    &e), -1);
	cr_assert_eq(e.kind, MF_E_CONFIG);
	cr_assert_eq(mf_smime_enc_add_self(c, path("certs/frank.pem"),
	    time(NULL), &e), 0, "%s", e.msg);
	cr_assert_eq(pick1(c, "bob@example.test", &e), 0, "%s", e.msg);
	mf_smime_enc_describe(c, d, sizeof(d));
	cr_assert(strstr(d, "the sender (") != NULL, "%s", d);
	mf_smime_enc_free(c);
}

/* ---- the message, opened by openssl ---- */

static void
write_text(const char *name, const char *data, size_t len)
{
	FILE *f = fopen(path(name), "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static char *
read_text(const char *name)
{
	FILE *f = fopen(path(name), "r");
	static char buf[65536];
	size_t n;

	cr_assert_not_null(f, "%s", name);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* openssl cms -decrypt of DIR/in with certs/CERT and KEY-key.pem into
 * DIR/out; its exit status. */
static int
decrypt(const char *in, const char *certname, const char *key,
        const char *out)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cd %s && openssl cms -decrypt -binary -in "
	    "%s -recip certs/%s.pem -inkey %s-key.pem -out %s 2>%s.err", dir,
	    in, certname, key, out, out);
	return system(cmd);
}

static const char plain[] =
    "From: Frank <frank@example.test>\r\n"
    "To: bob@example.test\r\n"
    "Subject: quarterly\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Gr\xc3\xbc\xc3\x9f" "e, the numbers\r\n";

static void
seal(struct mf_seal_params *p, const char *const *rcpts, size_t n,
     struct mf_buf *msg, const char *out)
{
	struct mf_seal *s;
	struct mf_err e;

	mf_buf_init(msg, 1 << 20);
	cr_assert_eq(mf_buf_append(msg, plain, sizeof(plain) - 1, &e), 0);
	cr_assert_not_null(s = mf_seal_new(p, NULL, NULL, &e), "%s", e.msg);
	cr_assert_eq(mf_seal_apply(s, msg, "frank@example.test", rcpts, n,
	    &e), 0, "%s", e.msg);
	mf_seal_free(s);
	write_text(out, msg->data, msg->len);
}

Test(message, enveloped_data_for_every_recipient_and_the_sender)
{
	struct mf_seal_params p;
	const char *rcpts[2] = { "bob@example.test", "gina@example.test" };
	struct mf_buf msg;
	char *head, *dec;

	memset(&p, 0, sizeof(p));
	p.smime_encrypt[p.nsmime_encrypt++] = path("certs/bob.pem");
	p.smime_recipient_certs = path("certs");
	p.smime_cert = path("certs/frank.pem");
	seal(&p, rcpts, 2, &msg, "env.eml");
	/* RFC 8551 §3.3: the outer fields stay, the content is one
	 * application/pkcs7-mime part. */
	head = strndup(msg.data, (size_t)(strstr(msg.data, "\r\n\r\n") -
	    msg.data));
	cr_assert(strstr(head, "From: Frank <frank@example.test>\r\n") != NULL);
	cr_assert(strstr(head, "Subject: quarterly\r\n") != NULL);
	cr_assert(strstr(head, "MIME-Version: 1.0\r\nContent-Type: "
	    "application/pkcs7-mime; smime-type=enveloped-data; "
	    "name=\"smime.p7m\"\r\nContent-Transfer-Encoding: base64\r\n") !=
	    NULL, "%s", head);
	cr_assert_null(strstr(head, "text/plain"), "%s", head);
	free(head);
	cr_assert_null(strstr(msg.data, "numbers"));
	/* Each of them opens it: RSA (bob, frank the sender), EC (gina). */
	cr_assert_eq(decrypt("env.eml", "bob", "rsa", "bob.out"), 0, "%s",
	    read_text("bob.out.err"));
	cr_assert_eq(decrypt("env.eml", "gina", "ec", "gina.out"), 0, "%s",
	    read_text("gina.out.err"));
	cr_assert_eq(decrypt("env.eml", "frank", "rsa", "frank.out"), 0,
	    "%s", read_text("frank.out.err"));
	/* The entity, Content- fields and all, made 7-bit first. */
	dec = read_text("gina.out");
	cr_assert_str_eq(dec, "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "Gr=C3=BC=C3=9Fe, the numbers\r\n");
	cr_assert_str_eq(read_text("bob.out"), dec);
	{
		char cmd[1024];

		snprintf(cmd, sizeof(cmd), "cd %s && openssl cms -cmsout -print "
		    "-in env.eml | grep -q 'aes-256-cbc'", dir);
		cr_assert_eq(system(cmd), 0, "not AES-256-CBC");
	}
	mf_buf_free(&msg);
}

Test(message, signed_then_encrypted)
{
	struct mf_seal_params p;
	const char *rcpts[1] = { "bob@example.test" };
	struct mf_buf msg;
	char cmd[1024];

	memset(&p, 0, sizeof(p));
	p.smime_sign = 1;
	p.smime_cert = path("certs/frank.pem");
	p.smime_key = path("rsa-key.pem");
	p.smime_encrypt[p.nsmime_encrypt++] = path("certs/bob.pem");
	seal(&p, rcpts, 1, &msg, "signenc.eml");
	cr_assert_null(strstr(msg.data, "multipart/signed"));
	cr_assert_eq(decrypt("signenc.eml", "bob", "rsa", "inner.eml"), 0, "%s",
	    read_text("inner.eml.err"));
	/* RFC 8551 §3.7: inside is the multipart/signed entity. */
	cr_assert(strncmp(read_text("inner.eml"), "Content-Type: "
	    "multipart/signed; protocol=\"application/pkcs7-signature\"", 60)
	    == 0, "%s", read_text("inner.eml"));
	snprintf(cmd, sizeof(cmd), "cd %s && openssl smime -verify -CAfile "
	    "certs/frank.pem -purpose any -in inner.eml -out verified "
	    ">/dev/null 2>&1 && grep -q 'the numbers' verified", dir);
	cr_assert_eq(system(cmd), 0, "openssl smime -verify fails");
	mf_buf_free(&msg);
}
