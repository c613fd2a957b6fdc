/* queue.c - a crash-safe queue directory (temp file + fsync + rename). */
#include "queue.h"
#include "buf.h"
#include "config.h"
#include "crypto.h"
#include "durable.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define ENTRY_MAX ((size_t)256 << 20)
#define NAMES_MAX 100000

struct mf_queue {
	char dir[PATH_MAX];
};

static const char *const subdirs[] = { "tmp", "new", "sending", "failed" };

static int
path_of(const struct mf_queue *q, const char *sub, const char *name,
        char *out, size_t outlen, struct mf_err *e)
{
	int n = snprintf(out, outlen, "%s/%s%s%s", q->dir, sub, name ? "/" : "",
	    name ? name : "");

	if (n < 0 || (size_t)n >= outlen)
		return mf_err_set(e, MF_E_IO, "queue path too long");
	return 0;
}

static int
mkdir_p(const char *path, struct mf_err *e)
{
	char tmp[PATH_MAX];
	size_t i;

	if (mf_strlcpy(tmp, path, sizeof(tmp)) >= sizeof(tmp))
		return mf_err_set(e, MF_E_IO, "path too long");
	for (i = 1; tmp[i]; i++) {
		if (tmp[i] != '/')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
			return mf_err_sys(e, MF_E_IO, errno, "%s", tmp);
		tmp[i] = '/';
	}
	if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
		return mf_err_sys(e, MF_E_IO, errno, "%s", tmp);
	return 0;
}

struct mf_queue *
mf_queue_open(const char *dir, struct mf_err *e)
{
	struct mf_queue *q;
	char p[PATH_MAX];
	size_t i;

	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "queue");
		return NULL;
	}
	if (mf_strlcpy(q->dir, dir, sizeof(q->dir)) >= sizeof(q->dir)) {
		mf_err_set(e, MF_E_IO, "queue path too long");
		goto fail;
	}
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++)
		if (path_of(q, subdirs[i], NULL, p, sizeof(p), e) == -1 ||
		    mkdir_p(p, e) == -1) {
			mf_err_prefix(e, "queue");
			goto fail;
		}
	return q;
fail:
	free(q);
	return NULL;
}

void
mf_queue_close(struct mf_queue *q)
{
	free(q);
}

const char *
mf_queue_path(const struct mf_queue *q)
{
	return q->dir;
}

void
mf_queue_entry_free(struct mf_queue_entry *ent)
{
	size_t i;

	for (i = 0; i < ent->nrcpts; i++)
		free(ent->rcpts[i]);
	ent->nrcpts = 0;
	free(ent->msg);
	ent->msg = NULL;
}

static int
envelope_text(const struct mf_queue_entry *ent, struct mf_buf *b,
              struct mf_err *e)
{
	size_t i;

	if (mf_buf_printf(b, e, "mailflow-queue 1\naccount %s\nfrom %s\n",
	    ent->account, ent->from) == -1)
		return -1;
	for (i = 0; i < ent->nrcpts; i++)
		if (mf_buf_printf(b, e, "rcpt %s\n", ent->rcpts[i]) == -1)
			return -1;
	if (ent->dsn_notify[0] && mf_buf_printf(b, e, "dsn-notify %s\n",
	    ent->dsn_notify) == -1)
		return -1;
	if (ent->dsn_ret[0] && mf_buf_printf(b, e, "dsn-ret %s\n",
	    ent->dsn_ret) == -1)
		return -1;
	if (ent->smtputf8 && mf_buf_puts(b, "smtputf8 1\n", e) == -1)
		return -1;
	/* a line break in a field would forge another envelope line */
	if (strchr(b->data, '\r') != NULL || strchr(ent->account, '\n') !=
	    NULL || strchr(ent->from, '\n') != NULL ||
	    strchr(ent->dsn_notify, '\n') != NULL ||
	    strchr(ent->dsn_ret, '\n') != NULL)
		return mf_err_set(e, MF_E_USAGE, "line break in the envelope");
	for (i = 0; i < ent->nrcpts; i++)
		if (strchr(ent->rcpts[i], '\n') != NULL)
			return mf_err_set(e, MF_E_USAGE, "line break in the "
			    "envelope");
	return mf_buf_putc(b, '\n', e);
}

int
mf_queue_add(struct mf_queue *q, struct mf_queue_entry *ent, struct mf_err *e)
{
	struct mf_buf head = MF_BUF_INIT(1 << 20);
	unsigned char r[6];
	char rhex[13], tmp[PATH_MAX], dst[PATH_MAX];
	int fd = -1, rc = -1;

	if (mf_random(r, sizeof(r), e) == -1)
		return -1;
	mf_hex(r, sizeof(r), rhex);
	/* Names sort by time, so a flush sends in the order queued. */
	snprintf(ent->id, sizeof(ent->id), "%lld.%d.%s", (long long)time(NULL),
	    (int)getpid(), rhex);
	if (envelope_text(ent, &head, e) == -1 ||
	    path_of(q, "tmp", ent->id, tmp, sizeof(tmp), e) == -1 ||
	    path_of(q, "new", ent->id, dst, sizeof(dst), e) == -1)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		mf_err_sys(e, MF_E_IO, errno, "%s", tmp);
		goto out;
	}
	if (mf_durable_write(fd, head.data, head.len, tmp, e) == -1 ||
	    mf_durable_write(fd, ent->msg, ent->len, tmp, e) == -1)
		goto out;
	rc = mf_durable_fsync_close(fd, tmp, e);
	fd = -1;
	if (rc == 0)
		rc = mf_durable_rename(tmp, dst, e);
	if (rc == -1) {
		unlink(tmp);
		goto out;
	}
	mf_strlcpy(ent->state, "new", sizeof(ent->state));
out:
	if (fd != -1) {
		close(fd);
		unlink(tmp);
	}
	mf_buf_free(&head);
	return rc;
}

int
mf_queue_read_file(const char *path, size_t max, char **out, size_t *len,
                   struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(max);
	char chunk[65536];
	ssize_t n;
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return mf_err_sys(e, MF_E_IO, errno, "%s", path);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			mf_err_sys(e, MF_E_IO, errno, "%s", path);
			break;
		}
		if (n == 0) {
			if (fd != 0)
				close(fd);
			if (b.data == NULL && mf_buf_reserve(&b, 1, e) == -1)
				return -1;
			*len = b.len;
			*out = mf_buf_take(&b);
			return 0;
		}
		if (mf_buf_append(&b, chunk, (size_t)n, e) == -1) {
			if (e != NULL)
				e->kind = MF_E_DATA;
			mf_err_prefix(e, "%s", path);
			break;
		}
	}
	if (fd != 0)
		close(fd);
	mf_buf_free(&b);
	return -1;
}

/* Parse the envelope block; msg is loaded when `load`. */
static int
parse_entry(const char *data, size_t len, struct mf_queue_entry *ent,
            struct mf_err *e)
{
	const char *p = data, *end = data + len, *nl, *v;
	size_t n;

	if (len < 17 || strncmp(data, "mailflow-queue 1\n", 17) != 0)
		return mf_err_set(e, MF_E_DATA, "not a queue file");
	p += 17;
	while (p < end && *p != '\n') {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return mf_err_set(e, MF_E_DATA, "truncated queue file");
		v = memchr(p, ' ', (size_t)(nl - p));
		v = v ? v + 1 : nl;
		n = (size_t)(nl - v);
		if (strncmp(p, "account ", 8) == 0 && n < sizeof(ent->account))
			snprintf(ent->account, sizeof(ent->account), "%.*s", (int)n, v);
		else if (strncmp(p, "from ", 5) == 0 && n < sizeof(ent->from))
			snprintf(ent->from, sizeof(ent->from), "%.*s", (int)n, v);
		else if (strncmp(p, "dsn-notify ", 11) == 0)
			snprintf(ent->dsn_notify, sizeof(ent->dsn_notify), "%.*s",
			    (int)n, v);
		else if (strncmp(p, "dsn-ret ", 8) == 0)
			snprintf(ent->dsn_ret, sizeof(ent->dsn_ret), "%.*s",
			    (int)n, v);
		else if (strncmp(p, "smtputf8 ", 9) == 0)
			ent->smtputf8 = 1;
		else if (strncmp(p, "rcpt ", 5) == 0 &&
		    ent->nrcpts < MF_QUEUE_RCPT_MAX) {
			ent->rcpts[ent->nrcpts] = strndup(v, n);
			if (ent->rcpts[ent->nrcpts] == NULL)
				return mf_err_sys(e, MF_E_NOMEM, errno, "queue");
			ent->nrcpts++;
		}
		p = nl + 1;
	}
	if (p >= end)
		return mf_err_set(e, MF_E_DATA, "truncated queue file");
	p++;
	ent->len = (size_t)(end - p);
	ent->msg = malloc(ent->len + 1);
	if (ent->msg == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "queue");
	memcpy(ent->msg, p, ent->len);
	ent->msg[ent->len] = '\0';
	return 0;
}

static int
load(const struct mf_queue *q, const char *sub, const char *name,
     struct mf_queue_entry *ent, struct mf_err *e)
{
	char p[PATH_MAX], *data = NULL, *at;
	size_t len;
	int rc;

	memset(ent, 0, sizeof(*ent));
	mf_strlcpy(ent->id, name, sizeof(ent->id));
	at = strchr(ent->id, '@');
	if (at != NULL)
		*at = '\0';
	mf_strlcpy(ent->state, sub, sizeof(ent->state));
	if (path_of(q, sub, name, p, sizeof(p), e) == -1 ||
	    mf_queue_read_file(p, ENTRY_MAX, &data, &len, e) == -1)
		return -1;
	rc = parse_entry(data, len, ent, e);
	free(data);
	if (rc == -1) {
		mf_err_prefix(e, "%s", p);
		mf_queue_entry_free(ent);
	}
	return rc;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in a directory (regular entries, no dot files). */
static int
names(const char *dir, char ***out, size_t *n, struct mf_err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cap = 0;

	*n = 0;
	if (d == NULL)
		return mf_err_sys(e, MF_E_IO, errno, "%s", dir);
	while ((de = readdir(d)) != NULL && *n < NAMES_MAX) {
		if (de->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL)
				break;
			v = nv;
		}
		v[*n] = strdup(de->d_name);
		if (v[*n] == NULL)
			break;
		(*n)++;
	}
	closedir(d);
	if (*n > 0)
		qsort(v, *n, sizeof(*v), cmp_names);
	*out = v;
	return 0;
}

static void
free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
mf_queue_list(struct mf_queue *q,
              int (*fn)(void *arg, const struct mf_queue_entry *ent),
              void *arg, struct mf_err *e)
{
	static const char *const states[] = { "new", "sending", "failed" };
	struct mf_queue_entry ent;
	char dir[PATH_MAX], **v;
	size_t n, i, s;
	int rc = 0;

	for (s = 0; s < 3 && rc == 0; s++) {
		if (path_of(q, states[s], NULL, dir, sizeof(dir), e) == -1 ||
		    names(dir, &v, &n, e) == -1)
			return -1;
		for (i = 0; i < n && rc == 0; i++) {
			if (load(q, states[s], v[i], &ent, e) == -1)
				continue;
			free(ent.msg);
			ent.msg = NULL;
			rc = fn(arg, &ent);
			mf_queue_entry_free(&ent);
		}
		free_names(v, n);
	}
	return rc;
}

static int
move(struct mf_queue *q, const char *from, const char *fname, const char *to,
     const char *tname, struct mf_err *e)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (path_of(q, from, fname, a, sizeof(a), e) == -1 ||
	    path_of(q, to, tname, b, sizeof(b), e) == -1)
		return -1;
	if (mf_durable_move(a, b, e) == -1) {
		/* a claim another flush took first is not ours to report */
		if (e != NULL && e->sys_errno == ENOENT)
			e->kind = MF_E_TEMP;
		return -1;
	}
	return 0;
}

/* Claims whose process is gone (killed mid-flush) go back to new/. */
static void
recover(struct mf_queue *q)
{
	char dir[PATH_MAX], id[96], **v, *at;
	size_t n, i;
	long pid;
	struct mf_err ign;

	if (path_of(q, "sending", NULL, dir, sizeof(dir), &ign) == -1 ||
	    names(dir, &v, &n, &ign) == -1)
		return;
	for (i = 0; i < n; i++) {
		at = strchr(v[i], '@');
		if (at == NULL || mf_parse_long(at + 1, 1, INT_MAX, &pid) == -1)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(id, sizeof(id), "%.*s", (int)(at - v[i]), v[i]);
		move(q, "sending", v[i], "new", id, &ign);
	}
	free_names(v, n);
}

static int
claimed_name(const struct mf_queue_entry *ent, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s@%d", ent->id, (int)getpid());

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int
listed(const char *id, char *const *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(id, ids[i]) == 0)
			return 1;
	return 0;
}

/* mf_queue_claim, passing over the ids in skip[0..nskip). */
static int
claim(struct mf_queue *q, const char *account, char *const *skip,
      size_t nskip, struct mf_queue_entry *ent, struct mf_err *e)
{
	char dir[PATH_MAX], cname[128], **v;
	size_t n, i;
	int rc = 0;

	recover(q);
	if (path_of(q, "new", NULL, dir, sizeof(dir), e) == -1 ||
	    names(dir, &v, &n, e) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		struct mf_queue_entry probe;
		if (listed(v[i], skip, nskip))
			continue;
		if (load(q, "new", v[i], &probe, e) == -1)
			continue;
		if (account != NULL && strcmp(probe.account, account) != 0) {
			mf_queue_entry_free(&probe);
			continue;
		}
		/* The rename is the claim: of two flushers only one wins. */
		if (claimed_name(&probe, cname, sizeof(cname)) == -1 ||
		    move(q, "new", v[i], "sending", cname, e) == -1) {
			mf_queue_entry_free(&probe);
			continue;
		}
		mf_strlcpy(probe.state, "sending", sizeof(probe.state));
		*ent = probe;
		rc = 1;
	}
	free_names(v, n);
	return rc;
}

int
mf_queue_claim(struct mf_queue *q, const char *account,
               struct mf_queue_entry *ent, struct mf_err *e)
{
	return claim(q, account, NULL, 0, ent, e);
}

int
mf_queue_done(struct mf_queue *q, const struct mf_queue_entry *ent,
              struct mf_err *e)
{
	char cname[128], p[PATH_MAX];

	if (claimed_name(ent, cname, sizeof(cname)) == -1 ||
	    path_of(q, "sending", cname, p, sizeof(p), e) == -1)
		return -1;
	if (unlink(p) == -1)
		return mf_err_sys(e, MF_E_IO, errno, "%s", p);
	return mf_durable_fsync_parent(p, e);
}

int
mf_queue_release(struct mf_queue *q, const struct mf_queue_entry *ent,
                 struct mf_err *e)
{
	char cname[128];

	if (claimed_name(ent, cname, sizeof(cname)) == -1)
		return mf_err_set(e, MF_E_IO, "queue id too long");
	return move(q, "sending", cname, "new", ent->id, e);
}

int
mf_queue_fail(struct mf_queue *q, const struct mf_queue_entry *ent,
              struct mf_err *e)
{
	char cname[128];

	if (claimed_name(ent, cname, sizeof(cname)) == -1)
		return mf_err_set(e, MF_E_IO, "queue id too long");
	return move(q, "sending", cname, "failed", ent->id, e);
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
scan_one(const char *dir, int (*fn)(void *arg, const char *path), void *arg,
         struct mf_err *e)
{
	char p[PATH_MAX], **v;
	size_t n, i;
	struct stat st;
	int rc = 0;

	if (names(dir, &v, &n, e) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		if (snprintf(p, sizeof(p), "%s/%s", dir, v[i]) >= (int)sizeof(p))
			continue;
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			rc = fn(arg, p);
	}
	free_names(v, n);
	return rc;
}

int
mf_queue_scan_dir(const char *dir, int (*fn)(void *arg, const char *path),
                  void *arg, struct mf_err *e)
{
	char nd[PATH_MAX], cd[PATH_MAX];
	int rc;

	if (mf_durable_join(nd, sizeof(nd), dir, "new", e) == -1 ||
	    mf_durable_join(cd, sizeof(cd), dir, "cur", e) == -1)
		return -1;
	if (!is_dir(dir))
		return mf_err_set(e, MF_E_USAGE, "--batch: %s is not a "
		    "directory", dir);
	if (!is_dir(nd) || !is_dir(cd))
		return scan_one(dir, fn, arg, e);
	rc = scan_one(nd, fn, arg, e);
	return rc != 0 ? rc : scan_one(cd, fn, arg, e);
}

int
mf_queue_add_message(struct mf_queue *q, const char *account, const char *from,
                     char *const *rcpts, size_t nrcpts, const char *dsn_notify,
                     const char *dsn_ret, const char *msg, size_t len,
                     char *id, size_t idlen, struct mf_err *e)
{
	struct mf_queue_entry ent;
	size_t i;

	if (nrcpts > MF_QUEUE_RCPT_MAX)
		return mf_err_set(e, MF_E_USAGE, "too many recipients to queue");
	memset(&ent, 0, sizeof(ent));
	mf_strlcpy(ent.account, account ? account : "", sizeof(ent.account));
	mf_strlcpy(ent.from, from, sizeof(ent.from));
	for (i = 0; i < nrcpts; i++)
		ent.rcpts[i] = rcpts[i];
	ent.nrcpts = nrcpts;
	mf_strlcpy(ent.dsn_notify, dsn_notify ? dsn_notify : "",
	    sizeof(ent.dsn_notify));
	mf_strlcpy(ent.dsn_ret, dsn_ret ? dsn_ret : "", sizeof(ent.dsn_ret));
	ent.msg = (char *)msg;
	ent.len = len;
	if (mf_queue_add(q, &ent, e) == -1)
		return -1;
	mf_strlcpy(id, ent.id, idlen);
	return 0;
}

int
mf_queue_flush(struct mf_queue *q, const char *account,
               int (*send)(void *arg, const struct mf_queue_entry *ent,
                           struct mf_err *e),
               void (*report)(void *arg, const struct mf_queue_entry *ent,
                              int status, const struct mf_err *e),
               void *arg, struct mf_queue_stats *st, struct mf_err *e)
{
	struct mf_queue_entry ent;
	struct mf_err se, ign;
	char **later = NULL, **grown;
	size_t nlater = 0, i;
	int got, r, status;

	memset(st, 0, sizeof(*st));
	/* A deferred message goes back to new/; it waits for the next flush
	 * instead of being claimed again (and again) by this one. */
	while ((got = claim(q, account, later, nlater, &ent, e)) == 1) {
		mf_err_clear(&se);
		r = send(arg, &ent, &se);
		status = r == 0 ? 0 : mf_err_exit_code(&se);
		if (r == 0) {
			/* Right after the 250: the only window for a double
			 * delivery is between the reply and this unlink. */
			if (mf_queue_done(q, &ent, &ign) == -1)
				status = EX_IOERR;
			st->sent++;
		} else if (status == EX_TEMPFAIL) {
			mf_queue_release(q, &ent, &ign);
			st->deferred++;
			grown = realloc(later, (nlater + 1) * sizeof(*later));
			if (grown == NULL || (grown[nlater] = strdup(ent.id)) ==
			    NULL) {
				if (grown != NULL)
					later = grown;
				mf_err_sys(e, MF_E_NOMEM, errno, "queue flush");
				r = -2;
				got = -1;
			} else {
				later = grown;
				nlater++;
			}
		} else {
			mf_queue_fail(q, &ent, &ign);
			st->failed++;
		}
		if (status != 0)
			st->last_status = status;
		if (report != NULL)
			report(arg, &ent, status, &se);
		mf_queue_entry_free(&ent);
		if (r == -2)
			break;
	}
	for (i = 0; i < nlater; i++)
		free(later[i]);
	free(later);
	return got == -1 ? -1 : 0;
}

struct mf_queue *
mf_queue_open_default(const char *configured, struct mf_err *e)
{
	char dir[PATH_MAX - 16], sub[PATH_MAX];

	if (configured != NULL)
		return mf_queue_open(configured, e);
	if (mf_config_state_dir(dir, sizeof(dir)) == -1) {
		mf_err_set(e, MF_E_CONFIG, "no queue directory: set queue in "
		    "the account (HOME is unknown)");
		return NULL;
	}
	if (mf_durable_join(sub, sizeof(sub), dir, "queue", e) == -1)
		return NULL;
	return mf_queue_open(sub, e);
}

void
mf_queue_format_entry(const struct mf_queue_entry *ent, char *out,
                      size_t outlen)
{
	size_t i, n;

	n = (size_t)snprintf(out, outlen, "%s %s %zu bytes from <%s> to",
	    ent->id, ent->state, ent->len, ent->from);
	for (i = 0; i < ent->nrcpts && n < outlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, " <%s>", ent->rcpts[i]);
	if (ent->account[0] && n < outlen)
		snprintf(out + n, outlen - n, " account %s", ent->account);
}

int
mf_queue_state_file(const char *prefix, const char *name, char *out,
                    size_t outlen)
{
	char dir[PATH_MAX / 2], safe[256];
	struct mf_err e;
	size_t i;

	if (mf_config_state_dir(dir, sizeof(dir)) == -1 ||
	    mkdir_p(dir, &e) == -1)
		return -1;
	mf_strlcpy(safe, name, sizeof(safe));
	for (i = 0; safe[i]; i++)
		if (!isalnum((unsigned char)safe[i]) && !strchr("._-", safe[i]))
			safe[i] = '_';
	if (snprintf(out, outlen, "%s/%s-%s", dir, prefix, safe) >= (int)outlen)
		return -1;
	return 0;
}
