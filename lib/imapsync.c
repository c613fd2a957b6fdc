/* imapsync.c - the sync engine behind imap-sync: one run connects, lists
 * the folders, synchronises each (imapsync_folder.c; in child processes
 * with --jobs, imapsync_jobs.c); with --idle the service in
 * imapsync_watch.c takes over. */
#include "imapsync.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "buf.h"
#include "config.h"
#include "durable.h"
#include "imapsync_int.h"

int
mf_imapsync_map_name(const char *name, char delim,
                     enum mf_imapsync_layout layout, char *out,
                     size_t outlen, struct mf_err *e)
{
	return mf_folders_map_name(name, delim, layout, out, outlen, e);
}

int
mf_imapsync_match(const char *pat, const char *name, char delim)
{
	return mf_folders_match(pat, name, delim);
}

/* ---- run ---- */

/* A dead connection ends the run; a folder error does not. */
static int
ends_run(enum mf_err_kind k)
{
	return k == MF_E_CLOSED || k == MF_E_TIMEOUT || k == MF_E_TLS ||
	       k == MF_E_PROTO || k == MF_E_LIMIT || k == MF_E_NOMEM;
}

/* The folders --jobs left, in turn; the first failure goes to *first. */
static int
sync_folders(struct isync *c, struct mf_err *first, int *failed,
             struct mf_err *e)
{
	size_t i;

	for (i = c->nf_done; i < c->fl.n; i++) {
		if (c->p->stop && *c->p->stop)
			break;
		if (isync_sync_folder(c, &c->fl.v[i], e) == -1) {
			int fatal;
			if (!*failed) {
				*first = *e;
				/* as the --jobs path names it */
				mf_err_prefix(first, "%s", c->fl.v[i].utf8);
			}
			*failed = 1;
			fatal = ends_run(e->kind);
			mf_err_clear(e);
			if (fatal)
				return -1;
		}
	}
	return 0;
}

/* Connect and queue ENABLE, LIST and the first folder's SELECT behind
 * the login, read the replies up to ENABLE's: one round trip for them all
 * (the server answers in order, RFC 3501 §5.5; ENABLE takes effect before
 * the SELECT that needs it, RFC 5161 §3.1), and with ahead the login's too
 * when the last run's hint allows.  0, 1 (begin again without ahead), -1. */
static int
open_queued(struct isync *c, int ahead, struct mf_err *e)
{
	int rc = isync_connect_begin(c, ahead, e);

	if (rc == 0)
		rc = isync_list_send(c, e);
	if (rc == 0 && c->p->jobs <= 1)
		rc = isync_preselect_send(c, e);
	if (rc == 0)
		rc = isync_connect_end(c, e);
	return rc;
}

static int
run(struct isync *c, struct mf_err *e)
{
	struct mf_maildir *root = NULL;
	struct mf_err first;
	int failed = 0;
	int rc;

	mf_err_clear(&first);
	if (!c->p->dry_run) {
		root = mf_maildir_open(c->p->maildir, 1, e);
		if (!root || mf_maildir_lock(root, c->p->lock_wait_ms, e) == -1) {
			mf_maildir_close(root);
			return -1;
		}
	}
	if (c->p->idle) {
		int r = isync_watch(c, e);
		mf_maildir_close(root);
		return r;
	}
	rc = open_queued(c, 1, e);
	if (rc == 1) {
		/* the server changed since the last run: what was queued on
		 * its old word is dropped with the connection */
		isync_preselect_drop(c);
		isync_store_close(c);
		rc = open_queued(c, 0, e);
	}
	if (rc == 0)
		rc = isync_list_wait(c, e);
	if (rc == 0)
		isync_preselect_first(c);
	if (rc == 0 && c->p->jobs > 1 && c->fl.n > 1) {
		isync_run_jobs(c, &first, &failed);
		c->nf_done = c->fl.n;
	}
	if (rc == 0)
		rc = sync_folders(c, &first, &failed, e);
	isync_preselect_finish(c);
	free(c->list_tags);
	c->list_tags = NULL;
	isync_lstat_free(c);
	isync_store_close(c);
	mf_maildir_close(root);
	if (failed) {
		*e = first;
		return -1;
	}
	return rc;
}

/* mkdir -p for a directory mf_config_state_dir() named. */
static void
make_dirs(const char *base)
{
	if (mkdir(base, 0700) == -1 && errno != EEXIST) {
		char tmp[4000];
		char *s;
		mf_strlcpy(tmp, base, sizeof tmp);
		for (s = tmp + 1; *s; s++)
			if (*s == '/') {
				*s = '\0';
				mkdir(tmp, 0700);
				*s = '/';
			}
		mkdir(base, 0700);
	}
}

/* STATE/imap-sync/USER@HOST, '/' in the account made '_'. */
static int
default_state_dir(const struct mf_imapsync_params *p, char *out,
                  size_t len, struct mf_err *e)
{
	char base[4000];
	size_t l;
	char *s;

	if (mf_config_state_dir(base, sizeof base) == -1)
		return mf_err_set(e, MF_E_CONFIG, "no state directory (use --state)");
	make_dirs(base);
	if (mf_durable_join(out, len, base, "imap-sync", e) == -1)
		return -1;
	mkdir(out, 0700);
	l = strlen(out);
	if (mf_durable_path(out + l, len - l, e, "/%s@%s",
	                    p->imap.cred.user ? p->imap.cred.user : "",
	                    p->imap.host) == -1)
		return -1;
	for (s = out + l + 1; *s; s++)
		if (*s == '/')
			*s = '_';
	return 0;
}

/* Does the folder name (a directory entry) show its encoding?  1 UTF-8
 * (a byte over 0x7f), 2 modified UTF-7 (an "&...-" run, RFC 3501
 * §5.1.3), 0 plain ASCII, which reads the same either way. */
static int
name_encoding(const char *n)
{
	const char *p;

	for (p = n; *p; p++) {
		if ((unsigned char)*p > 0x7f)
			return 1;
		if (*p == '&' && p[1] != '-') {
			size_t k = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			                  "abcdefghijklmnopqrstuvwxyz0123456789+,");
			if (k > 0 && p[1 + k] == '-')
				return 2;
		}
	}
	return 0;
}

/* The Maildir's folder names stay in one encoding: the first run records
 * it in ROOT/.mailflow-folder-names; a run asking for the other one is
 * refused instead of making a second copy of every folder.  A Maildir
 * without the record (made by an older mailflow, Dovecot, Courier or
 * mbsync) is judged by the names already there. */
static int
check_folder_names(const struct mf_imapsync_params *p,
                   struct mf_err *e)
{
	const char *want = p->names_mutf7 ? "mutf7" : "utf8";
	int recorded;
	FILE *f;
	char path[4096], have[16] = "";
	recorded = 0;

	if (snprintf(path, sizeof path, "%s/.mailflow-folder-names", p->maildir)
	    >= (int)sizeof path)
		return mf_err_set(e, MF_E_CONFIG, "Maildir path too long");
	if ((f = fopen(path, "r")) != NULL) {
		if (!fgets(have, sizeof have, f))
			have[0] = '\0';
		fclose(f);
		have[strcspn(have, "\r\n")] = '\0';
		recorded = 1;
	} else {
		DIR *d = opendir(p->maildir);
		struct dirent *de;
		int seen = 0;

		while (d && (de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				seen |= 1 << name_encoding(de->d_name);
		if (d)
			closedir(d);
		if (seen & 2)
			mf_strlcpy(have, "utf8", sizeof have);
		else if (seen & 4)
			mf_strlcpy(have, "mutf7", sizeof have);
	}
	if (have[0] && strcmp(have, want))
		return mf_err_set(e, MF_E_CONFIG, "the Maildir %s keeps its folder "
		                  "names as %s; --folder-names %s would make a second "
		                  "copy of every folder with a non-ASCII name. Keep "
		                  "--folder-names %s (config key folder_names), or "
		                  "sync into a new Maildir", p->maildir, have, want,
		                  have);
	if (p->dry_run || recorded)
		return 0;
	make_dirs(p->maildir);
	if ((f = fopen(path, "w")) == NULL)
		return mf_err_sys(e, MF_E_IO, errno, "%s", path);
	fprintf(f, "%s\n", want);
	if (fclose(f) == EOF)
		return mf_err_sys(e, MF_E_IO, errno, "%s", path);
	return 0;
}

int
mf_imapsync_run(const struct mf_imapsync_params *p, struct mf_err *e)
{
	struct isync c;
	int rc;

	memset(&c, 0, sizeof c);
	c.p = p;
	c.e = e;
	c.fl.layout = p->layout;
	c.fl.names_mutf7 = p->names_mutf7;
	c.fl.excludes = p->excludes;
	c.fl.nexcludes = p->nexcludes;
	if (!p->maildir || !*p->maildir)
		return mf_err_set(e, MF_E_CONFIG, "no Maildir given (use -m)");
	if (check_folder_names(p, e) == -1)
		return -1;
	if (p->state_dir && *p->state_dir)
		mf_strlcpy(c.state_dir, p->state_dir, sizeof c.state_dir);
	else if (default_state_dir(p, c.state_dir, sizeof c.state_dir, e) == -1)
		return -1;
	rc = run(&c, e);
	mf_folders_free(&c.fl);
	return rc;
}
