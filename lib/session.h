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

#include "cred.h"
#include "err.h"
#include "lineio.h"
#include "sock.h"
#include "tls.h"
#include "transcript.h"
#include "transport.h"

/* One client connection as every protocol module takes it (SMTP, LMTP,
 * POP3, IMAP, the SMTP diagnosis): where, how protected, how patient, who
 * logs in and where the password comes from.  Tools fill it from their
 * settings in one call (mf_settings_conn, settings.h); a protocol's own
 * parameters sit next to it (struct mf_smtp_params).  Strings are
 * borrowed and must outlive the connection. */
struct mf_conn {
	const char *host;            /* name or address, or "unix:/path" */
	const char *port;            /* service or number; NULL or "": the
	                                protocol's default (SMTP 587, POP3
	                                110/995, IMAP 143/993) */
	enum mf_tls_mode tls;        /* MF_TLS_IMPLICIT: handshake at once;
	                                UNSET/AUTO: the protocol decides (by
	                                the port, or STARTTLS when offered) */
	struct mf_tls_params tlsp;   /* verification etc.; verify_name NULL:
	                                the protocols check `host` */
	struct mf_sock_opts sock;    /* family; connect timeout (0: 30 s, IMAP:
	                                timeout_ms); I/O timeout (0: timeout_ms) */
	int timeout_ms;              /* each reply (read and write); 0: the
	                                protocol's default (SMTP 5 min,
	                                RFC 5321 §4.5.3.2; POP3 and IMAP 60 s) */
	struct mf_transcript *tr;    /* may be NULL */
	struct mf_auth cred;         /* who logs in and where the secret is
	                                (cred.h); cred.mech as the protocol
	                                reads --auth.  Not used by the session
	                                itself */
};

struct mf_session_params {
	struct mf_conn conn;         /* conn.port: a service or number (no
	                                default here); conn.timeout_ms: each
	                                read and write, 0: the socket's;
	                                conn.sock as given; conn.cred unused */
	size_t max_line;             /* longest line; 0: the line I/O default */
};

struct mf_session;

/* Dial and, for MF_TLS_IMPLICIT, shake hands.  NULL with e filled on
 * failure; *tls (may be NULL) then still gets the handshake's facts
 * (alert, chain, plaintext the peer answered with). */
struct mf_session *mf_session_open(const struct mf_session_params *p,
                                   struct mf_tls_info *tls, struct mf_err *e);

/* A session over an already connected transport t (owned from now on,
 * freed on error): unit tests, or a caller that connected by other
 * means.  p->conn.host and p->conn.port only name the peer. */
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
