/* maildir.c - crash-safe Maildir delivery, flags and scanning. */
#include "maildir.h"
#include "buf.h"
#include "durable.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define WBUF_SIZE 65536
#define NAME_MAX_LEN 255
#define PENDING_OPEN_MAX 256	/* batch files kept open, at most */
#define INLINE_MAX (256 * 1024)	/* batch: a message up to this size is
				   created and written by the writer */
#define QUEUE_MAX (2 * 1024 * 1024)	/* batch: bytes queued, at most */
#define CACHE_KEEP (16 * 1024 * 1024)	/* batch: bytes left in the page
					   cache, the rest dropped once synced */

/* A committed message of batch mode, waiting for the sync to rename it.
 * fd stays open until the file is fdatasynced (-1 afterwards). */
struct pending {
	char tmp[NAME_MAX_LEN + 1];
	char name[NAME_MAX_LEN + 1];
	int cur;
	int fd;
	int failed;		/* its fdatasync failed */
	int drop;		/* drop its pages from the cache once synced */
};

/* The pending files of one group commit. */
struct group {
	struct pending *v;
	size_t n, cap;
	size_t nopen;		/* of them still open */
};

/* A group made durable on a thread of its own (mf_maildir_sync_start). */
struct flight {
	struct mf_maildir *md;
	struct group g;
	struct mf_err err;
	int rc;
	pthread_t th;
};

/* A committed message of batch mode on its way to the writer thread. */
struct job {
	struct job *next;
	struct mf_maildir_msg *m;
	size_t bytes;		/* its buffer, counted against QUEUE_MAX */
	int cur;
	char name[NAME_MAX_LEN + 1];
};

/* Batch mode's writer: creates and fills the files of the messages
 * committed, in commit order, and queues them for the sync, on a thread
 * of its own while the caller receives the next ones.  Everything below
 * is under mu; cv is broadcast on every change. */
struct writer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	size_t bytes;		/* buffered in the queue */
	int busy;		/* a job taken and not yet done */
	int stop;		/* closing: drop what is left */
	int failed;		/* sticky: later jobs are dropped */
	struct mf_err err;	/* the first failure */
};

struct mf_maildir {
	char *path;
	int tmpfd, newfd, curfd;
	int lockfd;
	unsigned long counter;
	char host[64];
	int batch;
	struct group g;		/* committed since the last sync (start) */
	size_t maxopen;		/* cap on g's open files */
	struct flight *fl;	/* a group syncing, or NULL */
	struct writer *w;	/* batch mode's writer, once started */
	struct pool *pool;	/* the sync lanes, once started */
	size_t ncommit;		/* committed since the last sync (start) */
	size_t cached;		/* batch bytes written and left in the cache */
};

struct mf_maildir_msg {
	struct mf_maildir *md;
	int fd;
	char uniq[NAME_MAX_LEN + 1];
	struct mf_buf wbuf;
	size_t size;
	int created;		/* its tmp file exists */
};

/* mkdir -p with mode; existing directories are fine. */
static int
mkdirs(const char *path, mode_t mode, struct mf_err *e)
{
	char tmp[4096];
	size_t i, n = strlen(path);

	if (n >= sizeof(tmp))
		return mf_err_set(e, MF_E_IO, "path too long: %s", path);
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, mode) == -1 && errno != EEXIST)
			return mf_err_sys(e, MF_E_IO, errno, "cannot create %s", tmp);
		tmp[i] = path[i];
	}
	return 0;
}

static int
open_sub(const char *path, const char *sub, int create, struct mf_err *e)
{
	char p[4096];
	int fd;

	if (mf_durable_join(p, sizeof(p), path, sub, e) == -1)
		return -1;
	if (create && mkdir(p, 0700) == -1 && errno != EEXIST)
		return mf_err_sys(e, MF_E_IO, errno, "cannot create %s", p);
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return mf_err_sys(e, MF_E_IO, errno, "%s is not a usable Maildir "
		    "(%s/)", path, sub);
	return fd;
}

/* The Maildir spec's host part: '/' and ':' would break the name. */
static void
host_part(char *out, size_t outlen)
{
	char h[64], *p;
	size_t o = 0;

	if (gethostname(h, sizeof(h)) == -1)
		mf_strlcpy(h, "localhost", sizeof(h));
	h[sizeof(h) - 1] = '\0';
	for (p = h; *p != '\0' && o + 5 < outlen; p++) {
		if (*p == '/' || *p == ':' || *p == ',')
			o += (size_t)snprintf(out + o, outlen - o, "\\%03o",
			    (unsigned char)*p);
		else
			out[o++] = *p;
	}
	out[o] = '\0';
}

#define TMP_STALE_SECONDS (36 * 3600)  /* the Maildir spec's limit */

/* The writer's PID if name is one of ours ("SEC.MUSECPPIDQN.HOST" with
 * this host), else 0. */
static long
own_tmp_pid(const char *name, const char *host)
{
	const char *p = name;
	char *end;
	long pid;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p == name || strncmp(p, ".M", 2) != 0)
		return 0;
	for (p += 2; *p >= '0' && *p <= '9'; p++)
		;
	if (*p++ != 'P')
		return 0;
	pid = strtol(p, &end, 10);
	if (end == p || pid <= 0 || *end != 'Q')
		return 0;
	for (p = end + 1; *p >= '0' && *p <= '9'; p++)
		;
	return *p == '.' && strcmp(p + 1, host) == 0 ? pid : 0;
}

/* Leftovers in tmp/ (a delivery killed before its rename): ours, whose
 * writer on this host is gone, at once; anybody's once older than 36
 * hours, as the Maildir spec allows.  Best effort. */
static void
clean_tmp(struct mf_maildir *md)
{
	struct dirent *d;
	struct stat st;
	time_t now = time(NULL);
	long pid;
	DIR *dir;
	int fd = dup(md->tmpfd);

	if (fd == -1 || (dir = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.' ||
		    fstatat(md->tmpfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		pid = own_tmp_pid(d->d_name, md->host);
		if ((pid > 0 && kill((pid_t)pid, 0) == -1 && errno == ESRCH) ||
		    now - st.st_mtime > TMP_STALE_SECONDS)
			unlinkat(md->tmpfd, d->d_name, 0);
	}
	closedir(dir);
}

struct mf_maildir *
mf_maildir_open(const char *path, int create, struct mf_err *e)
{
	struct mf_maildir *md = calloc(1, sizeof(*md));

	if (md == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "maildir");
		return NULL;
	}
	md->tmpfd = md->newfd = md->curfd = md->lockfd = -1;
	md->path = strdup(path);
	if (md->path == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "maildir");
		goto fail;
	}
	if (create && mkdirs(path, 0700, e) == -1)
		goto fail;
	if ((md->tmpfd = open_sub(path, "tmp", create, e)) == -1 ||
	    (md->newfd = open_sub(path, "new", create, e)) == -1 ||
	    (md->curfd = open_sub(path, "cur", create, e)) == -1)
		goto fail;
	host_part(md->host, sizeof(md->host));
	if (create)
		clean_tmp(md);
	return md;
fail:
	mf_maildir_close(md);
	return NULL;
}

/* Forget g's files: never synced, never delivered, so no half-state is
 * left in tmp/. */
static void
drop_group(struct mf_maildir *md, struct group *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		if (g->v[i].fd >= 0)
			close(g->v[i].fd);
		unlinkat(md->tmpfd, g->v[i].tmp, 0);
	}
	free(g->v);
	memset(g, 0, sizeof(*g));
}

static void writer_stop(struct mf_maildir *md);
static void pool_stop(struct mf_maildir *md);

void
mf_maildir_close(struct mf_maildir *md)
{
	if (md == NULL)
		return;
	writer_stop(md);
	(void)mf_maildir_sync_wait(md, NULL);
	pool_stop(md);
	/* Never synced: never delivered. Leave no half-state in tmp/. */
	drop_group(md, &md->g);
	if (md->tmpfd >= 0) close(md->tmpfd);
	if (md->newfd >= 0) close(md->newfd);
	if (md->curfd >= 0) close(md->curfd);
	if (md->lockfd >= 0) close(md->lockfd);
	free(md->path);
	free(md);
}

const char *
mf_maildir_path(const struct mf_maildir *md)
{
	return md->path;
}

int
mf_maildir_lock(struct mf_maildir *md, int wait_ms, struct mf_err *e)
{
	char p[4096];
	int waited = 0;

	if (mf_durable_join(p, sizeof(p), md->path, ".mailflow.lock", e) == -1)
		return -1;
	if (md->lockfd < 0) {
		md->lockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (md->lockfd == -1)
			return mf_err_sys(e, MF_E_IO, errno, "cannot open %s", p);
	}
	while (flock(md->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			return mf_err_sys(e, MF_E_IO, errno, "cannot lock %s", p);
		if (waited >= wait_ms)
			return mf_err_set(e, MF_E_TEMP, "another process is using "
			    "the Maildir %s (lock %s held)", md->path, p);
		usleep(50000);
		waited += 50;
	}
	return 0;
}

struct mf_maildir_msg *
mf_maildir_begin(struct mf_maildir *md, struct mf_err *e)
{
	struct mf_maildir_msg *m = calloc(1, sizeof(*m));
	struct timeval tv;
	int tries;

	if (m == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "maildir message");
		return NULL;
	}
	m->md = md;
	m->fd = -1;
	/* batch mode: a small message stays in memory until the writer
	 * creates its file; a larger one gets its file at the first flush */
	mf_buf_init(&m->wbuf, md->batch ? INLINE_MAX : WBUF_SIZE);
	for (tries = 0; tries < 100; tries++) {
		gettimeofday(&tv, NULL);
		if (mf_maildir_name_unique(m->uniq, sizeof(m->uniq),
		    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
		    ++md->counter, md->host) == -1) {
			errno = ENAMETOOLONG;
			break;
		}
		if (md->batch)
			return m;
		m->fd = openat(md->tmpfd, m->uniq,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (m->fd >= 0) {
			m->created = 1;
			return m;
		}
		if (errno != EEXIST)
			break;
	}
	mf_err_sys(e, MF_E_IO, errno, "cannot create a file in %s/tmp",
	    md->path);
	mf_buf_free(&m->wbuf);
	free(m);
	return NULL;
}

/* Create the tmp file of a batch-mode message (once).  The name is unique
 * by PID and counter, so it is not retried. */
static int
open_tmp(struct mf_maildir_msg *m, struct mf_err *e)
{
	if (m->fd >= 0)
		return 0;
	m->fd = openat(m->md->tmpfd, m->uniq,
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (m->fd == -1)
		return mf_err_sys(e, MF_E_IO, errno, "cannot create %s/tmp/%s",
		    m->md->path, m->uniq);
	m->created = 1;
	return 0;
}

static int
write_all(struct mf_maildir_msg *m, const char *p, size_t n, struct mf_err *e)
{
	ssize_t w;

	while (n > 0) {
		w = write(m->fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return mf_err_sys(e, MF_E_IO, errno, "writing %s/tmp/%s",
			    m->md->path, m->uniq);
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
flush_buf(struct mf_maildir_msg *m, struct mf_err *e)
{
	int r = open_tmp(m, e);

	if (r == 0)
		r = write_all(m, m->wbuf.data, m->wbuf.len, e);

	mf_buf_reset(&m->wbuf);
	return r;
}

int
mf_maildir_write(struct mf_maildir_msg *m, const void *p, size_t n,
                 struct mf_err *e)
{
	m->size += n;
	if (n >= m->wbuf.max) {
		if (flush_buf(m, e) == -1)
			return -1;
		return write_all(m, p, n, e);
	}
	if (m->wbuf.len + n > m->wbuf.max && flush_buf(m, e) == -1)
		return -1;
	return mf_buf_append(&m->wbuf, p, n, e);
}

size_t
mf_maildir_msg_size(const struct mf_maildir_msg *m)
{
	return m->size;
}

void
mf_maildir_abort(struct mf_maildir_msg *m)
{
	if (m == NULL)
		return;
	if (m->fd >= 0)
		close(m->fd);
	if (m->created)
		unlinkat(m->md->tmpfd, m->uniq, 0);
	mf_buf_free(&m->wbuf);
	free(m);
}

/* base, then ":2,FLAGS" (normalised) when the message goes to cur/. */
static int
name_with_info(char *out, size_t len, const char *base, int cur,
               const char *flags)
{
	char nflags[64] = "";   /* A-Z and the keyword letters a-z */

	if (cur && flags != NULL)
		mf_maildir_flags_normalise(flags, nflags, sizeof(nflags));
	return mf_durable_path(out, len, NULL, "%s%s%s", base, cur ? ":2," : "",
	    nflags);
}

/* Build the final name; -1 if it would not be a sane file name. */
static int
final_name(const struct mf_maildir_msg *m, int cur, const char *fields,
           const char *flags, char *out, size_t outlen, struct mf_err *e)
{
	char base[NAME_MAX_LEN + 1];

	if (fields != NULL && (strpbrk(fields, "/:") != NULL || *fields == '\0'))
		return mf_err_set(e, MF_E_INTERNAL, "bad Maildir field '%s'", fields);
	if (mf_maildir_name_refield(m->uniq, "", fields, base, sizeof(base)) == -1 ||
	    name_with_info(out, outlen, base, cur, flags) == -1 ||
	    strlen(out) > NAME_MAX_LEN)
		return mf_err_set(e, MF_E_INTERNAL, "Maildir name too long");
	return 0;
}

#define SYNC_LANES 16	/* fdatasyncs in flight at once */

/* The lanes: threads that fdatasync the files of one group at a time, each
 * taking the next file not yet taken, so that a whole group's syncs are in
 * flight together (concurrent flushes are merged by the block layer).
 * Started with the first group, kept until close.  Everything below is
 * under mu. */
struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work;	/* a group to sync, or stop */
	pthread_cond_t done;	/* the group's last file finished */
	struct mf_maildir *md;
	struct group *g;	/* being synced, or NULL */
	size_t next;		/* its next file to take */
	size_t left;		/* its files not finished */
	struct mf_err err;	/* the group's first failure */
	int bad;
	int stop;
	size_t nth;
	pthread_t th[SYNC_LANES];
};

#define THREAD_STACK (256 * 1024)	/* the helper threads' stacks */

/* Start fn(arg) on a thread with a small stack (the helpers need a few
 * KiB; the default 8 MiB each would reserve ~150 MiB of address space for
 * the lanes) and every signal blocked, so that the tools' signals (TERM,
 * INT, HUP, USR1) always reach the calling thread and interrupt its
 * waits, never a helper. */
static int
start_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
	pthread_attr_t at;
	sigset_t all, old;
	int rc;

	if (pthread_attr_init(&at) != 0)
		return -1;
	(void)pthread_attr_setstacksize(&at, THREAD_STACK);
	sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(th, &at, fn, arg);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	return rc == 0 ? 0 : -1;
}

/* Set *stop under mu and wake every thread waiting on cv. */
static void
raise_stop(pthread_mutex_t *mu, pthread_cond_t *cv, int *stop)
{
	pthread_mutex_lock(mu);
	*stop = 1;
	pthread_cond_broadcast(cv);
	pthread_mutex_unlock(mu);
}

/* fdatasync and close one pending file (never tried twice: Linux reports
 * a write-back error once); -1 marks it failed. */
static int
lane_sync(struct mf_maildir *md, struct pending *p, struct mf_err *e)
{
	char what[4096 + NAME_MAX_LEN + 8];
	int rc;

	(void)mf_durable_path(what, sizeof(what), NULL, "%s/tmp/%s", md->path,
	    p->tmp);
	rc = p->drop ? mf_durable_datasync_drop_close(p->fd, what, e) :
	    mf_durable_datasync_close(p->fd, what, e);
	p->fd = -1;
	if (rc == -1)
		p->failed = 1;
	return rc;
}

/* Take and sync files of the pool's group until none is left to take;
 * called with mu held, returns with it held. */
static void
pool_take(struct pool *pl)
{
	struct mf_err err;
	struct pending *p;

	while (pl->g != NULL && pl->next < pl->g->n) {
		p = &pl->g->v[pl->next++];
		if (p->fd != -1) {
			pthread_mutex_unlock(&pl->mu);
			mf_err_clear(&err);
			if (lane_sync(pl->md, p, &err) == -1) {
				pthread_mutex_lock(&pl->mu);
				if (!pl->bad) {
					pl->bad = 1;
					pl->err = err;
				}
			} else {
				pthread_mutex_lock(&pl->mu);
			}
		}
		if (--pl->left == 0)
			pthread_cond_broadcast(&pl->done);
	}
}

static void *
lane_run(void *arg)
{
	struct pool *pl = arg;

	pthread_mutex_lock(&pl->mu);
	while (!pl->stop) {
		pool_take(pl);
		pthread_cond_wait(&pl->work, &pl->mu);
	}
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

/* The Maildir's lanes, started on first use; NULL when their memory could not
 * be had (the caller then does the syncs itself, and the next group
 * tries again). */
static struct pool *
pool_get(struct mf_maildir *md)
{
	struct pool *pl = md->pool;
	size_t k;

	if (pl != NULL || (pl = calloc(1, sizeof(*pl))) == NULL)
		return pl;
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->work, NULL);
	pthread_cond_init(&pl->done, NULL);
	pl->md = md;
	for (k = 0; k < SYNC_LANES; k++)
		if (start_thread(&pl->th[pl->nth], lane_run, pl) == 0)
			pl->nth++;
	md->pool = pl;
	return pl;
}

static void
pool_stop(struct mf_maildir *md)
{
	struct pool *pl = md->pool;
	size_t k;

	if (pl == NULL)
		return;
	raise_stop(&pl->mu, &pl->work, &pl->stop);
	for (k = 0; k < pl->nth; k++)
		(void)pthread_join(pl->th[k], NULL);
	pthread_cond_destroy(&pl->done);
	pthread_cond_destroy(&pl->work);
	pthread_mutex_destroy(&pl->mu);
	free(pl);
	md->pool = NULL;
}

/* Sync g's open files on the lanes, the caller taking its share too.
 * One group at a time: the flight's group and one at the open-file cap may
 * come at once. */
static int
pool_sync(struct pool *pl, struct group *g, struct mf_err *e)
{
	int rc = 0;

	pthread_mutex_lock(&pl->mu);
	while (pl->g != NULL)
		pthread_cond_wait(&pl->done, &pl->mu);
	pl->g = g;
	pl->next = 0;
	pl->left = g->n;
	pl->bad = 0;
	pthread_cond_broadcast(&pl->work);
	pool_take(pl);
	while (pl->left > 0)
		pthread_cond_wait(&pl->done, &pl->mu);
	pl->g = NULL;
	if (pl->bad) {
		if (e != NULL)
			*e = pl->err;
		rc = -1;
	}
	pthread_cond_broadcast(&pl->done);
	pthread_mutex_unlock(&pl->mu);
	return rc;
}

/* fdatasync and close every file of g still open: on the lanes, or one
 * after the other here when they could not be had.  A file whose sync
 * failed is dropped and its tmp file removed: its data may be lost, so it
 * must never be renamed into place, not even by a retried sync. */
static int
datasync_group(struct mf_maildir *md, struct group *g, struct mf_err *e)
{
	struct pool *pl = pool_get(md);
	size_t i;
	int rc = 0;

	if (pl != NULL)
		rc = pool_sync(pl, g, e);
	else
		for (i = 0; i < g->n; i++)
			if (g->v[i].fd != -1 &&
			    lane_sync(md, &g->v[i], rc ? NULL : e) == -1)
				rc = -1;
	g->nopen = 0;
	for (i = 0; i < g->n; ) {
		if (!g->v[i].failed) {
			i++;
			continue;
		}
		unlinkat(md->tmpfd, g->v[i].tmp, 0);
		memmove(g->v + i, g->v + i + 1, (g->n - i - 1) * sizeof(*g->v));
		g->n--;
	}
	return rc;
}

/* Batch mode commit: start the file's write-back, keep it open and queue
 * its fdatasync and rename for the sync.  At the cap on open files the
 * pending ones are fdatasynced and closed now (still not renamed, so still
 * invisible): the group then needs no more descriptors than the cap. */
static int
defer(struct mf_maildir_msg *m, int cur, const char *name, struct mf_err *e)
{
	struct mf_maildir *md = m->md;
	struct pending *p;

	struct group *g = &md->g;

	if (g->nopen >= md->maxopen && datasync_group(md, g, e) == -1) {
		mf_maildir_abort(m);
		return -1;
	}
	if (g->n == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 64;
		p = realloc(g->v, nc * sizeof(*p));
		if (p == NULL) {
			mf_err_sys(e, MF_E_NOMEM, errno, "maildir batch");
			mf_maildir_abort(m);
			return -1;
		}
		g->v = p;
		g->cap = nc;
	}
	p = &g->v[g->n++];
	mf_strlcpy(p->tmp, m->uniq, sizeof(p->tmp));
	mf_strlcpy(p->name, name, sizeof(p->name));
	p->cur = cur;
	p->fd = m->fd;
	p->failed = 0;
	/* the first CACHE_KEEP bytes stay cached for the mail reader that
	 * opens them next; beyond that a bulk fetch would push the rest of
	 * the system out of the page cache, so each file's pages go once it
	 * is on disk */
	p->drop = md->cached >= CACHE_KEEP;
	if (!p->drop)
		md->cached += m->size;
	g->nopen++;
	/* the disk writes while the next messages arrive; the group's
	 * fdatasyncs then mostly wait for writes already under way */
	mf_durable_start_writeback(m->fd);
	mf_buf_free(&m->wbuf);
	free(m);
	return 0;
}

/* A batch-mode message's file: created (unless it already was), filled,
 * queued for the sync.  m is freed either way. */
static int
write_out(struct mf_maildir_msg *m, int cur, const char *name,
          struct mf_err *e)
{
	if (flush_buf(m, e) == -1) {
		mf_maildir_abort(m);
		return -1;
	}
	return defer(m, cur, name, e);
}

/* The writer's thread: the queue's jobs in order, until stopped.  After a
 * failure, and once stopping, jobs are dropped unwritten. */
static void *
writer_run(void *arg)
{
	struct mf_maildir *md = arg;
	struct writer *w = md->w;
	struct mf_err err;
	struct job *j;
	int drop, rc;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if ((j = w->head) == NULL)
			break;
		if ((w->head = j->next) == NULL)
			w->tail = NULL;
		w->busy = 1;
		drop = w->failed || w->stop;
		pthread_mutex_unlock(&w->mu);
		mf_err_clear(&err);
		rc = 0;
		if (drop)
			mf_maildir_abort(j->m);
		else
			rc = write_out(j->m, j->cur, j->name, &err);
		pthread_mutex_lock(&w->mu);
		if (rc == -1 && !w->failed) {
			w->failed = 1;
			w->err = err;
		}
		w->bytes -= j->bytes;
		w->busy = 0;
		free(j);
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int
writer_start(struct mf_maildir *md)
{
	struct writer *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	mf_err_clear(&w->err);
	md->w = w;
	if (start_thread(&w->th, writer_run, md) == -1) {
		md->w = NULL;
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return -1;
	}
	return 0;
}

/* Wait until every message committed is written and queued for the sync
 * (md->g is then the caller's again); -1 with the writer's first failure,
 * for good: a group with a message missing must not be recorded. */
static int
writer_drain(struct mf_maildir *md, struct mf_err *e)
{
	struct writer *w = md->w;
	int rc = 0;

	if (w == NULL)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (w->head != NULL || w->busy)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->failed) {
		if (e != NULL)
			*e = w->err;
		rc = -1;
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* Stop the writer; what it had not written yet is dropped (never
 * delivered), what it had is in md->g. */
static void
writer_stop(struct mf_maildir *md)
{
	struct writer *w = md->w;

	if (w == NULL)
		return;
	raise_stop(&w->mu, &w->cv, &w->stop);
	(void)pthread_join(w->th, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	md->w = NULL;
}

/* Batch-mode commit: hand m to the writer, waiting while QUEUE_MAX bytes
 * are queued.  Without a thread to be had, the same work here and now. */
static int
hand_over(struct mf_maildir_msg *m, int cur, const char *name,
          struct mf_err *e)
{
	struct mf_maildir *md = m->md;
	struct writer *w;
	struct job *j;

	if (md->w == NULL && writer_start(md) == -1) {
		if (write_out(m, cur, name, e) == -1)
			return -1;
		md->ncommit++;
		return 0;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		mf_maildir_abort(m);
		return mf_err_sys(e, MF_E_NOMEM, errno, "maildir batch");
	}
	j->m = m;
	j->cur = cur;
	j->bytes = m->wbuf.cap;
	mf_strlcpy(j->name, name, sizeof(j->name));
	w = md->w;
	pthread_mutex_lock(&w->mu);
	while (!w->failed && w->bytes > 0 && w->bytes + j->bytes > QUEUE_MAX)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->failed) {
		if (e != NULL)
			*e = w->err;
		pthread_mutex_unlock(&w->mu);
		mf_maildir_abort(m);
		free(j);
		return -1;
	}
	if (w->tail != NULL)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->bytes += j->bytes;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	md->ncommit++;
	return 0;
}

int
mf_maildir_commit(struct mf_maildir_msg *m, const char *subdir,
                  const char *fields, const char *flags, char *out_name,
                  size_t out_len, struct mf_err *e)
{
	int cur = strcmp(subdir, "cur") == 0, dfd;
	char name[NAME_MAX_LEN + 1];

	if (!cur && strcmp(subdir, "new") != 0) {
		mf_maildir_abort(m);
		return mf_err_set(e, MF_E_INTERNAL, "bad Maildir subdir %s", subdir);
	}
	dfd = cur ? m->md->curfd : m->md->newfd;
	if (final_name(m, cur, fields, flags, name, sizeof(name), e) == -1 ||
	    (out_name != NULL &&
	     mf_durable_join(out_name, out_len, subdir, name, e) == -1))
		goto fail;
	if (m->md->batch)
		return hand_over(m, cur, name, e);
	if (flush_buf(m, e) == -1)
		goto fail;
	if (fsync(m->fd) == -1) {
		mf_err_sys(e, MF_E_IO, errno, "fsync %s/tmp/%s", m->md->path, m->uniq);
		goto fail;
	}
	if (close(m->fd) == -1) {
		m->fd = -1;
		mf_err_sys(e, MF_E_IO, errno, "close %s/tmp/%s", m->md->path, m->uniq);
		goto fail;
	}
	m->fd = -1;
	/* RENAME_NOREPLACE: a clash must never overwrite another message. */
	if (renameat2(m->md->tmpfd, m->uniq, dfd, name, RENAME_NOREPLACE) == -1) {
		mf_err_sys(e, MF_E_IO, errno, "moving %s into %s/%s", m->uniq,
		    m->md->path, subdir);
		goto fail;
	}
	mf_buf_free(&m->wbuf);
	free(m);
	return 0;
fail:
	mf_maildir_abort(m);
	return -1;
}

/* Batch mode: the data of each file of g first (its own fdatasync,
 * nothing else on the file system), then the renames; the caller fsyncs
 * the directories.  On failure g keeps the files not yet renamed. */
static int
flush_group(struct mf_maildir *md, struct group *g, struct mf_err *e)
{
	size_t i;

	if (datasync_group(md, g, e) == -1)
		return -1;
	for (i = 0; i < g->n; i++) {
		struct pending *p = &g->v[i];
		/* RENAME_NOREPLACE: a clash must never overwrite a message. */
		if (renameat2(md->tmpfd, p->tmp, p->cur ? md->curfd : md->newfd,
		    p->name, RENAME_NOREPLACE) == -1) {
			mf_err_sys(e, MF_E_IO, errno, "moving %s into %s", p->tmp,
			    md->path);
			memmove(g->v, g->v + i, (g->n - i) * sizeof(*g->v));
			g->n -= i;
			return -1;
		}
	}
	g->n = 0;
	return 0;
}

/* g durable and in place: its files, then the directories. */
static int
sync_group(struct mf_maildir *md, struct group *g, struct mf_err *e)
{
	if (flush_group(md, g, e) == -1)
		return -1;
	if (fsync(md->newfd) == -1 || fsync(md->curfd) == -1 ||
	    fsync(md->tmpfd) == -1)
		return mf_err_sys(e, MF_E_IO, errno, "fsync of %s", md->path);
	return 0;
}

int
mf_maildir_sync(struct mf_maildir *md, struct mf_err *e)
{
	int rc;

	if (writer_drain(md, e) == -1 || mf_maildir_sync_wait(md, e) == -1)
		return -1;
	rc = sync_group(md, &md->g, e);
	md->ncommit = md->g.n;
	return rc;
}

/* The flight's thread: its group synced, whatever was not renamed when
 * that failed removed (the caller records none of the group then). */
static void *
fly(void *arg)
{
	struct flight *fl = arg;

	fl->rc = sync_group(fl->md, &fl->g, &fl->err);
	drop_group(fl->md, &fl->g);
	return NULL;
}

int
mf_maildir_sync_start(struct mf_maildir *md, struct mf_err *e)
{
	struct flight *fl;

	if (writer_drain(md, e) == -1 || mf_maildir_sync_wait(md, e) == -1)
		return -1;
	if (md->g.n == 0)
		return 0;
	if ((fl = calloc(1, sizeof(*fl))) == NULL)
		return mf_maildir_sync(md, e);
	fl->md = md;
	fl->g = md->g;
	memset(&md->g, 0, sizeof(md->g));
	mf_err_clear(&fl->err);
	if (start_thread(&fl->th, fly, fl) == -1) {
		/* no thread to be had: the same work, here and now */
		md->g = fl->g;
		free(fl);
		return mf_maildir_sync(md, e);
	}
	md->fl = fl;
	md->ncommit = 0;
	return 0;
}

int
mf_maildir_sync_wait(struct mf_maildir *md, struct mf_err *e)
{
	struct flight *fl = md->fl;
	int rc;

	if (fl == NULL)
		return 0;
	md->fl = NULL;
	(void)pthread_join(fl->th, NULL);
	rc = fl->rc;
	if (rc == -1 && e != NULL)
		*e = fl->err;
	free(fl);
	return rc;
}

/* Pending files kept open: PENDING_OPEN_MAX, or a quarter of the
 * descriptor limit when that is lower (the rest is the caller's). */
static size_t
open_cap(void)
{
	struct rlimit rl;
	size_t cap = PENDING_OPEN_MAX;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < cap)
		cap = rl.rlim_cur / 4;
	return cap > 0 ? cap : 1;
}

void
mf_maildir_set_batch(struct mf_maildir *md, int on)
{
	md->batch = on;
	md->maxopen = open_cap();
}

size_t
mf_maildir_pending(const struct mf_maildir *md)
{
	return md->ncommit;
}

static int
scan_one(struct mf_maildir *md, const char *sub, int dfd,
         int (*fn)(void *, const char *), void *arg, struct mf_err *e)
{
	char rel[NAME_MAX_LEN + 8];
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return mf_err_sys(e, MF_E_IO, errno, "reading %s/%s",
		    md->path, sub);
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		/* d_name is at most NAME_MAX: rel always holds "new/" + it */
		if (mf_durable_join(rel, sizeof(rel), sub, de->d_name, e) == -1)
			r = -1;
		else
			r = fn(arg, rel);
	}
	closedir(d);
	return r;
}

int
mf_maildir_scan(struct mf_maildir *md, int (*fn)(void *, const char *),
                void *arg, struct mf_err *e)
{
	int r = scan_one(md, "new", md->newfd, fn, arg, e);

	if (r == 0)
		r = scan_one(md, "cur", md->curfd, fn, arg, e);
	return r;
}

/* Split "new/x" or "cur/x" into its directory fd and name. */
static int
split_rel(struct mf_maildir *md, const char *rel, int *dfd, const char **name,
          struct mf_err *e)
{
	if (strncmp(rel, "new/", 4) == 0)
		*dfd = md->newfd;
	else if (strncmp(rel, "cur/", 4) == 0)
		*dfd = md->curfd;
	else
		return mf_err_set(e, MF_E_INTERNAL, "bad Maildir name %s", rel);
	*name = rel + 4;
	if (**name == '\0' || strchr(*name, '/') != NULL || **name == '.')
		return mf_err_set(e, MF_E_INTERNAL, "bad Maildir name %s", rel);
	return 0;
}

int
mf_maildir_set_flags(struct mf_maildir *md, const char *rel, const char *flags,
                     char *out_name, size_t out_len, struct mf_err *e)
{
	char base[NAME_MAX_LEN + 1], name[NAME_MAX_LEN + 40];
	const char *old;
	int sfd;

	if (split_rel(md, rel, &sfd, &old, e) == -1)
		return -1;
	if (mf_maildir_name_base(old, base, sizeof(base)) == -1 ||
	    name_with_info(name, sizeof(name), base, 1, flags) == -1 ||
	    strlen(name) > NAME_MAX_LEN)
		return mf_err_set(e, MF_E_INTERNAL, "Maildir name too long: %s", rel);
	if (out_name != NULL &&
	    mf_durable_join(out_name, out_len, "cur", name, e) == -1)
		return -1;
	if (sfd != md->curfd || strcmp(old, name) != 0) {
		if (renameat2(sfd, old, md->curfd, name, RENAME_NOREPLACE) == -1)
			return mf_err_sys(e, MF_E_IO, errno, "renaming %s/%s",
			    md->path, rel);
		if (fsync(md->curfd) == -1 ||
		    (sfd != md->curfd && fsync(sfd) == -1))
			return mf_err_sys(e, MF_E_IO, errno, "fsync of %s", md->path);
	}
	return 0;
}

int
mf_maildir_remove(struct mf_maildir *md, const char *rel, struct mf_err *e)
{
	const char *name;
	int dfd;

	if (split_rel(md, rel, &dfd, &name, e) == -1)
		return -1;
	if (unlinkat(dfd, name, 0) == -1)
		return mf_err_sys(e, MF_E_IO, errno, "removing %s/%s", md->path, rel);
	if (fsync(dfd) == -1)
		return mf_err_sys(e, MF_E_IO, errno, "fsync of %s", md->path);
	return 0;
}

void
mf_maildir_name_flags(const char *name, char *flags, size_t len)
{
	const char *p = strstr(name, ":2,");

	mf_maildir_flags_normalise(p ? p + 3 : "", flags, len);
}

int
mf_maildir_name_field(const char *name, const char *key, char *out, size_t len)
{
	const char *slash = strrchr(name, '/'), *end, *p, *v;
	size_t kl = strlen(key), vl;

	if (slash != NULL)
		name = slash + 1;
	end = strstr(name, ":2,");
	if (end == NULL)
		end = name + strlen(name);
	for (p = name; p < end && (p = memchr(p, ',', (size_t)(end - p))); p++) {
		if ((size_t)(end - p) > kl + 1 && strncmp(p + 1, key, kl) == 0 &&
		    p[1 + kl] == '=') {
			v = p + kl + 2;
			vl = strcspn(v, ",:");
			if (v + vl > end)
				vl = (size_t)(end - v);
			if (vl >= len)
				return -1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return 0;
		}
	}
	return -1;
}

void
mf_maildir_flags_normalise(const char *in, char *out, size_t len)
{
	int seen[52] = { 0 };
	size_t o = 0;
	int i;

	/* capitals are flags, small letters keywords (Dovecot's a-z): both
	 * kept, in ASCII order as the Maildir spec asks */
	for (; *in != '\0'; in++)
		if (*in >= 'A' && *in <= 'Z')
			seen[*in - 'A'] = 1;
		else if (*in >= 'a' && *in <= 'z')
			seen[26 + *in - 'a'] = 1;
	for (i = 0; i < 52 && o + 1 < len; i++)
		if (seen[i])
			out[o++] = (char)(i < 26 ? 'A' + i : 'a' + i - 26);
	if (len > 0)
		out[o] = '\0';
}

int
mf_maildir_name_unique(char *out, size_t len, long long sec, long usec,
                       long pid, unsigned long q, const char *host)
{
	return mf_durable_path(out, len, NULL, "%lld.M%06ldP%ldQ%lu.%s", sec,
	    usec, pid, q, host);
}

int
mf_maildir_name_base(const char *name, char *out, size_t len)
{
	const char *slash = strrchr(name, '/'), *colon;
	size_t n;

	if (slash != NULL)
		name = slash + 1;
	colon = strstr(name, ":2,");
	n = colon != NULL ? (size_t)(colon - name) : strlen(name);
	return mf_durable_path(out, len, NULL, "%.*s", (int)n, name);
}

int
mf_maildir_name_refield(const char *base, const char *drop, const char *field,
                        char *out, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return -1;
	out[0] = '\0';
	if (field != NULL && (*field == '\0' || strpbrk(field, "/:") != NULL))
		return -1;
	while (*base != '\0') {
		if (base[0] == ',' && base[1] != '\0' &&
		    strchr(drop, base[1]) != NULL && base[2] == '=') {
			base += 3;
			while (*base != '\0' && *base != ',')
				base++;
			continue;
		}
		if (o + 1 >= len) {
			out[0] = '\0';
			return -1;
		}
		out[o++] = *base++;
	}
	out[o] = '\0';
	if (field != NULL &&
	    mf_durable_path(out + o, len - o, NULL, ",%s", field) == -1) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int
mf_maildir_field_num(char *out, size_t len, const char *key, unsigned long v)
{
	return mf_durable_path(out, len, NULL, "%s=%lu", key, v);
}

int
mf_maildir_field_add(char *out, size_t len, const char *key, const char *val)
{
	size_t o = strnlen(out, len);

	if (o >= len || mf_durable_path(out + o, len - o, NULL, "%s%s=%s",
	    o > 0 ? "," : "", key, val) == -1) {
		if (len > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

int
mf_maildir_name_format(char *out, size_t len, const char *subdir,
                       const char *base, const char *flags)
{
	char name[NAME_MAX_LEN + 40];

	if (name_with_info(name, sizeof(name), base, strcmp(subdir, "cur") == 0,
	    flags) == -1) {
		if (len > 0)
			out[0] = '\0';
		return -1;
	}
	return mf_durable_join(out, len, subdir, name, NULL);
}
