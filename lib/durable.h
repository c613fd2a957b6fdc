/* durable.h - files that survive a crash, and paths that are never cut.
 *
 * Owns the one way mailflow makes a change to a file durable: write a temp
 * file, fsync it, rename it over the target, fsync the directory; and the
 * checked path join every module builds its file names with.  It knows no
 * file format and keeps no state; callers own their temp names and locks.
 *
 * Must not: report success before the data and the directory entry are
 * on disk, print or exit. */
#ifndef MF_DURABLE_H
#define MF_DURABLE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* printf-style path into out[outlen]; -1 with MF_E_IO "path too long"
 * when the result would not fit (out then holds "" and nothing may use it). */
int mf_durable_path(char *out, size_t outlen, struct mf_err *e,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "dir/name" into out[outlen]; -1 with MF_E_IO on truncation. */
int mf_durable_join(char *out, size_t outlen, const char *dir,
                    const char *name, struct mf_err *e);

/* The directory part of path ("." for a bare name, "/" for "/x"); -1 with
 * MF_E_IO when it does not fit. */
int mf_durable_dirname(const char *path, char *out, size_t outlen,
                       struct mf_err *e);

/* fsync the directory dir, so that the names created, renamed or removed in
 * it survive a crash.  -1 with MF_E_IO (errno kept) on failure. */
int mf_durable_fsync_dir(const char *dir, struct mf_err *e);

/* fsync the directory that holds path. */
int mf_durable_fsync_parent(const char *path, struct mf_err *e);

/* Write all n bytes to fd (restarting on EINTR and short writes); what
 * names the file in the error. -1 with MF_E_IO. */
int mf_durable_write(int fd, const void *p, size_t n, const char *what,
                     struct mf_err *e);

/* fsync fd and close it (always closed, also on failure). */
int mf_durable_fsync_close(int fd, const char *what, struct mf_err *e);

/* Start writing fd's dirty pages to disk without waiting (a hint, for a
 * file that will be fdatasynced later: the sync then mostly just waits).
 * Never fails; errors surface at the later sync. */
void mf_durable_start_writeback(int fd);

/* fdatasync fd and close it (always closed, also on failure): enough for a
 * new file whose name a later directory fsync makes durable (the size is
 * flushed, only timestamps are not).  -1 with MF_E_IO. */
int mf_durable_datasync_close(int fd, const char *what, struct mf_err *e);
/* The same, and once the data is on disk its pages are dropped from the
 * page cache (posix_fadvise DONTNEED, a hint): for bulk writes that
 * nobody reads soon. */
int mf_durable_datasync_drop_close(int fd, const char *what,
                                   struct mf_err *e);

/* Commit a finished, fsynced file: rename from over to, then fsync the
 * directory of to.  On failure from is left in place (the caller unlinks
 * it) and -1 is returned with MF_E_IO and the errno of the failed call. */
int mf_durable_rename(const char *from, const char *to, struct mf_err *e);

/* Move an existing entry: like mf_durable_rename, and also fsync the
 * directory of from when it differs, so the old name cannot come back. */
int mf_durable_move(const char *from, const char *to, struct mf_err *e);

/* Create tmp for a replacement written in pieces (mode, truncated, never
 * through a symbolic link): the fd, or -1 with MF_E_IO.  The caller
 * writes (mf_durable_write), then mf_durable_fsync_close and
 * mf_durable_rename over the real name, and unlinks tmp on failure. */
int mf_durable_create(const char *tmp, mode_t mode, struct mf_err *e);

/* Replace path by data[len] atomically: write tmp (NULL: "PATH.tmp.PID";
 * created with mode, never through a symbolic link), fsync, rename, fsync
 * the directory.  After a crash path holds the old or the new contents,
 * never a mix.  On failure tmp is removed and path is untouched. */
int mf_durable_replace(const char *path, const char *tmp, const void *data,
                       size_t len, mode_t mode, struct mf_err *e);

#endif
