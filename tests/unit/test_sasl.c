/* test_sasl.c - SASL mechanisms against the RFC test vectors, and the
 * mechanism choice. */
#include <criterion/criterion.h>
#include <string.h>

#include "base64.h"
#include "sasl.h"
#include "sasl_vectors.h"

static struct mf_sasl *
start(const char *mech, const struct mf_sasl_params *p)
{
	struct mf_err e;
	struct mf_sasl *s = mf_sasl_new(mech, p, &e);

	cr_assert_not_null(s, "%s: %s", mech, e.msg);
	return s;
}

static void
expect_initial(struct mf_sasl *s, const char *want, size_t wantlen)
{
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_err e;
	int has = -1;

	cr_assert_eq(mf_sasl_initial(s, &b, &has, &e), 0, "%s", e.msg);
	cr_assert_eq(has, 1);
	cr_assert_eq(b.len, wantlen, "length %zu, want %zu", b.len, wantlen);
	cr_assert(wantlen == 0 || memcmp(b.data, want, wantlen) == 0,
	    "got '%s'", b.data);
	mf_buf_free(&b);
}

static void
step_ok(struct mf_sasl *s, const char *in, const char *want)
{
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_err e;

	mf_err_clear(&e);
	cr_assert_eq(mf_sasl_step(s, (const unsigned char *)in, strlen(in), &b,
	    &e), 0, "step '%s': %s", in, e.msg);
	cr_assert_str_eq(b.data ? b.data : "", want);
	mf_buf_free(&b);
}

/* ---- PLAIN, LOGIN, CRAM-MD5, EXTERNAL ---- */

Test(sasl, plain_rfc4616_examples)
{
	struct mf_sasl_params p = { 0 };
	struct mf_sasl *s;

	p.user = "tim";
	p.password = "tanstaaftanstaaf";
	s = start("PLAIN", &p);
	expect_initial(s, "\0tim\0tanstaaftanstaaf", 21);
	cr_assert_eq(mf_sasl_finish(s, NULL, 0, NULL), 0);
	mf_sasl_free(s);

	p.authzid = "Ursel";
	p.user = "Kurt";
	p.password = "xipj3plmq";
	s = start("plain", &p);
	cr_assert_str_eq(mf_sasl_mech(s), "PLAIN");
	expect_initial(s, "Ursel\0Kurt\0xipj3plmq", 20);
	mf_sasl_free(s);
}

Test(sasl, plain_empty_challenge_gets_the_initial_response)
{
	struct mf_sasl_params p = { 0 };
	struct mf_buf b = MF_BUF_INIT(256);
	struct mf_err e;
	struct mf_sasl *s;

	p.user = "tim";
	p.password = "pw";
	s = start("PLAIN", &p);
	cr_assert_eq(mf_sasl_step(s, (const unsigned char *)"", 0, &b, &e), 0);
	cr_assert_eq(b.len, 7);
	cr_assert(memcmp(b.data, "\0tim\0pw", 7) == 0);
	mf_buf_reset(&b);
	cr_assert_eq(mf_sasl_step(s, (const unsigned char *)"x", 1, &b, &e), -1);
	cr_assert_eq(e.kind, MF_E_PROTO);
	mf_buf_free(&b);
	mf_sasl_free(s);
}

Test(sasl, login_answers_by_order)
{
	struct mf_sasl_params p = { 0 };
	struct mf_buf b = MF_BUF_INIT(256);
	struct mf_err e;
	struct mf_sasl *s;
	int has = -1;

	p.user = "alice";
	p.password = "secret";
	s = start("LOGIN", &p);
	cr_assert_eq(mf_sasl_initial(s, &b, &has, &e), 0);
	cr_assert_eq(has, 0);
	cr_assert_eq(b.len, 0);
	step_ok(s, "Password:", "alice");      /* the text does not matter */
	step_ok(s, "Benutzername:", "secret");
	cr_assert_eq(mf_sasl_step(s, (const unsigned char *)"More:", 5, &b, &e), -1);
	mf_buf_free(&b);
	mf_sasl_free(s);
}

Test(sasl, cram_md5_rfc2195_example)
{
	struct mf_sasl_params p = { 0 };
	struct mf_buf b = MF_BUF_INIT(256);
	struct mf_err e;
	struct mf_sasl *s;
	int has = -1;

	p.user = "tim";
	p.password = "tanstaaftanstaaf";
	s = start("CRAM-MD5", &p);
	cr_assert_eq(mf_sasl_initial(s, &b, &has, &e), 0);
	cr_assert_eq(has, 0);
	step_ok(s, "<1896.697170952@postoffice.reston.mci.net>",
	    "tim b913a602c7eda7a495b4e6e7334d3890");
	cr_assert_eq(mf_sasl_finish(s, NULL, 0, &e), 0);
	mf_buf_free(&b);
	mf_sasl_free(s);
}

Test(sasl, external)
{
	struct mf_sasl_params p = { 0 };
	struct mf_sasl *s = start("EXTERNAL", &p);

	expect_initial(s, "", 0);
	mf_sasl_free(s);
	p.authzid = "admin";
	s = start("EXTERNAL", &p);
	expect_initial(s, "admin", 5);
	mf_sasl_free(s);
}

/* ---- SCRAM ---- */

Test(sasl, scram_vectors)
{
	size_t i;

	for (i = 0; i < sizeof(scram_vecs) / sizeof(scram_vecs[0]); i++) {
		const struct scram_vec *v = &scram_vecs[i];
		struct mf_sasl_params p = { 0 };
		struct mf_err e;
		struct mf_sasl *s;

		p.user = v->user;
		p.password = "pencil";
		p.test_nonce = v->nonce;
		p.cb_data = v->cb;
		p.cb_len = v->cb_len;
		p.cb_type = v->cb_type;
		p.server_plus = v->server_plus;
		s = start(v->mech, &p);
		expect_initial(s, v->client_first, strlen(v->client_first));
		cr_assert_eq(mf_sasl_finish(s, NULL, 0, &e), -1,
		    "finish before the server signature must fail");
		step_ok(s, v->server_first, v->client_final);
		step_ok(s, v->server_final, "");
		cr_assert_eq(mf_sasl_finish(s, NULL, 0, &e), 0, "%zu: %s", i, e.msg);
		mf_sasl_free(s);

		/* server-final delivered as success data (SMTP 235 / IMAP OK) */
		s = start(v->mech, &p);
		expect_initial(s, v->client_first, strlen(v->client_first));
		step_ok(s, v->server_first, v->client_final);
		cr_assert_eq(mf_sasl_finish(s, (const unsigned char *)v->server_final,
		    strlen(v->server_final), &e), 0, "%zu: %s", i, e.msg);
		mf_sasl_free(s);
	}
}

static struct mf_sasl *
scram_at_final(void)
{
	struct mf_sasl_params p = { 0 };
	struct mf_sasl *s;

	p.user = "user";
	p.password = "pencil";
	p.test_nonce = scram_vecs[0].nonce;
	s = start("SCRAM-SHA-1", &p);
	expect_initial(s, scram_vecs[0].client_first,
	    strlen(scram_vecs[0].client_first));
	step_ok(s, scram_vecs[0].server_first, scram_vecs[0].client_final);
	return s;
}

Test(sasl, scram_tampered_server_signature_refused)
{
	static const char *const bad[] = {
		"v=rmF9pqV8S7suAoZWja4dJRkFsKQ",        /* not valid base64 */
		"v=rmF9pqV8S7suAoZWja4dJRkFsKq=",       /* one bit off */
		"v=AAAA",                               /* too short */
		"x=rmF9pqV8S7suAoZWja4dJRkFsKQ=",       /* no v= */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mf_sasl *s = scram_at_final();
		struct mf_buf b = MF_BUF_INIT(256);
		struct mf_err e;

		cr_expect_eq(mf_sasl_step(s, (const unsigned char *)bad[i],
		    strlen(bad[i]), &b, &e), -1, "case %zu", i);
		cr_expect_eq(e.kind, MF_E_AUTH, "case %zu", i);
		cr_expect_eq(mf_sasl_finish(s, NULL, 0, &e), -1, "case %zu", i);
		cr_expect_eq(e.kind, MF_E_AUTH);
		mf_buf_free(&b);
		mf_sasl_free(s);
	}
}

Test(sasl, scram_server_error_refused_with_text)
{
	struct mf_sasl *s = scram_at_final();
	struct mf_buf b = MF_BUF_INIT(256);
	struct mf_err e;

	cr_assert_eq(mf_sasl_step(s, (const unsigned char *)"e=invalid-proof", 15,
	    &b, &e), -1);
	cr_assert_eq(e.kind, MF_E_AUTH);
	cr_assert(strstr(e.msg, "invalid-proof") != NULL, "%s", e.msg);
	cr_assert_str_eq(mf_sasl_server_error(s), "invalid-proof");
	mf_buf_free(&b);
	mf_sasl_free(s);
}

struct bad_first {
	const char *msg;
	enum mf_err_kind kind;
};

static const struct bad_first bad_firsts[] = {
	{ "r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096", MF_E_PROTO },
	{ "r=XXXX+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=4096", MF_E_PROTO },
	{ "r=fyko+d2lbbFgONRv9qkxdawL3rfc,i=4096", MF_E_PROTO },
	{ "r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92", MF_E_PROTO },
	{ "r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=0", MF_E_PROTO },
	{ "r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=99999999999",
	  MF_E_PROTO },
	{ "r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=!!!,i=4096", MF_E_PROTO },
	{ "m=ext,r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=4096",
	  MF_E_PROTO },
	{ "e=unknown-user", MF_E_AUTH },
};

Test(sasl, scram_bad_server_first)
{
	size_t i;

	for (i = 0; i < sizeof(bad_firsts) / sizeof(bad_firsts[0]); i++) {
		struct mf_sasl_params p = { 0 };
		struct mf_buf b = MF_BUF_INIT(1024);
		struct mf_err e;
		struct mf_sasl *s;

		p.user = "user";
		p.password = "pencil";
		p.test_nonce = "fyko+d2lbbFgONRv9qkxdawL";
		s = start("SCRAM-SHA-1", &p);
		expect_initial(s, scram_vecs[0].client_first,
		    strlen(scram_vecs[0].client_first));
		cr_expect_eq(mf_sasl_step(s, (const unsigned char *)bad_firsts[i].msg,
		    strlen(bad_firsts[i].msg), &b, &e), -1, "case %zu", i);
		cr_expect_eq(e.kind, bad_firsts[i].kind, "case %zu: %s", i, e.msg);
		mf_buf_free(&b);
		mf_sasl_free(s);
	}
}

Test(sasl, scram_random_nonce_and_saslprep)
{
	struct mf_sasl_params p = { 0 };
	struct mf_buf b1 = MF_BUF_INIT(256), b2 = MF_BUF_INIT(256);
	struct mf_err e;
	struct mf_sasl *s1, *s2;
	int has;

	p.user = "user";
	p.password = "pencil";
	s1 = start("SCRAM-SHA-256", &p);
	s2 = start("SCRAM-SHA-256", &p);
	cr_assert_eq(mf_sasl_initial(s1, &b1, &has, &e), 0);
	cr_assert_eq(mf_sasl_initial(s2, &b2, &has, &e), 0);
	cr_assert(strncmp(b1.data, "n,,n=user,r=", 12) == 0, "%s", b1.data);
	cr_assert_geq(strlen(b1.data + 12), 24);
	cr_assert_str_neq(b1.data, b2.data);
	mf_sasl_free(s1);
	mf_sasl_free(s2);
	mf_buf_reset(&b1);

	/* RFC 4013 §3: U+00AD maps to nothing, U+00A0 to a space */
	p.user = "us\xc2\xad" "er\xc2\xa0x";
	p.test_nonce = "N";
	s1 = start("SCRAM-SHA-1", &p);
	cr_assert_eq(mf_sasl_initial(s1, &b1, &has, &e), 0, "%s", e.msg);
	cr_assert_str_eq(b1.data, "n,,n=user x,r=N");
	mf_sasl_free(s1);
	mf_buf_reset(&b1);

	/* control characters and invalid UTF-8 are refused */
	p.user = "us\ter";
	s1 = start("SCRAM-SHA-1", &p);
	cr_assert_eq(mf_sasl_initial(s1, &b1, &has, &e), -1);
	cr_assert_eq(e.kind, MF_E_AUTH);
	mf_sasl_free(s1);
	p.user = "us\xff";
	s1 = start("SCRAM-SHA-1", &p);
	cr_assert_eq(mf_sasl_initial(s1, &b1, &has, &e), -1);
	mf_sasl_free(s1);
	mf_buf_free(&b1);
	mf_buf_free(&b2);
}

Test(sasl, scram_plus_needs_channel_binding)
{
	struct mf_sasl_params p = { 0 };
	struct mf_err e;

	p.user = "u";
	p.password = "p";
	cr_assert_null(mf_sasl_new("SCRAM-SHA-256-PLUS", &p, &e));
	cr_assert_eq(e.kind, MF_E_UNSUPPORTED);
	cr_assert_null(mf_sasl_new("DIGEST-MD5", &p, &e));
	cr_assert_eq(e.kind, MF_E_UNSUPPORTED);
}

Test(sasl, new_needs_the_right_secret)
{
	static const char *const pw_mechs[] = { "PLAIN", "LOGIN", "CRAM-MD5",
	    "SCRAM-SHA-1", "SCRAM-SHA-256" };
	struct mf_sasl_params p = { 0 };
	struct mf_err e;
	size_t i;

	p.user = "u";
	p.token = "tok";
	for (i = 0; i < sizeof(pw_mechs) / sizeof(pw_mechs[0]); i++) {
		cr_expect_null(mf_sasl_new(pw_mechs[i], &p, &e), "%s", pw_mechs[i]);
		cr_expect_eq(e.kind, MF_E_AUTH);
	}
	p.token = NULL;
	p.password = "pw";
	cr_expect_null(mf_sasl_new("XOAUTH2", &p, &e));
	cr_expect_null(mf_sasl_new("OAUTHBEARER", &p, &e));
	cr_expect_eq(e.kind, MF_E_AUTH);
}

/* ---- OAuth ---- */

Test(sasl, xoauth2_encoding)
{
	struct mf_sasl_params p = { 0 };
	struct mf_sasl *s;
	static const char want[] =
	    "user=someuser@example.com\001auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg\001\001";

	p.user = "someuser@example.com";
	p.token = "ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg";
	s = start("XOAUTH2", &p);
	expect_initial(s, want, sizeof(want) - 1);
	mf_sasl_free(s);
}

Test(sasl, oauthbearer_rfc7628_example)
{
	struct mf_sasl_params p = { 0 };
	struct mf_buf b = MF_BUF_INIT(1024), enc = MF_BUF_INIT(1024);
	struct mf_err e;
	struct mf_sasl *s;
	int has;
	static const char want[] = "n,a=user@example.com,\001"
	    "host=server.example.com\001port=143\001"
	    "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\001\001";

	p.user = "user@example.com";
	p.token = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";
	p.host = "server.example.com";
	p.port = 143;
	s = start("OAUTHBEARER", &p);
	cr_assert_eq(mf_sasl_initial(s, &b, &has, &e), 0);
	cr_assert_eq(b.len, sizeof(want) - 1);
	cr_assert(memcmp(b.data, want, b.len) == 0);
	/* and the base64 of it as printed in RFC 7628 §4.1 */
	cr_assert_eq(mf_base64_encode(b.data, b.len, &enc, &e), 0);
	cr_assert_str_eq(enc.data, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVy"
	    "LmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52Yj"
	    "NSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
	mf_buf_free(&b);
	mf_buf_free(&enc);
	mf_sasl_free(s);
}

Test(sasl, oauth_error_challenge)
{
	struct mf_sasl_params p = { 0 };
	struct mf_buf b = MF_BUF_INIT(64);
	struct mf_err e;
	struct mf_sasl *s;
	static const char json[] = "{\"status\":\"invalid_token\",\"scope\":"
	    "\"example_scope\",\"openid-configuration\":\"https://example.com/"
	    ".well-known/openid-configuration\"}";

	p.user = "user@example.com";
	p.token = "tok";
	s = start("OAUTHBEARER", &p);
	cr_assert_eq(mf_sasl_step(s, (const unsigned char *)json,
	    sizeof(json) - 1, &b, &e), 0, "%s", e.msg);
	cr_assert_eq(b.len, 1);
	cr_assert_eq(b.data[0], '\001');
	cr_assert_str_eq(mf_sasl_server_error(s),
	    "status invalid_token (the token is expired or revoked); required"
	    " scope: example_scope; see https://example.com/.well-known/"
	    "openid-configuration");
	mf_sasl_free(s);

	mf_buf_reset(&b);
	s = start("XOAUTH2", &p);
	cr_assert_str_eq(mf_sasl_server_error(s), "");
	cr_assert_eq(mf_sasl_step(s, (const unsigned char *)json,
	    sizeof(json) - 1, &b, &e), 0, "%s", e.msg);
	cr_assert_eq(b.len, 0);
	cr_assert(strncmp(mf_sasl_server_error(s), "status invalid_token", 20)
	    == 0);
	mf_sasl_free(s);
	mf_buf_free(&b);
}

struct oauth_err {
	const char *in;
	const char *want;
};

static const struct oauth_err oauth_errs[] = {
	{ "{\"status\":\"401\",\"schemes\":\"Bearer\",\"scope\":"
	  "\"https://mail.google.com/\"}",
	  "status 401 (invalid_token: the token is expired or revoked);"
	  " required scope: https://mail.google.com/" },
	/* the same, base64 as it comes off the wire */
	{ "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczov"
	  "L21haWwuZ29vZ2xlLmNvbS8ifQ==",
	  "status 401 (invalid_token: the token is expired or revoked);"
	  " required scope: https://mail.google.com/" },
	/* RFC 7628 §4.3 failure payload, base64 */
	{ "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwi"
	  "b3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtu"
	  "b3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=",
	  "status invalid_token (the token is expired or revoked); required"
	  " scope: example_scope; see https://example.com/.well-known/"
	  "openid-configuration" },
	{ " { \"status\" : 400 , \"schemes\" : \"MAC\" } ",
	  "status 400 (invalid_request: the request is malformed); schemes: MAC" },
	{ "{\"status\":\"insufficient_scope\"}",
	  "status insufficient_scope (the token lacks the required scope)" },
	{ "{\"status\":\"418\",\"x\":\"y\"}", "status 418" },
	{ "{\"status\":\"a\\\"b\\nc\"}", "status a\"b c" },
	{ "{\"scope\":\"s\"}", "" },            /* no status: not such a payload */
	{ "{\"status\":\"401\"", "" },           /* truncated */
	{ "{\"status\":{\"nested\":1}}", "" },
	{ "not json at all", "" },
	{ "", "" },
};

Test(sasl, describe_oauth_error)
{
	size_t i;

	for (i = 0; i < sizeof(oauth_errs) / sizeof(oauth_errs[0]); i++) {
		char out[512];

		mf_sasl_describe_oauth_error((const unsigned char *)oauth_errs[i].in,
		    strlen(oauth_errs[i].in), out, sizeof(out));
		cr_expect_str_eq(out, oauth_errs[i].want, "case %zu", i);
	}
}

Test(sasl, describe_oauth_error_truncates_safely)
{
	char out[10];

	mf_sasl_describe_oauth_error((const unsigned char *)oauth_errs[0].in,
	    strlen(oauth_errs[0].in), out, sizeof(out));
	cr_assert_str_eq(out, "status 40");
}

/* ---- choosing ---- */

struct choose_case {
	const char *offered, *want;
	int password, token, cb, encrypted, allow_plain;
	const char *result;      /* NULL: must fail */
	const char *msg;         /* substring of the error */
};

static const struct choose_case choose_cases[] = {
	{ "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256", NULL, 1, 0, 0, 1, 0,
	  "SCRAM-SHA-256", NULL },
	{ "PLAIN SCRAM-SHA-256-PLUS SCRAM-SHA-256", NULL, 1, 0, 1, 1, 0,
	  "SCRAM-SHA-256-PLUS", NULL },
	{ "PLAIN SCRAM-SHA-256-PLUS SCRAM-SHA-256", NULL, 1, 0, 0, 1, 0,
	  "SCRAM-SHA-256", NULL },             /* -PLUS only with cb data */
	{ "SCRAM-SHA-256-PLUS", NULL, 1, 0, 0, 1, 0, NULL, "channel binding" },
	{ "SCRAM-SHA-256-PLUS GSSAPI", NULL, 1, 0, 0, 1, 0, NULL,
	  "only SCRAM-SHA-256-PLUS would do, and it needs TLS channel binding" },
	{ "PLAIN SCRAM-SHA-1 CRAM-MD5", NULL, 1, 0, 0, 1, 0, "SCRAM-SHA-1", NULL },
	{ "LOGIN CRAM-MD5 PLAIN", NULL, 1, 0, 0, 0, 0, "CRAM-MD5", NULL },
	{ "LOGIN PLAIN", NULL, 1, 0, 0, 1, 0, "PLAIN", NULL },
	{ "login", NULL, 1, 0, 0, 1, 0, "LOGIN", NULL },
	{ "LOGIN PLAIN", NULL, 1, 0, 0, 0, 0, NULL,
	  "the server offers LOGIN PLAIN but not over an unencrypted connection" },
	{ "LOGIN PLAIN", NULL, 1, 0, 0, 0, 1, "PLAIN", NULL },
	{ "GSSAPI NTLM", NULL, 1, 0, 0, 1, 0, NULL,
	  "none of the offered mechanisms (GSSAPI NTLM) is supported" },
	{ "", NULL, 1, 0, 0, 1, 0, NULL, "offers no SASL mechanisms" },
	{ "PLAIN XOAUTH2 OAUTHBEARER SCRAM-SHA-256", NULL, 1, 1, 0, 1, 0,
	  "OAUTHBEARER", NULL },                /* a token goes first */
	{ "PLAIN XOAUTH2 SCRAM-SHA-256", NULL, 0, 1, 0, 1, 0, "XOAUTH2", NULL },
	{ "PLAIN XOAUTH2 SCRAM-SHA-256", NULL, 1, 0, 0, 1, 0, "SCRAM-SHA-256",
	  NULL },                               /* no token: no OAuth */
	{ "XOAUTH2 OAUTHBEARER", NULL, 1, 1, 0, 0, 0, NULL,
	  "not over an unencrypted connection" },
	{ "PLAIN SCRAM-SHA-256 EXTERNAL", NULL, 1, 0, 0, 1, 0, "SCRAM-SHA-256",
	  NULL },
	{ "EXTERNAL", NULL, 1, 0, 0, 1, 0, NULL, "none of the offered" },
	{ "PLAIN SCRAM-SHA-256 EXTERNAL", "EXTERNAL", 0, 0, 0, 1, 0, "EXTERNAL",
	  NULL },
	{ "PLAIN SCRAM-SHA-256 CRAM-MD5", "PLAIN", 1, 0, 0, 1, 0, "PLAIN", NULL },
	{ "PLAIN SCRAM-SHA-256 CRAM-MD5", "plain,cram-md5", 1, 0, 0, 1, 0,
	  "CRAM-MD5", NULL },
	{ "PLAIN SCRAM-SHA-256", "auto", 1, 0, 0, 1, 0, "SCRAM-SHA-256", NULL },
	{ "PLAIN SCRAM-SHA-256", "CRAM-MD5", 1, 0, 0, 1, 0, NULL,
	  "does not offer the requested mechanism (CRAM-MD5)" },
	{ "PLAIN", "PLAIN", 1, 0, 0, 0, 0, NULL, "not over an unencrypted" },
	/* Cyrus offers SCRAM-SHA-1-PLUS: not "the server does not offer". */
	{ "PLAIN SCRAM-SHA-1-PLUS SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", 1, 0, 1, 1, 0,
	  NULL, "SCRAM-SHA-1-PLUS is not supported by mailflow (the server offers" },
	{ "PLAIN SCRAM-SHA-256", NULL, 0, 0, 0, 1, 0, NULL, "no password" },
};

/* The secret is a bearer token only when OAuth mechanisms alone are asked
 * for; otherwise a password must never be offered as a token. */
Test(sasl, secret_is_token_only_when_oauth_is_asked_for)
{
	static const struct { const char *want; int token; } t[] = {
		{ NULL, 0 }, { "", 0 }, { "auto", 0 }, { "PLAIN", 0 },
		{ "XOAUTH2", 1 }, { "xoauth2", 1 }, { "OAUTHBEARER", 1 },
		{ "XOAUTH2 OAUTHBEARER", 1 }, { "OAUTHBEARER,XOAUTH2", 1 },
		{ "XOAUTH2 PLAIN", 0 }, { "SCRAM-SHA-256", 0 }, { " , ", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_assert_eq(mf_sasl_secret_is_token(t[i].want), t[i].token,
		    "want '%s'", t[i].want ? t[i].want : "(null)");
}

Test(sasl, choose_table)
{
	static const unsigned char cb[4] = { 1, 2, 3, 4 };
	size_t i;

	for (i = 0; i < sizeof(choose_cases) / sizeof(choose_cases[0]); i++) {
		const struct choose_case *c = &choose_cases[i];
		struct mf_sasl_params p = { 0 };
		struct mf_err e;
		char out[64] = "";
		int r;

		p.user = "u";
		p.password = c->password ? "pw" : NULL;
		p.token = c->token ? "tok" : NULL;
		p.cb_data = c->cb ? cb : NULL;
		p.cb_len = c->cb ? sizeof(cb) : 0;
		mf_err_clear(&e);
		r = mf_sasl_choose(c->offered, c->want, &p, c->encrypted,
		    c->allow_plain, out, sizeof(out), &e);
		if (c->result != NULL) {
			cr_expect_eq(r, 0, "case %zu: %s", i, e.msg);
			cr_expect_str_eq(out, c->result, "case %zu", i);
		} else {
			cr_expect_eq(r, -1, "case %zu chose %s", i, out);
			cr_expect_eq(e.kind, MF_E_UNSUPPORTED, "case %zu", i);
			cr_expect(strstr(e.msg, c->msg) != NULL,
			    "case %zu: '%s' lacks '%s'", i, e.msg, c->msg);
		}
	}
}

Test(sasl, mechanism_lists)
{
	cr_assert(mf_sasl_supported("scram-sha-256"));
	cr_assert(mf_sasl_supported("LOGIN"));
	cr_assert_not(mf_sasl_supported("DIGEST-MD5"));
	cr_assert_not(mf_sasl_supported(""));
	cr_assert(mf_sasl_is_plaintext("PLAIN"));
	cr_assert(mf_sasl_is_plaintext("login"));
	cr_assert_not(mf_sasl_is_plaintext("CRAM-MD5"));
	cr_assert_not(mf_sasl_is_plaintext("SCRAM-SHA-1"));
	cr_assert_str_eq(mf_sasl_mechs[2], "SCRAM-SHA-256-PLUS");
}

/* Junk from the server must give an error or an answer, never a crash. */
Test(sasl, random_server_messages_never_crash)
{
	static const char alphabet[] = "rsiemv=,{}\":abcAB+/0123456789 \001";
	static const char *const mechs[] = { "SCRAM-SHA-1", "SCRAM-SHA-256",
	    "CRAM-MD5", "LOGIN", "PLAIN", "OAUTHBEARER", "XOAUTH2" };
	unsigned seed = 777;
	int i;

	for (i = 0; i < 2000; i++) {
		struct mf_sasl_params p = { 0 };
		struct mf_buf b = MF_BUF_INIT(4096);
		struct mf_err e;
		struct mf_sasl *s;
		char msg[200], out[128];
		size_t n = (size_t)(i % 199), k;
		int has, step;

		for (k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			msg[k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		msg[n] = '\0';
		mf_sasl_describe_oauth_error((unsigned char *)msg, n, out, sizeof(out));
		p.user = "user";
		p.password = "pencil";
		p.token = "tok";
		p.test_nonce = "r";   /* so "r=r..." nonces can match */
		s = mf_sasl_new(mechs[i % 7], &p, &e);
		cr_assert_not_null(s);
		cr_assert_eq(mf_sasl_initial(s, &b, &has, &e), 0);
		for (step = 0; step < 3; step++) {
			mf_buf_reset(&b);
			if (mf_sasl_step(s, (unsigned char *)msg, n, &b, &e) == -1)
				break;
		}
		(void)mf_sasl_finish(s, (unsigned char *)msg, n, &e);
		mf_buf_free(&b);
		mf_sasl_free(s);
	}
}

/* ---- mf_sasl_login: choice, gs2 flag per attempt, one fallback ---- */

struct fake_server {
	int refuse_plus;     /* answer a -PLUS attempt with a refusal */
	int refuse_all;      /* refuse every attempt */
	int impostor;        /* fail the -PLUS attempt without a server reply */
	int attempts;
	char mechs[4][64];
	char gs2[4][64];     /* the client-first's gs2 header */
};

static int
fake_attempt(void *arg, const char *mech, const struct mf_sasl_params *p,
             struct mf_err *e)
{
	struct fake_server *f = arg;
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_sasl *s;
	int has = 0, plus;
	size_t n;

	cr_assert_lt(f->attempts, 4);
	mf_strlcpy(f->mechs[f->attempts], mech, sizeof(f->mechs[0]));
	s = start(mech, p);
	cr_assert_eq(mf_sasl_initial(s, &b, &has, e), 0);
	cr_assert_not_null(b.data);
	cr_assert_not_null(strstr(b.data, ",n=user,"));
	n = (size_t)(strstr(b.data, ",n=user,") - b.data) + 1;  /* gs2 header */
	snprintf(f->gs2[f->attempts], sizeof(f->gs2[0]), "%.*s", (int)n,
	    b.data ? b.data : "");
	f->attempts++;
	mf_sasl_free(s);
	mf_buf_free(&b);
	plus = strstr(mech, "-PLUS") != NULL;
	if (plus && f->impostor)
		return mf_err_set(e, MF_E_AUTH, "wrong server signature");
	if (f->refuse_all || (plus && f->refuse_plus))
		return mf_err_reply(e, MF_E_AUTH, 0, NULL, "bad protocol / cancel",
		    "refused: bad protocol / cancel");
	return 0;
}

static void
collect_note(void *arg, enum mf_tx_dir dir, int tls, const char *line)
{
	(void)tls;
	if (dir == MF_TX_INFO)
		mf_strlcpy(arg, line, 256);
}

static int
login(struct fake_server *f, const char *offered, const char *want,
      const unsigned char *cb, struct mf_err *e, char *used, char *note)
{
	struct mf_sasl_params p = { 0 };
	struct mf_transcript *tr = mf_transcript_new_cb(collect_note, note, 0);
	int r;

	p.user = "user";
	p.password = "pencil";
	p.cb_data = cb;
	p.cb_len = cb ? 12 : 0;
	p.cb_type = cb ? "tls-unique" : NULL;
	note[0] = '\0';
	mf_err_clear(e);
	r = mf_sasl_login(offered, want, &p, 1, 0, fake_attempt, f, tr, used, 64,
	    e);
	mf_transcript_free(tr);
	return r;
}

Test(sasl_login, binds_when_plus_offered)
{
	struct fake_server f = { 0 };
	struct mf_err e;
	char used[64], note[256];

	cr_assert_eq(login(&f, "PLAIN SCRAM-SHA-256 SCRAM-SHA-256-PLUS", NULL,
	    cb32, &e, used, note), 0, "%s", e.msg);
	cr_assert_eq(f.attempts, 1);
	cr_assert_str_eq(used, "SCRAM-SHA-256-PLUS");
	cr_assert_str_eq(f.gs2[0], "p=tls-unique,,");
}

Test(sasl_login, y_only_when_no_plus_offered)
{
	struct fake_server f = { 0 };
	struct mf_err e;
	char used[64], note[256];

	cr_assert_eq(login(&f, "PLAIN SCRAM-SHA-256", NULL, cb32, &e, used,
	    note), 0, "%s", e.msg);
	cr_assert_str_eq(f.gs2[0], "y,,");
	memset(&f, 0, sizeof(f));
	/* Not on TLS: "n". */
	cr_assert_eq(login(&f, "PLAIN SCRAM-SHA-256 SCRAM-SHA-256-PLUS", NULL,
	    NULL, &e, used, note), 0, "%s", e.msg);
	cr_assert_str_eq(used, "SCRAM-SHA-256");
	cr_assert_str_eq(f.gs2[0], "n,,");
	memset(&f, 0, sizeof(f));
	/* Asked for the non-PLUS one beside an offered -PLUS: "n". */
	cr_assert_eq(login(&f, "SCRAM-SHA-256 SCRAM-SHA-256-PLUS",
	    "SCRAM-SHA-256", cb32, &e, used, note), 0, "%s", e.msg);
	cr_assert_str_eq(f.gs2[0], "n,,");
}

/* Cyrus: -PLUS offered, our binding type refused: once more without
 * binding, saying "n", and a note for -v. */
Test(sasl_login, auto_falls_back_once_when_plus_refused)
{
	struct fake_server f = { 0 };
	struct mf_err e;
	char used[64], note[256];

	f.refuse_plus = 1;
	cr_assert_eq(login(&f, "SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN", "auto",
	    cb32, &e, used, note), 0, "%s", e.msg);
	cr_assert_eq(f.attempts, 2);
	cr_assert_str_eq(f.mechs[0], "SCRAM-SHA-256-PLUS");
	cr_assert_str_eq(f.mechs[1], "SCRAM-SHA-256");
	cr_assert_str_eq(f.gs2[1], "n,,");
	cr_assert_str_eq(used, "SCRAM-SHA-256");
	cr_assert(strstr(note, "SCRAM-SHA-256-PLUS refused (bad protocol / "
	    "cancel); trying SCRAM-SHA-256 without channel binding") != NULL,
	    "note '%s'", note);

	/* Refused again: only one retry, and the error says both. */
	memset(&f, 0, sizeof(f));
	f.refuse_all = 1;
	cr_assert_eq(login(&f, "SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN", NULL,
	    cb32, &e, used, note), -1);
	cr_assert_eq(f.attempts, 2);
	cr_assert_eq(e.kind, MF_E_AUTH);
	cr_assert(strstr(e.msg, "after SCRAM-SHA-256-PLUS was refused") != NULL,
	    "%s", e.msg);
}

Test(sasl_login, no_fallback_when_named_or_server_unproven)
{
	struct fake_server f = { 0 };
	struct mf_err e;
	char used[64], note[256];

	/* The user named the mechanism: no other is tried. */
	f.refuse_plus = 1;
	cr_assert_eq(login(&f, "SCRAM-SHA-256-PLUS SCRAM-SHA-256",
	    "SCRAM-SHA-256-PLUS", cb32, &e, used, note), -1);
	cr_assert_eq(f.attempts, 1);
	cr_assert_str_eq(note, "");

	/* The server failed to prove itself (no refusal from it): stop. */
	memset(&f, 0, sizeof(f));
	f.impostor = 1;
	cr_assert_eq(login(&f, "SCRAM-SHA-256-PLUS SCRAM-SHA-256", NULL, cb32,
	    &e, used, note), -1);
	cr_assert_eq(f.attempts, 1);
	cr_assert(strstr(e.msg, "wrong server signature") != NULL);

	/* A refused non-PLUS mechanism is final. */
	memset(&f, 0, sizeof(f));
	f.refuse_all = 1;
	cr_assert_eq(login(&f, "SCRAM-SHA-256 PLAIN", NULL, cb32, &e, used,
	    note), -1);
	cr_assert_eq(f.attempts, 1);
}

Test(sasl_login, offers_plus)
{
	cr_assert(mf_sasl_offers_plus("PLAIN SCRAM-SHA-1-PLUS"));
	cr_assert(mf_sasl_offers_plus("scram-sha-256-plus,PLAIN"));
	cr_assert_not(mf_sasl_offers_plus("PLAIN SCRAM-SHA-256"));
	cr_assert_not(mf_sasl_offers_plus("-PLUS"));
	cr_assert_not(mf_sasl_offers_plus(NULL));
}

/* smtp-auth-test --discover names the strongest working mechanism by this
 * order: SCRAM above CRAM-MD5 above the plaintext ones. */
Test(sasl, rank_orders_by_strength)
{
	cr_assert_lt(mf_sasl_rank("SCRAM-SHA-256-PLUS"),
	    mf_sasl_rank("scram-sha-256"));
	cr_assert_lt(mf_sasl_rank("SCRAM-SHA-256"), mf_sasl_rank("SCRAM-SHA-1"));
	cr_assert_lt(mf_sasl_rank("SCRAM-SHA-1"), mf_sasl_rank("CRAM-MD5"));
	cr_assert_lt(mf_sasl_rank("CRAM-MD5"), mf_sasl_rank("PLAIN"));
	cr_assert_lt(mf_sasl_rank("PLAIN"), mf_sasl_rank("LOGIN"));
	cr_assert_lt(mf_sasl_rank("LOGIN"), mf_sasl_rank("NTLM"));
	cr_assert_eq(mf_sasl_rank("NTLM"), mf_sasl_rank("GSSAPI"));
}

/* RFC 4954 §4: only a mechanism that sends first and ends in one round
 * trip without a security layer may be pipelined (PLAIN, EXTERNAL). */
Test(sasl, one_round_mechanisms)
{
	cr_assert_eq(mf_sasl_one_round("PLAIN"), 1);
	cr_assert_eq(mf_sasl_one_round("plain"), 1);
	cr_assert_eq(mf_sasl_one_round("EXTERNAL"), 1);
	cr_assert_eq(mf_sasl_one_round("LOGIN"), 0);
	cr_assert_eq(mf_sasl_one_round("CRAM-MD5"), 0);
	cr_assert_eq(mf_sasl_one_round("SCRAM-SHA-256"), 0);
	cr_assert_eq(mf_sasl_one_round("XOAUTH2"), 0);
	cr_assert_eq(mf_sasl_one_round("OAUTHBEARER"), 0);
	cr_assert_eq(mf_sasl_one_round("NOSUCH"), 0);
}
