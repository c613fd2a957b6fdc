/* imapsync_jobs.c - --jobs N: folders synchronised in N child processes,
 * each over its own connection, reporting each folder to the parent as
 * one tab-separated line on a pipe ("R" + the result's fields, or "F" +
 * an error kind and message when a child cannot connect). */
#include "imapsync_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"

static int
atoi_safe(const char *s)
{
	long v = 0;

	mf_parse_long(s, -1000000, 1000000, &v);
	return (int)v;
}

static void
clean_field(char *s)
{
	for (; *s; s++)
		if (*s == '\t' || *s == '\n' || *s == '\r')
			*s = ' ';
}

struct pipe_report {
	int fd;
};

static void
child_report(void *arg, const struct mf_imapsync_result *r)
{
	struct pipe_report *pr = arg;
	char folder[1024], path[4096 + 16], err[MF_ERR_MSG_MAX], line[8192];
	int n;

	mf_strlcpy(folder, r->folder, sizeof folder);
	mf_strlcpy(path, r->path, sizeof path);
	mf_strlcpy(err, r->error ? r->error : "", sizeof err);
	clean_field(folder);
	clean_field(path);
	clean_field(err);
	n = snprintf(line, sizeof line,
	             "R\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%lu\t%llu\t%lu\t%lu\t%lu"
	             "\t%lu\t%lu\t%lu\t%lu\n", folder, path, r->error != NULL,
	             err, r->error_kind, r->refused, r->uidvalidity_reset,
	             r->fetched, r->bytes, r->adopted, r->flags_local,
	             r->flags_remote, r->uploaded, r->deleted_local,
	             r->deleted_remote, r->messages);
	if (n > 0 && write(pr->fd, line, (size_t)n < sizeof line ? (size_t)n
	                                                         : sizeof line - 1) == -1)
		return;
}

/* The fields of an "R" line, as child_report() wrote them. */
static void
result_from_fields(char *f[17], struct mf_imapsync_result *r)
{
	memset(r, 0, sizeof *r);
	r->folder = f[1];
	r->path = f[2];
	r->error = strcmp(f[3], "1") ? NULL : f[4];
	r->error_kind = atoi_safe(f[5]);
	r->refused = atoi_safe(f[6]);
	r->uidvalidity_reset = atoi_safe(f[7]);
	r->fetched = strtoul(f[8], NULL, 10);
	r->bytes = strtoull(f[9], NULL, 10);
	r->adopted = strtoul(f[10], NULL, 10);
	r->flags_local = strtoul(f[11], NULL, 10);
	r->flags_remote = strtoul(f[12], NULL, 10);
	r->uploaded = strtoul(f[13], NULL, 10);
	r->deleted_local = strtoul(f[14], NULL, 10);
	r->deleted_remote = strtoul(f[15], NULL, 10);
	r->messages = strtoul(f[16], NULL, 10);
}

static int
parse_report(struct isync *c, char *line, struct mf_err *first,
             int *failed)
{
	char *f[17];
	int nf = 0;
	char *p;
	struct mf_imapsync_result r;

	for (p = line; nf < 17; ) {
		f[nf++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (nf == 3 && !strcmp(f[0], "F")) {
		if (!*failed) {
			long k = MF_E_INTERNAL;
			mf_parse_long(f[1], 0, MF_E_INTERNAL, &k);
			mf_err_set(first, (enum mf_err_kind)k, "%s", f[2]);
		}
		*failed = 1;
		return 0;
	}
	if (nf != 17 || strcmp(f[0], "R"))
		return -1;
	result_from_fields(f, &r);
	r.dry_run = c->p->dry_run;
	if (r.error && !r.refused && !*failed) {
		mf_err_set(first, (enum mf_err_kind)r.error_kind, "%s: %s", r.folder,
		           r.error);
		*failed = 1;
	}
	if (c->p->report)
		c->p->report(c->p->arg, &r);
	return 0;
}

static void
child_run(struct isync *c, size_t job, size_t njobs, int fd)
{
	struct mf_imapsync_params cp = *c->p;
	struct pipe_report pr = { fd };
	struct mf_err e;
	int rc = 0;
	size_t i;

	/* the parent's connection is not ours to use or close */
	c->im = NULL;
	cp.report = child_report;
	cp.arg = &pr;
	cp.progress = NULL;
	c->p = &cp;
	mf_err_clear(&e);
	if (isync_connect(c, &e) == -1) {
		char line[MF_ERR_MSG_MAX + 32], msg[MF_ERR_MSG_MAX];
		int n;
		mf_strlcpy(msg, e.msg, sizeof msg);
		clean_field(msg);
		n = snprintf(line, sizeof line, "F\t%d\t%s\n", e.kind, msg);
		if (n > 0 && write(fd, line, (size_t)n) == -1)
			_exit(1);
		_exit(1);
	}
	for (i = job; i < c->fl.n; i += njobs) {
		mf_err_clear(&e);
		if (isync_sync_folder(c, &c->fl.v[i], &e) == -1)
			rc = 1;
	}
	isync_store_close(c);
	_exit(rc);
}

/* Every report line until the last child closes the pipe; fd is closed. */
static void
read_reports(struct isync *c, int fd, struct mf_err *first,
             int *failed)
{
	FILE *in = fdopen(fd, "r");
	char line[16384];

	while (in && fgets(line, sizeof line, in)) {
		line[strcspn(line, "\n")] = '\0';
		if (parse_report(c, line, first, failed) == -1 && !*failed) {
			mf_err_set(first, MF_E_INTERNAL, "bad report from a job");
			*failed = 1;
		}
	}
	if (in)
		fclose(in);
	else
		close(fd);
}

int
isync_run_jobs(struct isync *c, struct mf_err *first, int *failed)
{
	size_t njobs = (size_t)c->p->jobs < c->fl.n ? (size_t)c->p->jobs : c->fl.n;
	pid_t pids[64];
	int fds[2];
	size_t started = 0;
	size_t i;

	if (pipe(fds) == -1) {
		/* Nothing was synced: the run must not look like a success. */
		*failed = 1;
		return mf_err_sys(first, MF_E_IO, errno, "pipe");
	}
	fflush(NULL);
	for (; started < njobs && started < 64; started++) {
		pid_t pid = fork();
		if (pid == -1)
			break;
		if (pid == 0) {
			close(fds[0]);
			child_run(c, started, njobs, fds[1]);
		}
		pids[started] = pid;
	}
	close(fds[1]);
	read_reports(c, fds[0], first, failed);
	for (i = 0; i < started; i++) {
		int st;
		while (waitpid(pids[i], &st, 0) == -1 && errno == EINTR)
			;
		if ((!WIFEXITED(st) || WEXITSTATUS(st) != 0) && !*failed) {
			mf_err_set(first, MF_E_TEMP, "a sync job failed");
			*failed = 1;
		}
	}
	if (started < njobs && !*failed) {
		mf_err_set(first, MF_E_TEMP, "could not start %zu sync jobs", njobs);
		*failed = 1;
	}
	return 0;
}

