/* cred.c - passwords from a command, the config, the environment, ~/.netrc
 * or the terminal; never from the command line. */
#include "cred.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "durable.h"

#define EVAL_OUT_MAX (64 * 1024)
#define EVAL_ERR_MAX 1024
#define EVAL_DEFAULT_TIMEOUT_MS 30000
#define NETRC_MAX (1024 * 1024)
#define TTY_PASS_MAX 1024

void
mf_secret_wipe(struct mf_secret *s)
{
	if (s == NULL)
		return;
	if (s->data != NULL) {
		mf_memwipe(s->data, s->len);
		free(s->data);
	}
	memset(s, 0, sizeof(*s));
}

static int
secret_set(struct mf_secret *out, const char *p, size_t n, const char *source,
           struct mf_err *e)
{
	memset(out, 0, sizeof(*out));
	if ((out->data = malloc(n + 1)) == NULL)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	memcpy(out->data, p, n);
	out->data[n] = '\0';
	out->len = n;
	mf_strlcpy(out->source, source, sizeof(out->source));
	return 0;
}

/* ---- passwordeval ---- */

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
mf_cred_scrub_env(void)
{
	unsetenv("MAILFLOW_PASSWORD");
}

int
mf_cred_env_hide(struct mf_secret *h, struct mf_err *e)
{
	const char *v = getenv("MAILFLOW_PASSWORD");

	memset(h, 0, sizeof(*h));
	if (v == NULL)
		return 0;
	if (secret_set(h, v, strlen(v), "environment", e) == -1)
		return -1;
	mf_cred_scrub_env();
	return 0;
}

void
mf_cred_env_restore(struct mf_secret *h)
{
	if (h->data != NULL)
		setenv("MAILFLOW_PASSWORD", h->data, 1);
	mf_secret_wipe(h);
}

static void
child_exec(const char *cmd, int outfd, int errfd)
{
	int nul = open("/dev/null", O_RDONLY);

	/* Own process group, so a timeout kills the whole pipeline. */
	setpgid(0, 0);
	if (nul == -1 || dup2(nul, 0) == -1 || dup2(outfd, 1) == -1 ||
	    dup2(errfd, 2) == -1)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	mf_cred_scrub_env();
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* Append what fd has to b up to cap bytes, discarding the rest so the
 * child never blocks on a full pipe. Returns 0 at EOF, 1 if more may come. */
static int
drain(int fd, struct mf_buf *b, size_t cap)
{
	char chunk[4096];
	ssize_t r = read(fd, chunk, sizeof(chunk));
	int more = 1;

	if (r == -1 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (r <= 0)
		more = 0;
	else if (b->len < cap) {
		size_t n = (size_t)r;

		if (n > cap - b->len)
			n = cap - b->len;
		mf_buf_append(b, chunk, n, NULL);
	}
	mf_memwipe(chunk, sizeof(chunk));
	return more;
}

/* Read both pipes until EOF or the deadline. -1 on timeout. */
static int
collect(int outfd, int errfd, long deadline, struct mf_buf *out,
        struct mf_buf *err)
{
	struct pollfd pf[2] = { { outfd, POLLIN, 0 }, { errfd, POLLIN, 0 } };
	int open_out = 1, open_err = 1;

	while (open_out || open_err) {
		long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -1;
		pf[0].fd = open_out ? outfd : -1;
		pf[1].fd = open_err ? errfd : -1;
		r = poll(pf, 2, (int)left);
		if (r == -1 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		if (open_out && pf[0].revents != 0)
			open_out = drain(outfd, out, EVAL_OUT_MAX);
		if (open_err && pf[1].revents != 0)
			open_err = drain(errfd, err, EVAL_ERR_MAX);
	}
	return 0;
}

/* Wait for the child until the deadline; -1 on timeout. */
static int
reap(pid_t pid, long deadline, int *status)
{
	struct timespec ten_ms = { 0, 10 * 1000 * 1000 };

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return 0;
		if (now_ms() >= deadline)
			return -1;
		nanosleep(&ten_ms, NULL);
	}
}

static void
first_line(const char *s, size_t len, size_t *n)
{
	const char *nl = memchr(s, '\n', len);

	*n = nl ? (size_t)(nl - s) : len;
	if (memchr(s, '\0', *n) != NULL)
		*n = strlen(s);
	while (*n > 0 && (s[*n - 1] == '\r' || s[*n - 1] == '\n'))
		(*n)--;
}

static int
eval_failed(struct mf_err *e, const char *what, struct mf_buf *err)
{
	size_t n = 0;

	if (err->len > 0)
		first_line(err->data, err->len, &n);
	if (n > 0)
		return mf_err_set(e, MF_E_CONFIG, "passwordeval %s: %.*s", what,
		    (int)n, err->data);
	return mf_err_set(e, MF_E_CONFIG, "passwordeval %s", what);
}

static int
eval_result(int status, struct mf_buf *out, struct mf_buf *err,
            struct mf_secret *sec, struct mf_err *e)
{
	char what[64];
	size_t n = 0;

	if (WIFSIGNALED(status)) {
		snprintf(what, sizeof(what), "was killed by signal %d",
		    WTERMSIG(status));
		return eval_failed(e, what, err);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		snprintf(what, sizeof(what), "failed with exit status %d",
		    WEXITSTATUS(status));
		return eval_failed(e, what, err);
	}
	if (out->len > 0)
		first_line(out->data, out->len, &n);
	if (n == 0)
		return eval_failed(e, "printed no password", err);
	return secret_set(sec, out->data, n, "passwordeval", e);
}

int
mf_cred_eval(const char *cmd, int timeout_ms, struct mf_secret *out,
             struct mf_err *e)
{
	struct mf_buf ob = MF_BUF_INIT(EVAL_OUT_MAX), eb = MF_BUF_INIT(EVAL_ERR_MAX);
	int po[2], pe[2], status = 0, rc;
	long deadline;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (timeout_ms <= 0)
		timeout_ms = EVAL_DEFAULT_TIMEOUT_MS;
	if (pipe2(po, O_CLOEXEC) == -1)
		return mf_err_sys(e, MF_E_IO, errno, "passwordeval: pipe");
	if (pipe2(pe, O_CLOEXEC) == -1) {
		close(po[0]);
		close(po[1]);
		return mf_err_sys(e, MF_E_IO, errno, "passwordeval: pipe");
	}
	if ((pid = fork()) == -1) {
		close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
		return mf_err_sys(e, MF_E_IO, errno, "passwordeval: fork");
	}
	if (pid == 0)
		child_exec(cmd, po[1], pe[1]);
	setpgid(pid, pid);	/* also here: no race with the child's call */
	close(po[1]);
	close(pe[1]);
	deadline = now_ms() + timeout_ms;
	rc = collect(po[0], pe[0], deadline, &ob, &eb);
	close(po[0]);
	close(pe[0]);
	if (rc == 0)
		rc = reap(pid, deadline, &status);
	if (rc == -1) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		mf_buf_wipe(&ob);
		mf_buf_free(&eb);
		return mf_err_set(e, MF_E_CONFIG, "passwordeval timed out after"
		    " %d ms (killed)", timeout_ms);
	}
	rc = eval_result(status, &ob, &eb, out, e);
	mf_buf_wipe(&ob);
	mf_buf_free(&eb);
	return rc;
}

/* ---- ~/.netrc ---- */

struct netrc_tok {
	const char *p, *end;
	char tok[512];
};

/* Next whitespace-separated token; "quoted strings" with backslash
 * escapes as curl and GNU inetutils accept. 0 at end of input. */
static int
netrc_next(struct netrc_tok *t)
{
	size_t n = 0;

	while (t->p < t->end && isspace((unsigned char)*t->p))
		t->p++;
	if (t->p >= t->end)
		return 0;
	if (*t->p == '"') {
		for (t->p++; t->p < t->end && *t->p != '"'; t->p++) {
			if (*t->p == '\\' && t->p + 1 < t->end)
				t->p++;
			if (n + 1 < sizeof(t->tok))
				t->tok[n++] = *t->p;
		}
		if (t->p < t->end)
			t->p++;
	} else {
		for (; t->p < t->end && !isspace((unsigned char)*t->p); t->p++)
			if (n + 1 < sizeof(t->tok))
				t->tok[n++] = *t->p;
	}
	t->tok[n] = '\0';
	return 1;
}

/* macdef bodies end at an empty line. */
static void
netrc_skip_macdef(struct netrc_tok *t)
{
	const char *nl;

	while (t->p < t->end && *t->p != '\n')
		t->p++;
	while (t->p < t->end) {
		nl = memchr(t->p + 1, '\n', (size_t)(t->end - t->p - 1));
		if (nl == NULL || nl == t->p + 1) {
			t->p = nl ? nl : t->end;
			return;
		}
		t->p = nl;
	}
}

struct netrc_entry {
	int active;      /* 1 machine matches, 2 default */
	int login_ok;
	int has_pass;
	char pass[512];
};

/* Find the password for host (and user when given): the first matching
 * "machine" entry, else "default". Returns 1 found, 0 not. */
static int
netrc_lookup(const char *text, size_t len, const char *host, const char *user,
             char *pass, size_t passlen)
{
	struct netrc_tok t = { text, text + len, { 0 } };
	struct netrc_entry cur = { 0, 0, 0, { 0 } };
	int found = 0;

	for (;;) {
		int more = netrc_next(&t);
		int is_start = more && (strcmp(t.tok, "machine") == 0 ||
		    strcmp(t.tok, "default") == 0);

		if ((!more || is_start) && cur.active && cur.login_ok && cur.has_pass) {
			mf_strlcpy(pass, cur.pass, passlen);
			found = 1;
			break;
		}
		if (!more)
			break;
		if (is_start) {
			memset(&cur, 0, sizeof(cur));
			cur.login_ok = user == NULL;
			if (strcmp(t.tok, "default") == 0)
				cur.active = 2;
			else if (netrc_next(&t) && strcasecmp(t.tok, host) == 0)
				cur.active = 1;
		} else if (strcmp(t.tok, "login") == 0) {
			if (netrc_next(&t) && user != NULL)
				cur.login_ok = strcmp(t.tok, user) == 0;
		} else if (strcmp(t.tok, "password") == 0) {
			if (netrc_next(&t)) {
				mf_strlcpy(cur.pass, t.tok, sizeof(cur.pass));
				cur.has_pass = 1;
			}
		} else if (strcmp(t.tok, "account") == 0) {
			netrc_next(&t);
		} else if (strcmp(t.tok, "macdef") == 0) {
			netrc_skip_macdef(&t);
		}
	}
	mf_memwipe(&cur, sizeof(cur));
	mf_memwipe(t.tok, sizeof(t.tok));
	return found;
}

/* 1 found, 0 no file or no entry, -1 error (unsafe permissions, I/O). */
static int
netrc_get(const struct mf_cred_query *q, struct mf_secret *out,
          struct mf_err *e)
{
	char path[4096], pass[512];
	struct mf_buf b = MF_BUF_INIT(NETRC_MAX);
	const char *file = q->netrc_path;
	struct stat st;
	char chunk[4096];
	ssize_t r;
	int fd, found;

	if (file == NULL) {
		const char *h = getenv("HOME");

		if (h == NULL || h[0] == '\0')
			return 0;
		if (mf_durable_join(path, sizeof(path), h, ".netrc", e) == -1)
			return -1;
		file = path;
	}
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 :
		    mf_err_sys(e, MF_E_CONFIG, errno, "cannot open %s", file);
	if (fstat(fd, &st) == -1 || (st.st_mode & 044) != 0) {
		close(fd);
		return mf_err_set(e, MF_E_CONFIG, "%s is readable by group or"
		    " others and holds passwords; run: chmod 600 %s", file, file);
	}
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 || mf_buf_append(&b, chunk, (size_t)r, e) == -1) {
			close(fd);
			mf_buf_wipe(&b);
			mf_memwipe(chunk, sizeof(chunk));
			return mf_err_set(e, MF_E_CONFIG, "cannot read %s", file);
		}
	}
	close(fd);
	mf_memwipe(chunk, sizeof(chunk));
	found = b.len > 0 && netrc_lookup(b.data, b.len, q->host ? q->host : "",
	    q->user, pass, sizeof(pass));
	mf_buf_wipe(&b);
	if (found && secret_set(out, pass, strlen(pass), "netrc", e) == -1)
		found = -1;
	mf_memwipe(pass, sizeof(pass));
	return found;
}

/* ---- terminal prompt ---- */

/* 1 got one, 0 no terminal, -1 error. */
static int
tty_get(const struct mf_cred_query *q, struct mf_secret *out, struct mf_err *e)
{
	struct termios old, noecho;
	char pass[TTY_PASS_MAX], prompt[600];
	size_t n = 0;
	int fd, ok = 0, pn;
	char ch;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return 0;
	if (tcgetattr(fd, &old) == -1) {
		close(fd);
		return 0;
	}
	/* Echo off before the prompt appears, so nothing typed after it
	 * can be echoed or flushed away. */
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	noecho.c_lflag |= ICANON;
	tcsetattr(fd, TCSAFLUSH, &noecho);
	pn = snprintf(prompt, sizeof(prompt), "Password for %s@%s: ",
	    q->user ? q->user : "", q->host ? q->host : "");
	if (pn > 0 && write(fd, prompt, strlen(prompt)) < 0) {
		tcsetattr(fd, TCSAFLUSH, &old);
		close(fd);
		return 0;
	}
	for (;;) {
		ssize_t r = read(fd, &ch, 1);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n' || ch == '\r') {
			ok = r > 0;
			break;
		}
		if (n + 1 < sizeof(pass))
			pass[n++] = ch;
	}
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* the echo-less newline is cosmetic */
	}
	close(fd);
	if (ok && n > 0)
		ok = secret_set(out, pass, n, "tty", e) == 0 ? 1 : -1;
	else
		ok = ok ? mf_err_set(e, MF_E_AUTH, "no password entered") : 0;
	mf_memwipe(pass, sizeof(pass));
	return ok;
}

/* ---- the search ---- */

int
mf_cred_get(const struct mf_cred_query *q, struct mf_secret *out,
            struct mf_err *e)
{
	const char *env;
	int r;

	memset(out, 0, sizeof(*out));
	if (q->passwordeval != NULL && q->passwordeval[0] != '\0')
		return mf_cred_eval(q->passwordeval, q->timeout_ms, out, e);
	if (q->password != NULL && q->password[0] != '\0')
		return secret_set(out, q->password, strlen(q->password), "config", e);
	env = getenv("MAILFLOW_PASSWORD");
	if (env != NULL && env[0] != '\0')
		return secret_set(out, env, strlen(env), "environment", e);
	if ((r = netrc_get(q, out, e)) != 0)
		return r == 1 ? 0 : -1;
	if (q->allow_tty && (r = tty_get(q, out, e)) != 0)
		return r == 1 ? 0 : -1;
	return mf_err_set(e, MF_E_AUTH, "no password for %s@%s: set passwordeval"
	    " in the account, MAILFLOW_PASSWORD, or ~/.netrc",
	    q->user ? q->user : "(no user)", q->host ? q->host : "(no host)");
}

/* ---- one account's credentials ---- */

int
mf_auth_hold(struct mf_auth *a, struct mf_err *e)
{
	mf_secret_wipe(&a->held);
	return mf_cred_get(&a->source, &a->held, e);
}

int
mf_auth_secret(const struct mf_auth *a, struct mf_secret *out,
               struct mf_err *e)
{
	if (a->held.data != NULL)
		return secret_set(out, a->held.data, a->held.len, a->held.source,
		    e);
	return mf_cred_get(&a->source, out, e);
}

void
mf_auth_release(struct mf_auth *a)
{
	mf_secret_wipe(&a->held);
}
