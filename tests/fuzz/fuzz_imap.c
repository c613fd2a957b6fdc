/* fuzz_imap.c - the resumable IMAP response parser fed a hostile server's
 * bytes in fuzzer-chosen chunk sizes (down to one byte), with small
 * limits, literals sometimes streamed to hooks; every response's token
 * tree is walked and checked, and the sequence of responses must not
 * depend on how the input was split. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "imap.h"

struct lit {
	int mode;               /* which literals to stream */
	unsigned n;
	int open;
	uint64_t want, got;
};

static int
lit_begin(void *arg, const char *prefix, size_t prefix_len, uint64_t size)
{
	struct lit *l = arg;

	FUZZ_CHECK(!l->open);
	if (prefix_len > 0)     /* prefix[prefix_len] need not be 0 */
		(void)*(volatile const char *)&prefix[prefix_len - 1];
	l->n++;
	if (l->mode == 2 || (l->mode == 1 && (l->n & 1))) {
		l->open = 1;
		l->want = size;
		l->got = 0;
		return 1;
	}
	return 0;
}

static int
lit_data(void *arg, const char *p, size_t n)
{
	struct lit *l = arg;

	FUZZ_CHECK(l->open);
	if (n > 0)
		(void)*(volatile const char *)&p[n - 1];
	l->got += n;
	FUZZ_CHECK(l->got <= l->want);
	return 0;
}

static int
lit_end(void *arg)
{
	struct lit *l = arg;

	FUZZ_CHECK(l->open);
	FUZZ_CHECK(l->got == l->want);
	l->open = 0;
	return 0;
}

static void
line_hook(void *arg, const char *line, size_t len)
{
	(void)arg;
	if (len > 0)
		(void)*(volatile const char *)&line[len - 1];
}

/* Check one response and hash what it says. */
static uint64_t
check(const struct mf_imap_resp *r, const struct mf_imap_limits *lim)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	FUZZ_CHECK(r->ntoks <= lim->max_tokens);
	FUZZ_CHECK(r->code_first <= r->data_first);
	FUZZ_CHECK(r->data_first <= r->ntoks);
	fz_touch(r->tag, lim->max_line);
	fz_touch(r->keyword, lim->max_line);
	fz_touch(r->code, lim->max_line);
	fz_touch(r->text, lim->max_response);
	for (i = 0; r->keyword[i]; i++) {
		FUZZ_CHECK(!(r->keyword[i] >= 'a' && r->keyword[i] <= 'z'));
		h = (h ^ (unsigned char)r->keyword[i]) * 1099511628211ull;
	}
	h = (h ^ (uint64_t)r->kind) * 1099511628211ull;
	h = (h ^ r->ntoks) * 1099511628211ull;
	for (i = 0; i < r->ntoks; i++) {
		const struct mf_imap_tok *t = &r->toks[i];
		uint64_t v;

		FUZZ_CHECK(t->next > i && t->next <= r->ntoks);
		if (t->type == MF_IMAP_ATOM || t->type == MF_IMAP_STRING) {
			FUZZ_CHECK(t->s != NULL && t->s[t->len] == '\0');
			if (t->len > 0)
				(void)*(volatile const char *)&t->s[t->len - 1];
			(void)mf_imap_tok_u64(t, &v);
		} else if (t->type == MF_IMAP_LIST) {
			size_t c = i + 1, k;

			for (k = 0; k < t->len; k++) {
				FUZZ_CHECK(c < t->next);
				c = r->toks[c].next;
			}
			FUZZ_CHECK(c == t->next);
			(void)mf_imap_fetch_item(r, i, "UID");
			(void)mf_imap_fetch_item(r, i, "BODY[]");
		} else {
			FUZZ_CHECK(t->next == i + 1);
		}
		h = (h ^ (uint64_t)t->type) * 1099511628211ull;
		h = (h ^ t->len) * 1099511628211ull;
	}
	return h;
}

/* Parse all of in[0..n) in chunks of 1..maxchunk; returns the number of
 * responses, their combined hash in *hash, and *err = 1 on a parse error. */
static unsigned
run(const char *in, size_t n, unsigned seed, unsigned maxchunk, int litmode,
    const struct mf_imap_limits *lim, uint64_t *hash, int *err)
{
	struct lit lit = { .mode = litmode };
	struct mf_imap_hooks hk = { lit_begin, lit_data, lit_end, line_hook,
	                            &lit };
	struct mf_imap_parser *p = mf_imap_parser_new(lim, &hk);
	struct fz_rng rng = { seed };
	size_t pos = 0;
	unsigned count = 0;
	struct mf_err e;

	FUZZ_CHECK(p != NULL);
	*hash = 0;
	*err = 0;
	while (pos < n) {
		size_t c = maxchunk ? 1 + fz_next(&rng) % maxchunk : n - pos;
		int done = 0;
		ssize_t r;

		if (c > n - pos)
			c = n - pos;
		r = mf_imap_parser_feed(p, in + pos, c, &done, &e);
		if (r == -1) {
			fz_touch(e.msg, sizeof(e.msg) - 1);
			*err = 1;
			break;
		}
		FUZZ_CHECK((size_t)r <= c);
		FUZZ_CHECK(r > 0 || done);
		pos += (size_t)r;
		if (done) {
			const struct mf_imap_resp *resp = mf_imap_parser_response(p);

			FUZZ_CHECK(resp != NULL);
			*hash = (*hash * 31) ^ check(resp, lim);
			count++;
		} else {
			FUZZ_CHECK(mf_imap_parser_response(p) == NULL ||
			    (size_t)r == c);
		}
	}
	mf_imap_parser_free(p);
	return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_imap_limits lim = { 512, 8192, 256, 200, 8 };
	uint64_t h1, h2;
	unsigned c1, c2;
	int e1, e2, litmode;

	if (size < 2)
		return 0;
	litmode = data[1] % 3;
	c1 = run((const char *)data + 2, size - 2, 0, 0, litmode, &lim, &h1,
	         &e1);
	c2 = run((const char *)data + 2, size - 2, data[0] | 0x100u,
	         1 + data[0] % 23, litmode, &lim, &h2, &e2);
	FUZZ_CHECK(c1 == c2);
	FUZZ_CHECK(e1 == e2);
	FUZZ_CHECK(h1 == h2);
	return 0;
}
