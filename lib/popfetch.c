/* popfetch.c - the retrieve step of pop-fetch: which messages to fetch,
 * delivery into a Maildir or an MDA, the UID journal, deletion.  Every
 * POP3 exchange goes through pop3.h; the order of durability steps is
 * the point of this file (deliver, sync, record, sync, then DELE). */
#include "popfetch.h"
#include "esc.h"
#include "maildir.h"
#include "popstate.h"
#include "transcript.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LISTING_LINE (MF_POP3_UID_MAX + 32)
#define MSG_ABS_MAX (4ULL * 1024 * 1024 * 1024)

/* What becomes of each message on the server in this run. */
enum fate { F_NONE, F_SEEN, F_BIG, F_TODO, F_DONE, F_GONE, F_DELETED };

struct msg {
	unsigned long num;
	unsigned long long size;
	char *uid;
	char tag[MF_POPSTATE_TAG_LEN + 1];
	enum fate fate;
};

struct fetch {
	const struct mf_popfetch_params *fp;
	struct mf_pop3 *p;
	struct mf_popstate *state;
	struct mf_maildir *md;
	struct msg *msgs;
	unsigned long n;
	struct msg **by_uid;      /* sorted by UID: "is it still there" */
	char *tags;               /* sorted P= tags found in the Maildir */
	size_t ntags, tagcap;
	struct mf_popfetch_stats *st;
	struct timespec t0;
	unsigned long gone;
	char gone_text[256];
	unsigned window;
};

/* Server text for a notice: control bytes escaped. */
static void
esc(const char *s, char *out, size_t outlen)
{
	mf_esc_str(out, outlen, s);
}

static void
notice(struct fetch *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
notice(struct fetch *f, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (f->fp->notice == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f->fp->notice(f->fp->cb_arg, msg);
}

static void
progress(struct fetch *f)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	f->st->seconds = (double)(t.tv_sec - f->t0.tv_sec) +
	    (double)(t.tv_nsec - f->t0.tv_nsec) / 1e9;
	if (f->fp->progress != NULL)
		f->fp->progress(f->fp->cb_arg, f->st);
}

static int
cmp_msg(const void *a, const void *b)
{
	return strcmp((*(struct msg *const *)a)->uid,
	    (*(struct msg *const *)b)->uid);
}

static int
cmp_tag(const void *a, const void *b)
{
	return memcmp(a, b, MF_POPSTATE_TAG_LEN);
}

/* UIDL (RFC 1939 §7): without it we cannot tell new from old. */
static int
load_uidl(struct fetch *f, int send, struct mf_err *e)
{
	struct mf_buf b;
	char uid[MF_POP3_UID_MAX + 1], *s, *nl;
	unsigned long num;
	int r;

	if (send && mf_pop3_send(f->p, 1, e, "UIDL") == -1)
		return -1;
	r = mf_pop3_read_status(f->p, "UIDL", NULL, 0, e);
	if (r == 0)
		return mf_err_set(e, MF_E_UNSUPPORTED, "the server does not "
		    "support UIDL (RFC 1939 §7): pop-fetch cannot tell new "
		    "messages from old ones, nothing fetched");
	if (r == -1)
		return -1;
	if (mf_pop3_read_listing(f->p, LISTING_LINE, (f->n + 16ULL) * LISTING_LINE, &b,
	    e) == -1)
		goto fail;
	for (s = b.data; s != NULL && (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		*nl = '\0';
		if (mf_pop3_parse_uidl(s, &num, uid, sizeof(uid), e) == -1)
			goto fail;
		if (num > f->n || f->msgs[num - 1].uid != NULL) {
			mf_err_set(e, MF_E_PROTO, "UIDL lists message %lu, which "
			    "STAT did not announce or was listed twice", num);
			goto fail;
		}
		f->msgs[num - 1].uid = strdup(uid);
		if (f->msgs[num - 1].uid == NULL) {
			mf_err_sys(e, MF_E_NOMEM, errno, "UIDL");
			goto fail;
		}
	}
	mf_buf_free(&b);
	return 0;
fail:
	mf_buf_free(&b);
	return -1;
}

static int
load_list(struct fetch *f, int send, struct mf_err *e)
{
	struct mf_buf b;
	unsigned long num;
	unsigned long long size;
	char *s, *nl;
	int r;

	if (send && mf_pop3_send(f->p, 1, e, "LIST") == -1)
		return -1;
	r = mf_pop3_read_status(f->p, "LIST", NULL, 0, e);
	if (r != 1)
		return r == 0 ? mf_err_set(e, MF_E_PROTO, "LIST refused") : -1;
	if (mf_pop3_read_listing(f->p, LISTING_LINE, (f->n + 16ULL) * LISTING_LINE, &b,
	    e) == -1)
		goto fail;
	for (s = b.data; s != NULL && (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		*nl = '\0';
		if (mf_pop3_parse_list(s, &num, &size, e) == -1)
			goto fail;
		if (num > f->n) {
			mf_err_set(e, MF_E_PROTO, "LIST lists message %lu, which "
			    "STAT did not announce", num);
			goto fail;
		}
		f->msgs[num - 1].size = size;
	}
	mf_buf_free(&b);
	return 0;
fail:
	mf_buf_free(&b);
	return -1;
}

static int
on_server(void *arg, const char *uid)
{
	struct fetch *f = arg;
	struct msg key, *kp = &key, **hit;

	key.uid = (char *)uid;
	hit = bsearch(&kp, f->by_uid, f->n, sizeof(*f->by_uid), cmp_msg);
	/* a deleted one need not be remembered once QUIT committed */
	return hit != NULL && (*hit)->fate != F_DELETED;
}

static int
scan_tag(void *arg, const char *name)
{
	struct fetch *f = arg;
	char tag[64];
	char *nt;

	if (mf_maildir_name_field(name, "P", tag, sizeof(tag)) == -1 ||
	    strlen(tag) != MF_POPSTATE_TAG_LEN)
		return 0;
	if (f->ntags == f->tagcap) {
		f->tagcap = f->tagcap ? f->tagcap * 2 : 256;
		nt = realloc(f->tags, f->tagcap * MF_POPSTATE_TAG_LEN);
		if (nt == NULL)
			return -1;
		f->tags = nt;
	}
	memcpy(f->tags + f->ntags++ * MF_POPSTATE_TAG_LEN, tag,
	    MF_POPSTATE_TAG_LEN);
	return 0;
}

/* Messages delivered before a crash but not yet in the journal are in the
 * Maildir with our tag: record them instead of fetching them again. */
static int
recover(struct fetch *f, struct mf_err *e)
{
	unsigned long i, found = 0;

	if (mf_maildir_scan(f->md, scan_tag, f, e) != 0)
		return e != NULL && e->kind != MF_OK ? -1 :
		    mf_err_set(e, MF_E_NOMEM, "Maildir scan");
	if (f->ntags == 0)
		return 0;
	qsort(f->tags, f->ntags, MF_POPSTATE_TAG_LEN, cmp_tag);
	for (i = 0; i < f->n; i++) {
		if (f->msgs[i].fate != F_TODO ||
		    bsearch(f->msgs[i].tag, f->tags, f->ntags,
		    MF_POPSTATE_TAG_LEN, cmp_tag) == NULL)
			continue;
		if (mf_popstate_add(f->state, f->msgs[i].uid, e) == -1)
			return -1;
		f->msgs[i].fate = F_SEEN;
		f->st->skipped++;
		f->st->todo--;
		f->st->todo_bytes -= f->msgs[i].size;
		found++;
	}
	if (found == 0)
		return 0;
	notice(f, "%lu message(s) already in the Maildir from an interrupted "
	    "run: recorded, not fetched again", found);
	if (mf_maildir_sync(f->md, e) == -1)
		return -1;
	return mf_popstate_sync(f->state, e);
}

static int
select_msgs(struct fetch *f, struct mf_err *e)
{
	const struct mf_popfetch_params *fp = f->fp;
	unsigned long i;
	struct msg *m;

	for (i = 0; i < f->n; i++) {
		m = &f->msgs[i];
		if (m->uid == NULL)
			return mf_err_set(e, MF_E_PROTO, "UIDL did not list "
			    "message %lu", i + 1);
		f->by_uid[i] = m;
		if (mf_popstate_tag(fp->account, m->uid, m->tag, sizeof(m->tag),
		    e) == -1)
			return -1;
		if (!fp->all && mf_popstate_has(f->state, m->uid)) {
			m->fate = F_SEEN;
		} else if (fp->max_size > 0 && m->size > fp->max_size) {
			m->fate = F_BIG;
			f->st->skipped++;
			notice(f, "message %lu (%llu bytes) left on the server: "
			    "bigger than --max-size", m->num, m->size);
		} else if (fp->limit == 0 || f->st->todo < fp->limit) {
			m->fate = F_TODO;
			f->st->todo++;
			f->st->todo_bytes += m->size;
		}
	}
	qsort(f->by_uid, f->n, sizeof(*f->by_uid), cmp_msg);
	if (f->md != NULL && !fp->all && f->st->todo > 0 && recover(f, e) == -1)
		return -1;
	return 0;
}

/* DELE the messages of list[0..n), pipelined within the window. */
static int
dele(struct fetch *f, struct msg **list, unsigned long n, struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX], shown[160];
	unsigned long sent = 0, got = 0;
	int r;

	while (got < n) {
		while (sent < n && sent - got < f->window)
			if (mf_pop3_send(f->p, 0, e, "DELE %lu", list[sent++]->num) == -1)
				return -1;
		if (mf_pop3_flush(f->p, e) == -1)
			return -1;
		r = mf_pop3_read_status(f->p, "DELE", text, sizeof(text), e);
		if (r == -1)
			return -1;
		if (r == 1) {
			list[got]->fate = F_DELETED;
			f->st->deleted++;
		} else {
			esc(text, shown, sizeof(shown));
			notice(f, "DELE %lu refused: -ERR %s", list[got]->num,
			    shown);
		}
		got++;
	}
	return 0;
}

static int
dele_seen(struct fetch *f, struct mf_err *e)
{
	struct msg **list = calloc(f->n + 1, sizeof(*list));
	unsigned long i, k = 0;
	int r;

	if (list == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "DELE list");
	for (i = 0; i < f->n; i++)
		if (f->msgs[i].fate == F_SEEN)
			list[k++] = &f->msgs[i];
	r = dele(f, list, k, e);
	free(list);
	return r;
}

/* ---- delivery: Maildir or MDA ---- */

struct sink {
	struct fetch *f;
	struct mf_maildir_msg *mm;
	int mda_fd;
	pid_t mda_pid;
	int mda_broken;
	unsigned long long bytes;
};

static int
sink_deliver(void *arg, const char *data, size_t n, struct mf_err *e)
{
	struct sink *s = arg;
	ssize_t w;

	s->bytes += n;
	if (s->mm != NULL)
		return mf_maildir_write(s->mm, data, n, e);
	while (n > 0 && !s->mda_broken) {
		w = write(s->mda_fd, data, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {  /* EPIPE: the MDA stopped reading; drain on */
			s->mda_broken = 1;
			break;
		}
		data += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
mda_start(struct sink *s, const char *cmd, struct mf_err *e)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) == -1)
		return mf_err_sys(e, MF_E_IO, errno, "pipe");
	s->mda_pid = fork();
	if (s->mda_pid == -1) {
		close(fds[0]);
		close(fds[1]);
		return mf_err_sys(e, MF_E_IO, errno, "fork");
	}
	if (s->mda_pid == 0) {
		/* the MDA's chatter must not mix with --json on stdout */
		dup2(fds[0], 0);
		dup2(2, 1);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	s->mda_fd = fds[1];
	return 0;
}

static int
mda_finish(struct sink *s, struct mf_err *e)
{
	int status = 0;
	pid_t r;

	close(s->mda_fd);
	s->mda_fd = -1;
	do
		r = waitpid(s->mda_pid, &status, 0);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return mf_err_sys(e, MF_E_IO, errno, "waiting for the MDA");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !s->mda_broken)
		return 0;
	if (WIFEXITED(status))
		return mf_err_set(e, MF_E_TEMP, "the --mda command exited with "
		    "status %d%s", WEXITSTATUS(status), s->mda_broken ?
		    " before reading the whole message" : "");
	return mf_err_set(e, MF_E_TEMP, "the --mda command was killed by "
	    "signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* The body of one RETR reply, into the Maildir (tmp -> new) or the MDA. */
static int
deliver(struct fetch *f, struct msg *m, struct mf_err *e)
{
	struct sink s;
	unsigned long long max;
	char fields[8 + MF_POPSTATE_TAG_LEN];
	int r;

	memset(&s, 0, sizeof(s));
	s.f = f;
	s.mda_fd = -1;
	/* servers' LIST sizes are approximate; a flood must still end */
	max = m->size * 2 + 1024 * 1024;
	if (max > MSG_ABS_MAX)
		max = MSG_ABS_MAX;
	if (f->md != NULL) {
		s.mm = mf_maildir_begin(f->md, e);
		if (s.mm == NULL)
			return -1;
	} else if (mda_start(&s, f->fp->mda, e) == -1) {
		return -1;
	}
	r = mf_pop3_read_body(f->p, MF_POP3_BODY_LINE_MAX, max, sink_deliver, &s, e);
	if (f->md != NULL) {
		if (r == -1) {
			mf_maildir_abort(s.mm);
			return -1;
		}
		snprintf(fields, sizeof(fields), "P=%s", m->tag);
		if (mf_maildir_commit(s.mm, "new", fields, NULL, NULL, 0, e) == -1)
			return -1;
	} else {
		if (r == -1) {
			close(s.mda_fd);
			kill(s.mda_pid, SIGTERM);
			waitpid(s.mda_pid, NULL, 0);
			return -1;
		}
		if (mda_finish(&s, e) == -1)
			return -1;
	}
	mf_transcript_info(f->fp->conn.tr, "message %lu: %llu bytes delivered", m->num,
	    s.bytes);
	m->fate = F_DONE;
	f->st->fetched++;
	f->st->bytes += s.bytes;
	progress(f);
	return 0;
}

/* RETR list[0..n), pipelined within the window. */
static int
retr_batch(struct fetch *f, struct msg **list, unsigned long n,
           struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX], shown[160];
	unsigned long sent = 0, got = 0;
	int r;

	while (got < n) {
		while (sent < n && sent - got < f->window)
			if (mf_pop3_send(f->p, 0, e, "RETR %lu", list[sent++]->num) == -1)
				return -1;
		if (mf_pop3_flush(f->p, e) == -1)
			return -1;
		r = mf_pop3_read_status(f->p, "RETR", text, sizeof(text), e);
		if (r == -1)
			return -1;
		if (r == 0) {  /* vanished since LIST: go on with the others */
			esc(text, shown, sizeof(shown));
			notice(f, "message %lu could not be retrieved: -ERR %s",
			    list[got]->num, shown);
			mf_strlcpy(f->gone_text, shown, sizeof(f->gone_text));
			list[got]->fate = F_GONE;
			f->gone++;
			f->st->skipped++;
		} else if (deliver(f, list[got], e) == -1) {
			return -1;
		}
		got++;
	}
	return 0;
}

/* After a failure inside a group: record what was delivered before it
 * (an MDA cannot be asked again), but delete nothing. Best effort: if the
 * Maildir cannot be synced, the P= tags find the messages next time. */
static void
salvage(struct fetch *f, struct msg **list, unsigned long n)
{
	unsigned long i;

	if (f->md != NULL && mf_maildir_sync(f->md, NULL) == -1)
		return;
	for (i = 0; i < n; i++)
		if (list[i]->fate == F_DONE &&
		    mf_popstate_add(f->state, list[i]->uid, NULL) == -1)
			return;
	mf_popstate_sync(f->state, NULL);
}

/* One group: fetch, make durable, record, then delete. */
static int
group(struct fetch *f, struct msg **list, unsigned long n, struct mf_err *e)
{
	unsigned long i, k = 0;

	if (retr_batch(f, list, n, e) == -1) {
		salvage(f, list, n);
		return -1;
	}
	if (f->md != NULL && mf_maildir_sync(f->md, e) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (list[i]->fate != F_DONE)
			continue;
		if (mf_popstate_add(f->state, list[i]->uid, e) == -1)
			return -1;
		list[k++] = list[i];
	}
	if (mf_popstate_sync(f->state, e) == -1)
		return -1;
	return f->fp->delete_after ? dele(f, list, k, e) : 0;
}

static int
fetch_all(struct fetch *f, struct mf_err *e)
{
	unsigned batch = f->fp->batch ? f->fp->batch : 64;
	struct msg **list = calloc(batch, sizeof(*list));
	unsigned long i, k = 0;
	int r = 0;

	if (list == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "batch");
	for (i = 0; i < f->n && r == 0; i++) {
		if (f->msgs[i].fate != F_TODO)
			continue;
		list[k++] = &f->msgs[i];
		if (k == batch) {
			r = group(f, list, k, e);
			k = 0;
		}
	}
	if (r == 0 && k > 0)
		r = group(f, list, k, e);
	free(list);
	return r;
}

static int
session(struct fetch *f, struct mf_err *e)
{
	int pipe = mf_pop3_capa(f->p)->pipelining;
	unsigned long long total;
	unsigned long i;

	/* RFC 2449 §6.6: with PIPELINING the three listings cost one trip */
	if (pipe && (mf_pop3_send(f->p, 0, e, "STAT") == -1 ||
	    mf_pop3_send(f->p, 0, e, "UIDL") == -1 ||
	    mf_pop3_send(f->p, 1, e, "LIST") == -1))
		return -1;
	if ((pipe ? mf_pop3_stat_reply(f->p, &f->n, &total, e) :
	    mf_pop3_stat(f->p, &f->n, &total, e)) == -1)
		return -1;
	f->st->listed = f->n;
	f->msgs = calloc(f->n + 1, sizeof(*f->msgs));
	f->by_uid = calloc(f->n + 1, sizeof(*f->by_uid));
	if (f->msgs == NULL || f->by_uid == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "message table");
	for (i = 0; i < f->n; i++)
		f->msgs[i].num = i + 1;
	f->window = mf_pop3_capa(f->p)->pipelining ? (f->fp->batch ? f->fp->batch : 64) : 1;
	if ((f->n > 0 || pipe) && (load_uidl(f, !pipe, e) == -1 ||
	    load_list(f, !pipe, e) == -1))
		return -1;
	if (f->n > 0 && select_msgs(f, e) == -1)
		return -1;
	progress(f);
	if (f->fp->delete_after && dele_seen(f, e) == -1)
		return -1;
	if (fetch_all(f, e) == -1)
		return -1;
	if (mf_pop3_quit(f->p, e) == -1)
		return -1;
	/* After QUIT the listing is final: forget UIDs no longer there. */
	if (mf_popstate_compact(f->state, on_server, f, e) == -1)
		return -1;
	if (f->gone > 0)
		return mf_err_set(e, MF_E_TEMP, "%lu message(s) could not be "
		    "retrieved (last: -ERR %s); the others were delivered",
		    f->gone, f->gone_text);
	return 0;
}

static void
fetch_free(struct fetch *f)
{
	unsigned long i;

	if (f->msgs != NULL)
		for (i = 0; i < f->n; i++)
			free(f->msgs[i].uid);
	free(f->msgs);
	free(f->by_uid);
	free(f->tags);
	mf_pop3_free(f->p);
	mf_maildir_close(f->md);
	mf_popstate_close(f->state);
}

int
mf_popfetch_run(const struct mf_popfetch_params *fp,
                struct mf_popfetch_stats *st, struct mf_err *e)
{
	struct mf_popfetch_stats dummy;
	struct fetch f;
	int r = -1;

	memset(&f, 0, sizeof(f));
	f.fp = fp;
	f.st = st != NULL ? st : &dummy;
	memset(f.st, 0, sizeof(*f.st));
	clock_gettime(CLOCK_MONOTONIC, &f.t0);
	if ((fp->maildir == NULL) == (fp->mda == NULL)) {
		mf_err_set(e, MF_E_USAGE, "deliver to a Maildir or an MDA");
		return -1;
	}
	f.state = mf_popstate_open(fp->state, e);
	if (f.state == NULL)
		goto done;
	if (fp->maildir != NULL) {
		f.md = mf_maildir_open(fp->maildir, 1, e);
		if (f.md == NULL)
			goto done;
		/* Each group ends in mf_maildir_sync() before anything is
		 * recorded or deleted: one syncfs per group, not one fsync
		 * per message. */
		mf_maildir_set_batch(f.md, 1);
	}
	f.p = mf_pop3_connect(&fp->conn, e);
	if (f.p == NULL || mf_pop3_auth(f.p, &fp->auth, NULL, 0, e) == -1)
		goto done;
	r = session(&f, e);
done:
	progress(&f);
	fetch_free(&f);
	return r;
}
