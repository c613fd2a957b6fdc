/* test_popstate.c - the UIDL journal: persistence, group commit, torn
 * records, compaction, locking, tags. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "popstate.h"

static char dir[64], path[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_popstate.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/pop.state", dir);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static size_t
file_text(char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
	return n;
}

TestSuite(popstate, .init = setup, .fini = teardown);

Test(popstate, create_add_sync_reopen)
{
	struct mf_err e;
	struct mf_popstate *s = mf_popstate_open(path, &e);
	char text[256];
	struct stat st;

	cr_assert_not_null(s, "%s", e.msg);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(mf_popstate_count(s), 0);
	cr_assert_eq(mf_popstate_add(s, "uid-1", &e), 0);
	cr_assert_eq(mf_popstate_add(s, "a/b:c,d", &e), 0);
	cr_assert_eq(mf_popstate_add(s, "uid-1", &e), 0);   /* dup: no-op */
	cr_assert_eq(mf_popstate_count(s), 2);
	/* not durable before sync */
	file_text(text, sizeof(text));
	cr_assert_str_eq(text, "mailflow-popstate 1\n");
	cr_assert_eq(mf_popstate_sync(s, &e), 0);
	file_text(text, sizeof(text));
	cr_assert_str_eq(text, "mailflow-popstate 1\n+ uid-1\n+ a/b:c,d\n");
	mf_popstate_close(s);

	s = mf_popstate_open(path, &e);
	cr_assert_not_null(s);
	cr_assert(mf_popstate_has(s, "uid-1"));
	cr_assert(mf_popstate_has(s, "a/b:c,d"));
	cr_assert(!mf_popstate_has(s, "uid-2"));
	mf_popstate_close(s);
}

Test(popstate, unsynced_records_are_lost)
{
	struct mf_err e;
	struct mf_popstate *s = mf_popstate_open(path, &e);

	cr_assert_eq(mf_popstate_add(s, "kept", &e), 0);
	cr_assert_eq(mf_popstate_sync(s, &e), 0);
	cr_assert_eq(mf_popstate_add(s, "lost", &e), 0);
	mf_popstate_close(s);
	s = mf_popstate_open(path, &e);
	cr_assert(mf_popstate_has(s, "kept"));
	cr_assert(!mf_popstate_has(s, "lost"));
	mf_popstate_close(s);
}

Test(popstate, torn_last_line_is_dropped)
{
	struct mf_err e;
	struct mf_popstate *s;
	char text[256];
	int fd;

	s = mf_popstate_open(path, &e);
	mf_popstate_add(s, "one", &e);
	mf_popstate_sync(s, &e);
	mf_popstate_close(s);
	fd = open(path, O_WRONLY | O_APPEND);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "+ tw", 4), 4);   /* crash mid-append */
	close(fd);
	s = mf_popstate_open(path, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_assert(mf_popstate_has(s, "one"));
	cr_assert(!mf_popstate_has(s, "tw"));
	mf_popstate_add(s, "two", &e);
	cr_assert_eq(mf_popstate_sync(s, &e), 0);
	mf_popstate_close(s);
	file_text(text, sizeof(text));
	cr_assert_str_eq(text, "mailflow-popstate 1\n+ one\n+ two\n");
}

Test(popstate, bad_files_refused)
{
	struct mf_err e;
	FILE *f;
	struct mf_popstate *s = mf_popstate_open(path, &e);

	cr_assert_not_null(s);
	mf_popstate_close(s);
	f = fopen(path, "w");
	fputs("something else\n", f);
	fclose(f);
	cr_assert_null(mf_popstate_open(path, &e));
	cr_assert_eq(e.kind, MF_E_DATA);
	f = fopen(path, "w");
	fputs("mailflow-popstate 1\n+ ok\nbogus\n", f);
	fclose(f);
	cr_assert_null(mf_popstate_open(path, &e));
	cr_assert_eq(e.kind, MF_E_DATA);
	cr_assert(strstr(e.msg, ":3:") != NULL, "%s", e.msg);
}

static int
keep_even(void *arg, const char *uid)
{
	(void)arg;
	return (uid[strlen(uid) - 1] - '0') % 2 == 0;
}

Test(popstate, compact_keeps_selected)
{
	struct mf_err e;
	struct mf_popstate *s = mf_popstate_open(path, &e);
	char uid[16], text[4096];
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(uid, sizeof(uid), "m%d", i);
		cr_assert_eq(mf_popstate_add(s, uid, &e), 0);
	}
	cr_assert_eq(mf_popstate_sync(s, &e), 0);
	cr_assert_eq(mf_popstate_compact(s, keep_even, NULL, &e), 0);
	cr_assert_eq(mf_popstate_count(s), 5);
	cr_assert(mf_popstate_has(s, "m4"));
	cr_assert(!mf_popstate_has(s, "m5"));
	/* appends after compaction go to the new file */
	cr_assert_eq(mf_popstate_add(s, "m11", &e), 0);
	cr_assert_eq(mf_popstate_sync(s, &e), 0);
	mf_popstate_close(s);
	file_text(text, sizeof(text));
	cr_assert(strstr(text, "+ m11\n") != NULL);
	cr_assert(strstr(text, "+ m5\n") == NULL);
	s = mf_popstate_open(path, &e);
	cr_assert_eq(mf_popstate_count(s), 6);
	mf_popstate_close(s);
}

Test(popstate, many_uids)
{
	struct mf_err e;
	struct mf_popstate *s = mf_popstate_open(path, &e);
	char uid[32];
	int i;

	for (i = 0; i < 20000; i++) {
		snprintf(uid, sizeof(uid), "%08d.%d", i, i * 7);
		cr_assert_eq(mf_popstate_add(s, uid, &e), 0);
	}
	cr_assert_eq(mf_popstate_sync(s, &e), 0);
	mf_popstate_close(s);
	s = mf_popstate_open(path, &e);
	cr_assert_eq(mf_popstate_count(s), 20000);
	cr_assert(mf_popstate_has(s, "00012345.86415"));
	cr_assert(!mf_popstate_has(s, "00012345.86416"));
	mf_popstate_close(s);
}

Test(popstate, invalid_uids)
{
	struct mf_err e;
	struct mf_popstate *s = mf_popstate_open(path, &e);
	char longuid[MF_POPSTATE_UID_MAX + 2];

	memset(longuid, 'x', sizeof(longuid) - 1);
	longuid[sizeof(longuid) - 1] = '\0';
	cr_assert_eq(mf_popstate_add(s, "", &e), -1);
	cr_assert_eq(mf_popstate_add(s, "a b", &e), -1);
	cr_assert_eq(mf_popstate_add(s, "a\nb", &e), -1);
	cr_assert_eq(mf_popstate_add(s, longuid, &e), -1);
	cr_assert_eq(e.kind, MF_E_DATA);
	longuid[MF_POPSTATE_UID_MAX] = '\0';
	cr_assert_eq(mf_popstate_add(s, longuid, &e), 0);
	mf_popstate_close(s);
}

Test(popstate, lock_excludes_second_open)
{
	struct mf_err e;
	struct mf_popstate *a = mf_popstate_open(path, &e), *b;

	cr_assert_not_null(a);
	b = mf_popstate_open(path, &e);
	cr_assert_null(b);
	cr_assert_eq(e.kind, MF_E_TEMP);
	mf_popstate_close(a);
	b = mf_popstate_open(path, &e);
	cr_assert_not_null(b);
	mf_popstate_close(b);
}

Test(popstate, tags)
{
	char t1[32], t2[32], t3[32];
	struct mf_err e;

	cr_assert_eq(mf_popstate_tag("u@h", "uid1", t1, sizeof(t1), &e), 0);
	cr_assert_eq(mf_popstate_tag("u@h", "uid2", t2, sizeof(t2), &e), 0);
	cr_assert_eq(mf_popstate_tag("v@h", "uid1", t3, sizeof(t3), &e), 0);
	cr_assert_eq(strlen(t1), MF_POPSTATE_TAG_LEN);
	cr_assert_str_neq(t1, t2);
	cr_assert_str_neq(t1, t3);
	cr_assert_eq(strspn(t1, "0123456789abcdef"), MF_POPSTATE_TAG_LEN);
	/* SHA-256("u@h\0uid1"), first 24 hex digits: stable across versions */
	cr_assert_str_eq(t1, "8aeded2b936d516dbcb1fa86");
}

Test(popstate, identities_kept_and_reloaded)
{
	static const char h1[] = "0123456789abcdef0123456789abcdef";
	static const char h2[] = "fedcba9876543210fedcba9876543210";
	struct mf_err e;
	struct mf_popstate *s = mf_popstate_open(path, &e);
	char text[512], id[64];

	cr_assert_not_null(s);
	snprintf(id, sizeof(id), "20:%s", h1);
	cr_assert_eq(mf_popstate_add_id(s, "same", id, &e), 0);
	snprintf(id, sizeof(id), "21:%s", h2);
	cr_assert_eq(mf_popstate_add_id(s, "same", id, &e), 0);
	cr_assert_eq(mf_popstate_add_id(s, "same", id, &e), 0);  /* no-op */
	cr_assert_eq(mf_popstate_add(s, "old", &e), 0);
	cr_assert_eq(mf_popstate_add_id(s, "x", "20:xyz", &e), -1);
	cr_assert_eq(mf_popstate_sync(s, &e), 0);
	mf_popstate_close(s);
	file_text(text, sizeof(text));
	cr_assert_str_eq(text, "mailflow-popstate 1\n+ same 20:0123456789abcdef"
	    "0123456789abcdef\n+ same 21:fedcba9876543210fedcba9876543210\n"
	    "+ old\n");
	s = mf_popstate_open(path, &e);
	cr_assert_not_null(s, "%s", e.msg);
	cr_assert_eq(mf_popstate_count(s), 2);
	cr_assert(mf_popstate_has_size(s, "same", 20));
	cr_assert(mf_popstate_has_size(s, "same", 21));
	cr_assert(!mf_popstate_has_size(s, "same", 2));
	cr_assert(mf_popstate_has_hash(s, "same", h2));
	cr_assert(!mf_popstate_has_hash(s, "old", h2));
	cr_assert(mf_popstate_has_bare(s, "old"));
	cr_assert(!mf_popstate_has_bare(s, "same"));
	/* compaction keeps every identity */
	cr_assert_eq(mf_popstate_compact(s, NULL, NULL, &e), 0);
	mf_popstate_close(s);
	s = mf_popstate_open(path, &e);
	cr_assert(mf_popstate_has_hash(s, "same", h1));
	cr_assert(mf_popstate_has_hash(s, "same", h2));
	mf_popstate_close(s);
}
