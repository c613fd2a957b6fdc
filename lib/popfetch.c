/* popfetch.c - the retrieve step of pop-fetch: which messages to fetch,
 * delivery into a Maildir or an MDA, the UID journal, deletion.  Every
 * POP3 exchange goes through pop3.h; the order of durability steps is
 * the point of this file (deliver, sync, record, sync, then DELE). */
#include "popfetch.h"
#include "cred.h"
#include "crypto.h"
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

#define MSG_ABS_MAX (4ULL * 1024 * 1024 * 1024)
/* Commands kept in flight with PIPELINING (RFC 2449): enough to fill a
 * long, fast path (256 messages of 20 KB are 5 MB per round trip), and
 * only ~3 KB of command text, which any server's input buffer holds. */
#define POP_WINDOW 256
/* Messages per group commit by default: as imap-sync's, enough files for
 * the sync lanes (maildir.h) to flush together, and no more than the
 * Maildir keeps open (256). */
#define POP_GROUP 256

/* What becomes of each message on the server in this run.  Only F_DONE
 * (delivered by this run) and F_VERIFIED (its content matched a recorded
 * delivery in this run) may be deleted: a UIDL alone proves nothing, as a
 * server may reuse one (RFC 1939 §7 says it should not). */
enum fate { F_NONE, F_SEEN, F_BIG, F_TODO, F_VERIFY, F_VERIFIED, F_DONE,
	F_GONE, F_DELETED };

struct msg {
	unsigned long num;
	unsigned long long size;
	char *uid;
	char tag[MF_POPSTATE_TAG_LEN + 1];
	char hash[MF_POPSTATE_HASH_LEN + 1]; /* of the content, once read */
	int dup;                  /* its UIDL is listed more than once */
	enum fate fate;
};

/* A P= tag found in the Maildir and the H= content hash next to it ("" in
 * files of older versions). */
#define TAGREC (MF_POPSTATE_TAG_LEN + MF_POPSTATE_HASH_LEN)

struct fetch {
	const struct mf_popfetch_params *fp;
	struct mf_pop3 *p;
	struct mf_popstate *state;
	struct mf_maildir *md;
	struct msg *msgs;
	unsigned long n;
	struct msg **by_uid;      /* sorted by UID: "is it still there" */
	char *tags;               /* sorted TAGREC records from the Maildir */
	size_t ntags, tagcap;
	unsigned long bare_kept;  /* recorded without identity: not deleted */
	unsigned long recovered;  /* verified against the Maildir only */
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

static int
cmp_tagrec(const void *a, const void *b)
{
	return memcmp(a, b, TAGREC);
}

/* The first of the Maildir records with m's tag, and their number. */
static const char *
tag_records(struct fetch *f, const struct msg *m, size_t *n)
{
	const char *hit, *first, *end = f->tags + f->ntags * TAGREC;

	*n = 0;
	if (f->ntags == 0)
		return NULL;
	hit = bsearch(m->tag, f->tags, f->ntags, TAGREC, cmp_tag);
	if (hit == NULL)
		return NULL;
	for (first = hit; first > f->tags &&
	    memcmp(first - TAGREC, m->tag, MF_POPSTATE_TAG_LEN) == 0;)
		first -= TAGREC;
	for (hit = first; hit < end &&
	    memcmp(hit, m->tag, MF_POPSTATE_TAG_LEN) == 0; hit += TAGREC)
		(*n)++;
	return first;
}

/* Was m's content (m->hash) delivered before: in the journal, or in the
 * Maildir under its tag? */
static int
content_known(struct fetch *f, const struct msg *m)
{
	const char *r;
	size_t i, n;

	if (mf_popstate_has_hash(f->state, m->uid, m->hash))
		return 1;
	r = tag_records(f, m, &n);
	for (i = 0; i < n; i++, r += TAGREC)
		if (memcmp(r + MF_POPSTATE_TAG_LEN, m->hash,
		    MF_POPSTATE_HASH_LEN) == 0)
			return 1;
	return 0;
}

/* Record m with its identity (LIST size and content hash). */
static int
record(struct fetch *f, const struct msg *m, struct mf_err *e)
{
	char id[32 + MF_POPSTATE_HASH_LEN];

	if (m->hash[0] == '\0')
		return mf_popstate_add(f->state, m->uid, e);
	if ((size_t)snprintf(id, sizeof(id), "%llu:%s", m->size, m->hash) >=
	    sizeof(id))
		return mf_err_set(e, MF_E_INTERNAL, "identity too long");
	return mf_popstate_add_id(f->state, m->uid, id, e);
}

/* One line of the UIDL listing: message num has UID uid. */
static int
on_uidl(void *arg, unsigned long num, const char *uid, struct mf_err *e)
{
	struct fetch *f = arg;

	if (num > f->n || f->msgs[num - 1].uid != NULL)
		return mf_err_set(e, MF_E_PROTO, "UIDL lists message %lu, which "
		    "STAT did not announce or was listed twice", num);
	f->msgs[num - 1].uid = strdup(uid);
	if (f->msgs[num - 1].uid == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "UIDL listing");
	return 0;
}

/* One line of the LIST listing: message num has size bytes. */
static int
on_list(void *arg, unsigned long num, unsigned long long size,
        struct mf_err *e)
{
	struct fetch *f = arg;

	if (num > f->n)
		return mf_err_set(e, MF_E_PROTO, "LIST lists message %lu, which "
		    "STAT did not announce", num);
	f->msgs[num - 1].size = size;
	return 0;
}

/* UIDL (RFC 1939 §7): without it we cannot tell new from old. */
static int
load_listings(struct fetch *f, struct mf_err *e)
{
	int r;

	r = mf_pop3_uidl(f->p, f->n, on_uidl, f, e);
	if (r == 0)
		return mf_err_set(e, MF_E_UNSUPPORTED, "the server does not "
		    "support UIDL (RFC 1939 §7): pop-fetch cannot tell new "
		    "messages from old ones, nothing fetched");
	if (r == -1)
		return -1;
	r = mf_pop3_list(f->p, f->n, on_list, f, e);
	if (r != 1)
		return r == 0 ? mf_err_set(e, MF_E_PROTO, "LIST refused") : -1;
	return 0;
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
	char tag[64], hash[64], *rec;
	char *nt;

	if (mf_maildir_name_field(name, "P", tag, sizeof(tag)) == -1 ||
	    strlen(tag) != MF_POPSTATE_TAG_LEN)
		return 0;
	if (mf_maildir_name_field(name, "H", hash, sizeof(hash)) == -1 ||
	    strlen(hash) != MF_POPSTATE_HASH_LEN)
		hash[0] = '\0';
	if (f->ntags == f->tagcap) {
		f->tagcap = f->tagcap ? f->tagcap * 2 : 256;
		nt = realloc(f->tags, f->tagcap * TAGREC);
		if (nt == NULL)
			return -1;
		f->tags = nt;
	}
	rec = f->tags + f->ntags++ * TAGREC;
	memset(rec, 0, TAGREC);
	memcpy(rec, tag, MF_POPSTATE_TAG_LEN);
	memcpy(rec + MF_POPSTATE_TAG_LEN, hash, strlen(hash));
	return 0;
}

/* Messages delivered before a crash but not yet in the journal are in the
 * Maildir with our tag.  Files with a content hash (H=) are compared with
 * the server's message first (F_VERIFY): the tag only names the UIDL, and
 * a server may reuse one.  Files of older versions (no H=) are recorded
 * without fetching, as before, but never deleted by this run. */
static int
recover(struct fetch *f, struct mf_err *e)
{
	unsigned long i, found = 0;
	const char *r;
	size_t k, n;
	int hashed;

	if (mf_maildir_scan(f->md, scan_tag, f, e) != 0)
		return e != NULL && e->kind != MF_OK ? -1 :
		    mf_err_set(e, MF_E_NOMEM, "Maildir scan");
	if (f->ntags == 0)
		return 0;
	qsort(f->tags, f->ntags, TAGREC, cmp_tagrec);
	for (i = 0; i < f->n; i++) {
		/* a recorded UIDL was judged by judge_known() already */
		if (f->msgs[i].fate != F_TODO ||
		    mf_popstate_has(f->state, f->msgs[i].uid))
			continue;
		r = tag_records(f, &f->msgs[i], &n);
		for (hashed = 0, k = 0; k < n; k++)
			if (r[k * TAGREC + MF_POPSTATE_TAG_LEN] != '\0')
				hashed = 1;
		if (n == 0 || (!hashed && f->msgs[i].dup))
			continue;
		f->st->todo--;
		f->st->todo_bytes -= f->msgs[i].size;
		if (hashed) {
			f->msgs[i].fate = F_VERIFY;
			continue;
		}
		if (mf_popstate_add(f->state, f->msgs[i].uid, e) == -1)
			return -1;
		f->msgs[i].fate = F_SEEN;
		f->st->skipped++;
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

/* A recorded UIDL: is it still the message we delivered?  A different
 * LIST size says no at once; a content check (F_VERIFY, one RETR) is
 * needed before a DELE, and when the listing holds the UIDL twice. */
static enum fate
judge_known(struct fetch *f, struct msg *m)
{
	int bare = mf_popstate_has_bare(f->state, m->uid);
	char shown[80];

	if (!bare && !mf_popstate_has_size(f->state, m->uid, m->size)) {
		esc(m->uid, shown, sizeof(shown));
		notice(f, "message %lu: UIDL %s was recorded for a message of "
		    "another size: the server reused it, fetching the new "
		    "message", m->num, shown);
		return F_TODO;
	}
	if (bare && !m->dup) {
		if (f->fp->delete_after)
			f->bare_kept++;
		return F_SEEN;
	}
	return m->dup || f->fp->delete_after ? F_VERIFY : F_SEEN;
}

/* Mark the messages whose UIDL the listing holds more than once. */
static void
mark_dups(struct fetch *f)
{
	unsigned long i, dups = 0;
	char shown[80] = "";

	for (i = 1; i < f->n; i++) {
		if (strcmp(f->by_uid[i - 1]->uid, f->by_uid[i]->uid) != 0)
			continue;
		if (!f->by_uid[i - 1]->dup)
			dups++;
		f->by_uid[i - 1]->dup = f->by_uid[i]->dup = 1;
		esc(f->by_uid[i]->uid, shown, sizeof(shown));
	}
	if (dups > 0)
		notice(f, "the server lists %lu UIDL(s) for more than one "
		    "message (last: %s, RFC 1939 §7 forbids it): those are "
		    "told apart by content", dups, shown);
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
	}
	qsort(f->by_uid, f->n, sizeof(*f->by_uid), cmp_msg);
	mark_dups(f);
	for (i = 0; i < f->n; i++) {
		m = &f->msgs[i];
		if (mf_popstate_tag(fp->account, m->uid, m->tag, sizeof(m->tag),
		    e) == -1)
			return -1;
		m->fate = F_TODO;
		if (!fp->all && mf_popstate_has(f->state, m->uid))
			m->fate = judge_known(f, m);
		if (m->fate == F_SEEN)
			continue;
		if (fp->max_size > 0 && m->size > fp->max_size) {
			m->fate = F_BIG;
			f->st->skipped++;
			notice(f, "message %lu (%llu bytes) left on the server: "
			    "bigger than --max-size", m->num, m->size);
		} else if (m->fate == F_TODO &&
		    (fp->limit == 0 || f->st->todo < fp->limit)) {
			f->st->todo++;
			f->st->todo_bytes += m->size;
		} else if (m->fate == F_TODO) {
			m->fate = F_NONE;
		}
	}
	if (f->md != NULL && !fp->all && f->st->todo > 0 && recover(f, e) == -1)
		return -1;
	if (f->bare_kept > 0)
		notice(f, "%lu message(s) recorded by an older pop-fetch without "
		    "a content hash are left on the server: a UIDL alone is no "
		    "proof that this is the message delivered", f->bare_kept);
	return 0;
}

/* What the reply (r: 1 +OK, 0 -ERR) to m's DELE means. */
static void
dele_reply(struct fetch *f, struct msg *m, int r, const char *text)
{
	char shown[160], line[32];

	if (r == 1) {
		m->fate = F_DELETED;
		f->st->deleted++;
		return;
	}
	esc(text, shown, sizeof(shown));
	if (mf_pop3_cmd_line(MF_POP3_DELE, m->num, line, sizeof(line), NULL) ==
	    -1)
		line[0] = '\0';
	notice(f, "%s refused: -ERR %s", line, shown);
	f->st->dele_failed++;
}

/* A new array of the messages whose fate is fate (their number in *k);
 * the caller frees it. */
static struct msg **
pick(struct fetch *f, enum fate fate, unsigned long *k, struct mf_err *e)
{
	struct msg **list = calloc(f->n + 1, sizeof(*list));
	unsigned long i;

	*k = 0;
	if (list == NULL) {
		mf_err_sys(e, MF_E_NOMEM, errno, "message list");
		return NULL;
	}
	for (i = 0; i < f->n; i++)
		if (f->msgs[i].fate == fate)
			list[(*k)++] = &f->msgs[i];
	return list;
}

/* ---- delivery: Maildir or MDA ---- */

struct sink {
	struct fetch *f;
	struct mf_hash_ctx *hash;
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
	mf_hash_update(s->hash, data, n);
	if (s->mm != NULL)
		return mf_maildir_write(s->mm, data, n, e);
	if (s->mda_fd == -1)  /* only hashing */
		return 0;
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
		mf_cred_scrub_env();  /* the MDA gets no password */
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

/* End the content hash of s into m->hash. */
static void
hash_done(struct sink *s, struct msg *m)
{
	unsigned char md[32];
	char hex[65];

	mf_hash_end(s->hash, md);
	s->hash = NULL;
	mf_hex(md, sizeof(md), hex);
	hex[MF_POPSTATE_HASH_LEN] = '\0';
	mf_strlcpy(m->hash, hex, sizeof(m->hash));
}

static unsigned long long
body_max(const struct msg *m)
{
	/* servers' LIST sizes are approximate; a flood must still end */
	unsigned long long max = m->size * 2 + 1024 * 1024;

	return max > MSG_ABS_MAX ? MSG_ABS_MAX : max;
}

/* The body of one RETR reply, only hashed: is it a message delivered
 * before (F_VERIFIED) or a new one under a reused UIDL (F_TODO)? */
static int
verify(struct fetch *f, struct msg *m, struct mf_err *e)
{
	struct sink s;
	char shown[80];

	memset(&s, 0, sizeof(s));
	s.f = f;
	s.mda_fd = -1;
	s.hash = mf_hash_begin(MF_SHA256, e);
	if (s.hash == NULL)
		return -1;
	if (mf_pop3_read_body(f->p, MF_POP3_BODY_LINE_MAX, body_max(m),
	    sink_deliver, &s, e) == -1) {
		mf_hash_end(s.hash, NULL);
		return -1;
	}
	hash_done(&s, m);
	if (content_known(f, m)) {
		if (!mf_popstate_has_hash(f->state, m->uid, m->hash))
			f->recovered++;
		m->fate = F_VERIFIED;
		return record(f, m, e);
	}
	esc(m->uid, shown, sizeof(shown));
	notice(f, "message %lu: UIDL %s was recorded for a message with other "
	    "content: the server reused it, fetching the new message", m->num,
	    shown);
	m->fate = F_TODO;
	f->st->todo++;
	f->st->todo_bytes += m->size;
	return 0;
}

/* The body of one RETR reply, into the Maildir (tmp -> new) or the MDA. */
static int
deliver(struct fetch *f, struct msg *m, struct mf_err *e)
{
	struct sink s;
	char fields[16 + MF_POPSTATE_TAG_LEN + MF_POPSTATE_HASH_LEN];
	int r;

	memset(&s, 0, sizeof(s));
	s.f = f;
	s.mda_fd = -1;
	s.hash = mf_hash_begin(MF_SHA256, e);
	if (s.hash == NULL)
		return -1;
	if (f->md != NULL) {
		s.mm = mf_maildir_begin(f->md, e);
		if (s.mm == NULL) {
			mf_hash_end(s.hash, NULL);
			return -1;
		}
	} else if (mda_start(&s, f->fp->mda, e) == -1) {
		mf_hash_end(s.hash, NULL);
		return -1;
	}
	r = mf_pop3_read_body(f->p, MF_POP3_BODY_LINE_MAX, body_max(m),
	    sink_deliver, &s, e);
	hash_done(&s, m);
	if (f->md != NULL) {
		if (r == -1) {
			mf_maildir_abort(s.mm);
			return -1;
		}
		fields[0] = '\0';
		if (mf_maildir_field_add(fields, sizeof(fields), "P", m->tag) ==
		    -1 || mf_maildir_field_add(fields, sizeof(fields), "H",
		    m->hash) == -1) {
			mf_maildir_abort(s.mm);
			return mf_err_set(e, MF_E_INTERNAL, "Maildir fields too long");
		}
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

/* -ERR to m's RETR: it vanished since LIST; the others go on. */
static void
retr_gone(struct fetch *f, struct msg *m, const char *text)
{
	char shown[160];

	esc(text, shown, sizeof(shown));
	notice(f, "message %lu could not be retrieved: -ERR %s", m->num, shown);
	mf_strlcpy(f->gone_text, shown, sizeof(f->gone_text));
	m->fate = F_GONE;
	f->gone++;
	f->st->skipped++;
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
		if (list[i]->fate == F_DONE && record(f, list[i], NULL) == -1)
			return;
	mf_popstate_sync(f->state, NULL);
}

/*
 * The window: cmd (RETR or DELE) for list[0..n), with at most f->window
 * commands unanswered (1 without PIPELINING).  A pipelining server
 * answers in order (RFC 2449 §6.6) and pop3.c remembers what was sent, so
 * each reply names its command and message.
 *
 * With groups (batch > 0) the RETR window never drains for a group
 * commit: the next group's RETRs go out before the group is synced and
 * recorded, so the server streams while the disk works, and the group's
 * DELEs queue behind them (counted in the window).  Crash safety is the
 * group commit's, unchanged: a DELE is sent only once its message is
 * synced and recorded, and deletions happen only at QUIT (RFC 1939 §6).
 */
struct window {
	struct msg **list;
	unsigned long n, sent, got;  /* replies to cmd read */
	unsigned long start;         /* the group's first */
	unsigned long fstart, fn;    /* a group syncing: list[fstart..+fn),
	                                fn 0 when none is */
	enum mf_pop3_cmd cmd;
	int check;                   /* RETR: only hash each body */
	unsigned batch;              /* RETRs per group commit; 0: none */
};

/* Once half the window is answered, send commands until it is full
 * again: one write (one TLS record) carries half a window of commands,
 * and the server always has the other half to work on. */
static int
win_fill(struct fetch *f, struct window *w, struct mf_err *e)
{
	if (mf_pop3_pending(f->p) > f->window / 2)
		return 0;
	while (w->sent < w->n && mf_pop3_pending(f->p) < f->window)
		if (mf_pop3_queue(f->p, w->cmd, w->list[w->sent++]->num, e) ==
		    -1)
			return -1;
	return mf_pop3_flush(f->p, e);
}

/* Read the oldest reply: a DELE's, or a RETR's with its body. */
static int
win_read(struct fetch *f, struct window *w, struct mf_err *e)
{
	char text[MF_POP3_LINE_MAX];
	enum mf_pop3_cmd cmd;
	unsigned long num;
	struct msg *m;
	int r;

	r = mf_pop3_reply(f->p, &cmd, &num, text, sizeof(text), e);
	if (r == -1)
		return -1;
	m = &f->msgs[num - 1];
	if (cmd == w->cmd)
		w->got++;
	if (cmd == MF_POP3_DELE) {
		dele_reply(f, m, r, text);
		return 0;
	}
	if (r == 0) {
		retr_gone(f, m, text);
		return 0;
	}
	return w->check ? verify(f, m, e) : deliver(f, m, e);
}

/* The group syncing is durable: wait for it, record it and (dele) queue
 * its DELEs. */
static int
win_settle(struct fetch *f, struct window *w, int dele, struct mf_err *e)
{
	struct msg **list = w->list + w->fstart;
	unsigned long i, n = w->fn;

	if (n == 0)
		return 0;
	w->fn = 0;
	if (f->md != NULL && mf_maildir_sync_wait(f->md, e) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (list[i]->fate == F_DONE && record(f, list[i], e) == -1)
			return -1;
	if (mf_popstate_sync(f->state, e) == -1)
		return -1;
	for (i = 0; dele && i < n; i++)
		if (list[i]->fate == F_DONE && mf_pop3_queue(f->p, MF_POP3_DELE,
		    list[i]->num, e) == -1)
			return -1;
	return dele ? mf_pop3_flush(f->p, e) : 0;
}

/* The group list[start..got) is read: the one syncing before it is
 * settled, and this one starts syncing while the next arrives. */
static int
win_commit(struct fetch *f, struct window *w, struct mf_err *e)
{
	if (win_settle(f, w, f->fp->delete_after, e) == -1)
		return -1;
	w->fstart = w->start;
	w->fn = w->got - w->start;
	w->start = w->got;
	return f->md != NULL ? mf_maildir_sync_start(f->md, e) : 0;
}

/* A failure inside the window: the group syncing is settled (without
 * DELEs) and what the current one delivered is salvaged. */
static void
win_salvage(struct fetch *f, struct window *w)
{
	struct mf_err e2;

	mf_err_clear(&e2);
	if (win_settle(f, w, 0, &e2) == 0)
		salvage(f, w->list + w->start, w->got - w->start);
}

static int
win_run(struct fetch *f, struct window *w, struct mf_err *e)
{
	for (;;) {
		while (w->got < w->n || mf_pop3_pending(f->p) > 0) {
			if (win_fill(f, w, e) == -1)
				return -1;
			if (win_read(f, w, e) == -1) {
				if (w->batch > 0)
					win_salvage(f, w);
				return -1;
			}
			if (w->batch > 0 && w->got > w->start &&
			    (w->got - w->start == w->batch || w->got == w->n)) {
				/* the next RETRs first: the server sends meanwhile */
				if (win_fill(f, w, e) == -1 ||
				    win_commit(f, w, e) == -1)
					return -1;
			}
		}
		if (w->fn == 0)
			return 0;
		/* the last group; the replies to its DELEs are read above */
		if (win_settle(f, w, f->fp->delete_after, e) == -1)
			return -1;
	}
}

/* cmd for list[0..n) within the window, without group commits; RETR
 * bodies are delivered, or only hashed with check. */
static int
window(struct fetch *f, enum mf_pop3_cmd cmd, struct msg **list,
       unsigned long n, int check, struct mf_err *e)
{
	struct window w;

	memset(&w, 0, sizeof(w));
	w.list = list;
	w.n = n;
	w.cmd = cmd;
	w.check = check;
	return win_run(f, &w, e);
}

/* DELE the messages whose content this run matched with a recorded
 * delivery; nothing else this run did not deliver itself. */
static int
dele_verified(struct fetch *f, struct mf_err *e)
{
	unsigned long k;
	struct msg **list = pick(f, F_VERIFIED, &k, e);
	int r;

	if (list == NULL)
		return -1;
	r = window(f, MF_POP3_DELE, list, k, 0, e);
	free(list);
	return r;
}

/* One group: fetch, make durable, record, then delete. */
static int
group(struct fetch *f, struct msg **list, unsigned long n, struct mf_err *e)
{
	unsigned long i, k = 0;

	if (window(f, MF_POP3_RETR, list, n, 0, e) == -1) {
		salvage(f, list, n);
		return -1;
	}
	if (f->md != NULL && mf_maildir_sync(f->md, e) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (list[i]->fate != F_DONE)
			continue;
		if (record(f, list[i], e) == -1)
			return -1;
		list[k++] = list[i];
	}
	if (mf_popstate_sync(f->state, e) == -1)
		return -1;
	return f->fp->delete_after ? window(f, MF_POP3_DELE, list, k, 0, e) :
	    0;
}

/* Read the F_VERIFY messages (content hash only), record those that
 * match a delivery (one group commit), and DELE them when asked. */
static int
verify_all(struct fetch *f, struct mf_err *e)
{
	unsigned long k;
	struct msg **list = pick(f, F_VERIFY, &k, e);
	int r;

	if (list == NULL)
		return -1;
	r = k > 0 ? window(f, MF_POP3_RETR, list, k, 1, e) : 0;
	if (r == 0 && k > 0)
		r = mf_popstate_sync(f->state, e);
	if (r == 0 && f->recovered > 0)
		notice(f, "%lu message(s) already in the Maildir from an "
		    "interrupted run (same content): recorded, not delivered "
		    "again", f->recovered);
	if (r == 0 && f->fp->delete_after)
		r = dele_verified(f, e);
	free(list);
	return r;
}

/* With PIPELINING: one window over all the messages to fetch, committed
 * group by group. */
static int
fetch_stream(struct fetch *f, struct mf_err *e)
{
	struct window w;
	int r;

	memset(&w, 0, sizeof(w));
	w.cmd = MF_POP3_RETR;
	w.batch = f->fp->batch ? f->fp->batch : POP_GROUP;
	if ((w.list = pick(f, F_TODO, &w.n, e)) == NULL)
		return -1;
	r = win_run(f, &w, e);
	free(w.list);
	return r;
}

static int
fetch_all(struct fetch *f, struct mf_err *e)
{
	unsigned batch = f->fp->batch ? f->fp->batch : POP_GROUP;
	struct msg **list;
	unsigned long i, k = 0;
	int r = 0;

	if (f->window > 1)
		return fetch_stream(f, e);
	if ((list = calloc(batch, sizeof(*list))) == NULL)
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
	if (pipe && (mf_pop3_queue(f->p, MF_POP3_STAT, 0, e) == -1 ||
	    mf_pop3_queue(f->p, MF_POP3_UIDL, 0, e) == -1 ||
	    mf_pop3_queue(f->p, MF_POP3_LIST, 0, e) == -1))
		return -1;
	if (mf_pop3_stat(f->p, &f->n, &total, e) == -1)
		return -1;
	f->st->listed = f->n;
	f->msgs = calloc(f->n + 1, sizeof(*f->msgs));
	f->by_uid = calloc(f->n + 1, sizeof(*f->by_uid));
	if (f->msgs == NULL || f->by_uid == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "message table");
	for (i = 0; i < f->n; i++)
		f->msgs[i].num = i + 1;
	f->window = !mf_pop3_capa(f->p)->pipelining ? 1 :
	    f->fp->batch > POP_WINDOW ? f->fp->batch : POP_WINDOW;
	if ((f->n > 0 || pipe) && load_listings(f, e) == -1)
		return -1;
	if (f->n > 0 && select_msgs(f, e) == -1)
		return -1;
	progress(f);
	if (verify_all(f, e) == -1)
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
	if (f->st->dele_failed > 0)
		return mf_err_set(e, MF_E_TEMP, "%lu message(s) could not be "
		    "deleted on the server (DELE refused); they were delivered "
		    "and stay recorded", f->st->dele_failed);
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

/* The retrieve step; p is the session when the caller opened one
 * (mf_popfetch_run_on), else NULL: connect and log in once the local side
 * (state, Maildir) is known to work. */
static int
run(const struct mf_popfetch_params *fp, struct mf_pop3 *p,
    struct mf_popfetch_stats *st, struct mf_err *e)
{
	struct mf_popfetch_stats dummy;
	struct fetch f;
	int r = -1;

	memset(&f, 0, sizeof(f));
	f.fp = fp;
	f.p = p;
	f.st = st != NULL ? st : &dummy;
	memset(f.st, 0, sizeof(*f.st));
	clock_gettime(CLOCK_MONOTONIC, &f.t0);
	if ((fp->maildir == NULL) == (fp->mda == NULL)) {
		mf_pop3_free(p);
		return mf_err_set(e, MF_E_USAGE, "deliver to a Maildir or an MDA");
	}
	f.state = mf_popstate_open(fp->state, e);
	if (f.state == NULL)
		goto done;
	if (fp->maildir != NULL) {
		f.md = mf_maildir_open(fp->maildir, 1, e);
		if (f.md == NULL)
			goto done;
		/* Each group ends in mf_maildir_sync() before anything is
		 * recorded or deleted: each file fdatasynced (its write-back
		 * started at commit), the directories fsynced once per group. */
		mf_maildir_set_batch(f.md, 1);
	}
	if (f.p == NULL) {
		f.p = mf_pop3_connect(&fp->conn, e);
		if (f.p == NULL || mf_pop3_auth(f.p, &fp->conn.cred, NULL, 0, e) ==
		    -1)
			goto done;
	}
	r = session(&f, e);
done:
	progress(&f);
	fetch_free(&f);
	return r;
}

int
mf_popfetch_run(const struct mf_popfetch_params *fp,
                struct mf_popfetch_stats *st, struct mf_err *e)
{
	return run(fp, NULL, st, e);
}

int
mf_popfetch_run_on(struct mf_pop3 *p, const struct mf_popfetch_params *fp,
                   struct mf_popfetch_stats *st, struct mf_err *e)
{
	if (p == NULL)
		return mf_err_set(e, MF_E_USAGE, "no POP3 session");
	return run(fp, p, st, e);
}
