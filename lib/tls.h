/* tls.h - TLS as a layer over any transport (GnuTLS inside; only tls.c and
 * crypto.c include GnuTLS).
 *
 * mf_tls_wrap() runs the handshake over an existing transport and returns a
 * new transport that owns it: implicit TLS wraps a fresh socket, STARTTLS
 * wraps the live connection after the server's go-ahead.
 * Verification is on by default (system trust store, or ca_file), and the
 * peer's name is checked against verify_name.  After the handshake -- and
 * also after a failed one, as far as it got -- struct mf_tls_info says what
 * was negotiated, what the peer's chain is and, on failure, why in words.
 *
 * Must not: know a mail protocol, print or exit. */
#ifndef MF_TLS_H
#define MF_TLS_H

#include <stddef.h>
#include <time.h>

#include "err.h"
#include "tlsmode.h"
#include "transport.h"

/* RFC 8996 deprecates TLS 1.0 and 1.1: older versions only on request. */
#define MF_TLS_MIN_DEFAULT "1.2"

struct mf_tls_params {
	const char *sni;          /* server name sent in SNI; NULL: verify_name if a DNS name */
	const char *verify_name;  /* name the certificate must match; NULL: no name check */
	const char *ca_file;      /* PEM trust anchors; NULL: system trust store */
	const char *fingerprint;  /* pin: SHA-256 of the certificate or of its
	                             SubjectPublicKeyInfo, hex (colons allowed) or
	                             "sha256/BASE64"; when set, a match is the trust
	                             decision and the CA chain is not required */
	const char *cert_file;    /* client certificate (PEM), optional */
	const char *key_file;     /* its key (PEM), optional */
	const char *min_version;  /* "1.0" "1.1" "1.2" "1.3"; NULL:
	                             MF_TLS_MIN_DEFAULT */
	const char *priority;     /* a GnuTLS priority string; overrides min_version */
	const char *session_file; /* resume from / save to this file (0600); optional */
	int insecure;             /* skip verification (the tool warns loudly) */
	int timeout_ms;           /* handshake timeout; 0: the transport's timeout */
};

struct mf_cert_info {
	char subject[256];
	char issuer[256];
	char sans[512];           /* "DNS:a.example, DNS:b.example, IP:127.0.0.1" */
	time_t not_before;
	time_t not_after;
	char sha256[65];          /* certificate fingerprint, lowercase hex */
	char spki_sha256[65];     /* public key (SPKI) fingerprint, lowercase hex */
	int self_signed;
	int is_ca;
	char key_desc[64];        /* "RSA 2048", "ECDSA secp256r1", ... */
};

#define MF_TLS_CHAIN_MAX 8

struct mf_tls_info {
	int handshake_done;       /* 1 when the handshake completed */
	char version[16];         /* "TLS1.3" */
	char cipher[64];          /* "AES-256-GCM" */
	char kx[32];              /* key exchange "ECDHE-X25519" ... */
	char mac[32];
	int resumed;              /* session was resumed from session_file */
	int verified;             /* certificate (or pin) accepted */
	unsigned verify_status;   /* GnuTLS status bits (0 = fine) */
	char verify_reason[512];  /* in words, naming the facts, e.g.
	                             "certificate has expired: valid until
	                             2025-03-01 10:00 UTC, now 2026-11-21
	                             23:00 UTC"; several joined by "; ".
	                             Filled also with insecure (then only
	                             informative) */
	int name_mismatch;        /* the checked name is not in the certificate */
	int expired;              /* not_after in the past */
	int not_yet_valid;
	int unknown_ca;           /* no path to a trusted anchor */
	int pin_mismatch;
	char checked_name[256];   /* the name we verified against */
	size_t chain_len;
	struct mf_cert_info chain[MF_TLS_CHAIN_MAX];  /* as the peer sent it */
	char alert[128];          /* TLS alert received, if any */
	char plaintext_seen[64];  /* printable copy of the first bytes when the
	                             peer answered the ClientHello with non-TLS
	                             data (e.g. "220 mail ESMTP"), else "" */
};

/* Run a client handshake over `inner` and return a transport that reads and
 * writes through TLS and owns `inner`.  On failure returns NULL, `inner`
 * still belongs to the caller, e is MF_E_TLS_VERIFY (certificate refused;
 * e->msg says why, the same words as info->verify_reason), MF_E_TLS
 * (handshake failed: version/cipher mismatch, non-TLS peer, alert) or
 * MF_E_TIMEOUT; MF_E_USAGE for a bad min_version, priority string (the
 * message names the bad part) or fingerprint; MF_E_CONFIG when ca_file,
 * the system trust store or the client certificate/key cannot be loaded.
 * `info` may be NULL; otherwise it is filled on success and as far as
 * possible on failure.
 * Reads of the returned transport: 0 at the peer's close_notify, -1 with
 * MF_E_CLOSED when the peer closed without one, MF_E_TIMEOUT, MF_E_TLS.
 * Closing it sends close_notify (without waiting), saves the session to
 * session_file and closes `inner`.
 * A session from session_file is only used when the file is a regular file
 * owned by the effective user; a resumed session's stored certificate
 * chain is verified again (info->resumed says whether resumption
 * happened). */
struct mf_transport *mf_tls_wrap(struct mf_transport *inner,
                                 const struct mf_tls_params *p,
                                 struct mf_tls_info *info, struct mf_err *e);

/* Channel binding data for SCRAM-*-PLUS: type tls-exporter (RFC 9266) on
 * TLS 1.3, tls-unique (RFC 5929) on TLS 1.2 and older.  t must be a
 * transport returned by mf_tls_wrap.  Sets *type to the binding's name (a
 * static string), writes up to *len bytes into out and sets *len.  -1 when
 * t is not TLS or GnuTLS cannot give the binding. */
int mf_tls_channel_binding(struct mf_transport *t, const char **type,
                           unsigned char *out, size_t *len, struct mf_err *e);

/* The info of a TLS transport (NULL for a non-TLS transport). */
const struct mf_tls_info *mf_tls_get_info(struct mf_transport *t);

/* The DER encoding of certificate i (0 = leaf) of the chain the peer sent
 * on a TLS transport, e.g. for DANE matching and DANE-TA chain building.
 * The bytes stay owned by the transport. -1 when t is not TLS or i is past
 * the end of the chain. */
int mf_tls_peer_cert_der(struct mf_transport *t, size_t i,
                         const unsigned char **der, size_t *len);

/* Is certificate i of the peer's chain signed by certificate j of the
 * same chain (j a CA)? Dates are not checked. 1 yes, 0 no, -1 when t is not
 * TLS or a certificate is missing or malformed. For DANE-TA chain building
 * (RFC 7671 §5.2.2), which must not trust names alone. */
int mf_tls_peer_cert_signed_by(struct mf_transport *t, size_t i, size_t j);

/* Save the session for resumption now (also done at close): to
 * session_file, mode 0600, by temp file + fsync + rename.  Does nothing
 * (returns 0) without a session_file, for an unverified (insecure)
 * connection, or with TLS 1.3 before the server's ticket has arrived --
 * the ticket comes with the first data read, so call this after the
 * server's greeting.  -1 with MF_E_IO when the file cannot be written. */
int mf_tls_save_session(struct mf_transport *t, struct mf_err *e);

/* Parse a certificate pin as mf_tls_params.fingerprint takes it: 64 hex
 * digits (any case, colons allowed between bytes) or "sha256/BASE64" (the
 * HPKP style, RFC 7469 §2.4).  out gets the 32-byte digest; *kind is 1 for
 * hex, 2 for base64.  A pin matches the leaf when it equals the SHA-256 of
 * its DER encoding or of its SubjectPublicKeyInfo, whichever form it was
 * given in.  -1 (MF_E_USAGE) on anything else. */
int mf_tls_parse_pin(const char *s, unsigned char out[32], int *kind,
                     struct mf_err *e);

/* One line per certificate for people: "0 s:CN=... i:CN=... SAN ... valid
 * 2026-01-01..2027-01-01". Writes into out (always NUL-terminated). */
void mf_tls_format_cert(const struct mf_cert_info *c, char *out, size_t outlen);

#endif
