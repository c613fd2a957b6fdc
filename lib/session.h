/* session.h - the plumbing under every line protocol (SMTP, LMTP, POP3,
 * IMAP): dial (TCP or a local socket), implicit TLS or STARTTLS as a wrap
 * of the live transport, line I/O with its limits, and the facts of the
 * TLS handshake (version, cipher, peer chain, verification result) kept for
 * the caller -- also after a failed handshake, so nobody has to shake
 * hands twice to learn why.
 *
 * Owns: the transport and the line I/O over it.  Does not own: the
 * protocol's words -- the greeting, the STARTTLS command and its reply, and
 * what the capabilities mean stay in smtp.c, pop3.c and imap.c, which call
 * mf_session_starttls() once their server said go ahead.  Never prints;
 * writes "connected to" and "TLS started" notes to the transcript.
 *
 * Must not: spell a protocol's commands (the protocol modules do, and
 * hand it the STARTTLS step), print or exit. */
#ifndef MF_SESSION_H
#define MF_SESSION_H

#include <stddef.h>

#include "err.h"
#include "lineio.h"
#include "sock.h"
#include "tls.h"
#include "transcript.h"
#include "transport.h"

struct mf_session_params {
	const char *host;            /* name or address, or "unix:/path" */
	const char *port;            /* service or number (not for unix:) */
	enum mf_tls_mode tls;        /* MF_TLS_IMPLICIT: handshake at once */
	const struct mf_tls_params *tlsp; /* for both handshakes; NULL: none */
	struct mf_sock_opts sock;
	int timeout_ms;              /* each read and write; 0: the socket's */
	size_t max_line;             /* longest line; 0: the line I/O default */
	struct mf_transcript *tr;    /* may be NULL */
};

struct mf_session;

/* Dial and, for MF_TLS_IMPLICIT, shake hands.  NULL with e filled on
 * failure; *tls (may be NULL) then still gets the handshake's facts
 * (alert, chain, plaintext the peer answered with). */
struct mf_session *mf_session_open(const struct mf_session_params *p,
                                   struct mf_tls_info *tls, struct mf_err *e);

/* A session over an already connected transport t (owned from now on,
 * freed on error): unit tests, or a caller that connected by other
 * means.  p->host and p->port only name the peer. */
struct mf_session *mf_session_attach(struct mf_transport *t,
                                     const struct mf_session_params *p,
                                     struct mf_err *e);

/* Close and free; NULL is fine. */
void mf_session_free(struct mf_session *s);

/* The line I/O, owned by the session. */
struct mf_lineio *mf_session_lineio(struct mf_session *s);

/* The peer's address ("192.0.2.1"), or "" (attached, local socket). */
const char *mf_session_peer(const struct mf_session *s);

/* Before reading the greeting of a clear-text session: is the port an
 * implicit-TLS one?  As mf_tlsport_check_clear(); 0 for implicit TLS and
 * local sockets. */
int mf_session_check_port(struct mf_session *s, struct mf_err *e);

/* Wrap the live transport in TLS, after the protocol's STARTTLS got its
 * go-ahead.  Bytes the server sent after the go-ahead are refused
 * (MF_E_PROTO, possible injection: RFC 3207 §4.2 / RFC 2595 §3.1). */
int mf_session_starttls(struct mf_session *s, struct mf_err *e);

/* The facts of the last handshake (successful or not), or NULL when none
 * was tried. */
const struct mf_tls_info *mf_session_tls(const struct mf_session *s);

#endif
