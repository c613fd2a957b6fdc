/* fuzz_common.h - helpers shared by the libFuzzer harnesses.
 *
 * A memory transport whose reads return the fuzz input in chunks whose
 * sizes come from a small PRNG seeded by the caller (so the fuzzer also
 * explores where the peer's bytes are split), then EOF.  Writes are
 * accepted and dropped (counted).  FUZZ_CHECK aborts: a violated
 * contract is a finding like a crash. */
#ifndef MF_FUZZ_COMMON_H
#define MF_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "transport.h"

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: contract violated: %s\n", __FILE__, \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

struct fz_rng { uint32_t s; };

static inline uint32_t
fz_next(struct fz_rng *r)
{
	/* xorshift32: deterministic, input-seeded */
	uint32_t x = r->s ? r->s : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	r->s = x;
	return x;
}

struct fz_mem {
	const unsigned char *p;
	size_t len, off;
	struct fz_rng rng;
	unsigned maxchunk;      /* 0: whatever the reader asks for */
	size_t written;
};

static ssize_t
fz_mem_read(void *ctx, void *buf, size_t n, int timeout_ms, struct mf_err *e)
{
	struct fz_mem *m = ctx;
	size_t take = m->len - m->off;

	(void)timeout_ms;
	(void)e;
	if (take == 0)
		return 0;
	if (m->maxchunk > 0) {
		size_t c = 1 + fz_next(&m->rng) % m->maxchunk;
		if (take > c)
			take = c;
	}
	if (take > n)
		take = n;
	memcpy(buf, m->p + m->off, take);
	m->off += take;
	return (ssize_t)take;
}

static int
fz_mem_write(void *ctx, const void *buf, size_t n, int timeout_ms,
             struct mf_err *e)
{
	struct fz_mem *m = ctx;

	(void)buf;
	(void)timeout_ms;
	(void)e;
	m->written += n;
	return 0;
}

static int fz_mem_fd(void *ctx) { (void)ctx; return -1; }
static void fz_mem_close(void *ctx) { (void)ctx; }

static const struct mf_transport_ops fz_mem_ops = {
	.read = fz_mem_read, .write = fz_mem_write, .pending = NULL,
	.fd = fz_mem_fd, .close = fz_mem_close,
};

/* A transport over p[0..len) (m stays owned by the caller). */
static inline struct mf_transport *
fz_mem_transport(struct fz_mem *m, const unsigned char *p, size_t len,
                 uint32_t seed, unsigned maxchunk)
{
	memset(m, 0, sizeof(*m));
	m->p = p;
	m->len = len;
	m->rng.s = seed;
	m->maxchunk = maxchunk;
	return mf_transport_new(&fz_mem_ops, m, 0);
}

/* A NUL-terminated copy of data (free() it). */
static inline char *
fz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Touch every byte of a NUL-terminated string that should be valid,
 * returning its length (ASan catches reads past the object). */
static inline size_t
fz_touch(const char *s, size_t max)
{
	size_t n = 0;

	FUZZ_CHECK(s != NULL);
	while (n <= max && s[n] != '\0')
		n++;
	FUZZ_CHECK(n <= max);
	return n;
}

/* 1 when the known, reported finding `tag` is to be skipped while
 * fuzzing for new ones (MF_FUZZ_KNOWN="tag1 tag2"; run.sh --replay never
 * sets it, so the regression files keep failing until the bug is fixed). */
static inline int
fz_known(const char *tag)
{
	const char *k = getenv("MF_FUZZ_KNOWN");

	return k != NULL && strstr(k, tag) != NULL;
}

#endif
