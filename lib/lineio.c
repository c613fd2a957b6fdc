/* lineio.c - buffered line I/O over a transport. */
#include "lineio.h"
#include "buf.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK   16384
#define FLUSH_AT     65536
#define OUT_MAX      (4u << 20)

struct mf_lineio {
	struct mf_transport *t;
	struct mf_transcript *tr;
	struct mf_buf in;       /* received, not yet consumed from rpos */
	size_t rpos;
	struct mf_buf out;      /* queued for sending */
	struct mf_buf line;     /* the last line handed out */
	size_t max_line;
	int quiet;
	int bare_lf;
	unsigned long long nin, nout;
};

struct mf_lineio *
mf_lineio_new(struct mf_transport *t, struct mf_transcript *tr, struct mf_err *e)
{
	struct mf_lineio *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "line reader");
		mf_transport_free(t);
		return NULL;
	}
	l->t = t;
	l->tr = tr;
	l->max_line = 65536;
	mf_buf_init(&l->in, l->max_line + 2 * READ_CHUNK);
	mf_buf_init(&l->out, OUT_MAX);
	mf_buf_init(&l->line, l->max_line + 1);
	return l;
}

void
mf_lineio_free(struct mf_lineio *l)
{
	if (l == NULL)
		return;
	mf_transport_free(l->t);
	mf_buf_wipe(&l->in);
	mf_buf_wipe(&l->out);
	mf_buf_wipe(&l->line);
	free(l);
}

void
mf_lineio_set_max_line(struct mf_lineio *l, size_t max)
{
	l->max_line = max;
	l->in.max = max + 2 * READ_CHUNK;
	l->line.max = max + 1;
}

void
mf_lineio_set_timeout(struct mf_lineio *l, int timeout_ms)
{
	mf_transport_set_timeout(l->t, timeout_ms);
}

void
mf_lineio_set_quiet(struct mf_lineio *l, int quiet)
{
	l->quiet = quiet;
}

/* Pull more bytes from the transport into l->in. 0 ok, 1 EOF, -1 error. */
static int
fill(struct mf_lineio *l, struct mf_err *e)
{
	ssize_t n;

	if (l->rpos > 0 && l->rpos == l->in.len) {
		mf_buf_reset(&l->in);
		l->rpos = 0;
	} else if (l->rpos > READ_CHUNK) {
		mf_buf_consume(&l->in, l->rpos);
		l->rpos = 0;
	}
	if (mf_buf_reserve(&l->in, READ_CHUNK, e) == -1)
		return -1;
	n = mf_transport_read(l->t, l->in.data + l->in.len, READ_CHUNK, e);
	if (n < 0)
		return -1;
	if (n == 0)
		return 1;
	l->in.len += (size_t)n;
	l->in.data[l->in.len] = '\0';
	l->nin += (unsigned long long)n;
	return 0;
}

static size_t
avail(const struct mf_lineio *l)
{
	return l->in.len - l->rpos;
}

int
mf_lineio_read_line(struct mf_lineio *l, const char **line, size_t *len,
                    struct mf_err *e)
{
	size_t scanned = 0, n;
	char *start, *nl;
	int r;

	for (;;) {
		start = l->in.data ? l->in.data + l->rpos : NULL;
		nl = start ? memchr(start + scanned, '\n', avail(l) - scanned) : NULL;
		if (nl != NULL)
			break;
		scanned = avail(l);
		if (scanned > l->max_line + 1)
			return mf_err_set(e, MF_E_LIMIT, "the server sent a line "
			    "longer than %zu bytes", l->max_line);
		r = fill(l, e);
		if (r == -1)
			return -1;
		if (r == 1)
			return mf_err_set(e, MF_E_CLOSED, avail(l) ? "connection "
			    "closed by the server in the middle of a line"
			    : "connection closed by the server");
	}
	n = (size_t)(nl - start);
	l->rpos += n + 1;
	l->bare_lf = !(n > 0 && start[n - 1] == '\r');
	if (!l->bare_lf)
		n--;
	if (n > l->max_line)
		return mf_err_set(e, MF_E_LIMIT, "the server sent a line longer "
		    "than %zu bytes", l->max_line);
	mf_buf_reset(&l->line);
	if (mf_buf_append(&l->line, start, n, e) == -1)
		return -1;
	if (!l->quiet)
		mf_transcript_line(l->tr, MF_TX_RECV, mf_transport_is_tls(l->t),
		    l->line.data, n, MF_TX_NO_SECRET);
	*line = l->line.data;
	*len = n;
	return 0;
}

int
mf_lineio_last_bare_lf(const struct mf_lineio *l)
{
	return l->bare_lf;
}

ssize_t
mf_lineio_read_some(struct mf_lineio *l, void *dst, size_t n, struct mf_err *e)
{
	size_t take;
	int r;

	if (n == 0)
		return 0;
	if (avail(l) == 0) {
		r = fill(l, e);
		if (r != 0)
			return r == 1 ? 0 : -1;
	}
	take = avail(l) < n ? avail(l) : n;
	memcpy(dst, l->in.data + l->rpos, take);
	l->rpos += take;
	return (ssize_t)take;
}

int
mf_lineio_read_exact(struct mf_lineio *l, void *dst, size_t n, struct mf_err *e)
{
	char *p = dst;
	ssize_t r;

	while (n > 0) {
		r = mf_lineio_read_some(l, p, n, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return mf_err_set(e, MF_E_CLOSED, "connection closed by "
			    "the server with %zu bytes still expected", n);
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
mf_lineio_wait(struct mf_lineio *l, int timeout_ms, struct mf_err *e)
{
	struct pollfd p;
	int r;

	if (avail(l) > 0 || mf_transport_pending(l->t) > 0)
		return 1;
	p.fd = mf_transport_fd(l->t);
	p.events = POLLIN;
	do
		r = poll(&p, 1, timeout_ms);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return mf_err_sys(e, MF_E_IO, errno, "poll");
	return r > 0;
}

static int __attribute__((format(printf, 4, 0)))
vsend(struct mf_lineio *l, size_t secret_from, struct mf_err *e,
      const char *fmt, va_list ap)
{
	size_t start = l->out.len;
	char *p;

	if (mf_buf_vprintf(&l->out, e, fmt, ap) == -1)
		return -1;
	p = l->out.data + start;
	if (strpbrk(p, "\r\n") != NULL) {
		l->out.len = start;
		l->out.data[start] = '\0';
		return mf_err_set(e, MF_E_INTERNAL, "refusing to send a "
		    "command with a line break inside");
	}
	mf_transcript_line(l->tr, MF_TX_SEND, mf_transport_is_tls(l->t), p,
	    l->out.len - start, secret_from);
	if (mf_buf_append(&l->out, "\r\n", 2, e) == -1)
		return -1;
	if (l->out.len >= FLUSH_AT)
		return mf_lineio_flush(l, e);
	return 0;
}

int
mf_lineio_send(struct mf_lineio *l, struct mf_err *e, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsend(l, MF_TX_NO_SECRET, e, fmt, ap);
	va_end(ap);
	return r;
}

int
mf_lineio_send_secret(struct mf_lineio *l, size_t secret_from, struct mf_err *e,
                      const char *fmt, ...)
{
	va_list ap;
	int r;

	/* mf_lineio_flush() wipes what it sent, so the secret does not linger. */
	va_start(ap, fmt);
	r = vsend(l, secret_from, e, fmt, ap);
	va_end(ap);
	return r;
}

int
mf_lineio_write(struct mf_lineio *l, const void *p, size_t n, struct mf_err *e)
{
	const char *c = p;

	while (n > 0) {
		size_t room = FLUSH_AT * 4 - l->out.len, take = n < room ? n : room;
		if (mf_buf_append(&l->out, c, take, e) == -1)
			return -1;
		c += take;
		n -= take;
		if (l->out.len >= FLUSH_AT && mf_lineio_flush(l, e) == -1)
			return -1;
	}
	return 0;
}

int
mf_lineio_flush(struct mf_lineio *l, struct mf_err *e)
{
	if (l->out.len == 0)
		return 0;
	if (mf_transport_write(l->t, l->out.data, l->out.len, e) == -1)
		return -1;
	l->nout += l->out.len;
	mf_memwipe(l->out.data, l->out.len);
	mf_buf_reset(&l->out);
	return 0;
}

int
mf_lineio_starttls(struct mf_lineio *l, const struct mf_tls_params *p,
                   struct mf_tls_info *info, struct mf_err *e)
{
	struct mf_transport *tls;

	if (mf_lineio_flush(l, e) == -1)
		return -1;
	if (avail(l) > 0)
		return mf_err_set(e, MF_E_PROTO, "the server sent %zu bytes "
		    "after its STARTTLS go-ahead, before TLS started; refusing "
		    "them (possible command injection)", avail(l));
	tls = mf_tls_wrap(l->t, p, info, e);
	if (tls == NULL)
		return -1;
	l->t = tls;
	mf_buf_reset(&l->in);
	l->rpos = 0;
	return 0;
}

int
mf_lineio_is_tls(const struct mf_lineio *l)
{
	return mf_transport_is_tls(l->t);
}

size_t
mf_lineio_pending(const struct mf_lineio *l)
{
	return avail(l);
}

struct mf_transport *
mf_lineio_transport(struct mf_lineio *l)
{
	return l->t;
}

struct mf_transcript *
mf_lineio_transcript(struct mf_lineio *l)
{
	return l->tr;
}

unsigned long long
mf_lineio_bytes_in(const struct mf_lineio *l)
{
	return l->nin;
}

unsigned long long
mf_lineio_bytes_out(const struct mf_lineio *l)
{
	return l->nout;
}
