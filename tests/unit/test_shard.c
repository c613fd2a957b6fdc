/* Unit tests: --shard K/N parsing, the stable hash (FNV-1a 64 test
 * vectors), and a streamed domain source split into disjoint shards. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mx.h"
#include "shard.h"

Test(shard, parse)
{
	static const struct { const char *s; int ok; unsigned k, n; } t[] = {
		{ "0/4", 1, 0, 4 }, { "3/4", 1, 3, 4 }, { "0/1", 1, 0, 1 },
		{ "4/4", 0, 0, 0 }, { "-1/4", 0, 0, 0 }, { "1/0", 0, 0, 0 },
		{ "1", 0, 0, 0 }, { "/4", 0, 0, 0 }, { "1/", 0, 0, 0 },
		{ "1/4x", 0, 0, 0 }, { "a/4", 0, 0, 0 }, { "1/2000000", 0, 0, 0 },
		{ "99999999999999999999/4", 0, 0, 0 },
	};
	unsigned k, n;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		k = n = 77;
		cr_expect_eq(mf_shard_parse(t[i].s, &k, &n) == 0, t[i].ok,
		    "%s", t[i].s);
		if (t[i].ok) {
			cr_expect_eq(k, t[i].k, "%s", t[i].s);
			cr_expect_eq(n, t[i].n, "%s", t[i].s);
		}
	}
}

/* The hash is part of the contract: shards computed by other versions,
 * hosts and retries must agree.  Vectors of 64-bit FNV-1a. */
Test(shard, hash_vectors)
{
	cr_expect_eq(mf_shard_hash(""), 0xcbf29ce484222325ULL);
	cr_expect_eq(mf_shard_hash("a"), 0xaf63dc4c8601ec8cULL);
	cr_expect_eq(mf_shard_hash("example.test"), 0x5442d80b3391575dULL);
	/* case and a trailing dot do not change the domain */
	cr_expect_eq(mf_shard_hash("Example.TEST."), 0x5442d80b3391575dULL);
	/* a U-label name is the same domain as its A-labels */
	cr_expect_eq(mf_shard_hash("b\xc3\xbc" "cher.example"),
	    mf_shard_hash("xn--bcher-kva.example"));
	cr_expect_neq(mf_shard_hash("bucher.example"),
	    mf_shard_hash("xn--bcher-kva.example"));
	cr_expect_eq(mf_shard_of("example.test", 1), 0);
	cr_expect_eq(mf_shard_of("example.test", 4),
	    (unsigned)(0x5442d80b3391575dULL % 4));
}

static size_t
drain(FILE *f, unsigned k, unsigned n, char seen[][32], size_t max,
      struct mf_mx_source *s)
{
	struct mf_err e;
	char d[MF_DNS_NAME_MAX];
	size_t got = 0;

	memset(s, 0, sizeof(*s));
	s->stream = f;
	s->shard_k = k;
	s->shard_n = n;
	rewind(f);
	while (mf_mx_source_next(s, d, sizeof(d), &e) == 1) {
		cr_assert_lt(got, max);
		snprintf(seen[got++], 32, "%.31s", d);
	}
	return got;
}

Test(shard, source_union_is_whole_and_disjoint)
{
	static char all[1000][32], part[1000][32];
	struct mf_mx_source s;
	FILE *f = tmpfile();
	size_t i, j, n, total = 0, count[1000];

	cr_assert_not_null(f);
	fputs("# comment\n\n   \n", f);
	for (i = 0; i < 1000; i++)
		fprintf(f, "  d%zu.example.test  # note\n", i);
	memset(count, 0, sizeof(count));
	cr_assert_eq(drain(f, 0, 1, all, 1000, &s), 1000);
	cr_expect_eq(s.lines, 1003);
	for (j = 0; j < 4; j++) {
		n = drain(f, (unsigned)j, 4, part, 1000, &s);
		cr_expect_eq(s.taken + s.other_shard, 1000);
		/* a stable hash spreads names roughly evenly */
		cr_expect(n > 150 && n < 350, "shard %zu has %zu", j, n);
		total += n;
		for (i = 0; i < n; i++) {
			unsigned idx;

			cr_assert_eq(sscanf(part[i], "d%u.", &idx), 1);
			cr_assert_eq(mf_shard_of(part[i], 4), j);
			count[idx]++;
		}
	}
	cr_expect_eq(total, 1000);
	for (i = 0; i < 1000; i++)
		cr_expect_eq(count[i], 1, "d%zu seen %zu times", i, count[i]);
	fclose(f);
}

Test(shard, long_line_skipped)
{
	static char got[4][32];
	struct mf_mx_source s;
	FILE *f = tmpfile();
	size_t i;

	cr_assert_not_null(f);
	fputs("a.test\n", f);
	for (i = 0; i < 5000; i++)
		fputc('x', f);
	fputs("\nb.test", f);         /* no final newline */
	cr_assert_eq(drain(f, 0, 0, got, 4, &s), 2);
	cr_expect_str_eq(got[0], "a.test");
	cr_expect_str_eq(got[1], "b.test");
	cr_expect_eq(s.too_long, 1);
	fclose(f);
}
