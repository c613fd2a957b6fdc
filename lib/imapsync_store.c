/* imapsync_store.c - the server's folder as a message store, in the
 * engine's words: messages by UID set, flag sets, bodies, deletions and
 * uploads.  The IMAP commands behind them, the UID-set syntax (RFC 3501
 * §9 sequence-set) and how many commands are kept in flight belong here:
 * no other part of the engine formats a UID set or queues a message
 * command. */
#include "imapsync_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "imapflags.h"

#define STORE_WINDOW 16         /* commands in flight at a time */

/* The next command-sized piece of the sorted set u from *pos into out
 * ("1:5,7"); *pos moves past what was written. */
static void
uids_format(const struct uids *u, size_t *pos, char *out, size_t len)
{
	size_t o = 0, i = *pos;

	out[0] = '\0';
	while (i < u->n && o + 24 < len && o < UIDSET_MAX) {
		size_t j = i;
		int n;
		while (j + 1 < u->n && u->v[j + 1] == u->v[j] + 1)
			j++;
		n = j > i ? snprintf(out + o, len - o, "%s%u:%u", o ? "," : "",
		                     u->v[i], u->v[j])
		          : snprintf(out + o, len - o, "%s%u", o ? "," : "",
		                     u->v[i]);
		o += (size_t)n;
		i = j + 1;
	}
	*pos = i;
}

int
isync_store_fetch(struct isync *c, const struct uids *set, unsigned items,
                  const struct mf_imap_hooks *hk,
                  const struct mf_imap_events *ev, struct mf_err *e)
{
	unsigned tags[STORE_WINDOW];
	char s[UIDSET_MAX + 64];
	size_t pos = 0, nt, i;
	int rc = 0;

	if (hk)
		mf_imap_set_literal_hooks(c->im, hk);
	while (rc == 0 && pos < set->n) {
		/* a window of commands in flight keeps the pipe full */
		for (nt = 0; nt < STORE_WINDOW && pos < set->n; nt++) {
			uids_format(set, &pos, s, sizeof s);
			if (mf_imap_uid_fetch_send(c->im, s, MF_IMAP_FETCH_UID | items,
			                           &tags[nt], e) == -1) {
				rc = -1;
				break;
			}
		}
		for (i = 0; rc == 0 && i < nt; i++)
			if (mf_imap_wait_events(c->im, tags[i], ev, e) == -1)
				rc = -1;
	}
	if (hk)
		mf_imap_set_literal_hooks(c->im, NULL);
	return rc;
}

int
isync_store_fetch_from(struct isync *c, uint32_t from, unsigned items,
                       const struct mf_imap_events *ev, struct mf_err *e)
{
	char s[32];

	/* RFC 3501 §6.4.8: "n:*" names at least the highest UID, even
	 * below n, so callers check the UIDs they are handed */
	snprintf(s, sizeof s, "%u:*", from ? from : 1);
	return mf_imap_uid_fetch(c->im, s, MF_IMAP_FETCH_UID | items, ev, e);
}

int
isync_store_set_flags(struct isync *c, const struct store_op *ops,
                      size_t n, struct mf_err *e)
{
	unsigned *tags;
	size_t nt = 0, i;
	int rc = 0;

	if (!n)
		return 0;
	tags = calloc(2 * n, sizeof *tags);
	if (!tags)
		return mf_err_set(e, MF_E_NOMEM, "out of memory");
	/* RFC 3501 §6.4.6: +FLAGS and -FLAGS, every command in flight */
	for (i = 0; i < n && rc == 0; i++) {
		char fl[MF_FLAGSET_MAX + 64], s[16];
		snprintf(s, sizeof s, "%u", ops[i].uid);
		if (*ops[i].add) {
			mf_imapflags_to_imap(ops[i].add, fl, sizeof fl);
			rc = mf_imap_uid_store_send(c->im, s, MF_IMAP_STORE_ADD, fl,
			                            &tags[nt++], e);
		}
		if (*ops[i].del && rc == 0) {
			mf_imapflags_to_imap(ops[i].del, fl, sizeof fl);
			rc = mf_imap_uid_store_send(c->im, s, MF_IMAP_STORE_REMOVE,
			                            fl, &tags[nt++], e);
		}
	}
	for (i = 0; i < nt && rc == 0; i++)
		rc = mf_imap_wait_ok(c->im, tags[i], NULL, NULL, e);
	free(tags);
	return rc;
}

int
isync_store_delete(struct isync *c, const struct uids *del,
                   int (*done)(void *arg, const uint32_t *uids, size_t n,
                               struct mf_err *e),
                   void *arg, struct mf_err *e)
{
	char s[UIDSET_MAX + 64];
	size_t pos = 0;

	while (pos < del->n) {
		size_t start = pos;
		uids_format(del, &pos, s, sizeof s);
		if (mf_imap_uid_store(c->im, s, MF_IMAP_STORE_ADD, "\\Deleted",
		                      e) == -1)
			return -1;
		/* RFC 4315 §2.1: expunge only these, not others' \Deleted mail */
		if (c->uidplus && mf_imap_uid_expunge(c->im, s, e) == -1)
			return -1;
		if (done(arg, del->v + start, pos - start, e) == -1)
			return -1;
	}
	return 0;
}

int
isync_store_find_header(struct isync *c, uint32_t from, const char *field,
                        const char *value,
                        int (*each)(void *arg, uint32_t uid, struct mf_err *e),
                        void *arg, struct mf_err *e)
{
	return mf_imap_uid_search_header(c->im, from, field, value, each, arg, e);
}

int
isync_store_append(struct isync *c, const char *utf7, const char *flagset,
                   uint64_t size,
                   ssize_t (*read)(void *arg, char *buf, size_t n),
                   void *arg, uint32_t *uid, struct mf_err *e)
{
	char fl[MF_FLAGSET_MAX + 64];

	mf_imapflags_to_imap(flagset, fl, sizeof fl);
	return mf_imap_append(c->im, utf7, fl, size, read, arg, uid, e);
}
