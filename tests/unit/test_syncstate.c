/* Sync state: journal replay, atomic rewrite, torn and stale journals. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "syncstate.h"

static char dir[64];

static void setup(void)
{
	mf_strlcpy(dir, "/tmp/test_syncstate.XXXXXX", sizeof dir);
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static struct mf_syncstate *open_k(const char *key)
{
	struct mf_err e;
	mf_err_clear(&e);
	struct mf_syncstate *s = mf_syncstate_open(dir, key, &e);
	cr_assert_not_null(s, "open: %s", e.msg);
	return s;
}

static void append(const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "a");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

TestSuite(syncstate, .init = setup, .fini = teardown);

Test(syncstate, journal_replay_after_commit)
{
	struct mf_err e;
	struct mf_syncstate *s = open_k("INBOX");
	cr_assert_eq(mf_syncstate_reset(s, 77, &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 5, "S", 0, "b5", &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 2, "FS", 0, "b2", &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 9, "", MF_SS_GONE_LOCAL, "b9", &e), 0);
	cr_assert_eq(mf_syncstate_set_modseq(s, 123456789012ull, &e), 0);
	cr_assert_eq(mf_syncstate_commit(s, &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 10, "S", 0, "uncommitted", &e), 0);
	mf_syncstate_free(s);   /* uncommitted change is lost, by contract */

	s = open_k("INBOX");
	cr_assert_eq(mf_syncstate_uidvalidity(s), 77);
	cr_assert_eq(mf_syncstate_modseq(s), 123456789012ull);
	cr_assert_eq(mf_syncstate_count(s), 3);
	cr_assert_eq(mf_syncstate_at(s, 0)->uid, 2);
	cr_assert_str_eq(mf_syncstate_get(s, 2)->flags, "FS");
	cr_assert_str_eq(mf_syncstate_get(s, 9)->base, "b9");
	cr_assert_eq(mf_syncstate_get(s, 9)->status, MF_SS_GONE_LOCAL);
	cr_assert_null(mf_syncstate_get(s, 10));
	cr_assert_eq(mf_syncstate_del(s, 5, &e), 0);
	cr_assert_eq(mf_syncstate_compact(s, &e), 0);
	mf_syncstate_free(s);

	s = open_k("INBOX");
	cr_assert_eq(mf_syncstate_count(s), 2);
	cr_assert_null(mf_syncstate_get(s, 5));
	mf_syncstate_free(s);
}

Test(syncstate, torn_journal_tail_is_ignored_and_cut)
{
	struct mf_err e;
	struct mf_syncstate *s = open_k("k");
	cr_assert_eq(mf_syncstate_reset(s, 1, &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 1, "S", 0, "one", &e), 0);
	cr_assert_eq(mf_syncstate_commit(s, &e), 0);
	mf_syncstate_free(s);
	append("k.journal", "+ 2 0 S tw");       /* crash mid-write */

	s = open_k("k");
	cr_assert_eq(mf_syncstate_count(s), 1);
	cr_assert_eq(mf_syncstate_put(s, 3, "", 0, "three", &e), 0);
	cr_assert_eq(mf_syncstate_commit(s, &e), 0);
	mf_syncstate_free(s);

	s = open_k("k");
	cr_assert_eq(mf_syncstate_count(s), 2);
	cr_assert_not_null(mf_syncstate_get(s, 3));
	cr_assert_null(mf_syncstate_get(s, 2));
	mf_syncstate_free(s);
}

Test(syncstate, stale_journal_after_rewrite_is_ignored)
{
	struct mf_err e;
	struct mf_syncstate *s = open_k("k");
	cr_assert_eq(mf_syncstate_reset(s, 1, &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 1, "S", 0, "one", &e), 0);
	cr_assert_eq(mf_syncstate_compact(s, &e), 0);   /* gen 1 */
	mf_syncstate_free(s);
	/* a journal of generation 0 left by a crash after the rename */
	append("k.journal", "gen 0\n- 1\n");
	s = open_k("k");
	cr_assert_eq(mf_syncstate_count(s), 1);
	mf_syncstate_free(s);
}

Test(syncstate, corrupt_records_are_errors)
{
	struct mf_err e;
	append("bad.state", "mailflow-syncstate 1\ngen 0\n+ x 0 S b\n");
	mf_err_clear(&e);
	cr_assert_null(mf_syncstate_open(dir, "bad", &e));
	cr_assert_eq(e.kind, MF_E_DATA);
	append("bad2.state", "something else\n");
	cr_assert_null(mf_syncstate_open(dir, "bad2", &e));
	cr_assert_null(mf_syncstate_open(dir, "../x", &e));
	struct mf_syncstate *s = open_k("ok");
	cr_assert_eq(mf_syncstate_put(s, 1, "S", 0, "has space", &e), -1);
	cr_assert_eq(mf_syncstate_put(s, 0, "S", 0, "zero", &e), -1);
	mf_syncstate_free(s);
}

Test(syncstate, many_entries_and_reset)
{
	struct mf_err e;
	struct mf_syncstate *s = open_k("big");
	cr_assert_eq(mf_syncstate_reset(s, 5, &e), 0);
	for (unsigned u = 5000; u >= 1; u--) {
		char b[32];
		snprintf(b, sizeof b, "base%u", u);
		cr_assert_eq(mf_syncstate_put(s, u, u % 2 ? "S" : "", 0, b, &e), 0);
	}
	cr_assert_eq(mf_syncstate_commit(s, &e), 0);
	cr_assert_eq(mf_syncstate_reset(s, 6, &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 1, "", 0, "after", &e), 0);
	cr_assert_eq(mf_syncstate_commit(s, &e), 0);
	mf_syncstate_free(s);
	s = open_k("big");
	cr_assert_eq(mf_syncstate_uidvalidity(s), 6);
	cr_assert_eq(mf_syncstate_count(s), 1);
	cr_assert_str_eq(mf_syncstate_at(s, 0)->base, "after");
	mf_syncstate_free(s);
}

/* Flag sets with keywords and the keyword table survive the journal and
 * a rewrite; old records (letters only) read as before; the table
 * survives a UIDVALIDITY reset (local files keep their letters). */
Test(syncstate, keywords_and_keyword_table)
{
	struct mf_err e;
	struct mf_syncstate *s;

	mf_err_clear(&e);
	append("Kw.state", "mailflow-syncstate 1\ngen 0\nV 5\nM 0\nN 9\n"
	       "+ 3 0 RS b3\n");
	s = open_k("Kw");
	cr_assert_str_eq(mf_syncstate_get(s, 3)->flags, "RS");
	cr_assert_eq(mf_syncstate_put(s, 4, "PS $Junk Work", 0, "b4", &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 6, " $MDNSent", 0, "b6", &e), 0);
	cr_assert_eq(mf_syncstate_set_keyword(s, 0, "$Junk", &e), 0);
	cr_assert_eq(mf_syncstate_set_keyword(s, 2, "Work", &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 7, "S  x", 0, "b7", &e), -1);
	cr_assert_eq(mf_syncstate_put(s, 7, "SSSSSSS", 0, "b7", &e), -1);
	cr_assert_eq(mf_syncstate_set_keyword(s, 26, "x", &e), -1);
	cr_assert_eq(mf_syncstate_commit(s, &e), 0, "%s", e.msg);
	mf_syncstate_free(s);

	s = open_k("Kw");      /* from the journal */
	cr_assert_str_eq(mf_syncstate_get(s, 4)->flags, "PS $Junk Work");
	cr_assert_str_eq(mf_syncstate_get(s, 6)->flags, " $MDNSent");
	cr_assert_str_eq(mf_syncstate_keyword(s, 0), "$Junk");
	cr_assert_null(mf_syncstate_keyword(s, 1));
	cr_assert_str_eq(mf_syncstate_keyword(s, 2), "Work");
	cr_assert_eq(mf_syncstate_set_keyword(s, 2, NULL, &e), 0);
	cr_assert_eq(mf_syncstate_compact(s, &e), 0, "%s", e.msg);
	mf_syncstate_free(s);

	s = open_k("Kw");      /* from the snapshot */
	cr_assert_str_eq(mf_syncstate_get(s, 4)->flags, "PS $Junk Work");
	cr_assert_str_eq(mf_syncstate_get(s, 6)->flags, " $MDNSent");
	cr_assert_str_eq(mf_syncstate_get(s, 3)->flags, "RS");
	cr_assert_null(mf_syncstate_keyword(s, 2));
	cr_assert_eq(mf_syncstate_reset(s, 6, &e), 0);
	cr_assert_eq(mf_syncstate_compact(s, &e), 0, "%s", e.msg);
	mf_syncstate_free(s);
	s = open_k("Kw");
	cr_assert_eq(mf_syncstate_count(s), 0);
	cr_assert_str_eq(mf_syncstate_keyword(s, 0), "$Junk");
	mf_syncstate_free(s);
}

/* A snapshot larger than one read (64 KiB) loads the same as before,
 * lines cut by a chunk boundary included; a torn journal tail after
 * such a snapshot is still cut off. */
Test(syncstate, large_snapshot_streams_in_chunks)
{
	struct mf_err e;
	struct mf_syncstate *s = open_k("large");
	char b[128];

	mf_err_clear(&e);
	cr_assert_eq(mf_syncstate_reset(s, 9, &e), 0);
	for (unsigned u = 1; u <= 4000; u++) {
		snprintf(b, sizeof b, "%u.M%uP123Q%u.host-with-a-long-name,U=%u",
		         1700000000 + u, u, u, u);
		cr_assert_eq(mf_syncstate_put(s, u, u % 3 ? "S" : "FS", 0, b, &e), 0);
	}
	cr_assert_eq(mf_syncstate_set_uidnext(s, 4001, &e), 0);
	cr_assert_eq(mf_syncstate_compact(s, &e), 0);
	mf_syncstate_free(s);
	append("large.journal", "+ 4001 0 S tor");   /* crash mid-write */

	s = open_k("large");
	cr_assert_eq(mf_syncstate_count(s), 4000);
	cr_assert_eq(mf_syncstate_uidnext(s), 4001);
	for (unsigned u = 1; u <= 4000; u += 397) {
		snprintf(b, sizeof b, "%u.M%uP123Q%u.host-with-a-long-name,U=%u",
		         1700000000 + u, u, u, u);
		cr_assert_str_eq(mf_syncstate_get(s, u)->base, b);
		cr_assert_str_eq(mf_syncstate_get(s, u)->flags, u % 3 ? "S" : "FS");
	}
	cr_assert_null(mf_syncstate_get(s, 4001));
	mf_syncstate_free(s);
	snprintf(b, sizeof b, "%s/large.journal", dir);
	FILE *f = fopen(b, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	cr_assert_eq(ftell(f), 0, "the torn tail is cut off");
	fclose(f);
}

/* open_head: the folder's values and the number of entries, none of the
 * entries; no change is possible until _load(); a journal with records
 * makes it read everything. */
Test(syncstate, open_head_reads_values_only)
{
	struct mf_err e;
	struct mf_syncstate *s = open_k("h");

	mf_err_clear(&e);
	cr_assert_eq(mf_syncstate_reset(s, 42, &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 3, "S", 0, "three", &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 7, "", 0, "seven", &e), 0);
	cr_assert_eq(mf_syncstate_set_keyword(s, 0, "$Work", &e), 0);
	cr_assert_eq(mf_syncstate_set_uidnext(s, 8, &e), 0);
	cr_assert_eq(mf_syncstate_set_modseq(s, 99, &e), 0);
	cr_assert_eq(mf_syncstate_compact(s, &e), 0);
	mf_syncstate_free(s);

	s = mf_syncstate_open_head(dir, "h", &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_assert_eq(mf_syncstate_uidvalidity(s), 42);
	cr_assert_eq(mf_syncstate_uidnext(s), 8);
	cr_assert_eq(mf_syncstate_modseq(s), 99);
	cr_assert_str_eq(mf_syncstate_keyword(s, 0), "$Work");
	cr_assert_eq(mf_syncstate_count(s), 2);
	cr_assert_null(mf_syncstate_get(s, 3));
	cr_assert_null(mf_syncstate_at(s, 0));
	cr_assert_eq(mf_syncstate_put(s, 9, "S", 0, "nine", &e), -1);
	cr_assert_eq(e.kind, MF_E_INTERNAL);
	cr_assert_eq(mf_syncstate_del(s, 3, &e), -1);
	cr_assert_eq(mf_syncstate_set_uidnext(s, 10, &e), -1);
	cr_assert_eq(mf_syncstate_compact(s, &e), -1);
	cr_assert_eq(mf_syncstate_uidnext(s), 8);

	cr_assert_eq(mf_syncstate_load(s, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_syncstate_count(s), 2);
	cr_assert_str_eq(mf_syncstate_get(s, 7)->base, "seven");
	cr_assert_eq(mf_syncstate_put(s, 9, "S", 0, "nine", &e), 0);
	cr_assert_eq(mf_syncstate_commit(s, &e), 0);
	mf_syncstate_free(s);

	/* the journal now holds UID 9: open_head reads it all */
	s = mf_syncstate_open_head(dir, "h", &e);
	cr_assert_not_null(s);
	cr_assert_eq(mf_syncstate_count(s), 3);
	cr_assert_str_eq(mf_syncstate_get(s, 9)->base, "nine");
	cr_assert_eq(mf_syncstate_put(s, 10, "", 0, "ten", &e), 0);
	mf_syncstate_free(s);

	/* a missing state opens empty, as with _open */
	s = mf_syncstate_open_head(dir, "none", &e);
	cr_assert_not_null(s);
	cr_assert_eq(mf_syncstate_count(s), 0);
	cr_assert_eq(mf_syncstate_uidvalidity(s), 0);
	cr_assert_eq(mf_syncstate_load(s, &e), 0);
	cr_assert_eq(mf_syncstate_reset(s, 1, &e), 0);
	mf_syncstate_free(s);
}

/* Stream mode (a first pull): entries go to the journal only, their UIDs
 * are remembered, the snapshot is written from the journal; what is read
 * back is what was put, in or out of UID order. */
Test(syncstate, stream_mode_writes_entries_through_the_journal)
{
	struct mf_err e;
	struct mf_syncstate *s = open_k("st");
	char b[64];

	mf_err_clear(&e);
	cr_assert_eq(mf_syncstate_reset(s, 5, &e), 0);
	cr_assert_eq(mf_syncstate_commit(s, &e), 0);
	cr_assert_eq(mf_syncstate_stream(s, &e), 0, "%s", e.msg);
	for (unsigned u = 1; u <= 3000; u++) {
		snprintf(b, sizeof b, "base%u", u);
		cr_assert_eq(mf_syncstate_put(s, u, u % 2 ? "S" : "", 0, b, &e), 0);
		if (u % 500 == 0)
			cr_assert_eq(mf_syncstate_commit(s, &e), 0);
	}
	cr_assert_eq(mf_syncstate_put(s, 5000, "F", 0, "base5000", &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 4000, "R", 0, "base4000", &e), 0);
	cr_assert_eq(mf_syncstate_count(s), 3002);
	cr_assert_not_null(mf_syncstate_get(s, 1));
	cr_assert_not_null(mf_syncstate_get(s, 4000));
	cr_assert_null(mf_syncstate_get(s, 4001));
	cr_assert_null(mf_syncstate_at(s, 0));
	cr_assert_eq(mf_syncstate_del(s, 1, &e), -1);
	cr_assert_eq(e.kind, MF_E_INTERNAL);
	cr_assert_eq(mf_syncstate_reset(s, 6, &e), -1);
	cr_assert_eq(mf_syncstate_set_uidnext(s, 5001, &e), 0);
	cr_assert_eq(mf_syncstate_compact(s, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_syncstate_count(s), 3002);
	mf_syncstate_free(s);

	s = open_k("st");
	cr_assert_eq(mf_syncstate_uidvalidity(s), 5);
	cr_assert_eq(mf_syncstate_uidnext(s), 5001);
	cr_assert_eq(mf_syncstate_count(s), 3002);
	cr_assert_str_eq(mf_syncstate_get(s, 4000)->base, "base4000");
	cr_assert_str_eq(mf_syncstate_get(s, 4000)->flags, "R");
	cr_assert_str_eq(mf_syncstate_get(s, 2999)->flags, "S");
	cr_assert_str_eq(mf_syncstate_get(s, 3000)->flags, "");
	cr_assert_eq(mf_syncstate_at(s, 3001)->uid, 5000);
	mf_syncstate_free(s);

	/* a state with entries cannot stream */
	s = open_k("st");
	cr_assert_eq(mf_syncstate_stream(s, &e), -1);
	mf_syncstate_free(s);
}

/* A crash while streaming: what was committed is in the journal, and the
 * next open reads it as ever. */
Test(syncstate, stream_mode_crash_keeps_the_committed)
{
	struct mf_err e;
	struct mf_syncstate *s = open_k("sc");

	mf_err_clear(&e);
	cr_assert_eq(mf_syncstate_reset(s, 8, &e), 0);
	cr_assert_eq(mf_syncstate_stream(s, &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 1, "S", 0, "one", &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 2, "", 0, "two", &e), 0);
	cr_assert_eq(mf_syncstate_commit(s, &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 3, "", 0, "uncommitted", &e), 0);
	mf_syncstate_free(s);   /* killed before the end */

	s = open_k("sc");
	cr_assert_eq(mf_syncstate_uidvalidity(s), 8);
	cr_assert_eq(mf_syncstate_count(s), 2);
	cr_assert_str_eq(mf_syncstate_get(s, 2)->base, "two");
	cr_assert_null(mf_syncstate_get(s, 3));
	mf_syncstate_free(s);
}

/* A state of UIDs 1..n (flags "S", base "bU"), compacted. */
static void fill_plain(const char *key, unsigned n)
{
	struct mf_err e;
	struct mf_syncstate *s = open_k(key);
	char b[32];

	mf_err_clear(&e);
	cr_assert_eq(mf_syncstate_reset(s, 3, &e), 0);
	for (unsigned u = 1; u <= n; u++) {
		snprintf(b, sizeof b, "b%u", u);
		cr_assert_eq(mf_syncstate_put(s, u, "S", 0, b, &e), 0);
	}
	cr_assert_eq(mf_syncstate_set_uidnext(s, n + 1, &e), 0);
	cr_assert_eq(mf_syncstate_compact(s, &e), 0, "%s", e.msg);
	mf_syncstate_free(s);
}

/* _load_some: only the picked entries are held, changes outside the pick
 * are refused, and the rewrite keeps every entry the pick left on disk
 * beside the picked ones as changed, in UID order. */
Test(syncstate, load_some_holds_the_pick_and_merges_the_rest)
{
	static const uint32_t pick[] = { 10, 10, 500, 510, 900, 0xFFFFFFFFu };
	struct mf_err e;
	struct mf_syncstate *s;
	uint32_t prev = 0;

	fill_plain("p", 1000);
	mf_err_clear(&e);
	s = mf_syncstate_open_head(dir, "p", &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_assert_eq(mf_syncstate_load_some(s, pick, 3, &e), 1, "%s", e.msg);
	cr_assert_eq(mf_syncstate_held(s), 1 + 11 + 101);
	cr_assert_eq(mf_syncstate_count(s), 1000);
	cr_assert_eq(mf_syncstate_at(s, 0)->uid, 10);
	cr_assert_null(mf_syncstate_get(s, 11));
	cr_assert_str_eq(mf_syncstate_get(s, 505)->base, "b505");
	cr_assert_eq(mf_syncstate_put(s, 11, "", 0, "x", &e), -1);
	cr_assert_eq(e.kind, MF_E_INTERNAL);
	cr_assert_eq(mf_syncstate_del(s, 499, &e), -1);
	cr_assert_eq(mf_syncstate_reset(s, 4, &e), -1);
	cr_assert_eq(mf_syncstate_load(s, &e), -1);
	cr_assert_eq(mf_syncstate_put(s, 10, "FS", 0, "b10", &e), 0);
	cr_assert_eq(mf_syncstate_del(s, 505, &e), 0);
	cr_assert_eq(mf_syncstate_put(s, 2000, "", 0, "b2000", &e), 0);
	cr_assert_eq(mf_syncstate_count(s), 1000);
	cr_assert_eq(mf_syncstate_set_uidnext(s, 2001, &e), 0);
	cr_assert_eq(mf_syncstate_compact(s, &e), 0, "%s", e.msg);
	mf_syncstate_free(s);

	s = open_k("p");
	cr_assert_eq(mf_syncstate_count(s), 1000);
	cr_assert_eq(mf_syncstate_uidnext(s), 2001);
	cr_assert_str_eq(mf_syncstate_get(s, 10)->flags, "FS");
	cr_assert_str_eq(mf_syncstate_get(s, 11)->base, "b11");
	cr_assert_str_eq(mf_syncstate_get(s, 499)->flags, "S");
	cr_assert_null(mf_syncstate_get(s, 505));
	cr_assert_str_eq(mf_syncstate_get(s, 2000)->base, "b2000");
	for (size_t i = 0; i < mf_syncstate_held(s); i++) {
		cr_assert_gt(mf_syncstate_at(s, i)->uid, prev, "in UID order");
		prev = mf_syncstate_at(s, i)->uid;
	}
	mf_syncstate_free(s);
}

/* A crash after a picked change was committed: the journal brings it
 * back, and the next _load_some() reads everything to replay it. */
Test(syncstate, load_some_after_a_crash_reads_whole)
{
	static const uint32_t pick[] = { 7, 7 };
	struct mf_err e;
	struct mf_syncstate *s;

	fill_plain("c", 50);
	mf_err_clear(&e);
	s = mf_syncstate_open_head(dir, "c", &e);
	cr_assert_eq(mf_syncstate_load_some(s, pick, 1, &e), 1, "%s", e.msg);
	cr_assert_eq(mf_syncstate_put(s, 7, "R", 0, "b7", &e), 0);
	cr_assert_eq(mf_syncstate_commit(s, &e), 0);
	mf_syncstate_free(s);   /* stopped before the rewrite */

	s = mf_syncstate_open_head(dir, "c", &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_assert_eq(mf_syncstate_load_some(s, pick, 1, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_syncstate_held(s), 50);
	cr_assert_str_eq(mf_syncstate_get(s, 7)->flags, "R");
	cr_assert_eq(mf_syncstate_put(s, 8, "", 0, "b8", &e), 0);
	mf_syncstate_free(s);

	/* a pick must be sorted ranges, and not empty */
	static const uint32_t bad[] = { 9, 9, 3, 4 };
	s = mf_syncstate_open_head(dir, "c", &e);
	cr_assert_eq(mf_syncstate_load_some(s, bad, 2, &e), -1);
	cr_assert_eq(e.kind, MF_E_INTERNAL);
	mf_syncstate_free(s);
}
