/* sock.h - TCP connections as transports.
 *
 * mf_sock_connect() resolves a name and tries every address in the order
 * getaddrinfo returns them (RFC 6724 order, IPv6 and IPv4), each with its
 * own connect timeout, and keeps the first that connects.  The errors tell
 * apart: MF_E_NOHOST (name does not resolve), MF_E_CONNECT with
 * sys_errno ECONNREFUSED / ENETUNREACH ..., MF_E_TIMEOUT (nothing answered:
 * a filtered port).
 *
 * Must not: know TLS or a protocol, print or exit. */
#ifndef MF_SOCK_H
#define MF_SOCK_H

#include "err.h"
#include "transport.h"

struct mf_sock_opts {
	int family;             /* 0 any, 4 IPv4 only, 6 IPv6 only */
	int connect_timeout_ms; /* per address; 0 means 30000 */
	int io_timeout_ms;      /* timeout of later reads/writes; 0 means 60000 */
};

/* Connect to host:port (port as a number or service name).
 * On success the transport owns the socket; on failure NULL and e filled
 * with the reason of the last address tried. */
struct mf_transport *mf_sock_connect(const char *host, const char *port,
                                     const struct mf_sock_opts *opts,
                                     struct mf_err *e);

/* Connect to the local stream socket at path (an LMTP server's, say),
 * bounded by opts' timeouts.  MF_E_CONNECT (sys_errno ENOENT,
 * ECONNREFUSED, EACCES ...) when it cannot; MF_E_USAGE for a path longer
 * than a socket address holds. */
struct mf_transport *mf_sock_connect_unix(const char *path,
                                          const struct mf_sock_opts *opts,
                                          struct mf_err *e);

/* "unix:/path" names a local socket: the path, or NULL for anything
 * else. */
const char *mf_sock_unix_path(const char *server);

/* A transport over an already connected fd (owned from now on). */
struct mf_transport *mf_sock_from_fd(int fd, struct mf_err *e);

/* The numeric address of the connected peer ("127.0.0.1", "::1"), or ""
 * for a transport that is not a socket. */
const char *mf_sock_peer_addr(struct mf_transport *t);

/* Split "host:port", "[v6]:port" or "host" into parts. host/port are
 * written into the given buffers; port stays unchanged when absent.
 * -1 (MF_E_USAGE) on a malformed value or one that does not fit. */
int mf_sock_split_hostport(const char *in, char *host, size_t hostlen,
                           char *port, size_t portlen, struct mf_err *e);

#endif
