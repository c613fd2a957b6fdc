/* test_tls.c - lib/crypto.c vectors and lib/tls.c against a GnuTLS server
 * run in a forked child over a socketpair, with certificates made by
 * certtool at test time (valid, expired, not yet valid, unknown CA,
 * self-signed, intermediate-signed).  The server side needs GnuTLS here;
 * the library's own code uses it only in tls.c and crypto.c. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "buf.h"
#include "hookrun.h"
#include "crypto.h"
#include "sock.h"
#include "tls.h"

/* ------------------------------------------------------------ crypto */

static void
unhex(const char *h, unsigned char *out, size_t *len)
{
	size_t n = 0;

	for (; h[0] != '\0' && h[1] != '\0'; h += 2) {
		unsigned v;

		sscanf(h, "%2x", &v);
		out[n++] = (unsigned char)v;
	}
	*len = n;
}

struct hash_vec {
	enum mf_hash h;
	const char *in;
	const char *hex;
};

static const struct hash_vec hash_vecs[] = {
	{ MF_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad" },
	{ MF_MD5, "", "d41d8cd98f00b204e9800998ecf8427e" },
	{ MF_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ MF_SHA512, "abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea2"
	    "0a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e"
	    "2a9ac94fa54ca49f" },
};

Test(crypto, hash_vectors)
{
	unsigned char out[64];
	char hex[129];
	struct mf_err e;
	size_t i;

	for (i = 0; i < sizeof(hash_vecs) / sizeof(hash_vecs[0]); i++) {
		const struct hash_vec *v = &hash_vecs[i];

		cr_assert_eq(mf_hash(v->h, v->in, strlen(v->in), out, &e), 0);
		mf_hex(out, mf_hash_len(v->h), hex);
		cr_assert_str_eq(hex, v->hex, "vector %zu", i);
	}
	cr_assert_eq(mf_hash_len(MF_MD5), 16);
	cr_assert_eq(mf_hash_len(MF_SHA1), 20);
	cr_assert_eq(mf_hash_len(MF_SHA256), 32);
	cr_assert_eq(mf_hash_len(MF_SHA512), 64);
}

/* RFC 4231 test case 2 (key "Jefe"). */
Test(crypto, hmac_sha256_rfc4231_case2)
{
	unsigned char out[32];
	char hex[65];
	struct mf_err e;
	const char *data = "what do ya want for nothing?";

	cr_assert_eq(mf_hmac(MF_SHA256, "Jefe", 4, data, strlen(data), out, &e),
	    0);
	mf_hex(out, 32, hex);
	cr_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
}

/* RFC 2202 test case 2 for HMAC-MD5 (CRAM-MD5's MAC). */
Test(crypto, hmac_md5_rfc2202_case2)
{
	unsigned char out[16];
	char hex[33];
	struct mf_err e;
	const char *data = "what do ya want for nothing?";

	cr_assert_eq(mf_hmac(MF_MD5, "Jefe", 4, data, strlen(data), out, &e), 0);
	mf_hex(out, 16, hex);
	cr_assert_str_eq(hex, "750c783e6ab0b503eaa86e310a5db738");
}

struct pbkdf2_vec {
	const char *pass;
	size_t passlen;
	const char *salt;
	size_t saltlen;
	unsigned iter;
	const char *hex;
};

/* RFC 6070 (PBKDF2-HMAC-SHA1). */
static const struct pbkdf2_vec pbkdf2_vecs[] = {
	{ "password", 8, "salt", 4, 1,
	    "0c60c80f961f0e71f3a9b524af6012062fe037a6" },
	{ "password", 8, "salt", 4, 2,
	    "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957" },
	{ "password", 8, "salt", 4, 4096,
	    "4b007901b765489abead49d926f721d065a429c1" },
	{ "passwordPASSWORDpassword", 24,
	    "saltSALTsaltSALTsaltSALTsaltSALTsalt", 36, 4096,
	    "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038" },
	{ "pass\0word", 9, "sa\0lt", 5, 4096,
	    "56fa6aa75548099dcc37d7f03425e0c3" },
};

Test(crypto, pbkdf2_sha1_rfc6070)
{
	unsigned char out[64];
	char hex[129];
	struct mf_err e;
	size_t i, n;

	for (i = 0; i < sizeof(pbkdf2_vecs) / sizeof(pbkdf2_vecs[0]); i++) {
		const struct pbkdf2_vec *v = &pbkdf2_vecs[i];

		n = strlen(v->hex) / 2;
		cr_assert_eq(mf_pbkdf2(MF_SHA1, v->pass, v->passlen, v->salt,
		    v->saltlen, v->iter, out, n, &e), 0, "%s", e.msg);
		mf_hex(out, n, hex);
		cr_assert_str_eq(hex, v->hex, "vector %zu", i);
	}
}

/* PBKDF2-HMAC-SHA256 ("password", "salt"), the vectors everybody checks
 * against (the same inputs as RFC 6070), and SHA-512 with c=1. */
Test(crypto, pbkdf2_sha256_sha512)
{
	unsigned char out[64];
	char hex[129];
	struct mf_err e;

	cr_assert_eq(mf_pbkdf2(MF_SHA256, "password", 8, "salt", 4, 1, out, 32,
	    &e), 0);
	mf_hex(out, 32, hex);
	cr_assert_str_eq(hex, "120fb6cffcf8b32c43e7225256c4f837"
	    "a86548c92ccc35480805987cb70be17b");
	cr_assert_eq(mf_pbkdf2(MF_SHA256, "password", 8, "salt", 4, 4096, out,
	    32, &e), 0);
	mf_hex(out, 32, hex);
	cr_assert_str_eq(hex, "c5e478d59288c841aa530db6845c4c8d"
	    "962893a001ce4e11a4963873aa98134a");
	cr_assert_eq(mf_pbkdf2(MF_SHA512, "password", 8, "salt", 4, 1, out, 64,
	    &e), 0);
	mf_hex(out, 64, hex);
	cr_assert_str_eq(hex, "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5"
	    "d513554e1c8cf252c02d470a285a0501bad999bfe943c08f050235d7d68b1da5"
	    "5e63f73b60a57fce");
	cr_assert_eq(mf_pbkdf2(MF_SHA256, "pencil", 6, "salt", 4, 0, out, 32,
	    &e), -1);
}

Test(crypto, random_and_hex)
{
	unsigned char a[32], b[32];
	char hex[7];
	struct mf_err e;
	const unsigned char in[3] = { 0x00, 0xab, 0xff };

	cr_assert_eq(mf_random(a, sizeof(a), &e), 0);
	cr_assert_eq(mf_random(b, sizeof(b), &e), 0);
	cr_assert(memcmp(a, b, sizeof(a)) != 0);
	mf_hex(in, 3, hex);
	cr_assert_str_eq(hex, "00abff");
}

/* --------------------------------------------------------- modes, pins */

Test(tls, mode_parse_table)
{
	static const struct {
		const char *in;
		int rc;
		enum mf_tls_mode m;
	} t[] = {
		{ "starttls", 0, MF_TLS_STARTTLS }, { "STARTTLS", 0,
		MF_TLS_STARTTLS }, { "implicit", 0, MF_TLS_IMPLICIT },
		{ "tls", 0, MF_TLS_IMPLICIT }, { "ssl", 0, MF_TLS_IMPLICIT },
		{ "none", 0, MF_TLS_NONE }, { "auto", 0, MF_TLS_AUTO },
		{ "", -1, MF_TLS_UNSET }, { "start-tls", -1, MF_TLS_UNSET },
		{ "yes", -1, MF_TLS_UNSET },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum mf_tls_mode m = MF_TLS_UNSET;

		cr_assert_eq(mf_tls_mode_parse(t[i].in, &m), t[i].rc, "'%s'",
		    t[i].in);
		cr_assert_eq(m, t[i].m, "'%s'", t[i].in);
	}
	cr_assert_eq(mf_tls_mode_parse(NULL, &(enum mf_tls_mode){ 0 }), -1);
	cr_assert_str_eq(mf_tls_mode_name(MF_TLS_STARTTLS), "starttls");
	cr_assert_str_eq(mf_tls_mode_name(MF_TLS_IMPLICIT), "implicit");
	cr_assert_str_eq(mf_tls_mode_name(MF_TLS_NONE), "none");
	cr_assert_str_eq(mf_tls_mode_name(MF_TLS_AUTO), "auto");
}

Test(tls, pin_parse_table)
{
	static const char *hex = "aaa44a9702029868d50db59d7ea35a71"
	    "d8ea79797bba2bbe3294bde83bfcd12e";
	static const struct {
		const char *in;
		int rc;
		int kind;
	} t[] = {
		{ "aaa44a9702029868d50db59d7ea35a71d8ea79797bba2bbe3294bde83bfcd12e",
		    0, 1 },
		{ "AA:A4:4A:97:02:02:98:68:D5:0D:B5:9D:7E:A3:5A:71:D8:EA:79:79:"
		    "7B:BA:2B:BE:32:94:BD:E8:3B:FC:D1:2E", 0, 1 },
		{ "sha256/qqRKlwICmGjVDbWdfqNacdjqeXl7uiu+MpS96Dv80S4=", 0, 2 },
		{ "SHA256/qqRKlwICmGjVDbWdfqNacdjqeXl7uiu+MpS96Dv80S4=", 0, 2 },
		{ "aaa44a97", -1, 0 },                         /* short */
		{ "aaa44a9702029868d50db59d7ea35a71d8ea79797bba2bbe3294bde83bfcd12e00",
		    -1, 0 },                                   /* long */
		{ "zaa44a9702029868d50db59d7ea35a71d8ea79797bba2bbe3294bde83bfcd12e",
		    -1, 0 },                                   /* not hex */
		{ "A:AA4:4A:97:02:02:98:68:D5:0D:B5:9D:7E:A3:5A:71:D8:EA:79:79:"
		    "7B:BA:2B:BE:32:94:BD:E8:3B:FC:D1:2E", -1, 0 }, /* split byte */
		{ "sha256/qqRKlwICmGjVDbWdfqNacdjqeXl7", -1, 0 }, /* 24 bytes */
		{ "sha256/!!!", -1, 0 },
		{ "", -1, 0 },
	};
	unsigned char out[32];
	char got[65];
	struct mf_err e;
	size_t i;
	int kind;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		kind = 0;
		mf_err_clear(&e);
		cr_assert_eq(mf_tls_parse_pin(t[i].in, out, &kind, &e), t[i].rc,
		    "'%s'", t[i].in);
		if (t[i].rc == 0) {
			mf_hex(out, 32, got);
			cr_assert_str_eq(got, hex, "'%s'", t[i].in);
			cr_assert_eq(kind, t[i].kind);
		} else {
			cr_assert_eq(e.kind, MF_E_USAGE);
			cr_assert(strstr(e.msg, "bad fingerprint") != NULL);
		}
	}
}

Test(tls, format_cert_one_line)
{
	struct mf_cert_info c;
	char out[1024];

	memset(&c, 0, sizeof(c));
	mf_strlcpy(c.subject, "CN=mail.example.test", sizeof(c.subject));
	mf_strlcpy(c.issuer, "CN=Test CA", sizeof(c.issuer));
	mf_strlcpy(c.sans, "DNS:mail.example.test, IP:127.0.0.1",
	    sizeof(c.sans));
	c.not_before = 1767225600;  /* 2026-01-01 00:00 UTC */
	c.not_after = 1798761600;   /* 2027-01-01 00:00 UTC */
	mf_strlcpy(c.key_desc, "RSA 2048", sizeof(c.key_desc));
	mf_strlcpy(c.sha256, "ab", sizeof(c.sha256));
	mf_tls_format_cert(&c, out, sizeof(out));
	cr_assert(strchr(out, '\n') == NULL);
	cr_assert(strstr(out, "s:CN=mail.example.test i:CN=Test CA") != NULL,
	    "%s", out);
	cr_assert(strstr(out, "DNS:mail.example.test, IP:127.0.0.1") != NULL);
	cr_assert(strstr(out, "2026-01-01 00:00 UTC..2027-01-01 00:00 UTC")
	    != NULL, "%s", out);
	cr_assert(strstr(out, "RSA 2048") != NULL);
	mf_tls_format_cert(&c, out, 10);
	cr_assert_eq(strlen(out), 9);
}

Test(tls, not_tls_transport)
{
	int sv[2];
	struct mf_err e;
	struct mf_transport *t;
	unsigned char cb[32];
	size_t n = sizeof(cb);

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	t = mf_sock_from_fd(sv[0], &e);
	cr_assert_null(mf_tls_get_info(t));
	{
		const char *type = NULL;

		cr_assert_eq(mf_tls_channel_binding(t, &type, cb, &n, &e), -1);
	}
	cr_assert_eq(mf_tls_save_session(t, &e), -1);
	mf_transport_free(t);
	close(sv[1]);
}

/* ------------------------------------------------ certificates on disk */

static char certdir[256];

static int gen_failed;  /* set when a certtool run failed (in the hook) */

#define run(...) hook_run(&gen_failed, __VA_ARGS__)

static void
write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", certdir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		gen_failed = 1;
		return;
	}
	fputs(text, f);
	fclose(f);
}

static void
key(const char *name)
{
	run("cd %s && certtool --generate-privkey --key-type=ecdsa "
	    "--outfile %s-key.pem >/dev/null 2>&1", certdir, name);
}

static void
ca(const char *name, const char *cn)
{
	char t[256];

	snprintf(t, sizeof(t), "cn = \"%s\"\nca\ncert_signing_key\n"
	    "expiration_days = 3650\n", cn);
	write_file("tmpl", t);
	key(name);
	run("cd %s && certtool --generate-self-signed --load-privkey "
	    "%s-key.pem --template tmpl --outfile %s.pem >/dev/null 2>&1",
	    certdir, name, name);
}

static void
intermediate(const char *name, const char *cn, const char *signer)
{
	char t[256];

	snprintf(t, sizeof(t), "cn = \"%s\"\nca\ncert_signing_key\n"
	    "expiration_days = 3650\n", cn);
	write_file("tmpl", t);
	key(name);
	run("cd %s && certtool --generate-certificate --load-privkey "
	    "%s-key.pem --load-ca-certificate %s.pem --load-ca-privkey "
	    "%s-key.pem --template tmpl --outfile %s.pem >/dev/null 2>&1",
	    certdir, name, signer, signer, name);
}

/* A server certificate; dates: NULL for "valid now". signer NULL:
 * self-signed. */
static void
leaf(const char *name, const char *cn, const char *sans, const char *from,
     const char *until, const char *signer)
{
	char t[1024];

	snprintf(t, sizeof(t), "cn = \"%s\"\n%s\ntls_www_server\nsigning_key\n"
	    "%s%s%s%s%s%s", cn, sans,
	    from ? "activation_date = \"" : "expiration_days = 365\n",
	    from ? from : "", from ? "\"\n" : "",
	    until ? "expiration_date = \"" : "", until ? until : "",
	    until ? "\"\n" : "");
	write_file("tmpl", t);
	key(name);
	if (signer == NULL)
		run("cd %s && certtool --generate-self-signed --load-privkey "
		    "%s-key.pem --template tmpl --outfile %s.pem >/dev/null "
		    "2>&1", certdir, name, name);
	else
		run("cd %s && certtool --generate-certificate --load-privkey "
		    "%s-key.pem --load-ca-certificate %s.pem --load-ca-privkey "
		    "%s-key.pem --template tmpl --outfile %s.pem >/dev/null "
		    "2>&1", certdir, name, signer, signer, name);
}

#define GOOD_SANS "dns_name = \"localhost\"\ndns_name = \"mail.example.test\"\n" \
	"ip_address = \"127.0.0.1\""

static void
make_certs(void)
{
	ca("ca", "mailflow unit CA");
	ca("unknown-ca", "mailflow unit unknown CA");
	intermediate("inter", "mailflow unit intermediate", "ca");
	leaf("good", "mail.example.test", GOOD_SANS, NULL, NULL, "ca");
	leaf("expired", "mail.example.test", GOOD_SANS, "2020-01-01 00:00:00",
	    "2021-01-01 00:00:00", "ca");
	leaf("future", "mail.example.test", GOOD_SANS, "2099-01-01 00:00:00",
	    "2100-01-01 00:00:00", "ca");
	leaf("wrongname", "wrong.example.net", "dns_name = \"wrong.example.net\"",
	    NULL, NULL, "ca");
	leaf("unknownca", "mail.example.test", GOOD_SANS, NULL, NULL,
	    "unknown-ca");
	leaf("selfsigned", "selfsigned.example.test",
	    "dns_name = \"localhost\"", NULL, NULL, NULL);
	leaf("viainter", "mail.example.test", GOOD_SANS, NULL, NULL, "inter");
	run("cd %s && cat viainter.pem inter.pem > viainter-chain.pem",
	    certdir);
}

/* Once for the whole run, before the test workers are forked. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	snprintf(certdir, sizeof(certdir), "/tmp/mf-test-tls.XXXXXX");
	if (mkdtemp(certdir) == NULL)
		return;
	make_certs();
	if (!gen_failed)
		setenv("MF_TEST_TLS_CERTS", certdir, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char cmd[300];

	(void)stats;
	if (certdir[0] != '\0' && strncmp(certdir, "/tmp/mf-test-tls.", 17)
	    == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", certdir);
	}
}

static const char *
cert(const char *name)
{
	static char paths[8][512];
	static int next;
	char *p = paths[next++ % 8];
	const char *d = getenv("MF_TEST_TLS_CERTS");

	cr_assert_not_null(d, "certificates were not generated (certtool "
	    "from gnutls-bin is needed)");
	snprintf(p, 512, "%s/%s.pem", d, name);
	return p;
}

static const char *
keyfile(const char *name)
{
	static char paths[4][512];
	static int next;
	char *p = paths[next++ % 4];

	snprintf(p, 512, "%s/%s-key.pem", getenv("MF_TEST_TLS_CERTS"), name);
	return p;
}

/* ------------------------------------------------------ a GnuTLS server */

/* SRV_TLS_CB: instead of "hello", the server sends its own view of the
 * channel binding (tls-exporter on TLS 1.3, tls-unique before) in hex. */
/* SRV_TLS_BURST: instead of "hello", BURST_RECORDS records of BURST_LEN
 * bytes, each in its own write (as Dovecot sends a long reply). */
enum srv_mode { SRV_TLS, SRV_PLAINTEXT, SRV_SILENT, SRV_TLS_NO_BYE, SRV_TLS_CB,
                SRV_TLS_BURST };
#define BURST_RECORDS 20
#define BURST_LEN 100

struct srv {
	const char *chain;       /* PEM with the certificates to send */
	const char *key;
	const char *priority;    /* NULL: NORMAL */
	enum srv_mode mode;
	gnutls_datum_t *ticket_key;
};

static pid_t
serve(const struct srv *s, struct mf_transport **client)
{
	int sv[2];
	pid_t pid;
	struct mf_err e;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		gnutls_certificate_credentials_t cred;
		gnutls_session_t ss;
		char buf[256];
		int r;

		close(sv[0]);
		alarm(20);
		if (s->mode == SRV_PLAINTEXT) {
			if (write(sv[1], "220 plain ESMTP\r\n", 17) != 17)
				_exit(1);
			while (read(sv[1], buf, sizeof(buf)) > 0)
				;
			_exit(0);
		}
		if (s->mode == SRV_SILENT) {
			while (read(sv[1], buf, sizeof(buf)) > 0)
				;
			_exit(0);
		}
		gnutls_certificate_allocate_credentials(&cred);
		if (gnutls_certificate_set_x509_key_file(cred, s->chain, s->key,
		    GNUTLS_X509_FMT_PEM) < 0)
			_exit(2);
		gnutls_init(&ss, GNUTLS_SERVER);
		gnutls_priority_set_direct(ss, s->priority ? s->priority
		    : "NORMAL", NULL);
		gnutls_credentials_set(ss, GNUTLS_CRD_CERTIFICATE, cred);
		if (s->ticket_key != NULL)
			gnutls_session_ticket_enable_server(ss, s->ticket_key);
		gnutls_transport_set_int(ss, sv[1]);
		do
			r = gnutls_handshake(ss);
		while (r < 0 && !gnutls_error_is_fatal(r));
		if (r < 0)
			_exit(3);
		if (s->mode == SRV_TLS_CB) {
			gnutls_datum_t cb = { NULL, 0 }, hex = { NULL, 0 };

			if (gnutls_session_channel_binding(ss,
			    gnutls_protocol_get_version(ss) == GNUTLS_TLS1_3 ?
			    GNUTLS_CB_TLS_EXPORTER : GNUTLS_CB_TLS_UNIQUE, &cb) < 0 ||
			    gnutls_hex_encode2(&cb, &hex) < 0)
				_exit(4);
			gnutls_record_send(ss, hex.data, hex.size);
			gnutls_record_send(ss, "\r\n", 2);
		} else if (s->mode == SRV_TLS_BURST) {
			char rec[BURST_LEN];
			int i;

			for (i = 0; i < BURST_RECORDS; i++) {
				memset(rec, 'a' + i, sizeof(rec));
				gnutls_record_send(ss, rec, sizeof(rec));
			}
		} else
			gnutls_record_send(ss, "hello\r\n", 7);
		while ((r = (int)gnutls_record_recv(ss, buf, sizeof(buf))) > 0) {
			if (r >= 4 && memcmp(buf, "QUIT", 4) == 0)
				break;
		}
		if (s->mode != SRV_TLS_NO_BYE)
			gnutls_bye(ss, GNUTLS_SHUT_WR);
		_exit(0);
	}
	close(sv[1]);
	*client = mf_sock_from_fd(sv[0], &e);
	cr_assert_not_null(*client);
	mf_transport_set_timeout(*client, 10000);
	return pid;
}

static void
reap(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
}

/* Wrap a connection to a server sending `chain`; returns the TLS transport
 * or NULL with e and info filled (the raw transport freed). */
static struct mf_transport *
try_tls(const struct srv *s, const struct mf_tls_params *p,
        struct mf_tls_info *info, struct mf_err *e, pid_t *pid)
{
	struct mf_transport *raw, *tls;

	*pid = serve(s, &raw);
	mf_err_clear(e);
	tls = mf_tls_wrap(raw, p, info, e);
	if (tls == NULL)
		mf_transport_free(raw);
	return tls;
}

static struct mf_tls_params
params(void)
{
	struct mf_tls_params p;

	memset(&p, 0, sizeof(p));
	p.ca_file = cert("ca");
	p.verify_name = "localhost";
	p.timeout_ms = 10000;
	return p;
}

static void
expect_refused(const char *name, const struct mf_tls_params *p,
               struct mf_tls_info *info, struct mf_err *e)
{
	struct srv s = { cert(name), keyfile(name), NULL, SRV_TLS, NULL };
	pid_t pid;

	cr_assert_null(try_tls(&s, p, info, e, &pid), "%s accepted", name);
	reap(pid);
	cr_assert_eq(e->kind, MF_E_TLS_VERIFY, "%s: kind %s: %s", name,
	    mf_err_kind_name(e->kind), e->msg);
	cr_assert_eq(info->verified, 0);
	cr_assert_neq(info->verify_status, 0u);
	cr_assert_geq(info->chain_len, 1);
	cr_assert(strstr(e->msg, info->verify_reason) != NULL);
}

/* The client's channel binding is the server's: tls-exporter (RFC 9266)
 * on TLS 1.3, tls-unique (RFC 5929) on TLS 1.2. */
static void
check_binding(const char *priority, const char *want_type, size_t want_len)
{
	struct srv s = { cert("good"), keyfile("good"), priority, SRV_TLS_CB,
	    NULL };
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_transport *t;
	unsigned char cb[64];
	size_t cblen = sizeof(cb), i;
	const char *type = NULL;
	char line[200], hex[200];
	ssize_t n, got = 0;
	pid_t pid;

	t = try_tls(&s, &p, &info, &e, &pid);
	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_eq(mf_tls_channel_binding(t, &type, cb, &cblen, &e), 0, "%s",
	    e.msg);
	cr_assert_str_eq(type, want_type);
	cr_assert_eq(cblen, want_len);
	for (i = 0; i < cblen; i++)
		snprintf(hex + 2 * i, sizeof(hex) - 2 * i, "%02x", cb[i]);
	while (got < (ssize_t)(2 * cblen + 2) && (n = mf_transport_read(t,
	    line + got, sizeof(line) - 1 - (size_t)got, &e)) > 0)
		got += n;
	line[got > 0 ? got : 0] = '\0';
	cr_assert_eq(strncmp(line, hex, 2 * cblen), 0, "server %s, client %s",
	    line, hex);
	mf_transport_free(t);
	reap(pid);
}

Test(tls_server, channel_binding_tls13_is_tls_exporter)
{
	check_binding(NULL, "tls-exporter", 32);
}

Test(tls_server, channel_binding_tls12_is_tls_unique)
{
	check_binding("NORMAL:-VERS-TLS1.3", "tls-unique", 12);
}

Test(tls_server, valid_certificate)
{
	struct srv s = { cert("good"), keyfile("good"), NULL, SRV_TLS, NULL };
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_transport *t;
	char buf[64];
	ssize_t n;
	unsigned char cb[64];
	size_t cblen = sizeof(cb);
	const char *cbtype = NULL;
	pid_t pid;

	t = try_tls(&s, &p, &info, &e, &pid);
	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_eq(info.handshake_done, 1);
	cr_assert_eq(info.verified, 1);
	cr_assert_eq(info.verify_status, 0u);
	cr_assert_str_eq(info.verify_reason, "");
	cr_assert_str_eq(info.version, "TLS1.3");
	cr_assert_str_eq(info.checked_name, "localhost");
	cr_assert_eq(info.chain_len, 1);
	cr_assert_str_eq(info.chain[0].subject, "CN=mail.example.test");
	cr_assert_str_eq(info.chain[0].issuer, "CN=mailflow unit CA");
	cr_assert_str_eq(info.chain[0].sans, "DNS:localhost, "
	    "DNS:mail.example.test, IP:127.0.0.1");
	cr_assert_eq(strlen(info.chain[0].sha256), 64);
	cr_assert_eq(strlen(info.chain[0].spki_sha256), 64);
	cr_assert_str_eq(info.chain[0].key_desc, "ECDSA secp256r1");
	cr_assert_eq(info.chain[0].is_ca, 0);
	cr_assert_eq(info.chain[0].self_signed, 0);
	cr_assert(info.chain[0].not_after > time(NULL));
	cr_assert_eq(mf_transport_is_tls(t), 1);
	cr_assert_eq(mf_tls_get_info(t)->verified, 1);
	cr_assert_eq(mf_tls_channel_binding(t, &cbtype, cb, &cblen, &e), 0, "%s",
	    e.msg);
	cr_assert_eq(cblen, 32);
	cr_assert_str_eq(cbtype, "tls-exporter");
	{
		/* The leaf's DER hashes to the fingerprint the info shows. */
		const unsigned char *der;
		size_t derlen;
		unsigned char h[32];
		char hex[65];

		cr_assert_eq(mf_tls_peer_cert_der(t, 0, &der, &derlen), 0);
		cr_assert_eq(mf_hash(MF_SHA256, der, derlen, h, &e), 0);
		mf_hex(h, sizeof(h), hex);
		cr_assert_str_eq(hex, info.chain[0].sha256);
		cr_assert_eq(mf_tls_peer_cert_der(t, 1, &der, &derlen), -1);
	}
	n = mf_transport_read(t, buf, sizeof(buf), &e);
	cr_assert_eq(n, 7, "%s", e.msg);
	cr_assert(memcmp(buf, "hello\r\n", 7) == 0);
	cr_assert_eq(mf_transport_write(t, "QUIT\r\n", 6, &e), 0);
	/* The server said close_notify: a clean end of stream. */
	n = mf_transport_read(t, buf, sizeof(buf), &e);
	cr_assert_eq(n, 0, "read %zd: %s", n, e.msg);
	mf_transport_free(t);
	reap(pid);
}

/* A transport that counts the reads of the one it wraps. */
struct counted {
	struct mf_transport *in;
	int reads;
};

static ssize_t
counted_read(void *ctx, void *buf, size_t n, int ms, struct mf_err *e)
{
	struct counted *c = ctx;

	c->reads++;
	mf_transport_set_timeout(c->in, ms);
	return mf_transport_read(c->in, buf, n, e);
}

static int
counted_write(void *ctx, const void *buf, size_t n, int ms, struct mf_err *e)
{
	struct counted *c = ctx;

	mf_transport_set_timeout(c->in, ms);
	return mf_transport_write(c->in, buf, n, e);
}

static int
counted_fd(void *ctx)
{
	return mf_transport_fd(((struct counted *)ctx)->in);
}

static void
counted_close(void *ctx)
{
	(void)ctx;  /* the test frees the inner transport */
}

static const struct mf_transport_ops counted_ops = {
	counted_read, counted_write, NULL, counted_fd, counted_close
};

/* After the handshake one read of the socket takes every record that has
 * arrived; they are then served without touching it, and pending() counts
 * them so a caller that polls the descriptor does not wait for data it
 * already holds. */
Test(tls_server, records_read_ahead)
{
	struct srv s = { cert("good"), keyfile("good"), NULL, SRV_TLS_BURST,
	                 NULL };
	struct mf_tls_params p = params();
	struct counted c = { NULL, 0 };
	struct mf_transport *raw, *mid, *t;
	struct mf_err e;
	char buf[BURST_LEN];
	int i, before, avail = 0;
	pid_t pid;

	pid = serve(&s, &raw);
	c.in = raw;
	mid = mf_transport_new(&counted_ops, &c, 0);
	cr_assert_not_null(mid);
	mf_transport_set_timeout(mid, 10000);
	t = mf_tls_wrap(mid, &p, NULL, &e);
	cr_assert_not_null(t, "%s", e.msg);
	/* every record is in the socket before the first is asked for */
	for (i = 0; i < 500 && (ioctl(mf_transport_fd(t), FIONREAD, &avail)
	    != 0 || avail < BURST_RECORDS * BURST_LEN); i++)
		usleep(10000);
	cr_assert_geq(avail, BURST_RECORDS * BURST_LEN);
	cr_assert_eq(mf_transport_read(t, buf, sizeof(buf), &e), BURST_LEN,
	    "%s", e.msg);
	cr_assert_eq(buf[0], 'a');
	before = c.reads;
	cr_assert_gt(mf_transport_pending(t), 0, "the other records are "
	    "buffered and pending() must say so");
	for (i = 1; i < BURST_RECORDS; i++) {
		cr_assert_eq(mf_transport_read(t, buf, sizeof(buf), &e),
		    BURST_LEN, "record %d: %s", i, e.msg);
		cr_assert_eq(buf[BURST_LEN - 1], 'a' + i);
	}
	cr_assert_leq(c.reads - before, 1, "%d socket reads for %d records "
	    "that were all there", c.reads - before, BURST_RECORDS - 1);
	cr_assert_eq(mf_transport_write(t, "QUIT\r\n", 6, &e), 0);
	mf_transport_free(t);
	mf_transport_free(raw);
	reap(pid);
}

Test(tls_server, eof_without_close_notify)
{
	struct srv s = { cert("good"), keyfile("good"), NULL, SRV_TLS_NO_BYE,
	    NULL };
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;
	char buf[64];
	pid_t pid;
	struct mf_transport *t = try_tls(&s, &p, &info, &e, &pid);

	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_eq(mf_transport_read(t, buf, sizeof(buf), &e), 7);
	cr_assert_eq(mf_transport_write(t, "QUIT\r\n", 6, &e), 0);
	cr_assert_eq(mf_transport_read(t, buf, sizeof(buf), &e), -1);
	cr_assert_eq(e.kind, MF_E_CLOSED, "%s", e.msg);
	mf_transport_free(t);
	reap(pid);
}

Test(tls_server, ip_address_uses_ip_san)
{
	struct srv s = { cert("good"), keyfile("good"), NULL, SRV_TLS, NULL };
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_transport *t;
	pid_t pid;

	p.verify_name = "127.0.0.1";
	t = try_tls(&s, &p, &info, &e, &pid);
	cr_assert_not_null(t, "%s", e.msg);
	mf_transport_free(t);
	reap(pid);

	p.verify_name = "127.0.0.2";
	expect_refused("good", &p, &info, &e);
	cr_assert_eq(info.name_mismatch, 1);
	cr_assert(strstr(e.msg, "does not match the name '127.0.0.2'") != NULL,
	    "%s", e.msg);
}

Test(tls_server, expired)
{
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;

	expect_refused("expired", &p, &info, &e);
	cr_assert_eq(info.expired, 1);
	cr_assert_eq(info.name_mismatch, 0);
	cr_assert_eq(info.unknown_ca, 0);
	cr_assert(strstr(e.msg, "certificate has expired: valid until "
	    "2021-01-01 00:00 UTC, now 2") != NULL, "%s", e.msg);
}

Test(tls_server, not_yet_valid)
{
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;

	expect_refused("future", &p, &info, &e);
	cr_assert_eq(info.not_yet_valid, 1);
	cr_assert_eq(info.expired, 0);
	cr_assert(strstr(e.msg, "certificate is not valid yet: valid from "
	    "2099-01-01 00:00 UTC, now 2") != NULL, "%s", e.msg);
}

Test(tls_server, wrong_name)
{
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;

	p.verify_name = "mail.example.test";
	expect_refused("wrongname", &p, &info, &e);
	cr_assert_eq(info.name_mismatch, 1);
	cr_assert_eq(info.unknown_ca, 0);
	cr_assert_str_eq(info.checked_name, "mail.example.test");
	cr_assert(strstr(e.msg, "certificate does not match the name "
	    "'mail.example.test'; it is valid for: DNS:wrong.example.net")
	    != NULL, "%s", e.msg);
}

Test(tls_server, unknown_ca)
{
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;

	expect_refused("unknownca", &p, &info, &e);
	cr_assert_eq(info.unknown_ca, 1);
	cr_assert_eq(info.name_mismatch, 0);
	cr_assert(strstr(e.msg, "certificate is signed by an unknown authority "
	    "(issuer: CN=mailflow unit unknown CA)") != NULL, "%s", e.msg);
}

Test(tls_server, self_signed)
{
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;

	expect_refused("selfsigned", &p, &info, &e);
	cr_assert_eq(info.unknown_ca, 1);
	cr_assert_eq(info.chain[0].self_signed, 1);
	cr_assert(strstr(e.msg, "self-signed certificate "
	    "(CN=selfsigned.example.test)") != NULL, "%s", e.msg);
}

Test(tls_server, intermediate_missing_or_sent)
{
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;
	struct srv s = { cert("viainter-chain"), keyfile("viainter"), NULL,
	    SRV_TLS, NULL };
	struct mf_transport *t;
	pid_t pid;

	/* the server sends only its own certificate */
	expect_refused("viainter", &p, &info, &e);
	cr_assert_eq(info.unknown_ca, 1);
	cr_assert(strstr(e.msg, "(issuer: CN=mailflow unit intermediate)")
	    != NULL, "%s", e.msg);

	/* the full chain */
	s.chain = cert("viainter-chain");
	t = try_tls(&s, &p, &info, &e, &pid);
	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_eq(info.chain_len, 2);
	cr_assert_eq(info.chain[1].is_ca, 1);
	mf_transport_free(t);
	reap(pid);
}

Test(tls_server, insecure_still_reports)
{
	struct srv s = { cert("expired"), keyfile("expired"), NULL, SRV_TLS,
	    NULL };
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_transport *t;
	pid_t pid;

	p.insecure = 1;
	t = try_tls(&s, &p, &info, &e, &pid);
	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_eq(info.verified, 0);
	cr_assert_eq(info.expired, 1);
	cr_assert(strstr(info.verify_reason, "expired") != NULL);
	mf_transport_free(t);
	reap(pid);
}

static void
spki_b64(const char *hex, char *out, size_t len)
{
	unsigned char raw[32];
	size_t n;
	gnutls_datum_t d = { raw, 32 }, b = { NULL, 0 };

	unhex(hex, raw, &n);
	cr_assert_eq(gnutls_base64_encode2(&d, &b), 0);
	snprintf(out, len, "sha256/%.*s", (int)b.size, (char *)b.data);
	gnutls_free(b.data);
}

Test(tls_server, pinning)
{
	struct srv s = { cert("unknownca"), keyfile("unknownca"), NULL, SRV_TLS,
	    NULL };
	struct mf_tls_params p = params();
	struct mf_tls_info info, first;
	struct mf_err e;
	struct mf_transport *t;
	char pin[128], colons[128];
	size_t i, n = 0;
	pid_t pid;

	/* learn the digests from a refused connection */
	expect_refused("unknownca", &p, &first, &e);

	/* certificate digest, upper case with colons */
	for (i = 0; i < 64; i += 2) {
		n += (size_t)snprintf(colons + n, sizeof(colons) - n, "%s%c%c",
		    i ? ":" : "", first.chain[0].sha256[i],
		    first.chain[0].sha256[i + 1]);
	}
	for (i = 0; colons[i]; i++)
		if (colons[i] >= 'a' && colons[i] <= 'f')
			colons[i] = (char)(colons[i] - 32);
	p.fingerprint = colons;
	t = try_tls(&s, &p, &info, &e, &pid);
	cr_assert_not_null(t, "pin %s: %s", colons, e.msg);
	cr_assert_eq(info.verified, 1);
	mf_transport_free(t);
	reap(pid);

	/* public key digest, sha256/base64 */
	spki_b64(first.chain[0].spki_sha256, pin, sizeof(pin));
	p.fingerprint = pin;
	t = try_tls(&s, &p, &info, &e, &pid);
	cr_assert_not_null(t, "pin %s: %s", pin, e.msg);
	mf_transport_free(t);
	reap(pid);

	/* a wrong pin fails even for a certificate the CA would accept */
	s.chain = cert("good");
	s.key = keyfile("good");
	t = try_tls(&s, &p, &info, &e, &pid);
	cr_assert_null(t);
	reap(pid);
	cr_assert_eq(e.kind, MF_E_TLS_VERIFY);
	cr_assert_eq(info.pin_mismatch, 1);
	cr_assert(strstr(e.msg, "certificate fingerprint mismatch: got ")
	    != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, info.chain[0].sha256) != NULL, "%s", e.msg);

	/* a malformed pin is a usage error before any byte is sent */
	p.fingerprint = "12:34";
	t = try_tls(&s, &p, &info, &e, &pid);
	cr_assert_null(t);
	reap(pid);
	cr_assert_eq(e.kind, MF_E_USAGE, "%s", e.msg);
}

Test(tls_server, plaintext_server)
{
	struct srv s = { NULL, NULL, NULL, SRV_PLAINTEXT, NULL };
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;
	pid_t pid;

	cr_assert_null(try_tls(&s, &p, &info, &e, &pid));
	reap(pid);
	cr_assert_eq(e.kind, MF_E_TLS, "%s: %s", mf_err_kind_name(e.kind),
	    e.msg);
	cr_assert_str_eq(info.plaintext_seen, "220 plain ESMTP");
	cr_assert_str_eq(e.msg, "the server answered in plain text (\"220 "
	    "plain ESMTP\"), not TLS: this port does not speak TLS "
	    "immediately; use STARTTLS");
}

Test(tls_server, handshake_timeout)
{
	struct srv s = { NULL, NULL, NULL, SRV_SILENT, NULL };
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;
	pid_t pid;

	p.timeout_ms = 300;
	cr_assert_null(try_tls(&s, &p, &info, &e, &pid));
	reap(pid);
	cr_assert_eq(e.kind, MF_E_TIMEOUT, "%s: %s", mf_err_kind_name(e.kind),
	    e.msg);
	cr_assert_eq(info.handshake_done, 0);
}

Test(tls_server, version_too_old)
{
	struct srv s = { cert("good"), keyfile("good"),
	    "NORMAL:-VERS-ALL:+VERS-TLS1.1", SRV_TLS, NULL };
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_transport *t;
	pid_t pid;

	p.min_version = "1.2";
	cr_assert_null(try_tls(&s, &p, &info, &e, &pid));
	reap(pid);
	cr_assert_eq(e.kind, MF_E_TLS, "%s: %s", mf_err_kind_name(e.kind),
	    e.msg);
	cr_assert(strstr(e.msg, "TLS handshake failed: ") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "version") != NULL, "%s", e.msg);

	/* with min 1.0 the same server is fine */
	p.min_version = "1.0";
	t = try_tls(&s, &p, &info, &e, &pid);
	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_str_eq(info.version, "TLS1.1");
	mf_transport_free(t);
	reap(pid);
}

Test(tls_server, min_13_and_bad_priority)
{
	struct srv s = { cert("good"), keyfile("good"), NULL, SRV_TLS, NULL };
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_transport *t;
	pid_t pid;

	p.min_version = "1.3";
	t = try_tls(&s, &p, &info, &e, &pid);
	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_str_eq(info.version, "TLS1.3");
	mf_transport_free(t);
	reap(pid);

	p.min_version = "1.4";
	cr_assert_null(try_tls(&s, &p, &info, &e, &pid));
	reap(pid);
	cr_assert_eq(e.kind, MF_E_USAGE);
	cr_assert(strstr(e.msg, "'1.4'") != NULL, "%s", e.msg);

	p.min_version = NULL;
	p.priority = "NORMAL:+BOGUS-THING";
	cr_assert_null(try_tls(&s, &p, &info, &e, &pid));
	reap(pid);
	cr_assert_eq(e.kind, MF_E_USAGE);
	cr_assert(strstr(e.msg, "error at '+BOGUS-THING'") != NULL, "%s",
	    e.msg);
}

Test(tls_server, client_certificate_and_bad_files)
{
	struct srv s = { cert("good"), keyfile("good"), NULL, SRV_TLS, NULL };
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_transport *t;
	pid_t pid;

	p.cert_file = cert("good");
	p.key_file = keyfile("good");
	t = try_tls(&s, &p, &info, &e, &pid);
	cr_assert_not_null(t, "%s", e.msg);
	mf_transport_free(t);
	reap(pid);

	p.key_file = keyfile("ca");  /* not the certificate's key */
	cr_assert_null(try_tls(&s, &p, &info, &e, &pid));
	reap(pid);
	cr_assert_eq(e.kind, MF_E_CONFIG, "%s", e.msg);

	p.cert_file = p.key_file = NULL;
	p.ca_file = "/nonexistent/ca.pem";
	cr_assert_null(try_tls(&s, &p, &info, &e, &pid));
	reap(pid);
	cr_assert_eq(e.kind, MF_E_CONFIG, "%s", e.msg);
	cr_assert(strstr(e.msg, "/nonexistent/ca.pem") != NULL);
}

Test(tls_server, session_resumption)
{
	gnutls_datum_t tk = { NULL, 0 };
	struct srv s = { cert("good"), keyfile("good"), NULL, SRV_TLS, &tk };
	struct mf_tls_params p = params();
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_transport *t;
	char dir[] = "/tmp/mf-test-sess.XXXXXX", file[64], buf[16];
	struct stat st;
	pid_t pid;
	int round;

	cr_assert_eq(gnutls_session_ticket_key_generate(&tk), 0);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/sess", dir);
	p.session_file = file;
	for (round = 0; round < 2; round++) {
		t = try_tls(&s, &p, &info, &e, &pid);
		cr_assert_not_null(t, "%s", e.msg);
		cr_assert_eq(info.resumed, round, "round %d", round);
		cr_assert_eq(info.verified, 1);
		cr_assert_eq(info.chain_len, 1, "round %d", round);
		/* the TLS 1.3 ticket comes with the first data */
		cr_assert_eq(mf_transport_read(t, buf, sizeof(buf), &e), 7);
		cr_assert_eq(mf_tls_save_session(t, &e), 0, "%s", e.msg);
		mf_transport_free(t);
		reap(pid);
		cr_assert_eq(stat(file, &st), 0);
		cr_assert_eq(st.st_mode & 0777, 0600);
	}
	/* a resumed session is checked again: another name must fail (issue
	 * 14.6).  The same SNI, so the server does resume: the refusal comes
	 * from the check after resumption, not from a full handshake. */
	p.sni = "localhost";
	p.verify_name = "other.example.net";
	cr_assert_null(try_tls(&s, &p, &info, &e, &pid));
	reap(pid);
	cr_assert_eq(info.resumed, 1, "the session was not resumed: %s",
	    e.msg);
	cr_assert_eq(e.kind, MF_E_TLS_VERIFY, "%s", e.msg);
	cr_assert_eq(info.name_mismatch, 1);
	cr_assert(strstr(e.msg, "other.example.net") != NULL, "%s", e.msg);
	p.sni = NULL;
	/* a session file that is not ours or not regular is ignored */
	unlink(file);
	cr_assert_eq(mkdir(file, 0700), 0);
	p.verify_name = "localhost";
	t = try_tls(&s, &p, &info, &e, &pid);
	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_eq(info.resumed, 0);
	mf_transport_free(t);
	reap(pid);
	rmdir(file);
	rmdir(dir);
	gnutls_free(tk.data);
}
