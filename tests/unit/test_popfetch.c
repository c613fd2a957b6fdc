/* Unit tests: pop-fetch's retrieve step (popfetch.c) over a scripted POP3
 * server (mf_pop3_attach on memtransport.h).  Each test checks what
 * reached the Maildir, what the UID journal recorded and exactly which
 * commands went to the server: DELE only for what was delivered. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtransport.h"
#include "pop3.h"
#include "popfetch.h"
#include "popstate.h"
#include "scratchdir.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char dir[64], md[96], state[96];
static struct memt mt;

static void
setup(void)
{
	scratch_make(dir, sizeof(dir), "popfetch");
	snprintf(md, sizeof(md), "%s/Maildir", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
}

static void
teardown(void)
{
	scratch_remove(dir);
	mf_buf_free(&mt.written);
}

TestSuite(popfetch, .init = setup, .fini = teardown, .timeout = 20);

static void
params(struct mf_popfetch_params *fp, int delete_after)
{
	memset(fp, 0, sizeof(*fp));
	fp->maildir = md;
	fp->state = state;
	fp->account = "joe@pop.example";
	fp->delete_after = delete_after;
}

/* Run the retrieve step against the server replies r[0..n). */
static int
run(const char *const *r, size_t n, struct mf_popfetch_params *fp,
    struct mf_popfetch_stats *st, struct mf_err *e)
{
	struct mf_conn cp;
	struct mf_transport *t;
	struct mf_pop3 *p;

	memset(&cp, 0, sizeof(cp));
	cp.host = "pop.example";
	cp.port = "110";
	t = memt_transport(&mt, r, n);
	cr_assert_not_null(t);
	p = mf_pop3_attach(t, &cp, e);
	cr_assert_not_null(p, "attach: %s", e->msg);
	return mf_popfetch_run_on(p, fp, st, e);
}

/* The files of md/sub, their contents concatenated in name order. */
static size_t
maildir_files(const char *sub, char *all, size_t alllen)
{
	return maildir_read(md, sub, 0, all, alllen);
}

static struct mf_popstate *
journal(void)
{
	struct mf_err e = {0};
	struct mf_popstate *s = mf_popstate_open(state, &e);

	cr_assert_not_null(s, "state: %s", e.msg);
	return s;
}

#define GREETING "+OK POP3 ready\r\n"
#define CAPA     "+OK\r\nUIDL\r\nUSER\r\n.\r\n"
#define STAT2    "+OK 2 80\r\n"
#define UIDL2    "+OK\r\n1 uid-a\r\n2 uid-b\r\n.\r\n"
#define LIST2    "+OK\r\n1 31\r\n2 31\r\n.\r\n"
#define MSG1     "+OK\r\nSubject: one\r\n\r\nbody one\r\n.\r\n"
#define MSG2     "+OK\r\nSubject: two\r\n\r\n..dotted\r\n.\r\n"

Test(popfetch, fetches_delivers_records_and_deletes)
{
	static const char *const r[] = {
		GREETING, CAPA, STAT2, UIDL2, LIST2, MSG1, MSG2,
		"+OK\r\n", "+OK\r\n", "+OK bye\r\n",
	};
	struct mf_popfetch_params fp;
	struct mf_popfetch_stats st;
	struct mf_err e = {0};
	struct mf_popstate *s;
	char all[4096];

	params(&fp, 1);
	cr_assert_eq(run(r, N(r), &fp, &st, &e), 0, "run: %s", e.msg);
	cr_expect_str_eq(mt.written.data, "CAPA\r\nSTAT\r\nUIDL\r\nLIST\r\n"
	    "RETR 1\r\nRETR 2\r\nDELE 1\r\nDELE 2\r\nQUIT\r\n");
	cr_expect_eq(st.listed, 2);
	cr_expect_eq(st.fetched, 2);
	cr_expect_eq(st.deleted, 2);
	/* CRLF -> LF and the byte-stuffed dot removed (RFC 1939 §3) */
	cr_expect_eq(maildir_files("new", all, sizeof(all)), 2);
	cr_expect_str_eq(all, "Subject: one\n\nbody one\n"
	    "Subject: two\n\n.dotted\n");
	/* deleted and committed by QUIT: nothing left to remember */
	s = journal();
	cr_expect_eq(mf_popstate_count(s), 0);
	mf_popstate_close(s);
}

Test(popfetch, recorded_messages_are_not_fetched_again)
{
	static const char *const r1[] = {
		GREETING, CAPA, STAT2, UIDL2, LIST2, MSG1, MSG2, "+OK bye\r\n",
	};
	static const char *const r2[] = {
		GREETING, CAPA, STAT2, UIDL2, LIST2, "+OK bye\r\n",
	};
	struct mf_popfetch_params fp;
	struct mf_popfetch_stats st;
	struct mf_err e = {0};
	struct mf_popstate *s;
	char all[4096];

	params(&fp, 0);
	cr_assert_eq(run(r1, N(r1), &fp, &st, &e), 0, "first: %s", e.msg);
	cr_expect_str_eq(mt.written.data, "CAPA\r\nSTAT\r\nUIDL\r\nLIST\r\n"
	    "RETR 1\r\nRETR 2\r\nQUIT\r\n");
	s = journal();
	cr_expect(mf_popstate_has_size(s, "uid-a", 31));
	cr_expect(mf_popstate_has_size(s, "uid-b", 31));
	cr_expect_not(mf_popstate_has_bare(s, "uid-a"));
	cr_expect_eq(mf_popstate_count(s), 2);
	mf_popstate_close(s);
	mf_buf_free(&mt.written);
	cr_assert_eq(run(r2, N(r2), &fp, &st, &e), 0, "second: %s", e.msg);
	cr_expect_str_eq(mt.written.data, "CAPA\r\nSTAT\r\nUIDL\r\nLIST\r\n"
	    "QUIT\r\n");
	cr_expect_eq(st.fetched, 0);
	cr_expect_eq(maildir_files("new", all, sizeof(all)), 2);
}

Test(popfetch, vanished_message_is_not_deleted)
{
	static const char *const r[] = {
		GREETING, CAPA, STAT2, UIDL2, LIST2, MSG1,
		"-ERR no such message\r\n", "+OK\r\n", "+OK bye\r\n",
	};
	struct mf_popfetch_params fp;
	struct mf_popfetch_stats st;
	struct mf_err e = {0};
	char all[4096];

	params(&fp, 1);
	cr_assert_eq(run(r, N(r), &fp, &st, &e), -1);
	cr_expect_eq(e.kind, MF_E_TEMP, "kind %d: %s", e.kind, e.msg);
	cr_expect_str_eq(mt.written.data, "CAPA\r\nSTAT\r\nUIDL\r\nLIST\r\n"
	    "RETR 1\r\nRETR 2\r\nDELE 1\r\nQUIT\r\n");
	cr_expect_eq(st.fetched, 1);
	cr_expect_eq(st.skipped, 1);
	cr_expect_eq(st.deleted, 1);
	cr_expect_eq(maildir_files("new", all, sizeof(all)), 1);
	cr_expect_str_eq(all, "Subject: one\n\nbody one\n");
}

Test(popfetch, vanished_message_is_not_recorded)
{
	static const char *const r[] = {
		GREETING, CAPA, STAT2, UIDL2, LIST2,
		"-ERR no such message\r\n", MSG2, "+OK bye\r\n",
	};
	struct mf_popfetch_params fp;
	struct mf_popfetch_stats st;
	struct mf_err e = {0};
	struct mf_popstate *s;
	char all[4096];

	params(&fp, 0);
	cr_assert_eq(run(r, N(r), &fp, &st, &e), -1);
	cr_expect_eq(e.kind, MF_E_TEMP, "kind %d: %s", e.kind, e.msg);
	cr_expect_str_eq(mt.written.data, "CAPA\r\nSTAT\r\nUIDL\r\nLIST\r\n"
	    "RETR 1\r\nRETR 2\r\nQUIT\r\n");
	cr_expect_eq(maildir_files("new", all, sizeof(all)), 1);
	cr_expect_str_eq(all, "Subject: two\n\n.dotted\n");
	s = journal();
	cr_expect_not(mf_popstate_has(s, "uid-a"));
	cr_expect(mf_popstate_has_size(s, "uid-b", 31));
	mf_popstate_close(s);
}

Test(popfetch, refused_dele_is_temporary_and_stays_recorded)
{
	static const char *const r[] = {
		GREETING, CAPA, STAT2, UIDL2, LIST2, MSG1, MSG2,
		"+OK\r\n", "-ERR locked\r\n", "+OK bye\r\n",
	};
	struct mf_popfetch_params fp;
	struct mf_popfetch_stats st;
	struct mf_err e = {0};
	struct mf_popstate *s;

	params(&fp, 1);
	cr_assert_eq(run(r, N(r), &fp, &st, &e), -1);
	cr_expect_eq(e.kind, MF_E_TEMP);
	cr_expect_eq(st.deleted, 1);
	cr_expect_eq(st.dele_failed, 1);
	cr_expect_str_eq(mt.written.data, "CAPA\r\nSTAT\r\nUIDL\r\nLIST\r\n"
	    "RETR 1\r\nRETR 2\r\nDELE 1\r\nDELE 2\r\nQUIT\r\n");
	/* the deleted one is forgotten after QUIT, the kept one stays */
	s = journal();
	cr_expect_not(mf_popstate_has(s, "uid-a"));
	cr_expect(mf_popstate_has(s, "uid-b"));
	mf_popstate_close(s);
}

Test(popfetch, pipelined_listings_and_retrieval)
{
	static const char *const r[] = {
		GREETING, "+OK\r\nUIDL\r\nPIPELINING\r\n.\r\n",
		STAT2 UIDL2 LIST2, MSG1 MSG2, "+OK\r\n+OK\r\n", "+OK bye\r\n",
	};
	struct mf_popfetch_params fp;
	struct mf_popfetch_stats st;
	struct mf_err e = {0};
	char all[4096];

	params(&fp, 1);
	cr_assert_eq(run(r, N(r), &fp, &st, &e), 0, "run: %s", e.msg);
	/* RFC 2449 §6.6: the same commands, sent without waiting */
	cr_expect_str_eq(mt.written.data, "CAPA\r\nSTAT\r\nUIDL\r\nLIST\r\n"
	    "RETR 1\r\nRETR 2\r\nDELE 1\r\nDELE 2\r\nQUIT\r\n");
	cr_expect_eq(st.fetched, 2);
	cr_expect_eq(st.deleted, 2);
	cr_expect_eq(maildir_files("new", all, sizeof(all)), 2);
}

Test(popfetch, server_without_uidl_fetches_nothing)
{
	static const char *const r[] = {
		GREETING, "+OK\r\nUSER\r\n.\r\n", STAT2,
		"-ERR unknown command\r\n",
	};
	struct mf_popfetch_params fp;
	struct mf_popfetch_stats st;
	struct mf_err e = {0};
	char all[64];

	params(&fp, 1);
	cr_assert_eq(run(r, N(r), &fp, &st, &e), -1);
	cr_expect_eq(e.kind, MF_E_UNSUPPORTED, "kind %d: %s", e.kind, e.msg);
	cr_expect_str_eq(mt.written.data, "CAPA\r\nSTAT\r\nUIDL\r\n");
	cr_expect_eq(maildir_files("new", all, sizeof(all)), 0);
}

Test(popfetch, maildir_and_mda_together_is_a_usage_error)
{
	static const char *const r[] = { GREETING, CAPA };
	struct mf_popfetch_params fp;
	struct mf_err e = {0};

	params(&fp, 0);
	fp.mda = "cat";
	cr_assert_eq(run(r, N(r), &fp, NULL, &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
	cr_expect_str_eq(mt.written.data, "CAPA\r\n");
}

/* With PIPELINING the RETR window does not drain at a group commit: the
 * next group's RETR goes out before the group is synced and its DELEs
 * queue behind it (lock-step would be RETR 1, RETR 2, DELE 1, DELE 2,
 * RETR 3, DELE 3).  Groups of 2. */
Test(popfetch, retr_window_does_not_drain_for_a_commit)
{
	static const char *const r[] = {
		GREETING, "+OK\r\nUIDL\r\nPIPELINING\r\n.\r\n",
		"+OK 3 93\r\n" "+OK\r\n1 uid-a\r\n2 uid-b\r\n3 uid-c\r\n.\r\n"
		"+OK\r\n1 31\r\n2 31\r\n3 31\r\n.\r\n",
		MSG1, MSG2, "+OK\r\nSubject: 3\r\n\r\nbody three\r\n.\r\n",
		"+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK bye\r\n",
	};
	struct mf_popfetch_params fp;
	struct mf_popfetch_stats st;
	struct mf_err e = {0};
	struct mf_popstate *s;
	char all[4096];

	params(&fp, 1);
	fp.batch = 2;
	cr_assert_eq(run(r, N(r), &fp, &st, &e), 0, "run: %s", e.msg);
	cr_expect_str_eq(mt.written.data, "CAPA\r\nSTAT\r\nUIDL\r\nLIST\r\n"
	    "RETR 1\r\nRETR 2\r\nRETR 3\r\nDELE 1\r\nDELE 2\r\nDELE 3\r\n"
	    "QUIT\r\n");
	cr_expect_eq(st.fetched, 3);
	cr_expect_eq(st.deleted, 3);
	cr_expect_eq(maildir_files("new", all, sizeof(all)), 3);
	s = journal();
	cr_expect_eq(mf_popstate_count(s), 0);
	mf_popstate_close(s);
}
