/* test_durable.c - the durable-file module: checked path joins, directory
 * fsync, atomic replace, rename/move, and every failure path that a
 * non-root test can provoke (ENOTDIR, ENOENT, EISDIR, ELOOP, EBADF). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "durable.h"

static char dir[64];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_durable.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fputs(text, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

static void
expect_text(const char *path, const char *want)
{
	char got[256];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s missing", path);
	n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	cr_assert_str_eq(got, want);
}

static int
entries(const char *d)
{
	char cmd[256], line[32];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", d);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_not_null(fgets(line, sizeof(line), p));
	pclose(p);
	return (int)strtol(line, NULL, 10);
}

/* ---- paths ---- */

Test(durable, path_fits_exactly)
{
	struct mf_err e;
	char out[8];

	mf_err_clear(&e);
	cr_assert_eq(mf_durable_path(out, sizeof(out), &e, "%s/%s", "abc",
	    "def"), 0);
	cr_assert_str_eq(out, "abc/def");          /* 7 bytes + NUL: fits */
	cr_assert_eq(e.kind, MF_OK);
}

Test(durable, path_truncation_fails)
{
	struct mf_err e;
	char out[8];

	mf_err_clear(&e);
	cr_assert_eq(mf_durable_path(out, sizeof(out), &e, "%s/%s", "abc",
	    "defg"), -1);
	cr_assert_eq(e.kind, MF_E_IO);
	cr_assert_not_null(strstr(e.msg, "path too long"), "%s", e.msg);
	cr_assert_str_eq(out, "", "a cut path must not be usable");
	cr_assert_eq(mf_durable_path(out, 0, &e, "x"), -1);
}

Test(durable, join)
{
	struct mf_err e;
	char out[16];

	mf_err_clear(&e);
	cr_assert_eq(mf_durable_join(out, sizeof(out), "/a/b", "cur", &e), 0);
	cr_assert_str_eq(out, "/a/b/cur");
	cr_assert_eq(mf_durable_join(out, sizeof(out), "/a/b", "0123456789a",
	    &e), -1);
	cr_assert_eq(e.kind, MF_E_IO);
}

Test(durable, dirname)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "a/b/c", "a/b" }, { "name", "." }, { "/x", "/" },
		{ "/var/x", "/var" }, { "./f", "." },
	};
	struct mf_err e;
	char out[16];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cr_assert_eq(mf_durable_dirname(t[i].in, out, sizeof(out), &e),
		    0, "%s", t[i].in);
		cr_assert_str_eq(out, t[i].want, "%s", t[i].in);
	}
	cr_assert_eq(mf_durable_dirname("/0123456789abcdef/x", out,
	    sizeof(out), &e), -1);
	cr_assert_eq(e.kind, MF_E_IO);
}

/* ---- directory fsync ---- */

Test(durable, fsync_dir, .init = setup, .fini = teardown)
{
	struct mf_err e;
	char file[128];

	mf_err_clear(&e);
	cr_assert_eq(mf_durable_fsync_dir(dir, &e), 0);
	snprintf(file, sizeof(file), "%s/f", dir);
	put(file, "x");
	cr_assert_eq(mf_durable_fsync_parent(file, &e), 0);
	/* a file is not a directory */
	cr_assert_eq(mf_durable_fsync_dir(file, &e), -1);
	cr_assert_eq(e.kind, MF_E_IO);
	cr_assert_eq(e.sys_errno, ENOTDIR);
	cr_assert_not_null(strstr(e.msg, file));
	snprintf(file, sizeof(file), "%s/missing/f", dir);
	cr_assert_eq(mf_durable_fsync_parent(file, &e), -1);
	cr_assert_eq(e.sys_errno, ENOENT);
}

/* ---- replace ---- */

Test(durable, replace_creates_and_replaces, .init = setup, .fini = teardown)
{
	struct mf_err e;
	struct stat st;
	char p[128];

	mf_err_clear(&e);
	snprintf(p, sizeof(p), "%s/state", dir);
	cr_assert_eq(mf_durable_replace(p, NULL, "one\n", 4, 0600, &e), 0,
	    "%s", e.msg);
	expect_text(p, "one\n");
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(mf_durable_replace(p, NULL, "two\n", 4, 0600, &e), 0);
	expect_text(p, "two\n");
	cr_assert_eq(entries(dir), 1, "a temp file was left behind");
	/* an empty file is a file */
	cr_assert_eq(mf_durable_replace(p, NULL, "", 0, 0600, &e), 0);
	expect_text(p, "");
}

Test(durable, replace_with_callers_tmp, .init = setup, .fini = teardown)
{
	struct mf_err e;
	char p[128], t[128];

	mf_err_clear(&e);
	snprintf(p, sizeof(p), "%s/state", dir);
	snprintf(t, sizeof(t), "%s/state.tmp", dir);
	put(t, "stale garbage from a crash, longer than the new text");
	cr_assert_eq(mf_durable_replace(p, t, "new", 3, 0600, &e), 0);
	expect_text(p, "new");
	cr_assert_eq(access(t, F_OK), -1, "tmp survived");
}

Test(durable, replace_fails_on_a_file_as_dir, .init = setup,
     .fini = teardown)
{
	struct mf_err e;
	char f[128], p[160];

	mf_err_clear(&e);
	snprintf(f, sizeof(f), "%s/plain", dir);
	put(f, "x");
	snprintf(p, sizeof(p), "%s/state", f);
	cr_assert_eq(mf_durable_replace(p, NULL, "data", 4, 0600, &e), -1);
	cr_assert_eq(e.kind, MF_E_IO);
	cr_assert_eq(e.sys_errno, ENOTDIR);
	expect_text(f, "x");
}

Test(durable, replace_failed_rename_keeps_target, .init = setup,
     .fini = teardown)
{
	struct mf_err e;
	char p[128];

	mf_err_clear(&e);
	/* the target is a non-empty directory: rename(2) refuses */
	snprintf(p, sizeof(p), "%s/target", dir);
	cr_assert_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/target/inside", dir);
	put(p, "keep");
	snprintf(p, sizeof(p), "%s/target", dir);
	cr_assert_eq(mf_durable_replace(p, NULL, "data", 4, 0600, &e), -1);
	cr_assert_eq(e.kind, MF_E_IO);
	cr_assert(e.sys_errno == EISDIR || e.sys_errno == ENOTEMPTY,
	    "errno %d", e.sys_errno);
	cr_assert_not_null(strstr(e.msg, "rename"), "%s", e.msg);
	snprintf(p, sizeof(p), "%s/target/inside", dir);
	expect_text(p, "keep");
	cr_assert_eq(entries(dir), 1, "the temp file was not removed");
}

Test(durable, replace_refuses_symlinked_tmp, .init = setup,
     .fini = teardown)
{
	struct mf_err e;
	char p[128], t[128], victim[128];

	mf_err_clear(&e);
	snprintf(p, sizeof(p), "%s/state", dir);
	snprintf(t, sizeof(t), "%s/state.tmp", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	put(victim, "untouched");
	cr_assert_eq(symlink(victim, t), 0);
	cr_assert_eq(mf_durable_replace(p, t, "evil", 4, 0600, &e), -1);
	cr_assert_eq(e.sys_errno, ELOOP);
	expect_text(victim, "untouched");
	cr_assert_eq(access(p, F_OK), -1);
}

Test(durable, replace_path_too_long)
{
	struct mf_err e;
	char p[5000];

	memset(p, 'a', sizeof(p) - 1);
	p[0] = '/';
	p[sizeof(p) - 1] = '\0';
	mf_err_clear(&e);
	cr_assert_eq(mf_durable_replace(p, NULL, "x", 1, 0600, &e), -1);
	cr_assert_eq(e.kind, MF_E_IO);
	cr_assert_not_null(strstr(e.msg, "path too long"), "%s", e.msg);
}

/* ---- rename and move ---- */

Test(durable, rename_and_move, .init = setup, .fini = teardown)
{
	struct mf_err e;
	char a[128], b[128], sub[128];

	mf_err_clear(&e);
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	put(a, "msg");
	cr_assert_eq(mf_durable_rename(a, b, &e), 0);
	expect_text(b, "msg");
	cr_assert_eq(access(a, F_OK), -1);
	snprintf(sub, sizeof(sub), "%s/cur", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	snprintf(a, sizeof(a), "%s/cur/b", dir);
	cr_assert_eq(mf_durable_move(b, a, &e), 0);
	expect_text(a, "msg");
	cr_assert_eq(access(b, F_OK), -1);
}

Test(durable, rename_failure_keeps_errno, .init = setup, .fini = teardown)
{
	struct mf_err e;
	char a[128], b[128];

	mf_err_clear(&e);
	snprintf(a, sizeof(a), "%s/gone", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	cr_assert_eq(mf_durable_rename(a, b, &e), -1);
	cr_assert_eq(e.kind, MF_E_IO);
	cr_assert_eq(e.sys_errno, ENOENT);
	cr_assert_eq(mf_durable_move(a, b, &e), -1);
	cr_assert_eq(e.sys_errno, ENOENT);
	cr_assert_eq(access(b, F_OK), -1);
}

/* ---- write and fsync_close ---- */

Test(durable, write_and_close, .init = setup, .fini = teardown)
{
	struct mf_err e;
	char p[128];
	int fd;

	mf_err_clear(&e);
	snprintf(p, sizeof(p), "%s/w", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	cr_assert_neq(fd, -1);
	cr_assert_eq(mf_durable_write(fd, "hello", 5, p, &e), 0);
	cr_assert_eq(mf_durable_fsync_close(fd, p, &e), 0);
	expect_text(p, "hello");
	/* a bad descriptor: EBADF, named */
	cr_assert_eq(mf_durable_write(-1, "x", 1, p, &e), -1);
	cr_assert_eq(e.sys_errno, EBADF);
	cr_assert_not_null(strstr(e.msg, p));
	cr_assert_eq(mf_durable_fsync_close(-1, p, &e), -1);
	cr_assert_eq(e.sys_errno, EBADF);
}
