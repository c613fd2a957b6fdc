/* tlsport.h - is the TLS mode right for the port?  One detection shared by
 * smtp-auth-test's IMPLICIT_TLS_PORT finding and by mailsend, pop-fetch and
 * imap-sync, so that STARTTLS asked of an implicit-TLS port (465, 993, 995)
 * fails within seconds with the fix named, instead of waiting for a
 * greeting that never comes until the timeout.
 *
 * An implicit-TLS server (RFC 8314 §3) says nothing in clear: it waits
 * for a ClientHello.  So: wait briefly for the clear-text greeting; if
 * none came, try a TLS handshake on a new connection (no certificate
 * check: the question is only "is this TLS?"); if it works, the mode is
 * wrong.  The reverse mistake, implicit TLS against a clear-text port,
 * shows as a handshake answered with clear text ("220 ...", "+OK",
 * "* OK"), which tls.c records in plaintext_seen.
 *
 * Must not: print or exit. */
#ifndef MF_TLSPORT_H
#define MF_TLSPORT_H

#include "err.h"
#include "lineio.h"
#include "sock.h"
#include "tls.h"

/* How long a clear-text greeting may take before the probe (ms). */
#define MF_TLSPORT_GREETING_MS 3000
/* The probe's own connect + handshake limit (ms). */
#define MF_TLSPORT_PROBE_MS 1500

/* --tls auto: implicit TLS on 465, 993 and 995 (submissions, imaps,
 * pop3s: RFC 8314 §3.3 and §7), else STARTTLS. */
enum mf_tls_mode mf_tlsport_auto(const char *port);

/* 1 when a TLS handshake on a new connection to host:port succeeds within
 * timeout_ms (0: MF_TLSPORT_PROBE_MS), else 0. */
int mf_tlsport_probe(const char *host, const char *port,
                     const struct mf_sock_opts *so, int timeout_ms);

/* On a clear-text connection l to host:port, before reading the
 * greeting: when nothing arrives within MF_TLSPORT_GREETING_MS (capped at
 * timeout_ms) and the port turns out to speak TLS, -1 with MF_E_CONFIG
 * "port 465 expects TLS at once: use --tls implicit"; otherwise 0 (read
 * the greeting as usual, with the usual timeout). */
int mf_tlsport_check_clear(struct mf_lineio *l, const char *host,
                           const char *port, const struct mf_sock_opts *so,
                           int timeout_ms, struct mf_err *e);

/* After a failed implicit-TLS handshake to port: when the peer answered
 * in clear text (info->plaintext_seen), rewrite e (MF_E_CONFIG) as
 * "port 587 answered in clear text ("220 ..."): it expects STARTTLS: use
 * --tls starttls".  Otherwise e is left alone. */
void mf_tlsport_explain_implicit(const struct mf_tls_info *info,
                                 const char *port, struct mf_err *e);

#endif
