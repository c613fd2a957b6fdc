/* durable.c - temp file + fsync + rename + directory fsync, written once. */
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
mf_durable_path(char *out, size_t outlen, struct mf_err *e,
                const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = outlen > 0 ? vsnprintf(out, outlen, fmt, ap) : -1;
	va_end(ap);
	if (n >= 0 && (size_t)n < outlen)
		return 0;
	if (n >= 0 && outlen > 0)  /* name the start of what did not fit */
		mf_err_set(e, MF_E_IO, "path too long (%d bytes, at most %zu): "
		    "%.64s...", n, outlen - 1, out);
	else
		mf_err_set(e, MF_E_IO, "path too long");
	if (outlen > 0)
		out[0] = '\0';
	return -1;
}

int
mf_durable_join(char *out, size_t outlen, const char *dir, const char *name,
                struct mf_err *e)
{
	return mf_durable_path(out, outlen, e, "%s/%s", dir, name);
}

int
mf_durable_dirname(const char *path, char *out, size_t outlen,
                   struct mf_err *e)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return mf_durable_path(out, outlen, e, ".");
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= outlen)
		return mf_durable_path(out, outlen, e, "%s", path);
	memcpy(out, path, n);
	out[n] = '\0';
	return 0;
}

int
mf_durable_fsync_dir(const char *dir, struct mf_err *e)
{
	int fd, er;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return mf_err_sys(e, MF_E_IO, errno, "open %s", dir);
	if (fsync(fd) == -1) {
		er = errno;
		close(fd);
		return mf_err_sys(e, MF_E_IO, er, "fsync %s", dir);
	}
	close(fd);
	return 0;
}

int
mf_durable_fsync_parent(const char *path, struct mf_err *e)
{
	char dir[PATH_MAX];

	if (mf_durable_dirname(path, dir, sizeof(dir), e) == -1)
		return -1;
	return mf_durable_fsync_dir(dir, e);
}

int
mf_durable_write(int fd, const void *p, size_t n, const char *what,
                 struct mf_err *e)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return mf_err_sys(e, MF_E_IO, errno, "write %s", what);
		if (w == 0)
			return mf_err_sys(e, MF_E_IO, ENOSPC, "write %s", what);
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsync or fdatasync fd, then close it (always); with drop, its clean
 * pages leave the page cache before the close. */
static int
sync_close(int fd, int data, int drop, const char *what, struct mf_err *e)
{
	int er;

	if ((data ? fdatasync(fd) : fsync(fd)) == -1) {
		er = errno;
		close(fd);
		return mf_err_sys(e, MF_E_IO, er, "%s %s",
		    data ? "fdatasync" : "fsync", what);
	}
	if (drop)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	/* close can report a deferred write error (NFS) */
	if (close(fd) == -1)
		return mf_err_sys(e, MF_E_IO, errno, "close %s", what);
	return 0;
}

int
mf_durable_fsync_close(int fd, const char *what, struct mf_err *e)
{
	return sync_close(fd, 0, 0, what, e);
}

void
mf_durable_start_writeback(int fd)
{
	/* Only a hint: queue the dirty pages for write-back and return.  An
	 * I/O error here is reported again by the fdatasync that follows, so
	 * it is not lost by ignoring it now. */
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

/*
 * fdatasync, not fsync: fdatasync(2) flushes the data and every piece of
 * metadata needed to read it back -- for a file just written that is its
 * size and its block map -- and skips only what is not (mtime, atime).
 * The file is new and its name is made durable by the directory fsync
 * after the rename, so nothing a later reader needs is left unflushed.
 */
int
mf_durable_datasync_close(int fd, const char *what, struct mf_err *e)
{
	return sync_close(fd, 1, 0, what, e);
}

int
mf_durable_datasync_drop_close(int fd, const char *what, struct mf_err *e)
{
	return sync_close(fd, 1, 1, what, e);
}

int
mf_durable_rename(const char *from, const char *to, struct mf_err *e)
{
	if (rename(from, to) == -1)
		return mf_err_sys(e, MF_E_IO, errno, "rename %s to %s", from, to);
	return mf_durable_fsync_parent(to, e);
}

int
mf_durable_move(const char *from, const char *to, struct mf_err *e)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (mf_durable_dirname(from, a, sizeof(a), e) == -1 ||
	    mf_durable_dirname(to, b, sizeof(b), e) == -1)
		return -1;
	if (rename(from, to) == -1)
		return mf_err_sys(e, MF_E_IO, errno, "rename %s to %s", from, to);
	if (mf_durable_fsync_dir(b, e) == -1)
		return -1;
	return strcmp(a, b) == 0 ? 0 : mf_durable_fsync_dir(a, e);
}

int
mf_durable_create(const char *tmp, mode_t mode, struct mf_err *e)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, mode);

	if (fd == -1)
		return mf_err_sys(e, MF_E_IO, errno, "create %s", tmp);
	return fd;
}

int
mf_durable_replace(const char *path, const char *tmp, const void *data,
                   size_t len, mode_t mode, struct mf_err *e)
{
	char own[PATH_MAX];
	int fd;

	if (tmp == NULL) {
		if (mf_durable_path(own, sizeof(own), e, "%s.tmp.%ld", path,
		    (long)getpid()) == -1)
			return -1;
		tmp = own;
	}
	if ((fd = mf_durable_create(tmp, mode, e)) == -1)
		return -1;
	if (mf_durable_write(fd, data, len, tmp, e) == -1) {
		close(fd);
		goto fail;
	}
	if (mf_durable_fsync_close(fd, tmp, e) == -1 ||
	    mf_durable_rename(tmp, path, e) == -1)
		goto fail;
	return 0;
fail:
	unlink(tmp);
	return -1;
}
