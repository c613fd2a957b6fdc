/* Unit tests: the imap-sync engine's pull of one folder
 * (isync_sync_folder in imapsync_folder.c, bodies by imapsync_fetch.c,
 * local changes by imapsync_twoway.c; CONDSTORE and QRESYNC too)
 * over a scripted IMAP server (mf_imap_attach on memtransport.h): which
 * messages reach the Maildir with which flags, what the folder's sync
 * state records, and which commands were sent. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imapsync_int.h"
#include "memtransport.h"
#include "scratchdir.h"
#include "syncstate.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char dir[64], md[96], sdir[96];
static struct memt mt;
static struct mf_imapsync_result last;
static int dry, two_way, qresync, expunge;
static char last_error[256];

static void
setup(void)
{
	scratch_make(dir, sizeof(dir), "isync");
	snprintf(md, sizeof(md), "%s/Mail", dir);
	snprintf(sdir, sizeof(sdir), "%s/state", dir);
}

static void
teardown(void)
{
	scratch_remove(dir);
	mf_buf_free(&mt.written);
}

TestSuite(imapsync, .init = setup, .fini = teardown, .timeout = 20);

static void
report(void *arg, const struct mf_imapsync_result *r)
{
	(void)arg;
	last = *r;
	mf_strlcpy(last_error, r->error ? r->error : "", sizeof(last_error));
}

static void
warn(void *arg, const char *msg)
{
	(void)arg;
	cr_log_info("warning: %s", msg);
}

/* Sync INBOX against the server replies r[0..n). */
static int
sync_inbox(const char *const *r, size_t n, struct mf_err *e)
{
	struct mf_imapsync_params p;
	struct mf_folder f;
	struct isync c;
	int rc;

	memset(&p, 0, sizeof(p));
	p.imap.host = "imap.example";
	p.maildir = md;
	p.state_dir = sdir;
	p.layout = MF_LAYOUT_MAILDIRPP;
	p.report = report;
	p.warn = warn;
	p.dry_run = dry;
	p.two_way = two_way;
	p.expunge = expunge;
	memset(&c, 0, sizeof(c));
	c.p = &p;
	c.e = e;
	mf_strlcpy(c.state_dir, sdir, sizeof(c.state_dir));
	c.im = mf_imap_attach(memt_transport(&mt, r, n), &p.imap, e);
	cr_assert_not_null(c.im, "attach: %s", e->msg);
	c.uidplus = mf_imap_has_cap(c.im, "UIDPLUS");
	/* as isync_connect() after ENABLE QRESYNC (RFC 7162 §3.2.3) */
	c.qresync = c.condstore = qresync;
	memset(&f, 0, sizeof(f));
	f.utf7 = "INBOX";
	f.utf8 = "INBOX";
	f.rel = "";
	f.delim = '/';
	memset(&last, 0, sizeof(last));
	rc = isync_sync_folder(&c, &f, e);
	mf_imap_free(c.im);
	return rc;
}

/* md/sub's messages as "FLAGS=CONTENT|" each (scratchdir.h). */
static size_t
files(const char *sub, char *all, size_t alllen)
{
	return maildir_read(md, sub, 1, all, alllen);
}

static struct mf_syncstate *
state(void)
{
	struct mf_err e = {0};
	struct mf_syncstate *s;
	char key[200];

	mf_folders_state_key("INBOX", key, sizeof(key));
	s = mf_syncstate_open(sdir, key, &e);
	cr_assert_not_null(s, "state: %s", e.msg);
	return s;
}

#define GREETING "* OK ready\r\n", \
	"* CAPABILITY IMAP4rev1 UIDPLUS\r\nA1 OK done\r\n"

/* INBOX with two new messages, one \Seen, one \Flagged with a keyword:
 * a first pull into an empty Maildir asks for every body at once */
static const char *const first_run[] = {
	GREETING,
	"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
	"* OK [UIDNEXT 3] ok\r\nA2 OK [READ-WRITE] selected\r\n",
	"* 1 FETCH (UID 1 FLAGS (\\Seen) BODY[] {17}\r\n"
	"Subject: a\r\n\r\nA\r\n)\r\n"
	"* 2 FETCH (UID 2 FLAGS (\\Flagged $Work) BODY[] {17}\r\n"
	"Subject: b\r\n\r\nB\r\n)\r\nA3 OK done\r\n",
};

Test(imapsync, first_pull_delivers_new_messages_with_flags)
{
	const char *const *r = first_run;
	const struct mf_syncstate_entry *en;
	struct mf_syncstate *s;
	struct mf_err e = {0};
	char all[4096];

	cr_assert_eq(sync_inbox(r, N(first_run), &e), 0, "sync: %s (sent %s)", e.msg,
	    mt.written.data);
	/* no flag listing first: nothing local can stand for a message */
	cr_expect_str_eq(mt.written.data, "A1 CAPABILITY\r\n"
	    "A2 SELECT \"INBOX\"\r\n"
	    "A3 UID FETCH 1:* (UID FLAGS BODY.PEEK[])\r\nA4 LOGOUT\r\n");
	cr_expect_eq(last.fetched, 2);
	cr_expect_null(last.error, "%s", last_error);
	cr_expect_eq(files("new", all, sizeof(all)) + files("cur", all,
	    sizeof(all)), 2);
	files("cur", all, sizeof(all));
	cr_expect_str_eq(all, "S=Subject: a\n\nA\n|Fa=Subject: b\n\nB\n|");
	s = state();
	cr_expect_eq(mf_syncstate_uidvalidity(s), 7);
	cr_expect_eq(mf_syncstate_uidnext(s), 3);
	cr_expect_eq(mf_syncstate_count(s), 2);
	en = mf_syncstate_get(s, 1);
	cr_assert_not_null(en);
	cr_expect_str_eq(en->flags, "S");
	en = mf_syncstate_get(s, 2);
	cr_assert_not_null(en);
	cr_expect_str_eq(en->flags, "F $Work");
	mf_syncstate_free(s);
}

Test(imapsync, second_pull_takes_flag_changes_and_new_messages)
{
	static const char *const r2[] = {
		GREETING,
		"* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
		"* OK [UIDNEXT 4] ok\r\nA2 OK [READ-WRITE] selected\r\n",
		"* 1 FETCH (UID 1 FLAGS (\\Seen \\Answered))\r\n"
		"* 2 FETCH (UID 2 FLAGS ())\r\n"
		"* 3 FETCH (UID 3 FLAGS ())\r\nA3 OK done\r\n",
		"* 3 FETCH (UID 3 FLAGS () BODY[] {17}\r\n"
		"Subject: c\r\n\r\nC\r\n)\r\nA4 OK done\r\n",
	};
	const struct mf_syncstate_entry *en;
	struct mf_syncstate *s;
	struct mf_err e = {0};
	char all[4096];

	cr_assert_eq(sync_inbox(first_run, N(first_run), &e), 0, "first: %s", e.msg);
	mf_buf_free(&mt.written);
	cr_assert_eq(sync_inbox(r2, N(r2), &e), 0, "second: %s (sent %s)",
	    e.msg, mt.written.data);
	/* only UID 3 is new: one body fetched */
	cr_expect_str_eq(mt.written.data, "A1 CAPABILITY\r\n"
	    "A2 SELECT \"INBOX\"\r\nA3 UID FETCH 1:* (UID FLAGS)\r\n"
	    "A4 UID FETCH 3 (UID FLAGS BODY.PEEK[])\r\nA5 LOGOUT\r\n");
	cr_expect_eq(last.fetched, 1);
	cr_expect_eq(last.flags_local, 2, "files renamed: %lu",
	    last.flags_local);
	/* unseen and new: in new/ without an info part (Maildir spec) */
	cr_expect_eq(files("new", all, sizeof(all)), 1);
	cr_expect_str_eq(all, "-=Subject: c\n\nC\n|");
	cr_expect_eq(files("cur", all, sizeof(all)), 2);
	cr_expect_str_eq(all, "RS=Subject: a\n\nA\n|=Subject: b\n\nB\n|");
	s = state();
	cr_expect_eq(mf_syncstate_uidnext(s), 4);
	cr_expect_eq(mf_syncstate_count(s), 3);
	en = mf_syncstate_get(s, 1);
	cr_assert_not_null(en);
	cr_expect_str_eq(en->flags, "RS");
	en = mf_syncstate_get(s, 2);
	cr_assert_not_null(en);
	cr_expect_str_eq(en->flags, "");
	mf_syncstate_free(s);
}

Test(imapsync, body_not_sent_is_not_recorded)
{
	static const char *const r[] = {
		GREETING,
		"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
		"* OK [UIDNEXT 2] ok\r\nA2 OK [READ-WRITE] selected\r\n",
		"* 1 FETCH (UID 1 FLAGS () BODY[] NIL)\r\nA3 OK done\r\n",
	};
	struct mf_syncstate *s;
	struct mf_err e = {0};
	char all[256];

	cr_assert_eq(sync_inbox(r, N(r), &e), -1);
	cr_expect_eq(e.kind, MF_E_TEMP, "kind %d: %s", e.kind, e.msg);
	cr_expect_eq(last.bodies_skipped, 1);
	cr_expect_eq(files("new", all, sizeof(all)) + files("cur", all,
	    sizeof(all)), 0);
	s = state();
	cr_expect_null(mf_syncstate_get(s, 1));
	/* asked for again next time */
	cr_expect_leq(mf_syncstate_uidnext(s), 1);
	mf_syncstate_free(s);
}

Test(imapsync, dry_run_examines_and_writes_nothing)
{
	static const char *const r[] = {
		GREETING,
		"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
		"* OK [UIDNEXT 3] ok\r\nA2 OK [READ-ONLY] examined\r\n",
		"* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n"
		"* 2 FETCH (UID 2 FLAGS ())\r\nA3 OK done\r\n",
	};
	struct mf_err e = {0};
	char p[128];

	dry = 1;
	cr_assert_eq(sync_inbox(r, N(r), &e), 0, "%s", e.msg);
	cr_expect_str_eq(mt.written.data, "A1 CAPABILITY\r\n"
	    "A2 EXAMINE \"INBOX\"\r\nA3 UID FETCH 1:* (UID FLAGS)\r\n"
	    "A4 LOGOUT\r\n");
	cr_expect_eq(last.fetched, 2);
	snprintf(p, sizeof(p), "%s/cur", md);
	cr_expect_neq(access(p, F_OK), 0, "no Maildir made in a dry run");
}

/* Rename the one file of md/cur whose flags are `from` to flags `to`. */
static void
reflag(const char *from, const char *to)
{
	char path[512], dst[512], suffix[16];
	struct dirent *d;
	size_t n;
	DIR *dh;
	int done = 0;

	snprintf(path, sizeof(path), "%s/cur", md);
	snprintf(suffix, sizeof(suffix), ":2,%s", from);
	dh = opendir(path);
	cr_assert_not_null(dh);
	while (!done && (d = readdir(dh)) != NULL) {
		n = strlen(d->d_name);
		if (n <= strlen(suffix) || strcmp(d->d_name + n - strlen(suffix),
		    suffix) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/cur/%s", md, d->d_name);
		snprintf(dst, sizeof(dst), "%s/cur/%.*s:2,%s", md,
		    (int)(n - strlen(suffix)), d->d_name, to);
		cr_assert_eq(rename(path, dst), 0);
		done = 1;
	}
	closedir(dh);
	cr_assert(done, "no file with flags %s", from);
}

Test(imapsync, two_way_sends_a_local_flag_change)
{
	static const char *const r2[] = {
		GREETING,
		"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
		"* OK [UIDNEXT 3] ok\r\nA2 OK [READ-WRITE] selected\r\n",
		"* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n"
		"* 2 FETCH (UID 2 FLAGS (\\Flagged $Work))\r\nA3 OK done\r\n",
		"* 1 FETCH (UID 1 FLAGS (\\Seen \\Flagged))\r\nA4 OK done\r\n",
		"A5 OK done\r\n", "A6 OK done\r\n", "A7 OK done\r\n",
	};
	const struct mf_syncstate_entry *en;
	struct mf_syncstate *s;
	struct mf_err e = {0};

	cr_assert_eq(sync_inbox(first_run, N(first_run), &e), 0, "first: %s",
	    e.msg);
	mf_buf_free(&mt.written);
	reflag("S", "FS");      /* the user flagged message 1 */
	two_way = 1;
	cr_assert_eq(sync_inbox(r2, N(r2), &e), 0, "second: %s (sent %s)",
	    e.msg, mt.written.data);
	cr_expect_str_eq(mt.written.data, "A1 CAPABILITY\r\n"
	    "A2 SELECT \"INBOX\"\r\nA3 UID FETCH 1:* (UID FLAGS)\r\n"
	    "A4 UID STORE 1 +FLAGS.SILENT (\\Flagged)\r\nA5 LOGOUT\r\n");
	cr_expect_eq(last.flags_remote, 1);
	s = state();
	en = mf_syncstate_get(s, 1);
	cr_assert_not_null(en);
	cr_expect_str_eq(en->flags, "FS");
	mf_syncstate_free(s);
}

/* A CONDSTORE first pull of two unseen messages (HIGHESTMODSEQ 10). */
static const char *const condstore_run[] = {
	GREETING,
	"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
	"* OK [UIDNEXT 3] ok\r\n* OK [HIGHESTMODSEQ 10] ok\r\n"
	"A2 OK [READ-WRITE] selected\r\n",
	"* 1 FETCH (UID 1 FLAGS () BODY[] {17}\r\n"
	"Subject: a\r\n\r\nA\r\n)\r\n"
	"* 2 FETCH (UID 2 FLAGS () BODY[] {17}\r\n"
	"Subject: b\r\n\r\nB\r\n)\r\nA3 OK done\r\n",
};

/* RFC 7162 §3.2.5.2: since modseq 10, UID 1 was expunged and UID 2 is
 * now \Seen. */
static const char *const qresync_run[] = {
	GREETING,
	"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
	"* OK [UIDNEXT 3] ok\r\n* OK [HIGHESTMODSEQ 12] ok\r\n"
	"* VANISHED (EARLIER) 1\r\n"
	"* 1 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (12))\r\n"
	"A2 OK [READ-WRITE] selected\r\n",
};

Test(imapsync, qresync_takes_only_the_changes)
{
	const char *const *r1 = condstore_run, *const *r2 = qresync_run;
	struct mf_syncstate *s;
	struct mf_err e = {0};
	char all[4096];

	qresync = 1;
	cr_assert_eq(sync_inbox(r1, N(condstore_run), &e), 0, "first: %s "
	    "(sent %s)",
	    e.msg, mt.written.data);
	cr_expect_str_eq(mt.written.data, "A1 CAPABILITY\r\n"
	    "A2 SELECT \"INBOX\" (CONDSTORE)\r\n"
	    "A3 UID FETCH 1:* (UID FLAGS BODY.PEEK[])\r\nA4 LOGOUT\r\n");
	mf_buf_free(&mt.written);
	cr_assert_eq(sync_inbox(r2, N(qresync_run), &e), 0, "second: %s "
	    "(sent %s)", e.msg, mt.written.data);
	/* one SELECT carries everything: no listing, no fetch */
	cr_expect_str_eq(mt.written.data, "A1 CAPABILITY\r\n"
	    "A2 SELECT \"INBOX\" (QRESYNC (7 10))\r\nA3 LOGOUT\r\n");
	/* without --expunge the server's deletion is recorded, not done */
	cr_expect_eq(last.deleted_local, 0);
	cr_expect_eq(maildir_read(md, "new", 1, all, sizeof(all)), 1);
	cr_expect_str_eq(all, "-=Subject: a\n\nA\n|");
	cr_expect_eq(maildir_read(md, "cur", 1, all, sizeof(all)), 1);
	cr_expect_str_eq(all, "S=Subject: b\n\nB\n|");
	s = state();
	cr_expect_eq(mf_syncstate_modseq(s), 12);
	cr_assert_not_null(mf_syncstate_get(s, 1));
	cr_expect(mf_syncstate_get(s, 1)->status & MF_SS_GONE_REMOTE);
	cr_expect_not(mf_syncstate_get(s, 2)->status & MF_SS_GONE_REMOTE);
	cr_expect_str_eq(mf_syncstate_get(s, 2)->flags, "S");
	mf_syncstate_free(s);
}

Test(imapsync, qresync_vanished_with_expunge_removes_the_file)
{
	struct mf_syncstate *s;
	struct mf_err e = {0};
	char all[4096];

	qresync = 1;
	cr_assert_eq(sync_inbox(condstore_run, N(condstore_run), &e), 0, "%s",
	    e.msg);
	mf_buf_free(&mt.written);
	expunge = 1;
	cr_assert_eq(sync_inbox(qresync_run, N(qresync_run), &e), 0, "%s",
	    e.msg);
	cr_expect_eq(last.deleted_local, 1);
	cr_expect_eq(maildir_read(md, "new", 1, all, sizeof(all)), 0);
	cr_expect_eq(maildir_read(md, "cur", 1, all, sizeof(all)), 1);
	cr_expect_str_eq(all, "S=Subject: b\n\nB\n|");
	s = state();
	cr_expect_null(mf_syncstate_get(s, 1));
	cr_expect_eq(mf_syncstate_count(s), 1);
	mf_syncstate_free(s);
}

/* Ranges merge even when one reaches the last UID (no wrap-around): a
 * QRESYNC change reported for a new message lies inside "from the old
 * UIDNEXT on". */
Test(imapsync, ranges_merge_up_to_the_last_uid)
{
	struct uids u = { 0 };

	cr_assert_eq(isync_uids_add(&u, 5), 0);
	cr_assert_eq(isync_uids_add(&u, 0xFFFFFFFFu), 0);
	cr_assert_eq(isync_uids_add(&u, 6), 0);
	cr_assert_eq(isync_uids_add(&u, 6), 0);
	cr_assert_eq(isync_uids_add(&u, 1), 0);
	cr_assert_eq(isync_uids_add(&u, 1), 0);
	isync_ranges_sort(&u);
	cr_assert_eq(u.n, 4);
	cr_expect_eq(u.v[0], 1);
	cr_expect_eq(u.v[1], 1);
	cr_expect_eq(u.v[2], 5);
	cr_expect_eq(u.v[3], 0xFFFFFFFFu);
	cr_expect(isync_ranges_has(&u, 0xFFFFFFFFu));
	cr_expect(isync_ranges_has(&u, 6));
	cr_expect_not(isync_ranges_has(&u, 2));
	free(u.v);
}
