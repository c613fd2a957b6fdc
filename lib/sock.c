/* sock.c - TCP socket transport with connect/read/write timeouts. */
#include "sock.h"
#include "buf.h"
#include "idn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct sock {
	int fd;
	char peer[INET6_ADDRSTRLEN];
};

/* Wait until fd is ready for `events`; 0 ready, -1 with e on timeout/error. */
static int
wait_fd(int fd, short events, int timeout_ms, const char *what, struct mf_err *e)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return mf_err_sys(e, MF_E_IO, errno, "poll");
	if (r == 0)
		return mf_err_set(e, MF_E_TIMEOUT, "timed out after %d ms %s",
		    timeout_ms, what);
	return 0;
}

static ssize_t
sock_read(void *ctx, void *buf, size_t n, int timeout_ms, struct mf_err *e)
{
	struct sock *s = ctx;
	const int one = 1;
	ssize_t r;

	for (;;) {
		r = recv(s->fd, buf, n, MSG_DONTWAIT);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			if (errno == ECONNRESET)
				return mf_err_sys(e, MF_E_CLOSED, errno,
				    "connection reset by the server");
			return mf_err_sys(e, MF_E_CLOSED, errno, "read");
		}
		/*
		 * About to wait for the server: acknowledge what was read
		 * now.  A server that writes one reply in two segments (Postfix:
		 * the RCPT replies, then "250 queued") holds the second under
		 * Nagle until the first is acknowledged, and a delayed ACK
		 * costs ~40 ms per exchange.  TCP_QUICKACK is not sticky, so
		 * it is set at every wait; where it is unknown it is ignored.
		 */
		setsockopt(s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		if (wait_fd(s->fd, POLLIN, timeout_ms,
		    "waiting for the server", e) == -1)
			return -1;
	}
}

static int
sock_write(void *ctx, const void *buf, size_t n, int timeout_ms, struct mf_err *e)
{
	struct sock *s = ctx;
	const char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = send(s->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r >= 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return mf_err_sys(e, MF_E_CLOSED, errno, "write");
		if (wait_fd(s->fd, POLLOUT, timeout_ms,
		    "sending to the server", e) == -1)
			return -1;
	}
	return 0;
}

static int
sock_fd(void *ctx)
{
	return ((struct sock *)ctx)->fd;
}

static void
sock_close(void *ctx)
{
	struct sock *s = ctx;

	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

static const struct mf_transport_ops sock_ops = {
	.read = sock_read,
	.write = sock_write,
	.pending = NULL,
	.fd = sock_fd,
	.close = sock_close,
};

static void
peer_name(const struct sockaddr *sa, char *out, size_t outlen)
{
	const void *a;

	if (sa->sa_family == AF_UNIX) {
		mf_strlcpy(out, "local", outlen);
		return;
	}
	a = sa->sa_family == AF_INET6
	    ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
	    : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	if (inet_ntop(sa->sa_family, a, out, (socklen_t)outlen) == NULL)
		out[0] = '\0';
}

struct mf_transport *
mf_sock_from_fd(int fd, struct mf_err *e)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct sock *s = calloc(1, sizeof(*s));
	struct mf_transport *t;
	int one = 1;

	if (s == NULL) {
		close(fd);
		mf_err_sys(e, MF_E_NOMEM, errno, "socket");
		return NULL;
	}
	s->fd = fd;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		peer_name((struct sockaddr *)&ss, s->peer, sizeof(s->peer));
	/* We coalesce our own writes; Nagle would only add stalls. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	t = mf_transport_new(&sock_ops, s, 0);
	if (t == NULL)
		mf_err_set(e, MF_E_NOMEM, "out of memory");
	return t;
}

/* Non-blocking connect bounded by timeout_ms. Returns fd or -1 with e. */
static int
connect_one(const struct addrinfo *ai, int timeout_ms, struct mf_err *e)
{
	int fd, soerr = 0, flags;
	socklen_t sl = sizeof(soerr);
	char addr[INET6_ADDRSTRLEN];

	peer_name(ai->ai_addr, addr, sizeof(addr));
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return mf_err_sys(e, MF_E_CONNECT, errno, "socket for %s", addr);
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS) {
			mf_err_sys(e, MF_E_CONNECT, errno, "connect to %s", addr);
			close(fd);
			return -1;
		}
		if (wait_fd(fd, POLLOUT, timeout_ms, "", e) == -1) {
			if (e != NULL && e->kind == MF_E_TIMEOUT)
				mf_err_set(e, MF_E_TIMEOUT, "connect to %s timed "
				    "out after %d ms (no answer: a firewall "
				    "dropping packets?)", addr, timeout_ms);
			close(fd);
			return -1;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr != 0) {
			mf_err_sys(e, MF_E_CONNECT, soerr, "connect to %s", addr);
			close(fd);
			return -1;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return fd;
}

/* The connect and I/O timeouts of opts (may be NULL): 30 s and 60 s
 * unless set. */
static void
timeouts(const struct mf_sock_opts *opts, int *cto, int *ioto)
{
	*cto = 30000;
	*ioto = 60000;
	if (opts != NULL && opts->connect_timeout_ms > 0)
		*cto = opts->connect_timeout_ms;
	if (opts != NULL && opts->io_timeout_ms > 0)
		*ioto = opts->io_timeout_ms;
}

/* A transport over the connected fd (-1: the connect failed, e is set)
 * with ioto as its read and write timeout. */
static struct mf_transport *
connected(int fd, int ioto, struct mf_err *e)
{
	struct mf_transport *t;

	if (fd == -1)
		return NULL;
	t = mf_sock_from_fd(fd, e);
	if (t != NULL)
		mf_transport_set_timeout(t, ioto);
	return t;
}

struct mf_transport *
mf_sock_connect(const char *host, const char *port,
                const struct mf_sock_opts *opts, struct mf_err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	char ascii[MF_IDN_NAME_MAX], shown[MF_IDN_NAME_MAX];
	int r, fd = -1, cto, ioto;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	if (opts != NULL && opts->family == 4)
		hints.ai_family = AF_INET;
	else if (opts != NULL && opts->family == 6)
		hints.ai_family = AF_INET6;
	timeouts(opts, &cto, &ioto);
	/* DNS knows A-labels only (RFC 5891 §5): convert a UTF-8 name here
	 * rather than rely on getaddrinfo's AI_IDN. */
	if (mf_idn_to_ascii(host, ascii, sizeof(ascii), MF_E_USAGE, e) == -1)
		return NULL;
	host = ascii;
	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0) {
		mf_idn_display(ascii, shown, sizeof(shown));
		if (r == EAI_SYSTEM)
			mf_err_sys(e, MF_E_NOHOST, errno, "cannot resolve %s",
			    shown);
		else
			mf_err_set(e, MF_E_NOHOST, "cannot resolve %s: %s",
			    shown, gai_strerror(r));
		return NULL;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = connect_one(ai, cto, e);
	freeaddrinfo(res);
	return connected(fd, ioto, e);
}

const char *
mf_sock_unix_path(const char *server)
{
	if (server == NULL || strncmp(server, "unix:", 5) != 0)
		return NULL;
	return server + 5;
}

struct mf_transport *
mf_sock_connect_unix(const char *path, const struct mf_sock_opts *opts,
                     struct mf_err *e)
{
	struct sockaddr_un sun;
	struct addrinfo ai;
	int fd, cto, ioto;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] == '\0' || mf_strlcpy(sun.sun_path, path,
	    sizeof(sun.sun_path)) >= sizeof(sun.sun_path)) {
		mf_err_set(e, MF_E_USAGE, "bad socket path '%.200s' (empty, or "
		    "longer than %zu bytes)", path, sizeof(sun.sun_path) - 1);
		return NULL;
	}
	timeouts(opts, &cto, &ioto);
	memset(&ai, 0, sizeof(ai));
	ai.ai_family = AF_UNIX;
	ai.ai_socktype = SOCK_STREAM;
	ai.ai_addr = (struct sockaddr *)&sun;
	ai.ai_addrlen = sizeof(sun);
	if ((fd = connect_one(&ai, cto, e)) == -1)
		mf_err_prefix(e, "%s", path);
	return connected(fd, ioto, e);
}

const char *
mf_sock_peer_addr(struct mf_transport *t)
{
	if (mf_transport_ops(t) != &sock_ops)
		return "";
	return ((struct sock *)mf_transport_ctx(t))->peer;
}

int
mf_sock_split_hostport(const char *in, char *host, size_t hostlen,
                       char *port, size_t portlen, struct mf_err *e)
{
	const char *colon, *hend;
	size_t hl;

	if (in[0] == '[') {
		hend = strchr(in, ']');
		if (hend == NULL)
			return mf_err_set(e, MF_E_USAGE, "missing ']' in '%s'", in);
		colon = hend[1] == ':' ? hend + 1 : NULL;
		if (hend[1] != '\0' && colon == NULL)
			return mf_err_set(e, MF_E_USAGE, "junk after ']' in '%s'", in);
		in++;
	} else {
		colon = strchr(in, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;	/* bare IPv6 address, no port */
		hend = colon ? colon : in + strlen(in);
	}
	hl = (size_t)(hend - in);
	if (hl == 0 || hl >= hostlen)
		return mf_err_set(e, MF_E_USAGE, "bad host in '%s'", in);
	memcpy(host, in, hl);
	host[hl] = '\0';
	if (colon != NULL) {
		long p;
		if (mf_parse_long(colon + 1, 1, 65535, &p) == -1)
			return mf_err_set(e, MF_E_USAGE, "bad port in '%s'", in);
		if (strlen(colon + 1) >= portlen)
			return mf_err_set(e, MF_E_USAGE, "bad port in '%s'", in);
		mf_strlcpy(port, colon + 1, portlen);
	}
	return 0;
}
