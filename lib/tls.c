/* tls.c - TLS client sessions (GnuTLS) layered over any mf_transport.
 *
 * GnuTLS never touches the socket: its push/pull callbacks go through the
 * inner transport, so implicit TLS and STARTTLS are the same code (wrap a
 * transport) and tests can run TLS over a socketpair.
 *
 * Certificates are checked inside the handshake (a verify callback) so a
 * refused server never sees our Finished or client certificate; the same
 * check runs again after a resumed handshake, which has no Certificate
 * message of its own but keeps the peer's chain in the session data. */
#include "tls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "buf.h"
#include "crypto.h"
#include "durable.h"
#include "idn.h"

#define SESSION_MAX (64 * 1024)  /* a saved session larger than this is junk */
#define PEEK_MAX 63              /* first bytes kept to spot a non-TLS peer */
#define BYE_TIMEOUT_MS 2000
#define AGAIN_MAX 1000           /* bound on GNUTLS_E_AGAIN/INTERRUPTED loops */
#define READAHEAD (16384 + 1024) /* a whole TLS record of the most data */

struct tls_ctx {
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
	struct mf_transport *inner;
	struct mf_err ioerr;         /* why the last push/pull failed */
	int handshaking;
	unsigned char peek[PEEK_MAX];
	size_t npeek;
	const char *verify_name;     /* valid during mf_tls_wrap only */
	unsigned char pin[32];
	int pin_kind;                /* 0 none, 1 hex, 2 sha256/base64 */
	int insecure;
	int keep_inner;              /* close must not free inner (see wrap) */
	char *session_file;
	struct mf_tls_info info;
	/* Records read ahead after the handshake: one read of the inner
	 * transport instead of one per record header and one per body. */
	size_t ra_pos, ra_len;
	unsigned char ra[READAHEAD];
};

static const struct mf_transport_ops tls_ops;

/* ----------------------------------------------------------------- pins */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
parse_pin_b64(const char *b64, unsigned char out[32], struct mf_err *e)
{
	gnutls_datum_t in, dec = { NULL, 0 };
	int r;

	in.data = (unsigned char *)(uintptr_t)b64;
	in.size = (unsigned)strlen(b64);
	r = gnutls_base64_decode2(&in, &dec);
	if (r < 0 || dec.size != 32) {
		gnutls_free(dec.data);
		return mf_err_set(e, MF_E_USAGE, "bad fingerprint 'sha256/%s': "
		    "expected the base64 of a 32-byte SHA-256 digest", b64);
	}
	memcpy(out, dec.data, 32);
	gnutls_free(dec.data);
	return 0;
}

int
mf_tls_parse_pin(const char *s, unsigned char out[32], int *kind,
                 struct mf_err *e)
{
	size_t n = 0;
	const char *p;
	int hi = -1, v;

	if (strncasecmp(s, "sha256/", 7) == 0) {
		if (parse_pin_b64(s + 7, out, e) == -1)
			return -1;
		*kind = 2;
		return 0;
	}
	for (p = s; *p != '\0'; p++) {
		if (*p == ':' && hi == -1)
			continue;
		if ((v = hexval((unsigned char)*p)) == -1 || n == 32)
			goto bad;
		if (hi == -1) {
			hi = v;
		} else {
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (n != 32 || hi != -1)
		goto bad;
	*kind = 1;
	return 0;
bad:
	return mf_err_set(e, MF_E_USAGE, "bad fingerprint '%s': expected 64 "
	    "hex digits of a SHA-256 digest (colons allowed) or sha256/BASE64",
	    s);
}

/* ------------------------------------------------------- transport glue */

/* Up to n bytes from the inner transport into buf; -1 with GnuTLS's errno
 * set on failure. */
static ssize_t
pull_inner(struct tls_ctx *c, void *buf, size_t n)
{
	ssize_t r;

	mf_err_clear(&c->ioerr);
	r = mf_transport_read(c->inner, buf, n, &c->ioerr);
	if (r < 0)
		gnutls_transport_set_errno(c->s,
		    c->ioerr.kind == MF_E_TIMEOUT ? ETIMEDOUT : EIO);
	return r;
}

static size_t
ra_take(struct tls_ctx *c, void *buf, size_t n)
{
	size_t k = c->ra_len - c->ra_pos;

	if (k > n)
		k = n;
	memcpy(buf, c->ra + c->ra_pos, k);
	c->ra_pos += k;
	return k;
}

/* GnuTLS asks for a record header, then for its body.  After the
 * handshake one read fills the read-ahead buffer with whatever has
 * arrived (often several records) and the asks are served from it.
 * During the handshake reads go straight through, so the bytes of a
 * non-TLS peer stay in the inner transport for peek_more(). */
static ssize_t
pull(gnutls_transport_ptr_t p, void *buf, size_t n)
{
	struct tls_ctx *c = p;
	ssize_t r;
	size_t k;

	if (c->ra_pos < c->ra_len)
		return (ssize_t)ra_take(c, buf, n);
	if (!c->handshaking && n < sizeof(c->ra)) {
		if ((r = pull_inner(c, c->ra, sizeof(c->ra))) <= 0)
			return r;
		c->ra_pos = 0;
		c->ra_len = (size_t)r;
		return (ssize_t)ra_take(c, buf, n);
	}
	if ((r = pull_inner(c, buf, n)) <= 0)
		return r;
	/* Keep the first bytes of the handshake: if they are not TLS, they
	 * say what the port speaks ("220 mail ESMTP"). */
	if (c->handshaking && c->npeek < PEEK_MAX) {
		k = (size_t)r < PEEK_MAX - c->npeek ? (size_t)r
		    : PEEK_MAX - c->npeek;
		memcpy(c->peek + c->npeek, buf, k);
		c->npeek += k;
	}
	return r;
}

static ssize_t
push(gnutls_transport_ptr_t p, const void *buf, size_t n)
{
	struct tls_ctx *c = p;

	mf_err_clear(&c->ioerr);
	if (mf_transport_write(c->inner, buf, n, &c->ioerr) == -1) {
		gnutls_transport_set_errno(c->s,
		    c->ioerr.kind == MF_E_TIMEOUT ? ETIMEDOUT : EIO);
		return -1;
	}
	return (ssize_t)n;
}

/* Only asked when GnuTLS runs its own timers; the inner transport's reads
 * carry our timeout anyway. */
static int
pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
	struct tls_ctx *c = p;
	struct pollfd pfd;
	int fd, r;

	if (c->ra_pos < c->ra_len || mf_transport_pending(c->inner) > 0)
		return 1;
	if ((fd = mf_transport_fd(c->inner)) < 0)
		return 1;
	pfd.fd = fd;
	pfd.events = POLLIN;
	do
		r = poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
	while (r == -1 && errno == EINTR);
	return r > 0 ? 1 : r;
}

/* ------------------------------------------------------ certificate info */

static void
fmt_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL) {
		mf_strlcpy(out, "?", len);
		return;
	}
	strftime(out, len, "%Y-%m-%d %H:%M UTC", &tm);
}

static void
append(char *dst, size_t len, const char *sep, const char *s)
{
	size_t n = strlen(dst);

	if (n > 0 && sep != NULL)
		n += (size_t)snprintf(dst + n, n < len ? len - n : 0, "%s", sep);
	if (n < len)
		snprintf(dst + n, len - n, "%s", s);
}

static void
cert_sans(gnutls_x509_crt_t crt, char *out, size_t outlen)
{
	char buf[256], item[300], ip[INET6_ADDRSTRLEN];
	size_t sz;
	unsigned i;
	int t;

	out[0] = '\0';
	for (i = 0;; i++) {
		sz = sizeof(buf) - 1;
		t = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &sz, NULL);
		if (t == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (t < 0)
			continue;  /* too long or malformed: skip this one */
		buf[sz < sizeof(buf) ? sz : sizeof(buf) - 1] = '\0';
		item[0] = '\0';
		if (t == GNUTLS_SAN_DNSNAME) {
			snprintf(item, sizeof(item), "DNS:%s", buf);
		} else if (t == GNUTLS_SAN_IPADDRESS) {
			if ((sz == 4 || sz == 16) && inet_ntop(sz == 4 ? AF_INET
			    : AF_INET6, buf, ip, sizeof(ip)) != NULL)
				snprintf(item, sizeof(item), "IP:%s", ip);
		} else if (t == GNUTLS_SAN_RFC822NAME) {
			snprintf(item, sizeof(item), "email:%s", buf);
		} else if (t == GNUTLS_SAN_URI) {
			snprintf(item, sizeof(item), "URI:%s", buf);
		}
		if (item[0] != '\0')
			append(out, outlen, ", ", item);
	}
}

static void
cert_key_desc(gnutls_x509_crt_t crt, char *out, size_t len)
{
	unsigned bits = 0;
	int pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	gnutls_ecc_curve_t curve;
	const char *name = gnutls_pk_get_name((gnutls_pk_algorithm_t)pk);
	const char *cname;
	char lc[32];
	size_t i;

	if (pk < 0 || name == NULL) {
		mf_strlcpy(out, "unknown key", len);
		return;
	}
	if (pk == GNUTLS_PK_ECDSA) {
		if (gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, NULL, NULL) >= 0 &&
		    (cname = gnutls_ecc_curve_get_name(curve)) != NULL) {
			for (i = 0; cname[i] != '\0' && i + 1 < sizeof(lc); i++)
				lc[i] = (char)tolower((unsigned char)cname[i]);
			lc[i] = '\0';
			snprintf(out, len, "ECDSA %s", lc);
		} else {
			snprintf(out, len, "ECDSA %u", bits);
		}
		return;
	}
	if (pk == GNUTLS_PK_EDDSA_ED25519 || pk == GNUTLS_PK_EDDSA_ED448) {
		mf_strlcpy(out, pk == GNUTLS_PK_EDDSA_ED25519 ? "Ed25519"
		    : "Ed448", len);
		return;
	}
	snprintf(out, len, "%s %u", name, bits);
}

static void
dn_string(gnutls_x509_crt_t crt, int issuer, char *out, size_t len)
{
	gnutls_datum_t d = { NULL, 0 };
	int r = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &d, 0)
	    : gnutls_x509_crt_get_dn3(crt, &d, 0);

	if (r < 0 || d.data == NULL)
		mf_strlcpy(out, "", len);
	else
		snprintf(out, len, "%.*s", (int)d.size, (const char *)d.data);
	gnutls_free(d.data);
}

static int
spki_sha256(gnutls_x509_crt_t crt, unsigned char out[32])
{
	gnutls_pubkey_t pk;
	gnutls_datum_t der = { NULL, 0 };
	int r = -1;

	if (gnutls_pubkey_init(&pk) < 0)
		return -1;
	if (gnutls_pubkey_import_x509(pk, crt, 0) >= 0 &&
	    gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &der) >= 0 &&
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, out) >= 0)
		r = 0;
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pk);
	return r;
}

static void
cert_info(const gnutls_datum_t *der, struct mf_cert_info *ci)
{
	gnutls_x509_crt_t crt;
	unsigned char md[32];
	unsigned ca = 0;

	memset(ci, 0, sizeof(*ci));
	ci->not_before = ci->not_after = (time_t)-1;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size, md) >= 0)
		mf_hex(md, 32, ci->sha256);
	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0) {
		mf_strlcpy(ci->subject, "(unparsable certificate)",
		    sizeof(ci->subject));
		gnutls_x509_crt_deinit(crt);
		return;
	}
	dn_string(crt, 0, ci->subject, sizeof(ci->subject));
	dn_string(crt, 1, ci->issuer, sizeof(ci->issuer));
	cert_sans(crt, ci->sans, sizeof(ci->sans));
	ci->not_before = gnutls_x509_crt_get_activation_time(crt);
	ci->not_after = gnutls_x509_crt_get_expiration_time(crt);
	if (spki_sha256(crt, md) == 0)
		mf_hex(md, 32, ci->spki_sha256);
	ci->self_signed = gnutls_x509_crt_check_issuer(crt, crt) == 1;
	if (gnutls_x509_crt_get_basic_constraints(crt, NULL, &ca, NULL) >= 0)
		ci->is_ca = ca != 0;
	cert_key_desc(crt, ci->key_desc, sizeof(ci->key_desc));
	gnutls_x509_crt_deinit(crt);
}

void
mf_tls_format_cert(const struct mf_cert_info *c, char *out, size_t outlen)
{
	char nb[32], na[32];

	fmt_time(c->not_before, nb, sizeof(nb));
	fmt_time(c->not_after, na, sizeof(na));
	snprintf(out, outlen, "s:%s i:%s%s%s valid %s..%s %s%s%ssha256:%s "
	    "spki:%s", c->subject, c->issuer, c->sans[0] ? " SAN " : "",
	    c->sans, nb, na, c->key_desc, c->is_ca ? " CA" : "",
	    c->self_signed ? " self-signed " : " ", c->sha256,
	    c->spki_sha256);
}

static void
fill_chain(struct tls_ctx *c)
{
	const gnutls_datum_t *certs;
	unsigned n = 0, i;

	certs = gnutls_certificate_get_peers(c->s, &n);
	c->info.chain_len = 0;
	for (i = 0; certs != NULL && i < n && i < MF_TLS_CHAIN_MAX; i++)
		cert_info(&certs[i], &c->info.chain[i]);
	c->info.chain_len = i;
}

static void
fill_params(struct tls_ctx *c)
{
	struct mf_tls_info *in = &c->info;
	gnutls_protocol_t v = gnutls_protocol_get_version(c->s);
	const char *name, *group;
	gnutls_kx_algorithm_t kx;

	if ((name = gnutls_protocol_get_name(v)) != NULL)
		mf_strlcpy(in->version, name, sizeof(in->version));
	if ((name = gnutls_cipher_get_name(gnutls_cipher_get(c->s))) != NULL)
		mf_strlcpy(in->cipher, name, sizeof(in->cipher));
	if ((name = gnutls_mac_get_name(gnutls_mac_get(c->s))) != NULL)
		mf_strlcpy(in->mac, name, sizeof(in->mac));
	group = gnutls_group_get_name(gnutls_group_get(c->s));
	kx = gnutls_kx_get(c->s);
	if (v == GNUTLS_TLS1_3 || kx == GNUTLS_KX_UNKNOWN) {
		/* TLS 1.3 (RFC 8446 §4.2.7) negotiates a group, not a kx. */
		snprintf(in->kx, sizeof(in->kx), "%s-%s",
		    group != NULL && strncmp(group, "FFDHE", 5) == 0 ? "DHE"
		    : "ECDHE", group != NULL ? group : "?");
	} else if ((name = gnutls_kx_get_name(kx)) != NULL) {
		snprintf(in->kx, sizeof(in->kx), "%s%s%s", name,
		    group != NULL ? "/" : "", group != NULL ? group : "");
	}
	in->resumed = gnutls_session_is_resumed(c->s) != 0;
}

/* -------------------------------------------------------- verification */

static int
is_ip_literal(const char *s, unsigned char *raw, size_t *rawlen)
{
	unsigned char tmp[16];

	if (raw == NULL)
		raw = tmp;
	if (inet_pton(AF_INET, s, raw) == 1) {
		if (rawlen != NULL)
			*rawlen = 4;
		return 1;
	}
	if (inet_pton(AF_INET6, s, raw) == 1) {
		if (rawlen != NULL)
			*rawlen = 16;
		return 1;
	}
	return 0;
}

static void
reason(struct tls_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
reason(struct tls_ctx *c, const char *fmt, ...)
{
	char one[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	append(c->info.verify_reason, sizeof(c->info.verify_reason), "; ",
	    one);
}

/* "certificate" for the leaf, "certificate 2 (CN=...)" for others. */
static void
which_cert(const struct mf_tls_info *in, size_t i, char *out, size_t len)
{
	if (i == 0)
		mf_strlcpy(out, "certificate", len);
	else
		snprintf(out, len, "certificate %zu in the chain (%s)", i,
		    in->chain[i].subject);
}

static void
explain_time(struct tls_ctx *c, unsigned status)
{
	struct mf_tls_info *in = &c->info;
	char who[300], t1[32], now_s[32];
	time_t now = time(NULL);
	size_t i;
	int said = 0;

	fmt_time(now, now_s, sizeof(now_s));
	for (i = 0; i < in->chain_len; i++) {
		which_cert(in, i, who, sizeof(who));
		if ((status & GNUTLS_CERT_EXPIRED) &&
		    in->chain[i].not_after != (time_t)-1 &&
		    in->chain[i].not_after < now) {
			fmt_time(in->chain[i].not_after, t1, sizeof(t1));
			reason(c, "%s has expired: valid until %s, now %s", who,
			    t1, now_s);
			in->expired = 1;
			said = 1;
		}
		if ((status & GNUTLS_CERT_NOT_ACTIVATED) &&
		    in->chain[i].not_before > now) {
			fmt_time(in->chain[i].not_before, t1, sizeof(t1));
			reason(c, "%s is not valid yet: valid from %s, now %s",
			    who, t1, now_s);
			in->not_yet_valid = 1;
			said = 1;
		}
	}
	/* GnuTLS also checks the trust anchor, which the peer did not send. */
	if (!said && (status & GNUTLS_CERT_EXPIRED)) {
		reason(c, "a certificate of the chain (maybe the trusted CA) has "
		    "expired, now %s", now_s);
		in->expired = 1;
	}
	if (!said && (status & GNUTLS_CERT_NOT_ACTIVATED)) {
		reason(c, "a certificate of the chain is not valid yet, now %s",
		    now_s);
		in->not_yet_valid = 1;
	}
}

static void
explain_signer(struct tls_ctx *c)
{
	struct mf_tls_info *in = &c->info;
	const struct mf_cert_info *last;
	size_t i;

	in->unknown_ca = 1;
	if (in->chain_len == 0) {
		reason(c, "certificate is signed by an unknown authority");
		return;
	}
	/* A chain sent out of order or with a gap: name the missing link. */
	for (i = 0; i + 1 < in->chain_len; i++) {
		if (strcmp(in->chain[i].issuer, in->chain[i + 1].subject) != 0) {
			reason(c, "certificate chain is incomplete: the issuer %s "
			    "of %s is missing (the server sent %s next)",
			    in->chain[i].issuer, i == 0 ? "the certificate"
			    : in->chain[i].subject, in->chain[i + 1].subject);
			return;
		}
	}
	last = &in->chain[in->chain_len - 1];
	if (in->chain_len == 1 && last->self_signed)
		reason(c, "self-signed certificate (%s) is not trusted",
		    last->subject);
	else if (in->chain_len == 1)
		reason(c, "certificate is signed by an unknown authority "
		    "(issuer: %s)", last->issuer);
	else if (strcmp(last->subject, in->chain[0].issuer) == 0)
		reason(c, "certificate is signed by an unknown authority "
		    "(issuer: %s, which is not among the trusted CAs)",
		    in->chain[0].issuer);
	else
		reason(c, "certificate is signed by an unknown authority "
		    "(issuer: %s; the chain sent ends at %s, which is not "
		    "trusted)", in->chain[0].issuer, last->subject);
}

static void
explain_name(struct tls_ctx *c)
{
	struct mf_tls_info *in = &c->info;
	const char *valid = "";
	char shown[MF_IDN_NAME_MAX];

	in->name_mismatch = 1;
	mf_idn_display(c->verify_name, shown, sizeof(shown));
	if (in->chain_len > 0) {
		valid = in->chain[0].sans[0] != '\0' ? in->chain[0].sans
		    : in->chain[0].subject;
	}
	reason(c, "certificate does not match the name '%s'; it is valid "
	    "for: %s", shown, valid[0] != '\0' ? valid : "(nothing)");
}

static void
explain(struct tls_ctx *c, unsigned status)
{
	gnutls_datum_t out = { NULL, 0 };

	if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
		explain_time(c, status);
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		explain_signer(c);
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		explain_name(c);
	if (status & GNUTLS_CERT_REVOKED)
		reason(c, "certificate has been revoked");
	if (status & GNUTLS_CERT_SIGNER_NOT_CA)
		reason(c, "certificate is signed by a certificate that is not "
		    "a CA");
	if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		reason(c, "certificate is signed with an insecure algorithm");
	if (status & GNUTLS_CERT_SIGNATURE_FAILURE)
		reason(c, "certificate signature does not verify");
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		reason(c, "certificate is not meant for TLS servers");
	if (c->info.verify_reason[0] == '\0' &&
	    gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &out, 0) >= 0) {
		reason(c, "%.*s", (int)out.size, (const char *)out.data);
		gnutls_free(out.data);
	}
}

/* The pin is the whole trust decision when it is set. */
static int
check_pin(struct tls_ctx *c)
{
	struct mf_tls_info *in = &c->info;
	char want[65];
	char gotb64[64];
	unsigned char spki[32];
	gnutls_datum_t raw, b64 = { NULL, 0 };
	size_t i;

	mf_hex(c->pin, 32, want);
	if (in->chain_len > 0 && (strcmp(want, in->chain[0].sha256) == 0 ||
	    strcmp(want, in->chain[0].spki_sha256) == 0))
		return 0;
	in->pin_mismatch = 1;
	gotb64[0] = '\0';
	if (in->chain_len > 0 && strlen(in->chain[0].spki_sha256) == 64) {
		for (i = 0; i < 32; i++)
			spki[i] = (unsigned char)(hexval(
			    in->chain[0].spki_sha256[2 * i]) << 4 |
			    hexval(in->chain[0].spki_sha256[2 * i + 1]));
		raw.data = spki;
		raw.size = 32;
		if (gnutls_base64_encode2(&raw, &b64) >= 0)
			snprintf(gotb64, sizeof(gotb64), "%.*s", (int)b64.size,
			    (const char *)b64.data);
		gnutls_free(b64.data);
	}
	reason(c, "certificate fingerprint mismatch: got %s (certificate "
	    "SHA-256), public key sha256/%s; expected %s",
	    in->chain_len > 0 ? in->chain[0].sha256 : "(no certificate)",
	    gotb64, want);
	return -1;
}

/* Fill the verification part of info; 0 accept, -1 refuse. */
static int
verify_peer(struct tls_ctx *c)
{
	struct mf_tls_info *in = &c->info;
	gnutls_typed_vdata_st vd;
	unsigned status = 0;
	int r;

	fill_chain(c);
	in->verify_reason[0] = '\0';
	in->verified = 0;
	in->expired = in->not_yet_valid = in->unknown_ca = 0;
	in->name_mismatch = in->pin_mismatch = 0;
	if (in->chain_len == 0) {
		reason(c, "the server sent no certificate");
		return c->insecure ? 0 : -1;
	}
	memset(&vd, 0, sizeof(vd));
	if (c->verify_name != NULL) {
		vd.type = GNUTLS_DT_DNS_HOSTNAME;
		vd.data = (unsigned char *)(uintptr_t)c->verify_name;
	}
	r = gnutls_certificate_verify_peers(c->s, c->verify_name ? &vd : NULL,
	    c->verify_name ? 1 : 0, &status);
	if (r < 0) {
		status = GNUTLS_CERT_INVALID;
		reason(c, "certificate could not be checked: %s",
		    gnutls_strerror(r));
	}
	in->verify_status = status;
	if (status != 0)
		explain(c, status);
	if (c->pin_kind != 0) {
		/* With a pin the CA's opinion is no reason to refuse; on a
		 * mismatch the pin is the only reason worth reading. */
		if (check_pin(c) == -1) {
			const char *m = strstr(in->verify_reason,
			    "certificate fingerprint");

			if (m != NULL && m != in->verify_reason)
				memmove(in->verify_reason, m, strlen(m) + 1);
			return -1;
		}
		in->verified = 1;
		return 0;
	}
	if (status == 0) {
		in->verified = 1;
		return 0;
	}
	return c->insecure ? 0 : -1;
}

static int
verify_cb(gnutls_session_t s)
{
	struct tls_ctx *c = gnutls_session_get_ptr(s);

	return verify_peer(c) == 0 ? 0 : GNUTLS_E_CERTIFICATE_ERROR;
}

/* ------------------------------------------------------------- sessions */

static void
load_session(struct tls_ctx *c)
{
	struct stat st;
	unsigned char *buf;
	gnutls_datum_t d;
	ssize_t n;
	int fd;

	/* Only our own regular file: a session is a secret (RFC 8446 §4.6.1
	 * tickets carry the resumption secret). */
	fd = open(c->session_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_size <= 0 ||
	    st.st_size > SESSION_MAX || (buf = malloc((size_t)st.st_size))
	    == NULL) {
		close(fd);
		return;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n == st.st_size) {
		d.data = buf;
		d.size = (unsigned)n;
		gnutls_session_set_data(c->s, d.data, d.size);
	}
	mf_memwipe(buf, (size_t)st.st_size);
	free(buf);
}

static int
save_session(struct tls_ctx *c, struct mf_err *e)
{
	gnutls_datum_t d = { NULL, 0 };
	int r;

	if (c->session_file == NULL || !c->info.handshake_done ||
	    !c->info.verified)
		return 0;
	/* TLS 1.3 resumption needs a NewSessionTicket (RFC 8446 §4.6.1),
	 * which only arrives with or after the first application data. */
	if (gnutls_protocol_get_version(c->s) == GNUTLS_TLS1_3 &&
	    !(gnutls_session_get_flags(c->s) & GNUTLS_SFLAGS_SESSION_TICKET))
		return 0;
	r = gnutls_session_get_data2(c->s, &d);
	if (r < 0 || d.size == 0) {
		gnutls_free(d.data);
		return 0;
	}
	/* the session is a secret: 0600, never through a symbolic link */
	r = mf_durable_replace(c->session_file, NULL, d.data, d.size, 0600, e);
	mf_memwipe(d.data, d.size);
	gnutls_free(d.data);
	return r;
}

int
mf_tls_save_session(struct mf_transport *t, struct mf_err *e)
{
	if (t == NULL || mf_transport_ops(t) != &tls_ops)
		return mf_err_set(e, MF_E_INTERNAL, "not a TLS transport");
	return save_session(mf_transport_ctx(t), e);
}

/* ------------------------------------------------------ record layer ops */

static int
record_err(struct tls_ctx *c, int r, const char *what, struct mf_err *e)
{
	switch (r) {
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		if (c->ioerr.kind != MF_OK) {
			*e = c->ioerr;
			return -1;
		}
		break;
	case GNUTLS_E_PREMATURE_TERMINATION:
		return mf_err_set(e, MF_E_CLOSED, "the server closed the TLS "
		    "connection without a close_notify");
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return mf_err_set(e, MF_E_TLS, "the server sent the TLS alert "
		    "'%s'", gnutls_alert_get_name(gnutls_alert_get(c->s)));
	case GNUTLS_E_TIMEDOUT:
		return mf_err_set(e, MF_E_TIMEOUT, "TLS %s timed out", what);
	default:
		break;
	}
	return mf_err_set(e, MF_E_TLS, "TLS %s failed: %s", what,
	    gnutls_strerror(r));
}

static ssize_t
tls_read(void *ctx, void *buf, size_t n, int timeout_ms, struct mf_err *e)
{
	struct tls_ctx *c = ctx;
	ssize_t r;
	int again = 0;

	mf_transport_set_timeout(c->inner, timeout_ms);
	for (;;) {
		r = gnutls_record_recv(c->s, buf, n);
		if (r >= 0)
			return r;
		if ((r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) &&
		    ++again < AGAIN_MAX)
			continue;
		if (r == GNUTLS_E_REHANDSHAKE) {
			/* TLS 1.2 HelloRequest: renegotiation buys a client
			 * nothing here; decline (RFC 5246 §7.2.2). */
			gnutls_alert_send(c->s, GNUTLS_AL_WARNING,
			    GNUTLS_A_NO_RENEGOTIATION);
			continue;
		}
		if (r == GNUTLS_E_WARNING_ALERT_RECEIVED) {
			if (gnutls_alert_get(c->s) == GNUTLS_A_CLOSE_NOTIFY)
				return 0;
			continue;
		}
		if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
			mf_strlcpy(c->info.alert, gnutls_alert_get_name(
			    gnutls_alert_get(c->s)), sizeof(c->info.alert));
		return record_err(c, (int)r, "read", e);
	}
}

static int
tls_write(void *ctx, const void *buf, size_t n, int timeout_ms,
          struct mf_err *e)
{
	struct tls_ctx *c = ctx;
	const unsigned char *p = buf;
	ssize_t r;
	int again = 0;

	mf_transport_set_timeout(c->inner, timeout_ms);
	while (n > 0) {
		r = gnutls_record_send(c->s, p, n);
		if ((r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) &&
		    ++again < AGAIN_MAX)
			continue;
		if (r < 0)
			return record_err(c, (int)r, "write", e);
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static size_t
tls_pending(void *ctx)
{
	struct tls_ctx *c = ctx;

	return gnutls_record_check_pending(c->s) + (c->ra_len - c->ra_pos) +
	    mf_transport_pending(c->inner);
}

static int
tls_fd(void *ctx)
{
	struct tls_ctx *c = ctx;

	return mf_transport_fd(c->inner);
}

static void
ctx_free(struct tls_ctx *c)
{
	if (c->s != NULL)
		gnutls_deinit(c->s);
	if (c->cred != NULL)
		gnutls_certificate_free_credentials(c->cred);
	free(c->session_file);
	mf_memwipe(c, sizeof(*c));
	free(c);
}

static void
tls_close(void *ctx)
{
	struct tls_ctx *c = ctx;
	struct mf_err e;
	int r, n = 0;

	save_session(c, &e);
	/* SHUT_WR: say close_notify and do not wait for the answer; bounded
	 * because a dead peer must not hang a tool on exit. */
	mf_transport_set_timeout(c->inner, BYE_TIMEOUT_MS);
	do
		r = gnutls_bye(c->s, GNUTLS_SHUT_WR);
	while ((r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) && ++n < 10);
	if (!c->keep_inner)
		mf_transport_free(c->inner);
	ctx_free(c);
}

static const struct mf_transport_ops tls_ops = {
	tls_read, tls_write, tls_pending, tls_fd, tls_close
};

/* ------------------------------------------------------------- set up */

static int
build_priority(const struct mf_tls_params *p, char *out, size_t len,
               struct mf_err *e)
{
	static const struct {
		const char *v;
		const char *prio;
	} mins[] = {
		{ "1.0", "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1" },
		{ "1.1", "NORMAL:-VERS-TLS1.0:+VERS-TLS1.1" },
		{ "1.2", "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1" },
		{ "1.3", "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-TLS1.2" },
	};
	size_t i;

	if (p->priority != NULL && p->priority[0] != '\0') {
		mf_strlcpy(out, p->priority, len);
		return 0;
	}
	for (i = 0; i < sizeof(mins) / sizeof(mins[0]); i++) {
		/* RFC 8996: TLS 1.0 and 1.1 only when asked for */
		if (strcmp(p->min_version != NULL && p->min_version[0] != '\0' ?
		    p->min_version : MF_TLS_MIN_DEFAULT, mins[i].v) == 0) {
			mf_strlcpy(out, mins[i].prio, len);
			return 0;
		}
	}
	return mf_err_set(e, MF_E_USAGE, "bad TLS minimum version '%s' (use "
	    "1.0, 1.1, 1.2 or 1.3)", p->min_version);
}

static int
setup_cred(struct tls_ctx *c, const struct mf_tls_params *p, struct mf_err *e)
{
	const char *key;
	int r;

	if ((r = gnutls_certificate_allocate_credentials(&c->cred)) < 0)
		return mf_err_set(e, MF_E_NOMEM, "TLS credentials: %s",
		    gnutls_strerror(r));
	if (p->ca_file != NULL) {
		r = gnutls_certificate_set_x509_trust_file(c->cred, p->ca_file,
		    GNUTLS_X509_FMT_PEM);
		if (r <= 0)
			return mf_err_set(e, MF_E_CONFIG, "no CA certificates "
			    "loaded from %s%s%s", p->ca_file, r < 0 ? ": " : "",
			    r < 0 ? gnutls_strerror(r) : "");
	} else {
		r = gnutls_certificate_set_x509_system_trust(c->cred);
		if (r <= 0 && !p->insecure && p->fingerprint == NULL)
			return mf_err_set(e, MF_E_CONFIG, "cannot load the "
			    "system's trusted CA certificates%s%s; name a CA "
			    "file", r < 0 ? ": " : "",
			    r < 0 ? gnutls_strerror(r) : "");
	}
	if (p->cert_file != NULL || p->key_file != NULL) {
		if (p->cert_file == NULL)
			return mf_err_set(e, MF_E_CONFIG, "a TLS client key "
			    "needs its certificate");
		key = p->key_file != NULL ? p->key_file : p->cert_file;
		r = gnutls_certificate_set_x509_key_file(c->cred, p->cert_file,
		    key, GNUTLS_X509_FMT_PEM);
		if (r < 0)
			return mf_err_set(e, MF_E_CONFIG, "cannot load the TLS "
			    "client certificate %s with key %s: %s",
			    p->cert_file, key, gnutls_strerror(r));
	}
	gnutls_certificate_set_verify_function(c->cred, verify_cb);
	return 0;
}

static int
setup_session(struct tls_ctx *c, const struct mf_tls_params *p,
              struct mf_err *e)
{
	char prio[512];
	const char *errpos = NULL, *sni;
	int r;

	if (build_priority(p, prio, sizeof(prio), e) == -1)
		return -1;
	if ((r = gnutls_init(&c->s, GNUTLS_CLIENT)) < 0)
		return mf_err_set(e, MF_E_NOMEM, "TLS session: %s",
		    gnutls_strerror(r));
	gnutls_session_set_ptr(c->s, c);
	r = gnutls_priority_set_direct(c->s, prio, &errpos);
	if (r < 0) {
		if (r == GNUTLS_E_INVALID_REQUEST && errpos != NULL)
			return mf_err_set(e, MF_E_USAGE, "bad TLS priority "
			    "string '%s': error at '%s'", prio, errpos);
		return mf_err_set(e, MF_E_USAGE, "bad TLS priority string "
		    "'%s': %s", prio, gnutls_strerror(r));
	}
	if ((r = gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE,
	    c->cred)) < 0)
		return mf_err_set(e, MF_E_INTERNAL, "TLS credentials: %s",
		    gnutls_strerror(r));
	/* SNI carries DNS names only (RFC 6066 §3: "Literal IPv4 and IPv6
	 * addresses are not permitted"). */
	sni = p->sni != NULL ? p->sni : p->verify_name;
	if (sni != NULL && sni[0] != '\0' && !is_ip_literal(sni, NULL, NULL))
		gnutls_server_name_set(c->s, GNUTLS_NAME_DNS, sni, strlen(sni));
	gnutls_transport_set_ptr(c->s, c);
	gnutls_transport_set_push_function(c->s, push);
	gnutls_transport_set_pull_function(c->s, pull);
	gnutls_transport_set_pull_timeout_function(c->s, pull_timeout);
	if (c->session_file != NULL)
		load_session(c);
	return 0;
}

/* The printable start of what a non-TLS peer sent, up to the first line end. */
static int
plaintext_peek(struct tls_ctx *c)
{
	char *o = c->info.plaintext_seen;
	size_t i, n = 0;

	/* A TLS record starts with content type 20..24 (RFC 8446 §5.1). */
	if (c->npeek == 0 || (c->peek[0] >= 20 && c->peek[0] <= 24))
		return 0;
	for (i = 0; i < c->npeek && n + 1 < sizeof(c->info.plaintext_seen);
	    i++) {
		unsigned char ch = c->peek[i];

		if (ch == '\r' || ch == '\n')
			break;
		if (ch < 0x20 || ch > 0x7e)
			return o[0] = '\0', 0;
		o[n++] = (char)ch;
	}
	o[n] = '\0';
	return n > 0;
}

/* GnuTLS read only a record header before failing; fetch the rest of the
 * line the peer sent so the message can quote it. */
static void
peek_more(struct tls_ctx *c)
{
	struct mf_err e;
	ssize_t r;

	if (c->npeek == 0 || c->npeek >= PEEK_MAX ||
	    (c->peek[0] >= 20 && c->peek[0] <= 24) ||
	    memchr(c->peek, '\n', c->npeek) != NULL)
		return;
	mf_transport_set_timeout(c->inner, 300);
	r = mf_transport_read(c->inner, c->peek + c->npeek,
	    PEEK_MAX - c->npeek, &e);
	if (r > 0)
		c->npeek += (size_t)r;
}

static int
handshake_err(struct tls_ctx *c, const struct mf_tls_params *p, int r,
              struct mf_err *e)
{
	struct mf_tls_info *in = &c->info;
	const char *hint = "";

	if (r == GNUTLS_E_FATAL_ALERT_RECEIVED ||
	    r == GNUTLS_E_WARNING_ALERT_RECEIVED)
		mf_strlcpy(in->alert, gnutls_alert_get_name(
		    gnutls_alert_get(c->s)), sizeof(in->alert));
	if (r == GNUTLS_E_CERTIFICATE_ERROR ||
	    r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		if (in->verify_reason[0] == '\0')
			mf_strlcpy(in->verify_reason, gnutls_strerror(r),
			    sizeof(in->verify_reason));
		return mf_err_set(e, MF_E_TLS_VERIFY, "TLS certificate not "
		    "accepted: %s", in->verify_reason);
	}
	if ((r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR) &&
	    c->ioerr.kind == MF_E_TIMEOUT)
		return mf_err_set(e, MF_E_TIMEOUT, "TLS handshake timed out: "
		    "%s", c->ioerr.msg);
	if (r == GNUTLS_E_TIMEDOUT)
		return mf_err_set(e, MF_E_TIMEOUT, "TLS handshake timed out");
	peek_more(c);
	if (plaintext_peek(c))
		return mf_err_set(e, MF_E_TLS, "the server answered in plain "
		    "text (\"%s\"), not TLS: this port does not speak TLS "
		    "immediately; use STARTTLS", in->plaintext_seen);
	if (r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR)
		return mf_err_set(e, MF_E_TLS, "TLS handshake failed: %s",
		    c->ioerr.msg[0] ? c->ioerr.msg : gnutls_strerror(r));
	if (r == GNUTLS_E_PREMATURE_TERMINATION ||
	    (r == GNUTLS_E_UNEXPECTED_PACKET_LENGTH && c->npeek == 0))
		return mf_err_set(e, MF_E_TLS, "TLS handshake failed: the "
		    "server closed the connection%s", c->npeek == 0 ?
		    " without answering" : "");
	if (p->min_version != NULL && p->priority == NULL)
		hint = "; the server may not support the required TLS version "
		    "or ciphers";
	if (in->alert[0] != '\0')
		return mf_err_set(e, MF_E_TLS, "TLS handshake failed: %s "
		    "(alert '%s' from the server)%s", gnutls_strerror(r),
		    in->alert, hint);
	return mf_err_set(e, MF_E_TLS, "TLS handshake failed: %s%s",
	    gnutls_strerror(r), hint);
}

static int
handshake(struct tls_ctx *c, const struct mf_tls_params *p, struct mf_err *e)
{
	int r, n = 0, saved_to = mf_transport_timeout(c->inner);

	if (p->timeout_ms > 0)
		mf_transport_set_timeout(c->inner, p->timeout_ms);
	c->handshaking = 1;
	do
		r = gnutls_handshake(c->s);
	while (r < 0 && !gnutls_error_is_fatal(r) && ++n < AGAIN_MAX);
	c->handshaking = 0;
	mf_transport_set_timeout(c->inner, saved_to);
	if (r < 0) {
		if (c->info.chain_len == 0)
			fill_chain(c);
		return handshake_err(c, p, r, e);
	}
	c->info.handshake_done = 1;
	fill_params(c);
	/* A resumed handshake skipped the certificate callback (RFC 8446
	 * §2.2): judge the stored chain the same way now. */
	if (c->info.resumed && verify_peer(c) == -1) {
		gnutls_alert_send(c->s, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
		return mf_err_set(e, MF_E_TLS_VERIFY, "TLS certificate not "
		    "accepted: %s", c->info.verify_reason);
	}
	return 0;
}

static int
prepare(struct tls_ctx *c, const struct mf_tls_params *p, struct mf_err *e)
{
	if (p->fingerprint != NULL &&
	    mf_tls_parse_pin(p->fingerprint, c->pin, &c->pin_kind, e) == -1)
		return -1;
	if (p->session_file != NULL &&
	    (c->session_file = strdup(p->session_file)) == NULL)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	if (setup_cred(c, p, e) == -1 || setup_session(c, p, e) == -1)
		return -1;
	return handshake(c, p, e);
}

/* SNI and the certificate's DNS names hold A-labels (RFC 6066 §3, RFC 6125
 * §6.4.2): a name typed in UTF-8 is converted before either is used. */
static int
ascii_names(const struct mf_tls_params *p, struct mf_tls_params *q,
            char *sni, char *name, size_t len, struct mf_err *e)
{
	*q = *p;
	if (p->sni != NULL) {
		if (mf_idn_to_ascii(p->sni, sni, len, MF_E_USAGE, e) == -1)
			return -1;
		q->sni = sni;
	}
	if (p->verify_name != NULL) {
		if (mf_idn_to_ascii(p->verify_name, name, len, MF_E_USAGE,
		    e) == -1)
			return -1;
		q->verify_name = name;
	}
	return 0;
}

struct mf_transport *
mf_tls_wrap(struct mf_transport *inner, const struct mf_tls_params *p,
            struct mf_tls_info *info, struct mf_err *e)
{
	static const struct mf_tls_params none;
	struct mf_tls_params q;
	char sni[MF_IDN_NAME_MAX], name[MF_IDN_NAME_MAX];
	struct tls_ctx *c;
	struct mf_transport *t;
	int ok;

	if (p == NULL)
		p = &none;
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (ascii_names(p, &q, sni, name, sizeof(sni), e) == -1)
		return NULL;
	p = &q;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		mf_err_set(e, MF_E_NOMEM, "out of memory");
		return NULL;
	}
	c->inner = inner;
	c->insecure = p->insecure;
	c->verify_name = p->verify_name != NULL && p->verify_name[0] != '\0'
	    ? p->verify_name : NULL;
	if (c->verify_name != NULL)
		mf_strlcpy(c->info.checked_name, c->verify_name,
		    sizeof(c->info.checked_name));
	ok = prepare(c, p, e) == 0;
	c->verify_name = NULL;  /* the caller's string; do not keep it */
	if (info != NULL)
		*info = c->info;
	if (!ok) {
		ctx_free(c);
		return NULL;
	}
	save_session(c, NULL);
	/* mf_transport_new closes ctx when it fails; inner must then stay
	 * the caller's, as the contract says. */
	c->keep_inner = 1;
	if ((t = mf_transport_new(&tls_ops, c, 1)) == NULL) {
		mf_err_set(e, MF_E_NOMEM, "out of memory");
		return NULL;
	}
	c->keep_inner = 0;
	mf_transport_set_timeout(t, mf_transport_timeout(inner));
	return t;
}

int
mf_tls_channel_binding(struct mf_transport *t, const char **type,
                       unsigned char *out, size_t *len, struct mf_err *e)
{
	struct tls_ctx *c;
	gnutls_datum_t cb = { NULL, 0 };
	gnutls_channel_binding_t kind;
	int r;

	if (t == NULL || mf_transport_ops(t) != &tls_ops)
		return mf_err_set(e, MF_E_UNSUPPORTED, "channel binding needs "
		    "a TLS connection");
	c = mf_transport_ctx(t);
	/* RFC 9266 §3: tls-exporter for TLS 1.3, where tls-unique is not
	 * defined; RFC 5929 §3 tls-unique (the first Finished message) for
	 * TLS 1.2, which is what servers built on older SASL libraries
	 * (Cyrus SASL) bind with. */
	if (gnutls_protocol_get_version(c->s) == GNUTLS_TLS1_3) {
		kind = GNUTLS_CB_TLS_EXPORTER;
		*type = "tls-exporter";
	} else {
		kind = GNUTLS_CB_TLS_UNIQUE;
		*type = "tls-unique";
	}
	r = gnutls_session_channel_binding(c->s, kind, &cb);
	if (r < 0)
		return mf_err_set(e, MF_E_UNSUPPORTED, "%s channel binding not "
		    "available: %s", *type, gnutls_strerror(r));
	if (cb.size > *len) {
		gnutls_free(cb.data);
		return mf_err_set(e, MF_E_INTERNAL, "channel binding buffer "
		    "too small (%u bytes needed)", cb.size);
	}
	memcpy(out, cb.data, cb.size);
	*len = cb.size;
	gnutls_free(cb.data);
	return 0;
}

const struct mf_tls_info *
mf_tls_get_info(struct mf_transport *t)
{
	struct tls_ctx *c;

	if (t == NULL || mf_transport_ops(t) != &tls_ops)
		return NULL;
	c = mf_transport_ctx(t);
	return &c->info;
}

int
mf_tls_peer_cert_der(struct mf_transport *t, size_t i,
                     const unsigned char **der, size_t *len)
{
	const gnutls_datum_t *certs;
	unsigned int n = 0;
	struct tls_ctx *c;

	if (t == NULL || mf_transport_ops(t) != &tls_ops)
		return -1;
	c = mf_transport_ctx(t);
	certs = gnutls_certificate_get_peers(c->s, &n);
	if (certs == NULL || i >= n)
		return -1;
	*der = certs[i].data;
	*len = certs[i].size;
	return 0;
}

/* Import certificate i of the peer's chain; NULL if absent or malformed. */
static gnutls_x509_crt_t
peer_crt(struct tls_ctx *c, size_t i)
{
	const gnutls_datum_t *certs;
	unsigned int n = 0;
	gnutls_x509_crt_t crt;

	certs = gnutls_certificate_get_peers(c->s, &n);
	if (certs == NULL || i >= n || gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &certs[i], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	return crt;
}

int
mf_tls_peer_cert_signed_by(struct mf_transport *t, size_t i, size_t j)
{
	gnutls_x509_crt_t crt, issuer;
	unsigned int status = 0;
	int r;

	if (t == NULL || mf_transport_ops(t) != &tls_ops)
		return -1;
	crt = peer_crt(mf_transport_ctx(t), i);
	issuer = peer_crt(mf_transport_ctx(t), j);
	if (crt == NULL || issuer == NULL) {
		if (crt) gnutls_x509_crt_deinit(crt);
		if (issuer) gnutls_x509_crt_deinit(issuer);
		return -1;
	}
	/* Dates are the caller's to judge; the issuer must be a CA and its
	 * signature over crt must verify. */
	r = gnutls_x509_crt_verify(crt, &issuer, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &status);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(issuer);
	if (r < 0)
		return -1;
	return status == 0;
}
