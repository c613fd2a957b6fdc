/* Unit tests: Maildir delivery, names, flags, scanning, locking. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir.h"

static char root[256];

static void
setup(void)
{
	snprintf(root, sizeof(root), "/tmp/mf-maildir-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
}

static void
teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d, "%s", dir);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

TestSuite(maildir, .init = setup, .fini = teardown);

Test(maildir, deliver_into_new_exact_bytes)
{
	char path[300], name[300], file[700], got[64] = "";
	struct mf_err e;
	struct mf_maildir *md;
	struct mf_maildir_msg *m;
	FILE *f;

	snprintf(path, sizeof(path), "%s/a/b/Maildir", root);
	md = mf_maildir_open(path, 1, &e);
	cr_assert_not_null(md, "%s", e.msg);
	m = mf_maildir_begin(md, &e);
	cr_assert_not_null(m);
	cr_assert_eq(mf_maildir_write(m, "Subject: x\n\nbody\n", 17, &e), 0);
	cr_assert_eq(mf_maildir_msg_size(m), 17);
	cr_assert_eq(mf_maildir_commit(m, "new", NULL, NULL, name, sizeof(name), &e), 0);
	cr_assert_eq(mf_maildir_sync(md, &e), 0);
	cr_assert_eq(strncmp(name, "new/", 4), 0);
	cr_assert_null(strchr(name, ':'), "new/ names carry no info: %s", name);
	snprintf(file, sizeof(file), "%s/%s", path, name);
	f = fopen(file, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fread(got, 1, sizeof(got), f), 17);
	fclose(f);
	cr_assert_str_eq(got, "Subject: x\n\nbody\n");
	snprintf(file, sizeof(file), "%s/tmp", path);
	cr_assert_eq(count_files(file), 0, "tmp/ must be empty after commit");
	mf_maildir_close(md);
}

Test(maildir, cur_with_uid_field_and_flags)
{
	char name[300], uid[32], flags[16], moved[300];
	struct mf_err e;
	struct mf_maildir *md = mf_maildir_open(root, 1, &e);
	struct mf_maildir_msg *m = mf_maildir_begin(md, &e);

	mf_maildir_write(m, "x\n", 2, &e);
	cr_assert_eq(mf_maildir_commit(m, "cur", "U=42", "SF", name, sizeof(name), &e), 0);
	cr_assert(strstr(name, ",U=42:2,FS") != NULL, "%s", name);
	cr_assert_eq(mf_maildir_name_field(name, "U", uid, sizeof(uid)), 0);
	cr_assert_str_eq(uid, "42");
	mf_maildir_name_flags(name, flags, sizeof(flags));
	cr_assert_str_eq(flags, "FS");
	cr_assert_eq(mf_maildir_set_flags(md, name, "RS", moved, sizeof(moved), &e), 0);
	cr_assert(strstr(moved, ",U=42:2,RS") != NULL, "%s", moved);
	cr_assert_eq(mf_maildir_remove(md, moved, &e), 0);
	mf_maildir_close(md);
}

Test(maildir, unique_names_for_many_messages)
{
	char path[300];
	struct mf_err e;
	struct mf_maildir *md = mf_maildir_open(root, 1, &e);
	int i;

	for (i = 0; i < 200; i++) {
		struct mf_maildir_msg *m = mf_maildir_begin(md, &e);
		cr_assert_not_null(m);
		mf_maildir_write(m, "m\n", 2, &e);
		cr_assert_eq(mf_maildir_commit(m, "new", NULL, NULL, NULL, 0, &e), 0);
	}
	snprintf(path, sizeof(path), "%s/new", root);
	cr_assert_eq(count_files(path), 200);
	mf_maildir_close(md);
}

Test(maildir, abort_leaves_nothing)
{
	char path[300];
	struct mf_err e;
	struct mf_maildir *md = mf_maildir_open(root, 1, &e);
	struct mf_maildir_msg *m = mf_maildir_begin(md, &e);

	mf_maildir_write(m, "partial", 7, &e);
	mf_maildir_abort(m);
	snprintf(path, sizeof(path), "%s/tmp", root);
	cr_assert_eq(count_files(path), 0);
	mf_maildir_close(md);
}

static int
collect(void *arg, const char *name)
{
	(*(int *)arg)++;
	cr_assert(strncmp(name, "new/", 4) == 0 || strncmp(name, "cur/", 4) == 0);
	return 0;
}

Test(maildir, scan_sees_new_and_cur)
{
	struct mf_err e;
	struct mf_maildir *md = mf_maildir_open(root, 1, &e);
	int n = 0;
	struct mf_maildir_msg *m = mf_maildir_begin(md, &e);

	mf_maildir_commit(m, "new", NULL, NULL, NULL, 0, &e);
	m = mf_maildir_begin(md, &e);
	mf_maildir_commit(m, "cur", "U=1", "", NULL, 0, &e);
	cr_assert_eq(mf_maildir_scan(md, collect, &n, &e), 0);
	cr_assert_eq(n, 2);
	mf_maildir_close(md);
}

Test(maildir, missing_maildir_without_create_fails)
{
	char path[300];
	struct mf_err e;

	snprintf(path, sizeof(path), "%s/nope", root);
	cr_assert_null(mf_maildir_open(path, 0, &e));
	cr_assert_eq(e.kind, MF_E_IO);
}

Test(maildir, second_lock_is_refused)
{
	struct mf_err e;
	struct mf_maildir *a = mf_maildir_open(root, 1, &e);
	struct mf_maildir *b = mf_maildir_open(root, 0, &e);

	cr_assert_eq(mf_maildir_lock(a, 0, &e), 0);
	cr_assert_eq(mf_maildir_lock(b, 100, &e), -1);
	cr_assert_eq(e.kind, MF_E_TEMP);
	cr_assert(strstr(e.msg, "another process") != NULL);
	mf_maildir_close(a);
	cr_assert_eq(mf_maildir_lock(b, 0, &e), 0, "lock freed at close");
	mf_maildir_close(b);
}

Test(maildir, name_helpers_table)
{
	static const struct { const char *name, *key, *val; } f[] = {
		{ "1.M2P3Q4.h,U=7:2,S", "U", "7" },
		{ "cur/1.M2P3Q4.h,S=1234,W=1260,U=99:2,", "U", "99" },
		{ "1.M2P3Q4.h,S=1234:2,S", "S", "1234" },
		{ "1.M2P3Q4.h:2,S", "U", NULL },
		{ "1.M2P3Q4.h,UU=5", "U", NULL },
	};
	char v[32], fl[16];
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		int r = mf_maildir_name_field(f[i].name, f[i].key, v, sizeof(v));
		if (f[i].val == NULL) {
			cr_assert_eq(r, -1, "case %zu", i);
		} else {
			cr_assert_eq(r, 0, "case %zu", i);
			cr_assert_str_eq(v, f[i].val);
		}
	}
	/* keyword letters a-z are kept too, after the capitals (ASCII) */
	mf_maildir_flags_normalise("TSsFFa,1", fl, sizeof(fl));
	cr_assert_str_eq(fl, "FSTas");
	mf_maildir_name_flags("x", fl, sizeof(fl));
	cr_assert_str_eq(fl, "");
}

/* The file-name grammar: every way a name is made or changed. */
Test(maildir, grammar_unique)
{
	char u[64], small[16];

	cr_assert_eq(mf_maildir_name_unique(u, sizeof(u), 1700000000LL, 42L,
	    1234L, 7UL, "host.example"), 0);
	cr_assert_str_eq(u, "1700000000.M000042P1234Q7.host.example");
	cr_assert_eq(mf_maildir_name_unique(small, sizeof(small), 1700000000LL,
	    42L, 1234L, 7UL, "host"), -1);
	cr_assert_str_eq(small, "", "a cut name must not be usable");
}

Test(maildir, grammar_base_table)
{
	static const struct { const char *in, *want; } t[] = {
		{ "cur/1.M2P3Q4.h,U=7:2,FS", "1.M2P3Q4.h,U=7" },
		{ "new/1.M2P3Q4.h", "1.M2P3Q4.h" },
		{ "1.M2P3Q4.h:2,", "1.M2P3Q4.h" },
		{ "1.M2P3Q4.h", "1.M2P3Q4.h" },
		/* only ":2," starts the info part */
		{ "cur/1.M2P3Q4.h:1,x", "1.M2P3Q4.h:1,x" },
	};
	char b[64], small[4];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cr_assert_eq(mf_maildir_name_base(t[i].in, b, sizeof(b)), 0,
		    "%s", t[i].in);
		cr_assert_str_eq(b, t[i].want, "%s", t[i].in);
	}
	cr_assert_eq(mf_maildir_name_base("cur/12345:2,S", small,
	    sizeof(small)), -1);
}

Test(maildir, grammar_refield_table)
{
	static const struct {
		const char *base, *drop, *field, *want;
	} t[] = {
		{ "1.M2.h", "UA", "U=7", "1.M2.h,U=7" },
		{ "1.M2.h,U=7", "UA", "A=9", "1.M2.h,A=9" },
		{ "1.M2.h,A=9,S=120", "UA", "U=10", "1.M2.h,S=120,U=10" },
		{ "1.M2.h,U=7,A=9", "UA", NULL, "1.M2.h" },
		{ "1.M2.h,UX=7", "U", NULL, "1.M2.h,UX=7" },  /* key is one letter */
		{ "1.M2.h,U=7", "", "A=1", "1.M2.h,U=7,A=1" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cr_assert_eq(mf_maildir_name_refield(t[i].base, t[i].drop,
		    t[i].field, out, sizeof(out)), 0, "case %zu", i);
		cr_assert_str_eq(out, t[i].want, "case %zu", i);
	}
	/* fields that would break the grammar, and names that do not fit */
	cr_assert_eq(mf_maildir_name_refield("b", "", "X=a/b", out,
	    sizeof(out)), -1);
	cr_assert_eq(mf_maildir_name_refield("b", "", "X=a:2,S", out,
	    sizeof(out)), -1);
	cr_assert_eq(mf_maildir_name_refield("b", "", "", out, sizeof(out)),
	    -1);
	cr_assert_eq(mf_maildir_name_refield("1.M2.h", "", "U=12345", out, 10),
	    -1);
	cr_assert_str_eq(out, "");
}

Test(maildir, grammar_format_and_fields)
{
	char out[64], f[8];

	cr_assert_eq(mf_maildir_name_format(out, sizeof(out), "cur",
	    "1.M2.h,U=7", "TSF"), 0);
	cr_assert_str_eq(out, "cur/1.M2.h,U=7:2,FST");
	cr_assert_eq(mf_maildir_name_format(out, sizeof(out), "cur", "1.M2.h",
	    ""), 0);
	cr_assert_str_eq(out, "cur/1.M2.h:2,");
	/* new/ holds no info part, whatever the flags */
	cr_assert_eq(mf_maildir_name_format(out, sizeof(out), "new", "1.M2.h",
	    "S"), 0);
	cr_assert_str_eq(out, "new/1.M2.h");
	cr_assert_eq(mf_maildir_name_format(out, 12, "cur", "1.M2.h", "S"),
	    -1);
	cr_assert_str_eq(out, "");
	cr_assert_eq(mf_maildir_field_num(f, sizeof(f), "U", 4294967295UL), -1);
	cr_assert_eq(mf_maildir_field_num(f, sizeof(f), "A", 42), 0);
	cr_assert_str_eq(f, "A=42");
	{
		char list[16] = "";

		cr_assert_eq(mf_maildir_field_add(list, sizeof(list), "P", "ab"),
		    0);
		cr_assert_eq(mf_maildir_field_add(list, sizeof(list), "H", "cd"),
		    0);
		cr_assert_str_eq(list, "P=ab,H=cd");
		cr_assert_eq(mf_maildir_field_add(list, sizeof(list), "X",
		    "toolong"), -1);
		cr_assert_str_eq(list, "");
	}
	/* what the grammar writes, the parsers read back */
	cr_assert_eq(mf_maildir_name_format(out, sizeof(out), "cur",
	    "1.M2.h,U=7", "S"), 0);
	cr_assert_eq(mf_maildir_name_field(out, "U", f, sizeof(f)), 0);
	cr_assert_str_eq(f, "7");
	mf_maildir_name_flags(out, f, sizeof(f));
	cr_assert_str_eq(f, "S");
}

/* A name that cannot fit in a file name is refused before anything moves. */
Test(maildir, commit_refuses_short_out_name)
{
	struct mf_err e;
	struct mf_maildir *md = mf_maildir_open(root, 1, &e);
	struct mf_maildir_msg *m;
	char name[8], path[300];

	cr_assert_not_null(md);
	m = mf_maildir_begin(md, &e);
	cr_assert_not_null(m);
	cr_assert_eq(mf_maildir_write(m, "x\n", 2, &e), 0);
	cr_assert_eq(mf_maildir_commit(m, "cur", "U=1", "S", name, sizeof(name),
	    &e), -1);
	snprintf(path, sizeof(path), "%s/cur", root);
	cr_assert_eq(count_files(path), 0);
	snprintf(path, sizeof(path), "%s/tmp", root);
	cr_assert_eq(count_files(path), 0);
	mf_maildir_close(md);
}

/* Batch mode: nothing is visible before the sync, everything after it,
 * and messages never synced leave nothing behind. */
Test(maildir, batch_commit_is_invisible_until_sync)
{
	char path[300], name[300], file[700];
	struct mf_err e;
	struct mf_maildir *md = mf_maildir_open(root, 1, &e);
	int i;

	mf_maildir_set_batch(md, 1);
	for (i = 0; i < 50; i++) {
		struct mf_maildir_msg *m = mf_maildir_begin(md, &e);
		cr_assert_not_null(m);
		cr_assert_eq(mf_maildir_write(m, "batch\n", 6, &e), 0);
		cr_assert_eq(mf_maildir_commit(m, i % 2 ? "cur" : "new",
		    "U=9", "S", name, sizeof(name), &e), 0, "%s", e.msg);
	}
	cr_assert_eq(mf_maildir_pending(md), 50);
	snprintf(path, sizeof(path), "%s/new", root);
	cr_assert_eq(count_files(path), 0, "not visible before the sync");
	cr_assert_eq(mf_maildir_sync(md, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_maildir_pending(md), 0);
	cr_assert_eq(count_files(path), 25);
	snprintf(path, sizeof(path), "%s/cur", root);
	cr_assert_eq(count_files(path), 25);
	snprintf(file, sizeof(file), "%s/%s", root, name);
	cr_assert_eq(access(file, R_OK), 0, "the returned name is the final one");

	/* Committed but never synced: removed at close. */
	{
		struct mf_maildir_msg *m = mf_maildir_begin(md, &e);
		mf_maildir_write(m, "lost\n", 5, &e);
		cr_assert_eq(mf_maildir_commit(m, "new", NULL, NULL, NULL, 0, &e), 0);
	}
	mf_maildir_close(md);
	snprintf(path, sizeof(path), "%s/tmp", root);
	cr_assert_eq(count_files(path), 0);
	snprintf(path, sizeof(path), "%s/new", root);
	cr_assert_eq(count_files(path), 25);
}

/* Descriptors open in this process (the directory stream's own counts
 * too, the same on every call). */
static int
count_fds(void)
{
	return count_files("/proc/self/fd");
}

/* Batch mode keeps each pending file open for its fdatasync, but never
 * more than the cap (a quarter of RLIMIT_NOFILE here): past it the open
 * ones are synced and closed, still invisible until mf_maildir_sync(),
 * which leaves no pending descriptor open. */
Test(maildir, batch_pending_descriptors_capped_and_closed)
{
	struct rlimit rl = { 64, 64 };    /* cap: 64 / 4 = 16 */
	char path[300], file[700], buf[64];
	struct mf_err e;
	struct mf_maildir *md;
	int i, base, most = 0;
	FILE *fp;

	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	md = mf_maildir_open(root, 1, &e);
	cr_assert_not_null(md);
	mf_maildir_set_batch(md, 1);
	base = count_fds();
	for (i = 0; i < 40; i++) {
		struct mf_maildir_msg *m = mf_maildir_begin(md, &e);
		cr_assert_not_null(m, "%s", e.msg);
		snprintf(buf, sizeof(buf), "message %d\n", i);
		cr_assert_eq(mf_maildir_write(m, buf, strlen(buf), &e), 0);
		cr_assert_eq(mf_maildir_commit(m, "new", NULL, NULL, NULL, 0,
		    &e), 0, "%s", e.msg);
		if (count_fds() - base > most)
			most = count_fds() - base;
	}
	/* the writer thread holds at most the cap, plus the one it is
	 * writing; once it is through, 40 - 2 * 16 are left open */
	cr_assert_leq(most, 17, "pending files open at most: %d", most);
	for (i = 0; i < 500 && count_fds() - base != 8; i++)
		usleep(10000);
	cr_assert_eq(count_fds() - base, 8, "open after the writer: %d",
	    count_fds() - base);
	cr_assert_eq(mf_maildir_pending(md), 40);
	snprintf(path, sizeof(path), "%s/new", root);
	cr_assert_eq(count_files(path), 0, "not visible before the sync");
	cr_assert_eq(mf_maildir_sync(md, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_maildir_pending(md), 0);
	cr_assert_eq(count_fds(), base, "every pending descriptor closed");
	cr_assert_eq(count_files(path), 40);
	snprintf(path, sizeof(path), "%s/tmp", root);
	cr_assert_eq(count_files(path), 0);

	/* every file holds its own message, complete */
	{
		DIR *d;
		struct dirent *de;
		int n = 0;

		snprintf(path, sizeof(path), "%s/new", root);
		d = opendir(path);
		cr_assert_not_null(d);
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
			fp = fopen(file, "r");
			cr_assert_not_null(fp);
			cr_assert_not_null(fgets(buf, sizeof(buf), fp));
			cr_assert_eq(strncmp(buf, "message ", 8), 0);
			fclose(fp);
			n++;
		}
		closedir(d);
		cr_assert_eq(n, 40);
	}
	mf_maildir_close(md);
}

/* commit n messages "TAG k\n" into new/ (batch mode). */
static void
commit_n(struct mf_maildir *md, const char *tag, int n)
{
	char buf[64];
	struct mf_err e;
	int i;

	for (i = 0; i < n; i++) {
		struct mf_maildir_msg *m = mf_maildir_begin(md, &e);
		cr_assert_not_null(m, "%s", e.msg);
		snprintf(buf, sizeof(buf), "%s %d\n", tag, i);
		cr_assert_eq(mf_maildir_write(m, buf, strlen(buf), &e), 0);
		cr_assert_eq(mf_maildir_commit(m, "new", NULL, NULL, NULL, 0,
		    &e), 0, "%s", e.msg);
	}
}

/* A group synced on the Maildir's thread: the messages committed after
 * the start form the next group and stay invisible until their own
 * sync; a wait returns the group's result; a second start waits for the
 * first; close waits for a group syncing and removes what is pending. */
Test(maildir, sync_start_syncs_a_group_while_the_next_arrives)
{
	char path[300];
	struct mf_err e;
	struct mf_maildir *md = mf_maildir_open(root, 1, &e);

	cr_assert_not_null(md);
	mf_maildir_set_batch(md, 1);
	snprintf(path, sizeof(path), "%s/new", root);
	cr_assert_eq(mf_maildir_sync_wait(md, &e), 0, "none syncing: 0");
	commit_n(md, "first", 30);
	cr_assert_eq(mf_maildir_sync_start(md, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_maildir_pending(md), 0, "the group left for its sync");
	commit_n(md, "second", 20);
	cr_assert_eq(mf_maildir_pending(md), 20);
	cr_assert_eq(mf_maildir_sync_wait(md, &e), 0, "%s", e.msg);
	cr_assert_eq(count_files(path), 30, "the first group, not the second");
	cr_assert_eq(mf_maildir_sync_start(md, &e), 0, "%s", e.msg);
	commit_n(md, "third", 5);
	/* a start with a group syncing waits for it first */
	cr_assert_eq(mf_maildir_sync_start(md, &e), 0, "%s", e.msg);
	cr_assert_geq(count_files(path), 50);
	commit_n(md, "lost", 3);
	mf_maildir_close(md);
	cr_assert_eq(count_files(path), 55, "the group syncing finished at close");
	snprintf(path, sizeof(path), "%s/tmp", root);
	cr_assert_eq(count_files(path), 0, "the pending ones removed");
}

/* A group whose sync fails: the wait says so and nothing of it is left
 * half-done (here: the directory new/ replaced by a file, so no rename
 * can succeed; the files stay out of sight and are removed from tmp/). */
Test(maildir, sync_start_failure_is_reported_by_the_wait)
{
	char path[300], cmd[700], name[300];
	struct mf_err e;
	int i;
	struct mf_maildir *md = mf_maildir_open(root, 1, &e);

	cr_assert_not_null(md);
	mf_maildir_set_batch(md, 1);
	/* the Maildir's descriptor for new/ points at a directory no more
	 * writable: the renames fail */
	snprintf(path, sizeof(path), "%s/new", root);
	cr_assert_eq(chmod(path, 0500), 0);
	for (i = 0; i < 4; i++) {
		struct mf_maildir_msg *m = mf_maildir_begin(md, &e);
		cr_assert_not_null(m, "%s", e.msg);
		cr_assert_eq(mf_maildir_write(m, "doomed\n", 7, &e), 0);
		cr_assert_eq(mf_maildir_commit(m, "new", NULL, NULL, name,
		    sizeof(name), &e), 0, "%s", e.msg);
		if (geteuid() == 0) {
			/* root writes anyway: make the names clash instead */
			snprintf(cmd, sizeof(cmd), "%s/%s", root, name);
			cr_assert_eq(chmod(path, 0700), 0);
			cr_assert_eq(close(creat(cmd, 0600)), 0);
			cr_assert_eq(chmod(path, 0500), 0);
		}
	}
	cr_assert_eq(mf_maildir_sync_start(md, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_maildir_sync_wait(md, &e), -1);
	cr_assert_eq(e.kind, MF_E_IO, "%s", e.msg);
	cr_assert_eq(mf_maildir_sync_wait(md, &e), 0, "reported once");
	chmod(path, 0700);
	snprintf(path, sizeof(path), "%s/tmp", root);
	cr_assert_eq(count_files(path), 0, "nothing left in tmp/");
	mf_maildir_close(md);
}

/* A write that fails on the writer thread (batch mode: the files are
 * created and filled there, after the commit returned) fails the group:
 * the sync says why, nothing reaches new/, a later commit is refused, and
 * close leaves nothing in tmp/.  The failure here: RLIMIT_FSIZE. */
Test(maildir, batch_write_failure_fails_the_group)
{
	struct rlimit rl = { 4096, 4096 };
	char path[300], big[8192];
	struct mf_err e;
	struct mf_maildir *md;
	struct mf_maildir_msg *m;
	int i;

	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	memset(big, 'x', sizeof(big));
	md = mf_maildir_open(root, 1, &e);
	cr_assert_not_null(md);
	mf_maildir_set_batch(md, 1);
	for (i = 0; i < 10; i++) {
		m = mf_maildir_begin(md, &e);
		cr_assert_not_null(m, "%s", e.msg);
		cr_assert_eq(mf_maildir_write(m, big, i == 0 ? 100 : sizeof(big),
		    &e), 0, "%s", e.msg);
		/* the first fits; a later one may already see the failure */
		if (mf_maildir_commit(m, "new", NULL, NULL, NULL, 0, &e) == -1)
			cr_assert_gt(i, 0, "%s", e.msg);
	}
	cr_assert_eq(mf_maildir_sync(md, &e), -1);
	cr_assert_eq(e.kind, MF_E_IO, "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "too large"), "%s", e.msg);
	m = mf_maildir_begin(md, &e);
	cr_assert_not_null(m);
	cr_assert_eq(mf_maildir_commit(m, "new", NULL, NULL, NULL, 0, &e), -1,
	    "a commit after the failure is refused");
	snprintf(path, sizeof(path), "%s/new", root);
	cr_assert_eq(count_files(path), 0, "nothing of the group delivered");
	mf_maildir_close(md);
	snprintf(path, sizeof(path), "%s/tmp", root);
	cr_assert_eq(count_files(path), 0, "nothing left in tmp/");
}

/* Pages of the page cache that hold the file at path. */
static size_t
resident_pages(const char *path)
{
	struct stat st;
	unsigned char vec[1024];
	size_t i, n, in = 0;
	void *p;
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(fstat(fd, &st), 0);
	n = ((size_t)st.st_size + 4095) / 4096;
	cr_assert_leq(n, sizeof(vec));
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(mincore(p, (size_t)st.st_size, vec), 0);
	for (i = 0; i < n; i++)
		in += vec[i] & 1;
	munmap(p, (size_t)st.st_size);
	close(fd);
	return in;
}

/* Batch mode leaves the first 16 MiB it writes in the page cache and
 * drops the pages of every later file once it is on disk (a bulk fetch
 * must not push the rest of the system out of the cache).  The messages
 * here are larger than what the writer thread takes whole, so they are
 * written in pieces; each arrives complete. */
Test(maildir, batch_keeps_16_mib_cached_and_drops_the_rest)
{
	static char big[512 * 1024];
	char path[300], first[300], last[300], file[700];
	struct statfs sf;
	struct mf_err e;
	struct mf_maildir *md;
	struct stat st;
	size_t k;
	int i;

	cr_assert_eq(statfs(root, &sf), 0);
	if (sf.f_type == TMPFS_MAGIC)
		cr_skip_test("%s is a tmpfs, whose pages are never dropped", root);
	for (k = 0; k < sizeof(big); k++)
		big[k] = (char)('a' + k % 26);
	md = mf_maildir_open(root, 1, &e);
	cr_assert_not_null(md);
	mf_maildir_set_batch(md, 1);
	for (i = 0; i < 40; i++) {       /* 20 MiB */
		struct mf_maildir_msg *m = mf_maildir_begin(md, &e);
		char *name = i == 0 ? first : last;
		cr_assert_not_null(m, "%s", e.msg);
		for (k = 0; k < sizeof(big); k += 65536)
			cr_assert_eq(mf_maildir_write(m, big + k, 65536, &e), 0,
			    "%s", e.msg);
		cr_assert_eq(mf_maildir_commit(m, "new", NULL, NULL, name, 300,
		    &e), 0, "%s", e.msg);
	}
	cr_assert_eq(mf_maildir_sync(md, &e), 0, "%s", e.msg);
	mf_maildir_close(md);
	snprintf(path, sizeof(path), "%s/new", root);
	cr_assert_eq(count_files(path), 40);
	snprintf(file, sizeof(file), "%s/%s", root, last);
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_size, (off_t)sizeof(big));
	cr_assert_eq(resident_pages(file), 0, "the last file's pages dropped");
	snprintf(file, sizeof(file), "%s/%s", root, first);
	cr_assert_gt(resident_pages(file), 0, "the first file's pages kept");
	{
		FILE *fp = fopen(file, "r");
		static char got[sizeof(big)];
		cr_assert_not_null(fp);
		cr_assert_eq(fread(got, 1, sizeof(got), fp), sizeof(got));
		fclose(fp);
		cr_assert_eq(memcmp(got, big, sizeof(big)), 0, "bytes intact");
	}
}

/* The blocked-signal mask of thread tid of this process (SigBlk). */
static unsigned long long
sigblk(const char *tid)
{
	char path[300], line[256];
	unsigned long long mask = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	fp = fopen(path, "r");
	cr_assert_not_null(fp, "%s", path);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "SigBlk:", 7) == 0)
			mask = strtoull(line + 7, NULL, 16);
	fclose(fp);
	return mask;
}

/* The helper threads of batch mode (the writer, the 16 lanes) block the
 * signals the tools handle, so TERM, INT, HUP and USR1 always reach the
 * caller's thread and interrupt its waits, never a helper. */
Test(maildir, helper_threads_block_the_tools_signals)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	char before[8192] = " ", id[300];
	struct dirent *de;
	struct mf_err e;
	struct mf_maildir *md;
	DIR *d;
	int helpers = 0;
	size_t k;

	d = opendir("/proc/self/task");
	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		snprintf(id, sizeof(id), "%s ", de->d_name);
		cr_assert_lt(strlen(before) + strlen(id), sizeof(before));
		strcat(before, id);
	}
	closedir(d);
	md = mf_maildir_open(root, 1, &e);
	cr_assert_not_null(md);
	mf_maildir_set_batch(md, 1);
	commit_n(md, "signal", 3);
	cr_assert_eq(mf_maildir_sync_start(md, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_maildir_sync_wait(md, &e), 0, "%s", e.msg);
	d = opendir("/proc/self/task");
	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(id, sizeof(id), " %s ", de->d_name);
		if (strstr(before, id) != NULL)
			continue;
		helpers++;
		for (k = 0; k < sizeof(sigs) / sizeof(*sigs); k++)
			cr_assert(sigblk(de->d_name) & (1ULL << (sigs[k] - 1)),
			    "thread %s does not block signal %d", de->d_name,
			    sigs[k]);
	}
	closedir(d);
	cr_assert_geq(helpers, 17, "the writer and 16 lanes: %d", helpers);
	mf_maildir_close(md);
}
