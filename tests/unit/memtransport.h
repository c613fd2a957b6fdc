/* memtransport.h - a scripted in-memory transport for unit tests.
 *
 * Reads return the given chunks one per read() call (so tests control
 * where the data is split), then EOF; or a timeout when `stall` is set.
 * Everything written is collected in `written`. */
#ifndef MF_TEST_MEMTRANSPORT_H
#define MF_TEST_MEMTRANSPORT_H

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "transport.h"

struct memt {
	const char *const *chunks;
	size_t nchunks, next, off;
	int stall;              /* after the chunks: time out instead of EOF */
	struct mf_buf written;
	int closed;
};

static ssize_t
memt_read(void *ctx, void *buf, size_t n, int timeout_ms, struct mf_err *e)
{
	struct memt *m = ctx;
	const char *c;
	size_t len, take;

	(void)timeout_ms;
	if (m->next >= m->nchunks) {
		if (m->stall)
			return mf_err_set(e, MF_E_TIMEOUT, "timed out");
		return 0;
	}
	c = m->chunks[m->next];
	len = strlen(c) - m->off;
	take = len < n ? len : n;
	memcpy(buf, c + m->off, take);
	m->off += take;
	if (m->off == strlen(c)) {
		m->next++;
		m->off = 0;
	}
	return (ssize_t)take;
}

static int
memt_write(void *ctx, const void *buf, size_t n, int timeout_ms, struct mf_err *e)
{
	struct memt *m = ctx;

	(void)timeout_ms;
	return mf_buf_append(&m->written, buf, n, e);
}

static int memt_fd(void *ctx) { (void)ctx; return -1; }

static void
memt_close(void *ctx)
{
	((struct memt *)ctx)->closed = 1;   /* owned by the test */
}

static const struct mf_transport_ops memt_ops = {
	.read = memt_read, .write = memt_write, .pending = NULL,
	.fd = memt_fd, .close = memt_close,
};

/* A transport over m (m stays owned by the caller). */
static inline struct mf_transport *
memt_transport(struct memt *m, const char *const *chunks, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->chunks = chunks;
	m->nchunks = n;
	mf_buf_init(&m->written, 1 << 24);
	return mf_transport_new(&memt_ops, m, 0);
}

#endif
