/* test_imap_cmds.c - the typed IMAP commands of imap.h, over a scripted
 * transport (mf_imap_attach on memtransport.h): the exact bytes each one
 * writes (RFC 3501 §6, RFC 4315, RFC 5258, RFC 5465, RFC 7162), the
 * quoting of mailbox names and header strings, the refusal of CR, LF and
 * malformed UID sets before anything is queued, that the X_send() calls
 * only queue (so the engines can pipeline them in one write), and that
 * the blocking calls hand the replies on. */
#include <criterion/criterion.h>
#include <string.h>

#include "imap.h"
#include "memtransport.h"

#define CAPS "* OK [CAPABILITY IMAP4rev1 UIDPLUS LIST-EXTENDED SPECIAL-USE LIST-STATUS " \
             "CONDSTORE QRESYNC] hi\r\n"

struct session {
	struct memt m;
	struct mf_conn ip;
	struct mf_err e;
	struct mf_imap *im;
};

static void
open_session(struct session *s, const char *const *chunks, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->ip.host = "imap.test";
	mf_err_clear(&s->e);
	s->im = mf_imap_attach(memt_transport(&s->m, chunks, n), &s->ip, &s->e);
	cr_assert_not_null(s->im, "attach: %s", s->e.msg);
}

/* What the client wrote so far (queued commands flushed first). */
static const char *
written(struct session *s)
{
	cr_assert_eq(mf_imap_flush(s->im, &s->e), 0, "%s", s->e.msg);
	return s->m.written.data ? s->m.written.data : "";
}

static void
close_session(struct session *s)
{
	mf_imap_abandon(s->im);
	mf_imap_free(s->im);
	mf_buf_free(&s->m.written);
}

static const char *const greeting_only[] = { CAPS };

Test(imap_cmds, uid_fetch_items_in_order)
{
	struct session s;
	unsigned t1, t2, t3;

	open_session(&s, greeting_only, 1);
	cr_assert_eq(mf_imap_uid_fetch_send(s.im, "1:*", MF_IMAP_FETCH_UID |
	    MF_IMAP_FETCH_FLAGS, &t1, &s.e), 0, "%s", s.e.msg);
	cr_assert_eq(mf_imap_uid_fetch_send(s.im, "4,7:9", MF_IMAP_FETCH_BODY |
	    MF_IMAP_FETCH_FLAGS | MF_IMAP_FETCH_UID, &t2, &s.e), 0);
	cr_assert_eq(mf_imap_uid_fetch_send(s.im, "12:*", MF_IMAP_FETCH_UID |
	    MF_IMAP_FETCH_FLAGS | MF_IMAP_FETCH_SIZE | MF_IMAP_FETCH_MESSAGE_ID,
	    &t3, &s.e), 0);
	cr_assert(t1 > 0 && t2 > t1 && t3 > t2);
	cr_assert_str_eq(written(&s),
	    "A1 UID FETCH 1:* (UID FLAGS)\r\n"
	    "A2 UID FETCH 4,7:9 (UID FLAGS BODY.PEEK[])\r\n"
	    "A3 UID FETCH 12:* (UID FLAGS RFC822.SIZE "
	    "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\r\n");
	close_session(&s);
}

/* A set is a sequence set and nothing else: no command can ride on it. */
Test(imap_cmds, uid_fetch_refuses_bad_sets_and_items)
{
	static const char *const bad[] = {
		"", "1 BODY[]", "1\r\nA9 DELETE INBOX", "1\n", "abc", "1:*)",
	};
	struct session s;
	unsigned t = 99;

	open_session(&s, greeting_only, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		mf_err_clear(&s.e);
		t = 99;
		cr_assert_eq(mf_imap_uid_fetch_send(s.im, bad[i],
		    MF_IMAP_FETCH_UID, &t, &s.e), -1, "set \"%s\"", bad[i]);
		cr_assert_eq(s.e.kind, MF_E_DATA);
		cr_assert_eq(t, 0);
	}
	cr_assert_eq(mf_imap_uid_fetch_send(s.im, "1", 0, &t, &s.e), -1);
	cr_assert_eq(mf_imap_uid_fetch_send(s.im, "1", 0x1000, &t, &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_INTERNAL);
	cr_assert_str_eq(written(&s), "");
	close_session(&s);
}

/* Each message of the FETCH responses, as the engines get it. */
static int
count_fetch(void *arg, const struct mf_imap_fetch *m, struct mf_err *e)
{
	int *n = arg;

	(void)e;
	cr_assert_eq(m->uid, (uint32_t)(5 + *n));
	cr_assert_eq(m->seq, (uint32_t)(1 + *n));
	cr_assert(m->has_flags);
	cr_assert_eq(m->nflags, *n == 0 ? 1u : 0u);
	if (*n == 0)
		cr_assert_str_eq(m->flags[0], "\\Seen");
	cr_assert_eq(m->body, MF_IMAP_BODY_NONE);
	(*n)++;
	return 0;
}

Test(imap_cmds, uid_fetch_blocking_hands_on_responses)
{
	static const char *const chunks[] = {
		CAPS,
		"* 1 FETCH (UID 5 FLAGS (\\Seen))\r\n"
		"* 2 FETCH (UID 6 FLAGS ())\r\nA1 OK done\r\n",
		"A2 NO [NONEXISTENT] gone\r\n",
	};
	struct session s;
	int n = 0;
	struct mf_imap_events ev = { .fetch = count_fetch, .arg = &n };

	open_session(&s, chunks, 3);
	cr_assert_eq(mf_imap_uid_fetch(s.im, "5:6", MF_IMAP_FETCH_UID |
	    MF_IMAP_FETCH_FLAGS, &ev, &s.e), 0, "%s", s.e.msg);
	cr_assert_eq(n, 2);
	cr_assert_eq(mf_imap_uid_fetch(s.im, "7", MF_IMAP_FETCH_UID, &ev,
	    &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_PERM);
	cr_assert_str_eq(written(&s),
	    "A1 UID FETCH 5:6 (UID FLAGS)\r\nA2 UID FETCH 7 (UID)\r\n");
	close_session(&s);
}

Test(imap_cmds, select_examine_condstore_qresync)
{
	struct session s;
	struct mf_imap_qresync q = { 7, 12345678901ULL };
	unsigned t;

	open_session(&s, greeting_only, 1);
	mf_imap_mailbox(s.im)->exists = 5;
	mf_imap_mailbox(s.im)->uidvalidity = 3;
	cr_assert_eq(mf_imap_select_send(s.im, "INBOX", 0, NULL, &t, &s.e), 0);
	/* the mailbox facts start afresh for the new SELECT's replies */
	cr_assert_eq(mf_imap_mailbox(s.im)->exists, 0);
	cr_assert_eq(mf_imap_mailbox(s.im)->uidvalidity, 0);
	cr_assert_eq(mf_imap_select_send(s.im, "INBOX", MF_IMAP_SELECT_READONLY,
	    NULL, &t, &s.e), 0);
	cr_assert_eq(mf_imap_select_send(s.im, "Work", MF_IMAP_SELECT_CONDSTORE,
	    NULL, &t, &s.e), 0);
	cr_assert_eq(mf_imap_select_send(s.im, "Work", MF_IMAP_SELECT_CONDSTORE,
	    &q, &t, &s.e), 0);
	cr_assert_eq(mf_imap_select_send(s.im, "Archiv &AOQ-", MF_IMAP_SELECT_READONLY,
	    &q, &t, &s.e), 0);
	cr_assert_eq(t, 5);
	cr_assert_str_eq(written(&s),
	    "A1 SELECT \"INBOX\"\r\n"
	    "A2 EXAMINE \"INBOX\"\r\n"
	    "A3 SELECT \"Work\" (CONDSTORE)\r\n"
	    "A4 SELECT \"Work\" (QRESYNC (7 12345678901))\r\n"
	    "A5 EXAMINE \"Archiv &AOQ-\" (QRESYNC (7 12345678901))\r\n");
	close_session(&s);
}

Test(imap_cmds, mailbox_names_quoted_and_crlf_refused)
{
	struct session s;
	unsigned t;

	open_session(&s, greeting_only, 1);
	cr_assert_eq(mf_imap_select_send(s.im, "a\"b\\c", 0, NULL, &t, &s.e), 0);
	cr_assert_eq(mf_imap_status_send(s.im, "", MF_IMAP_STATUS_MESSAGES, &t,
	    &s.e), 0);
	cr_assert_eq(mf_imap_select_send(s.im, "x\r\nA9 DELETE INBOX", 0, NULL,
	    &t, &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_DATA);
	cr_assert_eq(t, 0);
	cr_assert_eq(mf_imap_select_send(s.im, "x\ny", 0, NULL, &t, &s.e), -1);
	cr_assert_eq(mf_imap_status_send(s.im, "x\r", MF_IMAP_STATUS_UIDNEXT, &t,
	    &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_DATA);
	cr_assert_str_eq(written(&s),
	    "A1 SELECT \"a\\\"b\\\\c\"\r\n"
	    "A2 STATUS \"\" (MESSAGES)\r\n");
	close_session(&s);
}

Test(imap_cmds, uid_store_add_remove)
{
	static const char *const chunks[] = { CAPS, "A3 OK stored\r\n" };
	struct session s;
	unsigned t1, t2;

	open_session(&s, chunks, 2);
	cr_assert_eq(mf_imap_uid_store_send(s.im, "42", MF_IMAP_STORE_ADD,
	    "\\Seen \\Flagged", &t1, &s.e), 0, "%s", s.e.msg);
	cr_assert_eq(mf_imap_uid_store_send(s.im, "42", MF_IMAP_STORE_REMOVE,
	    "$Forwarded", &t2, &s.e), 0);
	cr_assert_eq(mf_imap_uid_store(s.im, "1:3,9", MF_IMAP_STORE_ADD,
	    "\\Deleted", &s.e), 0, "%s", s.e.msg);
	cr_assert_str_eq(written(&s),
	    "A1 UID STORE 42 +FLAGS.SILENT (\\Seen \\Flagged)\r\n"
	    "A2 UID STORE 42 -FLAGS.SILENT ($Forwarded)\r\n"
	    "A3 UID STORE 1:3,9 +FLAGS.SILENT (\\Deleted)\r\n");
	close_session(&s);
}

Test(imap_cmds, uid_store_refuses_crlf_and_list_breakers)
{
	static const char *const bad[] = {
		"\\Seen\r\nA9 EXPUNGE", "\\Seen\n", "\\Seen) (x", "\"x\"", "{5}",
	};
	struct session s;
	unsigned t;

	open_session(&s, greeting_only, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		mf_err_clear(&s.e);
		cr_assert_eq(mf_imap_uid_store_send(s.im, "1", MF_IMAP_STORE_ADD,
		    bad[i], &t, &s.e), -1, "flags \"%s\"", bad[i]);
		cr_assert_eq(s.e.kind, MF_E_DATA);
		cr_assert_eq(t, 0);
	}
	cr_assert_eq(mf_imap_uid_store_send(s.im, "1 2", MF_IMAP_STORE_ADD,
	    "\\Seen", &t, &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_DATA);
	cr_assert_str_eq(written(&s), "");
	close_session(&s);
}

Test(imap_cmds, uid_expunge_needs_uidplus)
{
	static const char *const chunks[] = { CAPS, "A1 OK expunged\r\n" };
	static const char *const plain[] = { "* OK [CAPABILITY IMAP4rev1] hi\r\n" };
	struct session s;
	unsigned t;

	open_session(&s, chunks, 2);
	cr_assert_eq(mf_imap_uid_expunge(s.im, "3:5,8", &s.e), 0, "%s", s.e.msg);
	cr_assert_eq(mf_imap_uid_expunge_send(s.im, "3\r\n", &t, &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_DATA);
	cr_assert_str_eq(written(&s), "A1 UID EXPUNGE 3:5,8\r\n");
	close_session(&s);

	/* RFC 4315 §2.1: without UIDPLUS there is no UID EXPUNGE */
	open_session(&s, plain, 1);
	cr_assert_eq(mf_imap_uid_expunge_send(s.im, "3", &t, &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_UNSUPPORTED);
	cr_assert_eq(t, 0);
	cr_assert_str_eq(written(&s), "");
	close_session(&s);
}

struct found {
	uint32_t uid[8];
	size_t n;
};

static int
each_uid(void *arg, uint32_t uid, struct mf_err *e)
{
	struct found *f = arg;

	(void)e;
	if (f->n < 8)
		f->uid[f->n++] = uid;
	return 0;
}

Test(imap_cmds, uid_search_header_atoms_and_quoting)
{
	static const char *const chunks[] = {
		CAPS,
		"* SEARCH 3 9\r\n* 4 EXISTS\r\nA1 OK found\r\n",
		"* SEARCH\r\nA2 OK none\r\n",
	};
	struct session s;
	struct found f = { { 0 }, 0 };
	unsigned t;

	open_session(&s, chunks, 3);
	cr_assert_eq(mf_imap_uid_search_header(s.im, 5, "X-Mailflow-Id",
	    "0123abcd", each_uid, &f, &s.e), 0, "%s", s.e.msg);
	cr_assert_eq(f.n, 2);
	cr_assert_eq(f.uid[0], 3);
	cr_assert_eq(f.uid[1], 9);
	cr_assert_eq(mf_imap_mailbox(s.im)->exists, 4);
	/* from 0 is 1; a string that is no atom is quoted */
	cr_assert_eq(mf_imap_uid_search_header(s.im, 0, "Subject", "a \"b\"",
	    each_uid, &f, &s.e), 0, "%s", s.e.msg);
	cr_assert_eq(f.n, 2);
	cr_assert_eq(mf_imap_uid_search_header_send(s.im, 1, "X-Id", "",
	    &t, &s.e), 0);
	cr_assert_eq(mf_imap_uid_search_header_send(s.im, 1, "X-Id", "a\r\nb",
	    &t, &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_DATA);
	cr_assert_eq(mf_imap_uid_search_header_send(s.im, 1, "X\nId", "a",
	    &t, &s.e), -1);
	cr_assert_eq(t, 0);
	cr_assert_str_eq(written(&s),
	    "A1 UID SEARCH UID 5:* HEADER X-Mailflow-Id 0123abcd\r\n"
	    "A2 UID SEARCH UID 1:* HEADER Subject \"a \\\"b\\\"\"\r\n"
	    "A3 UID SEARCH UID 1:* HEADER X-Id \"\"\r\n");
	close_session(&s);
}

Test(imap_cmds, list_one_many_special_use)
{
	static const char *const one[] = { "*" };
	static const char *const many[] = { "INBOX", "Work/*", "a\"b" };
	struct session s;
	unsigned t;

	open_session(&s, greeting_only, 1);
	cr_assert_eq(mf_imap_list_send(s.im, one, 1, 0, 0, &t, &s.e), 0);
	cr_assert_eq(mf_imap_list_send(s.im, one, 1, MF_IMAP_LIST_SPECIAL_USE,
	    0, &t, &s.e), 0);
	cr_assert_eq(mf_imap_list_send(s.im, many, 3, MF_IMAP_LIST_SPECIAL_USE,
	    0, &t, &s.e), 0, "%s", s.e.msg);
	/* RFC 5819 §2: STATUS as a return option, alone or with SPECIAL-USE */
	cr_assert_eq(mf_imap_list_send(s.im, one, 1, 0, MF_IMAP_STATUS_UIDNEXT |
	    MF_IMAP_STATUS_HIGHESTMODSEQ, &t, &s.e), 0, "%s", s.e.msg);
	cr_assert_eq(mf_imap_list_send(s.im, one, 1, MF_IMAP_LIST_SPECIAL_USE,
	    MF_IMAP_STATUS_UIDVALIDITY, &t, &s.e), 0, "%s", s.e.msg);
	cr_assert_eq(mf_imap_list_send(s.im, one, 1, 0, 0x100, &t, &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_INTERNAL);
	cr_assert_str_eq(written(&s),
	    "A1 LIST \"\" \"*\"\r\n"
	    "A2 LIST \"\" \"*\" RETURN (SPECIAL-USE)\r\n"
	    "A3 LIST \"\" (\"INBOX\" \"Work/*\" \"a\\\"b\") RETURN (SPECIAL-USE)\r\n"
	    "A4 LIST \"\" \"*\" RETURN (STATUS (UIDNEXT HIGHESTMODSEQ))\r\n"
	    "A5 LIST \"\" \"*\" RETURN (SPECIAL-USE STATUS (UIDVALIDITY))\r\n");
	close_session(&s);
}

Test(imap_cmds, list_refusals)
{
	static const char *const plain[] = { "* OK [CAPABILITY IMAP4rev1] hi\r\n" };
	static const char *const two[] = { "INBOX", "Work" };
	static const char *const crlf[] = { "INBOX\r\nA9 LOGOUT" };
	struct session s;
	unsigned t;

	open_session(&s, plain, 1);
	/* RFC 5258 §3: several patterns and RETURN need LIST-EXTENDED */
	cr_assert_eq(mf_imap_list_send(s.im, two, 2, 0, 0, &t, &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_UNSUPPORTED);
	cr_assert_eq(mf_imap_list_send(s.im, two, 1, MF_IMAP_LIST_SPECIAL_USE,
	    0, &t, &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_UNSUPPORTED);
	/* RFC 5819 §2: STATUS in LIST needs LIST-STATUS */
	cr_assert_eq(mf_imap_list_send(s.im, two, 1, 0, MF_IMAP_STATUS_UIDNEXT,
	    &t, &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_UNSUPPORTED);
	cr_assert_eq(mf_imap_list_send(s.im, crlf, 1, 0, 0, &t, &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_DATA);
	cr_assert_eq(t, 0);
	cr_assert_eq(mf_imap_list_send(s.im, two, 1, 0, 0, &t, &s.e), 0);
	cr_assert_str_eq(written(&s), "A1 LIST \"\" \"INBOX\"\r\n");
	close_session(&s);
}

static int
status_seen(void *arg, const struct mf_imap_mbox_status *st,
            struct mf_err *e)
{
	(void)e;
	cr_assert_eq(st->mbox_len, 4);
	cr_assert_str_eq(st->mbox, "Work");
	cr_assert_eq(st->items, MF_IMAP_STATUS_MESSAGES |
	    MF_IMAP_STATUS_UIDNEXT);
	cr_assert_eq(st->messages, 2);
	cr_assert_eq(st->uidnext, 9);
	(*(int *)arg)++;
	return 0;
}

Test(imap_cmds, status_items)
{
	struct session s;
	unsigned t;

	open_session(&s, greeting_only, 1);
	cr_assert_eq(mf_imap_status_send(s.im, "INBOX", MF_IMAP_STATUS_MESSAGES |
	    MF_IMAP_STATUS_UIDNEXT | MF_IMAP_STATUS_UIDVALIDITY, &t, &s.e), 0);
	cr_assert_eq(mf_imap_status_send(s.im, "Work",
	    MF_IMAP_STATUS_HIGHESTMODSEQ | MF_IMAP_STATUS_UIDVALIDITY |
	    MF_IMAP_STATUS_UIDNEXT | MF_IMAP_STATUS_MESSAGES, &t, &s.e), 0);
	cr_assert_eq(mf_imap_status_send(s.im, "INBOX", 0, &t, &s.e), -1);
	cr_assert_eq(s.e.kind, MF_E_INTERNAL);
	cr_assert_eq(t, 0);
	cr_assert_str_eq(written(&s),
	    "A1 STATUS \"INBOX\" (MESSAGES UIDNEXT UIDVALIDITY)\r\n"
	    "A2 STATUS \"Work\" (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)\r\n");
	close_session(&s);
}

Test(imap_cmds, status_blocking_hands_on_status)
{
	static const char *const chunks[] = {
		CAPS,
		"* STATUS \"Work\" (MESSAGES 2 UIDNEXT 9)\r\nA1 OK\r\n",
	};
	struct session s;
	int n = 0;
	struct mf_imap_events ev = { .status = status_seen, .arg = &n };

	open_session(&s, chunks, 2);
	cr_assert_eq(mf_imap_status(s.im, "Work", MF_IMAP_STATUS_MESSAGES |
	    MF_IMAP_STATUS_UIDNEXT, &ev, &s.e), 0, "%s", s.e.msg);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(written(&s),
	    "A1 STATUS \"Work\" (MESSAGES UIDNEXT)\r\n");
	close_session(&s);
}

static int
count_changed(void *arg, struct mf_err *e)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

Test(imap_cmds, noop_and_notify)
{
	static const char *const chunks[] = {
		CAPS,
		"* 3 EXISTS\r\nA1 OK\r\n",
		"A3 OK\r\n",
		"A4 OK\r\n",
	};
	static const char *const boxes[] = { "INBOX", "Work \"x\"" };
	struct session s;
	unsigned t;
	int n = 0;
	struct mf_imap_events ev = { .changed = count_changed, .arg = &n };

	open_session(&s, chunks, 4);
	cr_assert_eq(mf_imap_noop(s.im, &ev, &s.e), 0, "%s", s.e.msg);
	cr_assert_eq(mf_imap_mailbox(s.im)->exists, 3);
	cr_assert_eq(n, 1);     /* the EXISTS said the mailbox changed */
	cr_assert_eq(mf_imap_noop_send(s.im, &t, &s.e), 0);
	cr_assert_eq(t, 2);
	cr_assert_eq(mf_imap_notify_set_status(s.im, boxes, 2, &s.e), 0,
	    "%s", s.e.msg);
	cr_assert_eq(mf_imap_notify_set_status(s.im, boxes, 0, &s.e), 0,
	    "%s", s.e.msg);
	cr_assert_str_eq(written(&s),
	    "A1 NOOP\r\n"
	    "A2 NOOP\r\n"
	    "A3 NOTIFY SET STATUS (selected (MessageNew MessageExpunge "
	    "FlagChange)) (mailboxes (\"INBOX\" \"Work \\\"x\\\"\") (MessageNew "
	    "MessageExpunge FlagChange))\r\n"
	    "A4 NOTIFY SET STATUS (selected (MessageNew MessageExpunge "
	    "FlagChange)) (mailboxes () (MessageNew MessageExpunge "
	    "FlagChange))\r\n");
	close_session(&s);
}

/* The X_send() calls only queue: SELECT and two FETCHes leave in one
 * write, and nothing is read until the first wait. */
Test(imap_cmds, send_calls_only_queue)
{
	static const char *const chunks[] = {
		CAPS,
		"* OK [UIDVALIDITY 7] x\r\nA1 OK\r\nA2 OK\r\nA3 OK\r\n",
	};
	struct session s;
	unsigned ts, t1, t2;

	open_session(&s, chunks, 2);
	cr_assert_eq(mf_imap_select_send(s.im, "INBOX", 0, NULL, &ts, &s.e), 0);
	cr_assert_eq(mf_imap_uid_fetch_send(s.im, "1:*", MF_IMAP_FETCH_UID,
	    &t1, &s.e), 0);
	cr_assert_eq(mf_imap_uid_store_send(s.im, "1", MF_IMAP_STORE_ADD,
	    "\\Seen", &t2, &s.e), 0);
	cr_assert_eq(s.m.written.len, 0, "a _send call wrote");
	cr_assert_eq(s.m.next, 1, "a _send call read");
	cr_assert_eq(mf_imap_wait_ok(s.im, t2, NULL, NULL, &s.e), 0, "%s",
	    s.e.msg);
	cr_assert_eq(mf_imap_wait_ok(s.im, ts, NULL, NULL, &s.e), 0);
	cr_assert_eq(mf_imap_wait_ok(s.im, t1, NULL, NULL, &s.e), 0);
	cr_assert_eq(mf_imap_mailbox(s.im)->uidvalidity, 7);
	cr_assert_str_eq(written(&s),
	    "A1 SELECT \"INBOX\"\r\n"
	    "A2 UID FETCH 1:* (UID)\r\n"
	    "A3 UID STORE 1 +FLAGS.SILENT (\\Seen)\r\n");
	close_session(&s);
}
