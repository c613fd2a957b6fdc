/* imapsync_fetch.c - new messages streamed from UID FETCH BODY.PEEK[]
 * literals straight into Maildir files (never a whole message in memory),
 * recorded in the sync state only after a group commit made them
 * durable. */
#include "imapsync_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "imapflags.h"

#define GROUP_COMMIT_MSGS  256
#define GROUP_COMMIT_BYTES (32u << 20)

static int
ends_with_ci(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && !strncasecmp(s + n - k, suffix, k);
}

static int
lit_begin(void *arg, const char *prefix, size_t n, uint64_t size)
{
	struct frun *fr = arg;

	(void)size;
	while (n && prefix[n - 1] == ' ')
		n--;
	if (!ends_with_ci(prefix, n, "BODY[]"))
		return 0;
	if (fr->msg) {
		mf_err_set(&fr->herr, MF_E_PROTO, "two message bodies in one FETCH");
		return -1;
	}
	fr->msg = mf_maildir_begin(fr->md, &fr->herr);
	fr->cr = 0;
	fr->body_done = 0;
	return fr->msg ? 1 : -1;
}

/* CRLF -> LF: a Maildir holds messages with local line endings. */
static int
lit_data(void *arg, const char *p, size_t n)
{
	struct frun *fr = arg;
	char out[16384];
	size_t o = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (fr->cr) {
			fr->cr = 0;
			if (p[i] != '\n')
				out[o++] = '\r';
		}
		if (p[i] == '\r') {
			fr->cr = 1;
			continue;
		}
		out[o++] = p[i];
		if (o >= sizeof out - 2) {
			if (mf_maildir_write(fr->msg, out, o, &fr->herr) == -1)
				return -1;
			o = 0;
		}
	}
	return o ? mf_maildir_write(fr->msg, out, o, &fr->herr) : 0;
}

static int
lit_end(void *arg)
{
	struct frun *fr = arg;

	fr->body_done = 1;
	if (fr->cr) {
		fr->cr = 0;
		return mf_maildir_write(fr->msg, "\r", 1, &fr->herr);
	}
	return 0;
}

void
isync_pending_clear(struct pending *v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		free(v[i].base);
		free(v[i].flags);
	}
	*n = 0;
}

/* The group syncing since group_start(): once its files and directory
 * entries are durable, into the state (the journal committed).  On
 * failure none of it is recorded. */
static int
group_settle(struct frun *fr, struct mf_err *e)
{
	int rc;
	size_t i;

	if (!fr->nfly)
		return 0;
	rc = mf_maildir_sync_wait(fr->md, e);
	for (i = 0; rc == 0 && i < fr->nfly; i++)
		if (mf_syncstate_put(fr->st, fr->fly[i].uid, fr->fly[i].flags, 0,
		                     fr->fly[i].base, e) == -1)
			rc = -1;
	isync_pending_clear(fr->fly, &fr->nfly);
	return rc == 0 ? mf_syncstate_commit(fr->st, e) : -1;
}

/* The pending group starts syncing on the Maildir's thread while the
 * next one arrives; the group before it is settled first. */
static int
group_start(struct frun *fr, struct mf_err *e)
{
	struct pending *t = fr->fly;
	size_t c = fr->capfly;

	if (group_settle(fr, e) == -1)
		return -1;
	if (!fr->npend)
		return 0;
	fr->fly = fr->pend;
	fr->capfly = fr->cappend;
	fr->nfly = fr->npend;
	fr->pend = t;
	fr->cappend = c;
	fr->npend = 0;
	fr->pend_bytes = 0;
	if (mf_maildir_sync_start(fr->md, e) == 0)
		return 0;
	/* not made durable: none of it may be recorded */
	isync_pending_clear(fr->fly, &fr->nfly);
	return -1;
}

/* Note the committed file "cur/BASE:2,FLAGS" or "new/BASE" for the next
 * group commit, with its flag set. */
static int
pend_add(struct frun *fr, uint32_t uid, const char *flags,
         const char *name, struct mf_err *e)
{
	char base[256];

	if (fr->npend == fr->cappend) {
		size_t nc = fr->cappend ? fr->cappend * 2 : 64;
		void *nv = realloc(fr->pend, nc * sizeof *fr->pend);
		if (!nv)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
		fr->pend = nv;
		fr->cappend = nc;
	}
	if (mf_maildir_name_base(name, base, sizeof base) == -1)
		return mf_err_set(e, MF_E_INTERNAL, "Maildir name too long: %s",
		                  name);
	fr->pend[fr->npend].uid = uid;
	fr->pend[fr->npend].flags = strdup(flags);
	fr->pend[fr->npend].base = strdup(base);
	if (!fr->pend[fr->npend].base || !fr->pend[fr->npend].flags) {
		free(fr->pend[fr->npend].base);
		free(fr->pend[fr->npend].flags);
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	}
	fr->npend++;
	return 0;
}

/* Only UIDs asked for, below UIDNEXT, may become files and state: a
 * server answering with other UIDs (RFC 3501 §6.4.8 allows unsolicited
 * FETCH, not bodies for UIDs nobody asked) must not plant a message that
 * would hide the real one with that UID later. */
static int
wanted(struct frun *fr, uint64_t uid)
{
	if (uid && uid <= 0xFFFFFFFFu &&
	    (!fr->want || isync_uids_has(fr->want, (uint32_t)uid)) &&
	    (!fr->uidnext || uid < fr->uidnext))
		return 1;
	isync_warnf(fr->c, "%s: ignoring a message body for UID %llu, which "
	            "was not asked for%s", fr->f->utf8, (unsigned long long)uid,
	            fr->uidnext && uid >= fr->uidnext ? " (at or above UIDNEXT)"
	                                              : "");
	return 0;
}

static int commit_body(struct frun *fr, const struct mf_imap_fetch *m,
                       struct mf_err *e);

/* A FETCH without a streamed literal: an unsolicited flags update (no
 * BODY[]), a body sent as a quoted string (RFC 3501 §4.3 allows it:
 * delivered like a literal), or NIL (counted, not recorded: tried again
 * next run). */
static int
fetch_inline(struct frun *fr, const struct mf_imap_fetch *m,
             struct mf_err *e)
{
	uint64_t uid = m->uid;

	if (m->body == MF_IMAP_BODY_NONE)
		return 0;
	if (!wanted(fr, uid))
		return 0;
	if (m->body != MF_IMAP_BODY_INLINE) {
		isync_warnf(fr->c, "%s: the server sent no body for UID %llu "
		            "(NIL): not recorded, tried again next run",
		            fr->f->utf8, (unsigned long long)uid);
		fr->res.bodies_skipped++;
		if (!fr->min_skipped || uid < fr->min_skipped)
			fr->min_skipped = (uint32_t)uid;
		return 0;
	}
	fr->msg = mf_maildir_begin(fr->md, e);
	if (!fr->msg)
		return -1;
	fr->cr = 0;
	if (lit_data(fr, m->body_data, m->body_len) == -1 || lit_end(fr) == -1) {
		*e = fr->herr;
		mf_maildir_abort(fr->msg);
		fr->msg = NULL;
		return -1;
	}
	return commit_body(fr, m, e);
}

/* Each message of the UID FETCH: its body was streamed into fr->msg by
 * the literal hooks, or came inline. */
static int
fetch_body_cb(void *arg, const struct mf_imap_fetch *m,
              struct mf_err *e)
{
	struct frun *fr = arg;

	if (!fr->msg)
		return fetch_inline(fr, m, e);
	if (!fr->body_done)
		return mf_err_set(e, MF_E_PROTO, "FETCH body ended early");
	if (!m->uid) {
		mf_maildir_abort(fr->msg);
		fr->msg = NULL;
		return mf_err_set(e, MF_E_PROTO, "FETCH body without UID");
	}
	if (!wanted(fr, m->uid)) {
		mf_maildir_abort(fr->msg);
		fr->msg = NULL;
		return 0;
	}
	return commit_body(fr, m, e);
}

/* Fetched in this group already (a server sending one body twice)? */
static int
pending_has(const struct frun *fr, uint64_t uid)
{
	size_t i;

	for (i = 0; i < fr->npend; i++)
		if (fr->pend[i].uid == uid)
			return 1;
	for (i = 0; i < fr->nfly; i++)
		if (fr->fly[i].uid == uid)
			return 1;
	return 0;
}

/* fr->msg (complete) becomes NAME,U=uid, pending the group commit: in
 * new/ when it is unseen and carries nothing else (new/ names have no
 * info part, and MUAs count new/ as new mail), else in cur/ with its
 * letters. */
static int
commit_body(struct frun *fr, const struct mf_imap_fetch *fm,
            struct mf_err *e)
{
	char flags[MF_FLAGSET_MAX] = "", letters[64], fields[32], name[512];
	uint32_t uid = fm->uid;
	struct mf_maildir_msg *m;
	size_t size;

	if (fm->has_flags)
		mf_imapflags_from_names(fm->flags, fm->nflags, flags, sizeof flags);
	m = fr->msg;
	fr->msg = NULL;
	if (mf_syncstate_get(fr->st, uid) || pending_has(fr, uid)) {
		mf_maildir_abort(m);   /* already have it: a duplicate answer */
		return 0;
	}
	size = mf_maildir_msg_size(m);
	mf_maildir_field_num(fields, sizeof fields, "U", (unsigned long)uid);
	if (isync_file_letters(fr, "", flags, letters, sizeof letters, e) == -1) {
		mf_maildir_abort(m);
		return -1;
	}
	if (mf_maildir_commit(m, *letters ? "cur" : "new", fields, letters, name,
	                      sizeof name, e) == -1 ||
	    pend_add(fr, uid, flags, name, e) == -1)
		return -1;
	fr->pend_bytes += size;
	fr->res.fetched++;
	fr->res.bytes += size;
	if (fr->c->p->progress)
		fr->c->p->progress(fr->c->p->arg, fr->f->utf8, fr->res.fetched,
		                   fr->total_new);
	if (fr->c->p->stop && *fr->c->p->stop)   /* SIGTERM: this message is */
		return mf_err_set(e, MF_E_TEMP, "stopped");   /* kept, no more */
	if (fr->npend >= GROUP_COMMIT_MSGS || fr->pend_bytes >= GROUP_COMMIT_BYTES)
		return group_start(fr, e);
	return 0;
}

/* The bodies of want, streamed into the Maildir as they come. */
int
isync_fetch_bodies(struct frun *fr, const struct uids *want,
                   struct mf_err *e)
{
	struct mf_imap_hooks hk = { lit_begin, lit_data, lit_end, NULL, fr };
	struct mf_imap_events ev = { .fetch = fetch_body_cb, .arg = fr };
	int rc;
	struct mf_err e2;

	fr->total_new = want ? (unsigned long)want->n
	                     : (unsigned long)isync_store_box(fr->c)->exists;
	fr->want = want;
	mf_err_clear(&fr->herr);
	rc = want ? isync_store_fetch(fr->c, want, MF_IMAP_FETCH_FLAGS |
	                              MF_IMAP_FETCH_BODY, &hk, &ev, e)
	          : isync_store_fetch_from(fr->c, 1, MF_IMAP_FETCH_FLAGS |
	                                   MF_IMAP_FETCH_BODY, &hk, &ev, e);
	if (rc == -1 && fr->herr.kind != MF_OK)
		*e = fr->herr;
	if (fr->msg) {
		mf_maildir_abort(fr->msg);
		fr->msg = NULL;
	}
	/* what was committed before a failure is still recorded */
	mf_err_clear(&e2);
	if ((group_start(fr, rc == -1 ? &e2 : e) == -1 ||
	     group_settle(fr, rc == -1 ? &e2 : e) == -1) && rc == 0)
		rc = -1;
	return rc;
}

