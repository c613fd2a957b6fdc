/* transport.h - a byte stream behind an interface: a TCP socket, a TLS
 * layer over another transport, or a test fake.
 *
 * STARTTLS is "wrap the live transport": mf_tls_wrap() takes a transport
 * and returns a new one that owns it.  Every read and write has a timeout
 * (mf_transport_set_timeout, default 60 s).
 *
 * Must not: know TLS, lines or protocols: it is only the interface. */
#ifndef MF_TRANSPORT_H
#define MF_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct mf_transport;

struct mf_transport_ops {
	/* Read up to n bytes, waiting at most timeout_ms (-1: forever).
	 * Returns bytes read, 0 at end of stream, -1 on error (e filled;
	 * MF_E_TIMEOUT when nothing arrived in time). */
	ssize_t (*read)(void *ctx, void *buf, size_t n, int timeout_ms,
	                struct mf_err *e);
	/* Write all n bytes or fail. */
	int (*write)(void *ctx, const void *buf, size_t n, int timeout_ms,
	             struct mf_err *e);
	/* Bytes already decoded and waiting inside this layer (TLS records),
	 * so a poll() on the fd would miss them. May be NULL (0). */
	size_t (*pending)(void *ctx);
	/* The underlying file descriptor, for poll(). */
	int (*fd)(void *ctx);
	/* Close and free ctx (and any inner transport it owns). */
	void (*close)(void *ctx);
};

/* Wrap ctx with ops into a transport; the transport owns ctx. `is_tls`
 * marks transports whose bytes are encrypted (for transcript markers).
 * Returns NULL when out of memory (ctx is then closed). */
struct mf_transport *mf_transport_new(const struct mf_transport_ops *ops,
                                      void *ctx, int is_tls);

ssize_t mf_transport_read(struct mf_transport *t, void *buf, size_t n,
                          struct mf_err *e);
int mf_transport_write(struct mf_transport *t, const void *buf, size_t n,
                       struct mf_err *e);
size_t mf_transport_pending(struct mf_transport *t);
int mf_transport_fd(struct mf_transport *t);
int mf_transport_is_tls(const struct mf_transport *t);
void *mf_transport_ctx(struct mf_transport *t);
const struct mf_transport_ops *mf_transport_ops(const struct mf_transport *t);

/* Timeout for every later read and write, in milliseconds (-1: none). */
void mf_transport_set_timeout(struct mf_transport *t, int timeout_ms);
int mf_transport_timeout(const struct mf_transport *t);

/* Close and free; NULL is fine. */
void mf_transport_free(struct mf_transport *t);

#endif
