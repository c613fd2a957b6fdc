/* test_cred.c - passwordeval, the source order, ~/.netrc. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cred.h"

static int
eval(const char *cmd, int timeout_ms, struct mf_secret *s, struct mf_err *e)
{
	mf_err_clear(e);
	return mf_cred_eval(cmd, timeout_ms, s, e);
}

struct eval_ok {
	const char *cmd;
	const char *want;
};

static const struct eval_ok evals_ok[] = {
	{ "echo hunter2", "hunter2" },
	{ "printf 'first\\nsecond\\n'", "first" },
	{ "printf 'crlf\\r\\n'", "crlf" },
	{ "printf 'no newline'", "no newline" },
	{ "printf '  spaces kept  \\n'", "  spaces kept  " },
	{ "echo out; echo noise >&2", "out" },
	{ "cat; echo after-stdin", "after-stdin" },  /* stdin is /dev/null */
	{ "head -c 200000 /dev/zero | tr '\\0' a; echo", NULL }, /* big output */
};

Test(cred, eval_success)
{
	size_t i;

	for (i = 0; i < sizeof(evals_ok) / sizeof(evals_ok[0]); i++) {
		struct mf_secret s;
		struct mf_err e;

		cr_assert_eq(eval(evals_ok[i].cmd, 5000, &s, &e), 0,
		    "case %zu: %s", i, e.msg);
		if (evals_ok[i].want != NULL) {
			cr_expect_str_eq(s.data, evals_ok[i].want, "case %zu", i);
			cr_expect_eq(s.len, strlen(evals_ok[i].want));
		} else {
			cr_expect(s.len > 0 && s.len <= 64 * 1024, "len %zu", s.len);
		}
		cr_expect_str_eq(s.source, "passwordeval");
		mf_secret_wipe(&s);
		cr_expect_null(s.data);
	}
}

struct eval_bad {
	const char *cmd;
	const char *msg;
};

static const struct eval_bad evals_bad[] = {
	{ "exit 3", "passwordeval failed with exit status 3" },
	{ "echo pw; echo 'gpg: decryption failed' >&2; exit 2",
	  "passwordeval failed with exit status 2: gpg: decryption failed" },
	{ "true", "passwordeval printed no password" },
	{ "echo", "passwordeval printed no password" },
	{ "echo 'nothing here' >&2", "passwordeval printed no password: nothing here" },
	{ "kill -TERM $$", "passwordeval was killed by signal 15" },
	{ "/nonexistent/cmd", "passwordeval failed with exit status 127: " },
};

Test(cred, eval_failures)
{
	size_t i;

	for (i = 0; i < sizeof(evals_bad) / sizeof(evals_bad[0]); i++) {
		struct mf_secret s;
		struct mf_err e;

		cr_expect_eq(eval(evals_bad[i].cmd, 5000, &s, &e), -1, "case %zu", i);
		cr_expect_eq(e.kind, MF_E_CONFIG, "case %zu", i);
		cr_expect(strncmp(e.msg, evals_bad[i].msg,
		    strlen(evals_bad[i].msg)) == 0, "case %zu: got '%s' want '%s'",
		    i, e.msg, evals_bad[i].msg);
		cr_expect_null(s.data);
	}
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

Test(cred, eval_timeout_kills_the_group)
{
	struct mf_secret s;
	struct mf_err e;
	struct timespec t0;
	char cmd[256], path[64];

	/* A background grandchild holds stdout open: only killing the
	 * process group ends it. */
	mf_strlcpy(path, "/tmp/mfcredXXXXXX", sizeof(path));
	cr_assert_not_null(mkdtemp(path));
	snprintf(cmd, sizeof(cmd), "(sleep 1; touch %s/alive) & echo pw; sleep 30",
	    path);
	alarm(10);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(eval(cmd, 300, &s, &e), -1);
	cr_assert_lt(ms_since(&t0), 900);
	cr_assert_eq(e.kind, MF_E_CONFIG);
	cr_assert(strstr(e.msg, "timed out") != NULL, "%s", e.msg);
	usleep(1500 * 1000);
	snprintf(cmd, sizeof(cmd), "%s/alive", path);
	cr_assert_neq(access(cmd, F_OK), 0, "the grandchild survived");
	rmdir(path);
	alarm(0);
}

static char dir[64];

static void
setup(void)
{
	mf_strlcpy(dir, "/tmp/mfcredXXXXXX", sizeof(dir));
	cr_assert_not_null(mkdtemp(dir));
	unsetenv("MAILFLOW_PASSWORD");
}

static void
teardown(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/netrc", dir);
	unlink(p);
	rmdir(dir);
}

static void
write_netrc(const char *text, mode_t mode, char *path, size_t pathlen)
{
	FILE *f;

	snprintf(path, pathlen, "%s/netrc", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static const char netrc_text[] =
    "machine other.test login alice password wrong1\n"
    "macdef init\n"
    "machine mail.test password inmacro\n"
    "\n"
    "machine mail.test login bob password wrong2\n"
    "machine MAIL.test\n"
    "  login alice\n"
    "  account ignored\n"
    "  password \"p w\\\"q\"\n"
    "default login anon password anonpw\n";

struct netrc_case {
	const char *host, *user, *want;
};

static const struct netrc_case netrc_cases[] = {
	{ "mail.test", "alice", "p w\"q" },
	{ "mail.test", "bob", "wrong2" },
	{ "other.test", "alice", "wrong1" },
	{ "unknown.test", "anon", "anonpw" },
	{ "mail.test", NULL, "wrong2" },     /* no user: first machine entry */
	{ "unknown.test", "carol", NULL },   /* nothing matches */
};

Test(cred, netrc_lookup, .init = setup, .fini = teardown)
{
	char path[128];
	size_t i;

	write_netrc(netrc_text, 0600, path, sizeof(path));
	for (i = 0; i < sizeof(netrc_cases) / sizeof(netrc_cases[0]); i++) {
		struct mf_cred_query q = { 0 };
		struct mf_secret s;
		struct mf_err e;
		int r;

		q.host = netrc_cases[i].host;
		q.user = netrc_cases[i].user;
		q.netrc_path = path;
		mf_err_clear(&e);
		r = mf_cred_get(&q, &s, &e);
		if (netrc_cases[i].want == NULL) {
			cr_expect_eq(r, -1, "case %zu", i);
			cr_expect_eq(e.kind, MF_E_AUTH, "case %zu", i);
			continue;
		}
		cr_expect_eq(r, 0, "case %zu: %s", i, e.msg);
		if (r == 0) {
			cr_expect_str_eq(s.data, netrc_cases[i].want, "case %zu", i);
			cr_expect_str_eq(s.source, "netrc");
		}
		mf_secret_wipe(&s);
	}
}

Test(cred, netrc_readable_by_others_refused, .init = setup, .fini = teardown)
{
	char path[128];
	struct mf_cred_query q = { 0 };
	struct mf_secret s;
	struct mf_err e;

	write_netrc(netrc_text, 0644, path, sizeof(path));
	q.host = "mail.test";
	q.user = "alice";
	q.netrc_path = path;
	cr_assert_eq(mf_cred_get(&q, &s, &e), -1);
	cr_assert_eq(e.kind, MF_E_CONFIG);
	cr_assert(strstr(e.msg, "chmod 600") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, path) != NULL, "%s", e.msg);
}

Test(cred, source_order, .init = setup, .fini = teardown)
{
	char path[128];
	struct mf_cred_query q = { 0 };
	struct mf_secret s;
	struct mf_err e;

	write_netrc("machine h login u password fromnetrc\n", 0600, path,
	    sizeof(path));
	q.host = "h";
	q.user = "u";
	q.netrc_path = path;
	q.passwordeval = "echo fromeval";
	q.password = "fromconfig";
	setenv("MAILFLOW_PASSWORD", "fromenv", 1);

	cr_assert_eq(mf_cred_get(&q, &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.data, "fromeval");
	cr_assert_str_eq(s.source, "passwordeval");
	mf_secret_wipe(&s);

	q.passwordeval = NULL;
	cr_assert_eq(mf_cred_get(&q, &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.data, "fromconfig");
	cr_assert_str_eq(s.source, "config");
	mf_secret_wipe(&s);

	q.password = NULL;
	cr_assert_eq(mf_cred_get(&q, &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.data, "fromenv");
	cr_assert_str_eq(s.source, "environment");
	mf_secret_wipe(&s);

	unsetenv("MAILFLOW_PASSWORD");
	cr_assert_eq(mf_cred_get(&q, &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.data, "fromnetrc");
	cr_assert_str_eq(s.source, "netrc");
	mf_secret_wipe(&s);

	/* A failing passwordeval is an error, not a reason to go on. */
	q.passwordeval = "exit 1";
	cr_assert_eq(mf_cred_get(&q, &s, &e), -1);
	cr_assert_eq(e.kind, MF_E_CONFIG);
}

Test(cred, nothing_found, .init = setup, .fini = teardown)
{
	struct mf_cred_query q = { 0 };
	struct mf_secret s;
	struct mf_err e;
	char path[128];

	snprintf(path, sizeof(path), "%s/absent", dir);
	q.host = "mail.test";
	q.user = "zoe";
	q.netrc_path = path;
	q.allow_tty = 0;
	cr_assert_eq(mf_cred_get(&q, &s, &e), -1);
	cr_assert_eq(e.kind, MF_E_AUTH);
	cr_assert_str_eq(e.msg, "no password for zoe@mail.test: set passwordeval"
	    " in the account, MAILFLOW_PASSWORD, or ~/.netrc");
	cr_assert_null(s.data);
}

/* What gpgme starts sees no MAILFLOW_PASSWORD; afterwards it is back,
 * unchanged, for the login that follows. */
Test(cred, env_hidden_from_library_children_and_restored)
{
	struct mf_secret h;
	struct mf_err e;

	setenv("MAILFLOW_PASSWORD", "s3cret pass", 1);
	cr_assert_eq(mf_cred_env_hide(&h, &e), 0);
	cr_expect_null(getenv("MAILFLOW_PASSWORD"));
	cr_expect_eq(system("test -z \"${MAILFLOW_PASSWORD+set}\""), 0,
	             "a child still sees MAILFLOW_PASSWORD");
	mf_cred_env_restore(&h);
	cr_expect_null(h.data);
	cr_assert_not_null(getenv("MAILFLOW_PASSWORD"));
	cr_expect_str_eq(getenv("MAILFLOW_PASSWORD"), "s3cret pass");

	unsetenv("MAILFLOW_PASSWORD");
	cr_assert_eq(mf_cred_env_hide(&h, &e), 0);
	mf_cred_env_restore(&h);
	cr_expect_null(getenv("MAILFLOW_PASSWORD"), "restore invented one");
}

Test(cred, wipe_zeroed_is_safe)
{
	struct mf_secret s;

	memset(&s, 0, sizeof(s));
	mf_secret_wipe(&s);
	mf_secret_wipe(NULL);
}

/* The prompt: run mf_cred_get in a child whose controlling terminal is a
 * pseudo-terminal, type the password on the master side, and check that
 * it was not echoed. */
static void
tty_child(int slave_fd, int result_fd, const char *netrc)
{
	struct mf_cred_query q = { 0 };
	struct mf_secret s;
	struct mf_err e;
	char name[64];
	int fd;

	setsid();
	ttyname_r(slave_fd, name, sizeof(name));
	fd = open(name, O_RDWR);   /* becomes the controlling terminal */
	if (fd == -1)
		_exit(3);
	q.host = "mail.test";
	q.user = "pat";
	q.netrc_path = netrc;
	q.allow_tty = 1;
	if (mf_cred_get(&q, &s, &e) == -1) {
		dprintf(result_fd, "ERR %s", e.msg);
		_exit(1);
	}
	dprintf(result_fd, "%s %s", s.source, s.data);
	mf_secret_wipe(&s);
	_exit(0);
}

Test(cred, tty_prompt_without_echo, .init = setup, .fini = teardown)
{
	int master, slave, res[2], status;
	char buf[512] = "", absent[128];
	size_t got = 0;
	pid_t pid;
	ssize_t r;

	alarm(10);	/* a hang is a failure, not a stuck test run */
	snprintf(absent, sizeof(absent), "%s/absent", dir);
	cr_assert_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
	cr_assert_eq(pipe(res), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(master);
		close(res[0]);
		tty_child(slave, res[1], absent);
	}
	close(slave);
	close(res[1]);
	/* wait for the prompt */
	while (got < sizeof(buf) - 1 && strstr(buf, ": ") == NULL) {
		r = read(master, buf + got, sizeof(buf) - 1 - got);
		cr_assert_gt(r, 0);
		got += (size_t)r;
		buf[got] = '\0';
	}
	cr_assert(strstr(buf, "Password for pat@mail.test: ") != NULL, "%s", buf);
	cr_assert_eq(write(master, "tty-secret\n", 11), 11);
	got = 0;
	r = read(res[0], buf, sizeof(buf) - 1);
	cr_assert_gt(r, 0);
	buf[r] = '\0';
	cr_assert_str_eq(buf, "tty tty-secret");
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* what the terminal showed after the prompt: no echo of the secret */
	while ((r = read(master, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	cr_assert_null(strstr(buf, "tty-secret"), "echoed: %s", buf);
	close(master);
	close(res[0]);
	alarm(0);
}
