/* imapsync.c - the sync engine behind imap-sync: one run connects, lists
 * the folders, synchronises each (imapsync_folder.c; in child processes
 * with --jobs, imapsync_jobs.c); with --idle the service in
 * imapsync_watch.c takes over. */
#include "imapsync.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "buf.h"
#include "config.h"
#include "imapsync_int.h"
#include "utf7.h"

int mf_imapsync_map_name(const char *name, char delim,
                         enum mf_imapsync_layout layout, char *out,
                         size_t outlen, struct mf_err *e)
{
	return mf_folders_map_name(name, delim, layout, out, outlen, e);
}

int mf_imapsync_match(const char *pat, const char *name, char delim)
{
	return mf_folders_match(pat, name, delim);
}

void isync_warnf(struct isync *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->p->warn)
		c->p->warn(c->p->arg, msg);
}

int isync_wait_ok(struct isync *c, unsigned tag, mf_imap_untagged_fn fn,
                  void *arg, struct mf_err *e)
{
	struct mf_imap_status st;

	if (mf_imap_wait(c->im, tag, fn, arg, &st, e) < 0)
		return -1;
	if (!strcmp(st.status, "OK"))
		return 0;
	return mf_err_reply(e, !strcmp(st.status, "NO") ? MF_E_PERM : MF_E_PROTO,
	                    0, NULL, st.text, "IMAP server said %s: %s",
	                    st.status, st.text);
}

/* ---- folder list ---- */

static void report_refused(struct isync *c, const char *name, const char *why)
{
	struct mf_imapsync_result r;

	memset(&r, 0, sizeof r);
	r.folder = name;
	r.path = "";
	r.refused = 1;
	r.error = why;
	r.error_kind = MF_E_DATA;
	isync_warnf(c, "refusing folder: %s", why);
	if (c->p->report)
		c->p->report(c->p->arg, &r);
}

/* The RFC 6154 attribute among the LIST attributes at toks[k], "" if
 * none; NULL for a folder that cannot be selected. */
static const char *list_special(const struct mf_imap_resp *r, size_t k)
{
	static const char *const special_use[] = {
		"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk",
		"\\Sent", "\\Trash"
	};
	const char *special = "";
	size_t end = r->toks[k].next;

	for (size_t j = k + 1; j < end; j = r->toks[j].next) {
		if (r->toks[j].type != MF_IMAP_ATOM)
			continue;
		if (!strcasecmp(r->toks[j].s, "\\Noselect") ||
		    !strcasecmp(r->toks[j].s, "\\NonExistent"))
			return NULL;
		for (size_t u = 0; u < sizeof special_use / sizeof *special_use; u++)
			if (!strcasecmp(r->toks[j].s, special_use[u]))
				special = special_use[u];
	}
	return special;
}

/* RFC 3501 §7.2.2: LIST (attributes) delimiter name */
static int list_cb(void *arg, const struct mf_imap_resp *r, struct mf_err *e)
{
	struct isync *c = arg;
	size_t k = r->data_first;

	if (strcmp(r->keyword, "LIST") || k >= r->ntoks ||
	    r->toks[k].type != MF_IMAP_LIST)
		return 0;
	const char *special = list_special(r, k);
	if (!special)
		return 0;
	size_t d = r->toks[k].next, n = d < r->ntoks ? r->toks[d].next : r->ntoks;
	if (n >= r->ntoks)
		return mf_err_set(e, MF_E_PROTO, "malformed LIST response");
	char delim = 0;
	if (r->toks[d].type == MF_IMAP_STRING && r->toks[d].len == 1)
		delim = r->toks[d].s[0];
	if (r->toks[n].type != MF_IMAP_STRING && r->toks[n].type != MF_IMAP_ATOM)
		return mf_err_set(e, MF_E_PROTO, "malformed LIST mailbox name");
	struct mf_folders_refusal why;
	int a = mf_folders_add(&c->fl, r->toks[n].s, r->toks[n].len, delim,
	                       special, &why, e);
	if (a < 0)
		return -1;
	if (a == MF_FOLDERS_REFUSED)
		report_refused(c, why.name, why.why);
	return 0;
}

/* One LIST with every pattern when LIST-EXTENDED (RFC 5258) allows it,
 * asking for SPECIAL-USE attributes (RFC 6154) when offered; else one
 * plain LIST per pattern. */
int isync_list_folders(struct isync *c, struct mf_err *e)
{
	const char *all[] = { "*" };
	const char *const *pats = c->p->nfolders ? c->p->folders : all;
	size_t np = c->p->nfolders ? c->p->nfolders : 1;
	int ext = mf_imap_has_cap(c->im, "LIST-EXTENDED");
	const char *ret = ext && mf_imap_has_cap(c->im, "SPECIAL-USE")
	                  ? " RETURN (SPECIAL-USE)" : "";
	struct mf_buf q = MF_BUF_INIT(65536);
	int r = 0;

	for (size_t i = 0; r == 0 && i < np; i++) {
		struct mf_buf enc = MF_BUF_INIT(4096);
		if (ext && i == 0 && np > 1)
			r = mf_buf_putc(&q, '(', e);
		else if (ext && i > 0)
			r = mf_buf_putc(&q, ' ', e);
		if (r == 0)
			r = mf_utf7_encode(pats[i], strlen(pats[i]), &enc, e);
		if (r == 0)
			r = mf_imap_quote(&q, enc.data ? enc.data : "", e);
		mf_buf_free(&enc);
		if (r == 0 && ext && np > 1 && i == np - 1)
			r = mf_buf_putc(&q, ')', e);
		if (r == 0 && (!ext || i == np - 1)) {
			r = mf_imap_simple(c->im, list_cb, c, e, "LIST \"\" %s%s",
			                   q.data, ret);
			if (r < 0)
				mf_err_prefix(e, "listing the folders (LIST)");
			mf_buf_reset(&q);
		}
	}
	mf_buf_free(&q);
	return r;
}

/* ---- run ---- */

int isync_connect(struct isync *c, struct mf_err *e)
{
	c->im = mf_imap_connect(&c->p->imap, e);
	if (!c->im)
		return -1;
	if (mf_imap_login(c->im, &c->p->imap, e) < 0)
		return -1;
	if (mf_imap_enable(c->im, "QRESYNC CONDSTORE", e) < 0)
		return -1;
	c->qresync = mf_imap_enabled(c->im, "QRESYNC");
	c->condstore = c->qresync || mf_imap_enabled(c->im, "CONDSTORE");
	c->uidplus = mf_imap_has_cap(c->im, "UIDPLUS");
	return 0;
}

/* A dead connection ends the run; a folder error does not. */
static int ends_run(enum mf_err_kind k)
{
	return k == MF_E_CLOSED || k == MF_E_TIMEOUT || k == MF_E_TLS ||
	       k == MF_E_PROTO || k == MF_E_LIMIT || k == MF_E_NOMEM;
}

/* The folders --jobs left, in turn; the first failure goes to *first. */
static int sync_folders(struct isync *c, struct mf_err *first, int *failed,
                        struct mf_err *e)
{
	for (size_t i = c->nf_done; i < c->fl.n; i++) {
		if (c->p->stop && *c->p->stop)
			break;
		if (isync_sync_folder(c, &c->fl.v[i], e) < 0) {
			if (!*failed) {
				*first = *e;
				/* as the --jobs path names it */
				mf_err_prefix(first, "%s", c->fl.v[i].utf8);
			}
			*failed = 1;
			int fatal = ends_run(e->kind);
			mf_err_clear(e);
			if (fatal)
				return -1;
		}
	}
	return 0;
}

static int run(struct isync *c, struct mf_err *e)
{
	struct mf_maildir *root = NULL;
	struct mf_err first;
	int failed = 0;

	mf_err_clear(&first);
	if (!c->p->dry_run) {
		root = mf_maildir_open(c->p->maildir, 1, e);
		if (!root || mf_maildir_lock(root, c->p->lock_wait_ms, e) < 0) {
			mf_maildir_close(root);
			return -1;
		}
	}
	if (c->p->idle) {
		int r = isync_watch(c, e);
		mf_maildir_close(root);
		return r;
	}
	int rc = isync_connect(c, e);
	if (rc == 0)
		rc = isync_list_folders(c, e);
	if (rc == 0 && c->p->jobs > 1 && c->fl.n > 1) {
		isync_run_jobs(c, &first, &failed);
		c->nf_done = c->fl.n;
	}
	if (rc == 0)
		rc = sync_folders(c, &first, &failed, e);
	mf_imap_free(c->im);
	c->im = NULL;
	mf_maildir_close(root);
	if (failed) {
		*e = first;
		return -1;
	}
	return rc;
}

/* mkdir -p for a directory mf_config_state_dir() named. */
static void make_dirs(const char *base)
{
	if (mkdir(base, 0700) < 0 && errno != EEXIST) {
		char tmp[4000];
		mf_strlcpy(tmp, base, sizeof tmp);
		for (char *s = tmp + 1; *s; s++)
			if (*s == '/') {
				*s = '\0';
				mkdir(tmp, 0700);
				*s = '/';
			}
		mkdir(base, 0700);
	}
}

/* STATE/imap-sync/USER@HOST, '/' in the account made '_'. */
static int default_state_dir(const struct mf_imapsync_params *p, char *out,
                             size_t len, struct mf_err *e)
{
	char base[4000];

	if (mf_config_state_dir(base, sizeof base) < 0)
		return mf_err_set(e, MF_E_CONFIG, "no state directory (use --state)");
	make_dirs(base);
	snprintf(out, len, "%s/imap-sync", base);
	mkdir(out, 0700);
	size_t l = strlen(out);
	snprintf(out + l, len - l, "/%s@%s", p->imap.cred.user ? p->imap.cred.user : "",
	         p->imap.host);
	for (char *s = out + l + 1; *s; s++)
		if (*s == '/')
			*s = '_';
	return 0;
}

/* Does the folder name (a directory entry) show its encoding?  1 UTF-8
 * (a byte over 0x7f), 2 modified UTF-7 (an "&...-" run, RFC 3501
 * §5.1.3), 0 plain ASCII, which reads the same either way. */
static int name_encoding(const char *n)
{
	for (const char *p = n; *p; p++) {
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
static int check_folder_names(const struct mf_imapsync_params *p,
                              struct mf_err *e)
{
	const char *want = p->names_mutf7 ? "mutf7" : "utf8";
	char path[4096], have[16] = "";
	int recorded = 0;
	FILE *f;

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

int mf_imapsync_run(const struct mf_imapsync_params *p, struct mf_err *e)
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
	if (check_folder_names(p, e) < 0)
		return -1;
	if (p->state_dir && *p->state_dir)
		mf_strlcpy(c.state_dir, p->state_dir, sizeof c.state_dir);
	else if (default_state_dir(p, c.state_dir, sizeof c.state_dir, e) < 0)
		return -1;
	rc = run(&c, e);
	mf_folders_free(&c.fl);
	return rc;
}
