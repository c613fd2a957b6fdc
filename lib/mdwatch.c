/* mdwatch.c - inotify(7) on the cur/ and new/ directories of Maildir
 * folders (see mdwatch.h). */
#include "mdwatch.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* Deliveries end with a rename into new/ or cur/ (Maildir), flag changes
 * are renames inside cur/, deletions unlink: the directory entries tell
 * everything; file contents never change in place. */
#define MD_EVENTS (IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | \
                   IN_DELETE_SELF | IN_MOVE_SELF)

struct wd_id {
	int wd;
	size_t id;
};

struct mf_mdwatch {
	int fd;
	struct wd_id *v;
	size_t n, cap;
};

struct mf_mdwatch *
mf_mdwatch_new(struct mf_err *e)
{
	struct mf_mdwatch *w = calloc(1, sizeof *w);

	if (w == NULL) {
		mf_err_set(e, MF_E_NOMEM, "out of memory");
		return NULL;
	}
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd == -1) {
		mf_err_sys(e, MF_E_IO, errno, "inotify_init1");
		free(w);
		return NULL;
	}
	return w;
}

static int
add_one(struct mf_mdwatch *w, const char *path, size_t id, struct mf_err *e)
{
	int wd = inotify_add_watch(w->fd, path, MD_EVENTS | IN_ONLYDIR);

	if (wd == -1)
		return mf_err_sys(e, errno == ENOSPC ? MF_E_LIMIT : MF_E_IO, errno,
		    "cannot watch %s", path);
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 16;
		struct wd_id *nv = realloc(w->v, nc * sizeof *nv);
		if (nv == NULL)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
		w->v = nv;
		w->cap = nc;
	}
	w->v[w->n].wd = wd;
	w->v[w->n].id = id;
	w->n++;
	return 0;
}

int
mf_mdwatch_add(struct mf_mdwatch *w, const char *dir, size_t id,
               struct mf_err *e)
{
	static const char *const sub[] = { "cur", "new" };
	char path[PATH_MAX];

	for (size_t i = 0; i < 2; i++) {
		int n = snprintf(path, sizeof path, "%s/%s", dir, sub[i]);
		if (n < 0 || (size_t)n >= sizeof path)
			return mf_err_set(e, MF_E_LIMIT, "path too long: %s", dir);
		if (add_one(w, path, id, e) == -1)
			return -1;
	}
	return 0;
}

int
mf_mdwatch_fd(const struct mf_mdwatch *w)
{
	return w->fd;
}

static size_t
id_of(const struct mf_mdwatch *w, int wd)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].wd == wd)
			return w->v[i].id;
	return (size_t)-2;
}

int
mf_mdwatch_read(struct mf_mdwatch *w, void (*fn)(void *arg, size_t id),
                void *arg, struct mf_err *e)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	int count = 0;

	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return count;
		if (n <= 0)
			return mf_err_sys(e, MF_E_IO, n == 0 ? EIO : errno,
			    "reading inotify events");
		for (char *p = buf; p < buf + n; ) {
			const struct inotify_event *ev = (const void *)p;
			p += sizeof *ev + ev->len;
			count++;
			if (ev->mask & IN_Q_OVERFLOW) {
				fn(arg, (size_t)-1);
				continue;
			}
			/* Maildir writers name their temporary and hidden files
			 * with a leading dot; tmp/ is not watched at all */
			if (ev->len && ev->name[0] == '.')
				continue;
			size_t id = id_of(w, ev->wd);
			if (id != (size_t)-2)
				fn(arg, id);
		}
	}
}

void
mf_mdwatch_clear(struct mf_mdwatch *w)
{
	for (size_t i = 0; i < w->n; i++)
		inotify_rm_watch(w->fd, w->v[i].wd);
	w->n = 0;
}

void
mf_mdwatch_free(struct mf_mdwatch *w)
{
	if (w == NULL)
		return;
	close(w->fd);
	free(w->v);
	free(w);
}
