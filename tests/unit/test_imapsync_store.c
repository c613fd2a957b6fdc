/* Unit tests: the imap-sync engine's store (imapsync_store.c) over a
 * scripted IMAP server (mf_imap_attach on memtransport.h): a UID set
 * becomes command-sized pieces that name exactly its UIDs, deletions
 * expunge only what they flagged, and flag changes go out as one
 * +FLAGS/-FLAGS command each. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imapsync_int.h"
#include "memtransport.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct memt mt;
static struct mf_imapsync_params p;
static struct isync c;

static void
teardown(void)
{
	mf_imap_free(c.im);
	c.im = NULL;
	mf_buf_free(&mt.written);
}

TestSuite(imapsync_store, .fini = teardown, .timeout = 20);

/* c on a server that replies r[0..n) after its greeting. */
static void
attach(const char *const *r, size_t n)
{
	struct mf_err e = {0};

	memset(&p, 0, sizeof(p));
	p.imap.host = "imap.example";
	memset(&c, 0, sizeof(c));
	c.p = &p;
	c.im = mf_imap_attach(memt_transport(&mt, r, n), &p.imap, &e);
	cr_assert_not_null(c.im, "attach: %s", e.msg);
	c.uidplus = mf_imap_has_cap(c.im, "UIDPLUS");
}

/* The UIDs a sequence set "1:3,7" names, appended to out[*n]. */
static void
set_uids(const char *s, uint32_t *out, size_t *n, size_t max)
{
	while (*s) {
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo, x;
		if (*end == ':')
			hi = strtoul(end + 1, &end, 10);
		for (x = lo; x <= hi; x++) {
			cr_assert_lt(*n, max);
			out[(*n)++] = (uint32_t)x;
		}
		s = *end == ',' ? end + 1 : end;
	}
}

/* Each "UID FETCH SET (" command written, the UIDs of its set in order;
 * the number of commands. */
static size_t
fetched_sets(uint32_t *out, size_t *n, size_t max)
{
	const char *w = mt.written.data;
	size_t cmds = 0;

	*n = 0;
	while ((w = strstr(w, "UID FETCH ")) != NULL) {
		char set[UIDSET_MAX + 64];
		const char *sp;
		w += strlen("UID FETCH ");
		sp = strchr(w, ' ');
		cr_assert_not_null(sp);
		cr_assert_leq((size_t)(sp - w), (size_t)UIDSET_MAX + 24,
		              "a set of %zu characters", (size_t)(sp - w));
		memcpy(set, w, (size_t)(sp - w));
		set[sp - w] = '\0';
		set_uids(set, out, n, max);
		cmds++;
	}
	return cmds;
}

static const char *const oks[] = {
	"* OK ready\r\n",
	"* CAPABILITY IMAP4rev1 UIDPLUS\r\nA1 OK done\r\n",
	"A2 OK done\r\nA3 OK done\r\nA4 OK done\r\nA5 OK done\r\n"
	"A6 OK done\r\nA7 OK done\r\nA8 OK done\r\nA9 OK done\r\n",
};

Test(imapsync_store, a_long_set_is_sent_in_pieces_naming_each_uid_once)
{
	struct uids want = { 0 };
	static uint32_t got[4000];
	struct mf_imap_events ev = { 0 };
	struct mf_err e = {0};
	size_t n, cmds, i;

	/* 2,000 UIDs with gaps: no piece can name them as one range */
	for (i = 0; i < 2000; i++)
		cr_assert_eq(isync_uids_add(&want, (uint32_t)(1 + 2 * i)), 0);
	attach(oks, N(oks));
	cr_assert_eq(isync_store_fetch(&c, &want, MF_IMAP_FETCH_FLAGS, NULL, &ev,
	                               &e), 0, "%s", e.msg);
	cmds = fetched_sets(got, &n, N(got));
	cr_expect_gt(cmds, 1, "one command of %zu bytes", mt.written.len);
	cr_assert_eq(n, want.n);
	for (i = 0; i < n; i++)
		cr_assert_eq(got[i], want.v[i], "UID %zu: %u", i, got[i]);
	free(want.v);
}

Test(imapsync_store, runs_become_ranges)
{
	struct uids want = { 0 };
	struct mf_imap_events ev = { 0 };
	struct mf_err e = {0};
	uint32_t x;

	for (x = 1; x <= 1000; x++)
		cr_assert_eq(isync_uids_add(&want, x), 0);
	cr_assert_eq(isync_uids_add(&want, 2000), 0);
	attach(oks, N(oks));
	cr_assert_eq(isync_store_fetch(&c, &want, 0, NULL, &ev, &e), 0, "%s",
	             e.msg);
	cr_expect_not_null(strstr(mt.written.data, "A2 UID FETCH 1:1000,2000 "),
	                   "%s", mt.written.data);
	cr_expect_null(strstr(mt.written.data, "A3 UID FETCH"));
	free(want.v);
}

static size_t ndone;

static int
done(void *arg, const uint32_t *uids, size_t n, struct mf_err *e)
{
	(void)arg;
	(void)uids;
	(void)e;
	ndone += n;
	return 0;
}

static void
delete_5_to_7_and_9(const char *const *r, size_t n)
{
	struct uids del = { 0 };
	struct mf_err e = {0};
	uint32_t v[] = { 5, 6, 7, 9 };
	size_t i;

	for (i = 0; i < N(v); i++)
		cr_assert_eq(isync_uids_add(&del, v[i]), 0);
	attach(r, n);
	ndone = 0;
	cr_assert_eq(isync_store_delete(&c, &del, done, NULL, &e), 0, "%s",
	             e.msg);
	cr_expect_eq(ndone, 4);
	free(del.v);
}

Test(imapsync_store, delete_expunges_only_its_own_uids)
{
	delete_5_to_7_and_9(oks, N(oks));
	cr_expect_not_null(strstr(mt.written.data,
	                          "A2 UID STORE 5:7,9 +FLAGS"), "%s",
	                   mt.written.data);
	cr_expect_not_null(strstr(mt.written.data, "(\\Deleted)"));
	/* RFC 4315 §2.1: UID EXPUNGE of the set, never a plain EXPUNGE */
	cr_expect_not_null(strstr(mt.written.data, "A3 UID EXPUNGE 5:7,9\r\n"),
	                   "%s", mt.written.data);
}

static const char *const no_uidplus[] = {
	"* OK ready\r\n",
	"* CAPABILITY IMAP4rev1\r\nA1 OK done\r\n",
	"A2 OK done\r\n",
};

Test(imapsync_store, delete_without_uidplus_only_flags)
{
	delete_5_to_7_and_9(no_uidplus, N(no_uidplus));
	cr_expect_not_null(strstr(mt.written.data, "A2 UID STORE 5:7,9 +FLAGS"));
	cr_expect_null(strstr(mt.written.data, "EXPUNGE"), "%s",
	               mt.written.data);
}

Test(imapsync_store, flag_changes_add_and_remove_per_message)
{
	char s[] = "S", f[] = "F", none[] = "";
	struct store_op ops[] = { { 4, s, none }, { 8, f, s } };
	struct mf_err e = {0};
	const char *w, *a, *b, *d;

	attach(oks, N(oks));
	cr_assert_eq(isync_store_set_flags(&c, ops, N(ops), &e), 0, "%s", e.msg);
	w = mt.written.data;
	a = strstr(w, "A2 UID STORE 4 +FLAGS");
	b = strstr(w, "A3 UID STORE 8 +FLAGS");
	d = strstr(w, "A4 UID STORE 8 -FLAGS");
	cr_assert(a && b && d, "%s", w);
	cr_expect(strstr(a, "(\\Seen)") && strstr(b, "(\\Flagged)") &&
	          strstr(d, "(\\Seen)"), "%s", w);
	cr_expect_null(strstr(w, "A5 "), "%s", w);
}
