/* transport.c - the transport interface. */
#include "transport.h"

#include <stdlib.h>

struct mf_transport {
	const struct mf_transport_ops *ops;
	void *ctx;
	int is_tls;
	int timeout_ms;
};

struct mf_transport *
mf_transport_new(const struct mf_transport_ops *ops, void *ctx, int is_tls)
{
	struct mf_transport *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		ops->close(ctx);
		return NULL;
	}
	t->ops = ops;
	t->ctx = ctx;
	t->is_tls = is_tls;
	t->timeout_ms = 60000;
	return t;
}

ssize_t
mf_transport_read(struct mf_transport *t, void *buf, size_t n, struct mf_err *e)
{
	return t->ops->read(t->ctx, buf, n, t->timeout_ms, e);
}

int
mf_transport_write(struct mf_transport *t, const void *buf, size_t n,
                   struct mf_err *e)
{
	return t->ops->write(t->ctx, buf, n, t->timeout_ms, e);
}

size_t
mf_transport_pending(struct mf_transport *t)
{
	return t->ops->pending ? t->ops->pending(t->ctx) : 0;
}

int
mf_transport_fd(struct mf_transport *t)
{
	return t->ops->fd ? t->ops->fd(t->ctx) : -1;
}

int
mf_transport_is_tls(const struct mf_transport *t)
{
	return t->is_tls;
}

void *
mf_transport_ctx(struct mf_transport *t)
{
	return t->ctx;
}

const struct mf_transport_ops *
mf_transport_ops(const struct mf_transport *t)
{
	return t->ops;
}

void
mf_transport_set_timeout(struct mf_transport *t, int timeout_ms)
{
	t->timeout_ms = timeout_ms;
}

int
mf_transport_timeout(const struct mf_transport *t)
{
	return t->timeout_ms;
}

void
mf_transport_free(struct mf_transport *t)
{
	if (t == NULL)
		return;
	t->ops->close(t->ctx);
	free(t);
}
