/* test_tls_bed.c - lib/tls.c against the real servers of the test bed
 * (tests/bed/bed.sh).  Run by tests/integration/10-tls.sh with the bed's
 * environment; every test skips when MF_IMAPS_PORT is not set. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lineio.h"
#include "sock.h"
#include "tls.h"

static const char *
env_or_skip(const char *name)
{
	const char *v = getenv(name);

	if (getenv("MF_IMAPS_PORT") == NULL)
		cr_skip_test("no test bed (MF_IMAPS_PORT not set)");
	cr_assert(v != NULL && v[0] != '\0', "bed variable %s not set", name);
	return v;
}

static struct mf_transport *
connect_port(const char *portvar)
{
	struct mf_sock_opts o = { 4, 5000, 10000 };
	struct mf_err e;
	struct mf_transport *t;

	mf_err_clear(&e);
	t = mf_sock_connect("127.0.0.1", env_or_skip(portvar), &o, &e);
	cr_assert_not_null(t, "connect %s: %s", portvar, e.msg);
	return t;
}

/* Run cmd and return its first line of output (static buffer). */
static const char *
cmd_line(const char *cmd)
{
	static char out[256];
	FILE *f = popen(cmd, "r");

	cr_assert_not_null(f);
	out[0] = '\0';
	if (fgets(out, sizeof(out), f) != NULL)
		out[strcspn(out, "\r\n")] = '\0';
	pclose(f);
	return out;
}

/* SHA-256 of the leaf's DER, lowercase hex, computed by OpenSSL (the bed's
 * MF_CERT_SHA256_* hash the whole chain file). */
static const char *
leaf_sha256(const char *pemvar)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s' -outform DER | "
	    "sha256sum | cut -d' ' -f1", env_or_skip(pemvar));
	return cmd_line(cmd);
}

static void
ok_params(struct mf_tls_params *p)
{
	memset(p, 0, sizeof(*p));
	p->ca_file = env_or_skip("MF_CA");
	p->verify_name = "localhost";
	p->timeout_ms = 10000;
}

/* Read an SMTP reply; return 1 if some line of it contains needle. */
static int
smtp_reply(struct mf_lineio *l, int code, const char *needle)
{
	const char *line;
	size_t len;
	struct mf_err e;
	int found = 0;

	for (;;) {
		cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), 0,
		    "read reply: %s", e.msg);
		cr_assert(len >= 4 && strtol(line, NULL, 10) == code,
		    "expected %d, got '%s'", code, line);
		if (needle != NULL && strstr(line, needle) != NULL)
			found = 1;
		if (line[3] == ' ')
			return found;
	}
}

/* Connect to an SMTP port and run EHLO + STARTTLS up to the go-ahead. */
static struct mf_lineio *
smtp_to_starttls(const char *portvar)
{
	struct mf_err e;
	struct mf_lineio *l = mf_lineio_new(connect_port(portvar), NULL, &e);

	cr_assert_not_null(l);
	smtp_reply(l, 220, NULL);
	cr_assert_eq(mf_lineio_send(l, &e, "EHLO client.example.test"), 0);
	cr_assert_eq(mf_lineio_flush(l, &e), 0);
	cr_assert(smtp_reply(l, 250, "STARTTLS"), "no STARTTLS in EHLO");
	cr_assert_eq(mf_lineio_send(l, &e, "STARTTLS"), 0);
	cr_assert_eq(mf_lineio_flush(l, &e), 0);
	smtp_reply(l, 220, NULL);
	return l;
}

Test(tls_bed, imaps_verified_tls13)
{
	struct mf_tls_params p;
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_transport *t;
	struct mf_lineio *l;
	const char *line;
	size_t len;
	unsigned char cb[64];
	size_t cblen = sizeof(cb);
	const char *cbtype = NULL;

	ok_params(&p);
	t = connect_port("MF_IMAPS_PORT");
	mf_err_clear(&e);
	struct mf_transport *tls = mf_tls_wrap(t, &p, &info, &e);
	cr_assert_not_null(tls, "wrap: %s", e.msg);
	cr_assert_eq(info.handshake_done, 1);
	cr_assert_eq(info.verified, 1);
	cr_assert_eq(info.verify_status, 0u);
	cr_assert_str_eq(info.version, "TLS1.3");
	cr_assert(info.cipher[0] != '\0');
	cr_assert(strncmp(info.kx, "ECDHE-", 6) == 0 ||
	    strncmp(info.kx, "DHE-", 4) == 0, "kx '%s'", info.kx);
	cr_assert_geq(info.chain_len, 1);
	cr_assert_str_eq(info.chain[0].subject, "CN=mail.example.test");
	cr_assert(strstr(info.chain[0].sans, "DNS:localhost") != NULL);
	cr_assert(strstr(info.chain[0].sans, "IP:127.0.0.1") != NULL);
	cr_assert_str_eq(info.chain[0].sha256, leaf_sha256("MF_CERT_OK"));
	cr_assert_str_eq(info.chain[0].spki_sha256,
	    env_or_skip("MF_SPKI_SHA256_OK"));
	cr_assert_str_eq(info.checked_name, "localhost");
	cr_assert_eq(mf_tls_channel_binding(tls, &cbtype, cb, &cblen, &e), 0,
	    "%s", e.msg);
	cr_assert_str_eq(cbtype, "tls-exporter");
	cr_assert_eq(cblen, 32);
	cr_assert_not_null(mf_tls_get_info(tls));
	cr_assert_eq(mf_transport_is_tls(tls), 1);
	l = mf_lineio_new(tls, NULL, &e);
	cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), 0, "%s", e.msg);
	cr_assert(strncmp(line, "* OK", 4) == 0, "greeting '%s'", line);
	mf_lineio_free(l);
}

Test(tls_bed, imaps_ip_address_matches_ip_san)
{
	struct mf_tls_params p;
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_transport *t, *tls;

	ok_params(&p);
	p.verify_name = "127.0.0.1";
	t = connect_port("MF_IMAPS_PORT");
	tls = mf_tls_wrap(t, &p, &info, &e);
	cr_assert_not_null(tls, "wrap: %s", e.msg);
	mf_transport_free(tls);

	p.verify_name = "127.0.0.2";
	t = connect_port("MF_IMAPS_PORT");
	tls = mf_tls_wrap(t, &p, &info, &e);
	cr_assert_null(tls);
	mf_transport_free(t);
	cr_assert_eq(e.kind, MF_E_TLS_VERIFY);
	cr_assert_eq(info.name_mismatch, 1);
	cr_assert(strstr(e.msg, "'127.0.0.2'") != NULL, "%s", e.msg);
}

Test(tls_bed, imaps_wrong_ca_fails)
{
	struct mf_tls_params p;
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_transport *t;

	ok_params(&p);
	p.ca_file = env_or_skip("MF_UNKNOWN_CA");
	t = connect_port("MF_IMAPS_PORT");
	cr_assert_null(mf_tls_wrap(t, &p, &info, &e));
	mf_transport_free(t);
	cr_assert_eq(e.kind, MF_E_TLS_VERIFY);
	cr_assert_eq(info.unknown_ca, 1);
	cr_assert(strstr(e.msg, "unknown authority") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "CN=mailflow test CA") != NULL, "%s", e.msg);
}

Test(tls_bed, pin_without_ca)
{
	struct mf_tls_params p;
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_transport *t, *tls;

	memset(&p, 0, sizeof(p));
	p.ca_file = env_or_skip("MF_UNKNOWN_CA");  /* CA would refuse */
	p.verify_name = "localhost";
	p.fingerprint = env_or_skip("MF_SPKI_SHA256_OK");
	t = connect_port("MF_IMAPS_PORT");
	tls = mf_tls_wrap(t, &p, &info, &e);
	cr_assert_not_null(tls, "wrap: %s", e.msg);
	cr_assert_eq(info.verified, 1);
	mf_transport_free(tls);

	/* the certificate's own digest, as OpenSSL prints it: AB:CD:... */
	char pin[160];
	snprintf(pin, sizeof(pin), "%s", cmd_line("openssl x509 -noout "
	    "-fingerprint -sha256 -in \"$MF_CERT_OK\" | cut -d= -f2"));
	cr_assert(strchr(pin, ':') != NULL, "openssl said '%s'", pin);
	p.fingerprint = pin;
	t = connect_port("MF_IMAPS_PORT");
	tls = mf_tls_wrap(t, &p, &info, &e);
	cr_assert_not_null(tls, "wrap with pin %s: %s", pin, e.msg);
	mf_transport_free(tls);

	p.fingerprint = env_or_skip("MF_SPKI_SHA256_EXPIRED");
	t = connect_port("MF_IMAPS_PORT");
	cr_assert_null(mf_tls_wrap(t, &p, &info, &e));
	mf_transport_free(t);
	cr_assert_eq(e.kind, MF_E_TLS_VERIFY);
	cr_assert_eq(info.pin_mismatch, 1);
	cr_assert(strstr(e.msg, "fingerprint mismatch: got ") != NULL, "%s",
	    e.msg);
	cr_assert(strstr(e.msg, leaf_sha256("MF_CERT_OK")) != NULL, "%s",
	    e.msg);
	cr_assert(strstr(e.msg, "unknown authority") == NULL, "%s", e.msg);
}

static void
bad_cert(const char *portvar, struct mf_tls_info *info, struct mf_err *e)
{
	struct mf_tls_params p;
	struct mf_lineio *l = smtp_to_starttls(portvar);

	ok_params(&p);
	cr_assert_eq(mf_lineio_starttls(l, &p, info, e), -1,
	    "STARTTLS on %s accepted a bad certificate", portvar);
	cr_assert_eq(e->kind, MF_E_TLS_VERIFY, "%s: kind %d: %s", portvar,
	    e->kind, e->msg);
	cr_assert_eq(info->verified, 0);
	cr_assert_geq(info->chain_len, 1);
	mf_lineio_free(l);
}

Test(tls_bed, smtp_expired)
{
	struct mf_tls_info info;
	struct mf_err e;

	env_or_skip("MF_SMTP_EXPIRED_PORT");
	bad_cert("MF_SMTP_EXPIRED_PORT", &info, &e);
	cr_assert_eq(info.expired, 1);
	cr_assert_eq(info.name_mismatch, 0);
	cr_assert_eq(info.unknown_ca, 0);
	cr_assert(strstr(e.msg, "certificate has expired: valid until "
	    "2021-01-01 00:00 UTC, now 20") != NULL, "%s", e.msg);
	cr_assert(strstr(info.verify_reason, "expired") != NULL);
}

Test(tls_bed, smtp_wrong_name)
{
	struct mf_tls_info info;
	struct mf_err e;

	env_or_skip("MF_SMTP_WRONGNAME_PORT");
	bad_cert("MF_SMTP_WRONGNAME_PORT", &info, &e);
	cr_assert_eq(info.name_mismatch, 1);
	cr_assert_eq(info.expired, 0);
	cr_assert(strstr(e.msg, "certificate does not match the name "
	    "'localhost'; it is valid for: DNS:wrong.example.net") != NULL,
	    "%s", e.msg);
}

Test(tls_bed, smtp_unknown_ca)
{
	struct mf_tls_info info;
	struct mf_err e;

	env_or_skip("MF_SMTP_UNKNOWNCA_PORT");
	bad_cert("MF_SMTP_UNKNOWNCA_PORT", &info, &e);
	cr_assert_eq(info.unknown_ca, 1);
	cr_assert_eq(info.name_mismatch, 0);
	cr_assert(strstr(e.msg, "signed by an unknown authority (issuer: "
	    "CN=mailflow unknown CA (not trusted by clients)") != NULL, "%s",
	    e.msg);
}

Test(tls_bed, submission_starttls_then_auth)
{
	struct mf_tls_params p;
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_lineio *l = smtp_to_starttls("MF_SUBMISSION_PORT");

	ok_params(&p);
	cr_assert_eq(mf_lineio_starttls(l, &p, &info, &e), 0, "%s", e.msg);
	cr_assert_eq(info.verified, 1);
	cr_assert_eq(mf_lineio_is_tls(l), 1);
	cr_assert_eq(mf_lineio_send(l, &e, "EHLO client.example.test"), 0);
	cr_assert_eq(mf_lineio_flush(l, &e), 0);
	cr_assert(smtp_reply(l, 250, "AUTH"), "no AUTH after STARTTLS");
	cr_assert_eq(mf_lineio_send(l, &e, "QUIT"), 0);
	cr_assert_eq(mf_lineio_flush(l, &e), 0);
	smtp_reply(l, 221, NULL);
	mf_lineio_free(l);
}

Test(tls_bed, implicit_tls_on_plaintext_port)
{
	struct mf_tls_params p;
	struct mf_tls_info info;
	struct mf_err e;
	struct mf_transport *t = connect_port("MF_SUBMISSION_PORT");

	ok_params(&p);
	cr_assert_null(mf_tls_wrap(t, &p, &info, &e));
	mf_transport_free(t);
	cr_assert_eq(e.kind, MF_E_TLS, "kind %d: %s", e.kind, e.msg);
	cr_assert(strncmp(info.plaintext_seen, "220 ", 4) == 0, "seen '%s'",
	    info.plaintext_seen);
	cr_assert(strstr(e.msg, "plain text (\"220 ") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "use STARTTLS") != NULL, "%s", e.msg);
}

/* One implicit-TLS connection with a session file: read the greeting (a
 * TLS 1.3 ticket arrives with it), save, say goodbye. Returns resumed. */
static int
tls_session(const char *portvar, const char *greeting, const char *bye,
            const char *file, struct mf_tls_info *info)
{
	struct mf_tls_params p;
	struct mf_err e;
	struct mf_transport *tls;
	struct mf_lineio *l;
	const char *line;
	size_t len;

	ok_params(&p);
	p.session_file = file;
	tls = mf_tls_wrap(connect_port(portvar), &p, info, &e);
	cr_assert_not_null(tls, "wrap: %s", e.msg);
	l = mf_lineio_new(tls, NULL, &e);
	cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), 0, "%s", e.msg);
	cr_assert(strncmp(line, greeting, strlen(greeting)) == 0, "'%s'", line);
	cr_assert_eq(mf_tls_save_session(mf_lineio_transport(l), &e), 0, "%s",
	    e.msg);
	cr_assert_eq(mf_lineio_send(l, &e, "%s", bye), 0);
	cr_assert_eq(mf_lineio_flush(l, &e), 0);
	mf_lineio_free(l);
	return info->resumed;
}

static void
resumption(const char *portvar, const char *greeting, const char *bye)
{
	char dir[] = "/tmp/mf-tls-bed.XXXXXX", file[64];
	struct mf_tls_info info;
	struct stat st;

	env_or_skip(portvar);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/session", dir);
	cr_assert_eq(tls_session(portvar, greeting, bye, file, &info), 0,
	    "first connection resumed?");
	cr_assert_eq(stat(file, &st), 0, "session not saved");
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(tls_session(portvar, greeting, bye, file, &info), 1,
	    "second connection to %s not resumed", portvar);
	cr_assert_eq(info.verified, 1);
	cr_assert_geq(info.chain_len, 1, "chain of a resumed session");
	cr_assert_str_eq(info.chain[0].subject, "CN=mail.example.test");
	unlink(file);
	rmdir(dir);
}

/* Postfix shares its ticket keys between smtpd processes (tlsmgr). */
Test(tls_bed, smtps_session_resumption)
{
	resumption("MF_SMTPS_PORT", "220", "QUIT");
}

/* Dovecot's imap-login needs service_count = 0 for this: with one process
 * per connection each has its own ticket key (see 10-tls.sh). */
Test(tls_bed, imaps_session_resumption)
{
	if (getenv("MF_TLS_TEST_IMAPS_RESUME") == NULL)
		cr_skip_test("bed's imap-login runs one process per connection");
	resumption("MF_IMAPS_PORT", "* OK", "a LOGOUT");
}
