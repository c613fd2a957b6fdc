/* Unit tests: mailsend's queue directory (queue.c): what add writes and
 * where, list, claim/release/fail/done, a flush's outcomes per message,
 * claims of dead processes, and that a deferred message is tried once
 * per flush (not again and again within it). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "queue.h"
#include "scratchdir.h"

static char dir[64];

static void
setup(void)
{
	scratch_make(dir, sizeof(dir), "queue");
}

static void
teardown(void)
{
	scratch_remove(dir);
}

TestSuite(queue, .init = setup, .fini = teardown, .timeout = 20);

/* Files in dir/sub (dot files left out). */
static int
count(const char *sub)
{
	char p[128];
	struct dirent *d;
	DIR *dh;
	int n = 0;

	cr_assert_lt((size_t)snprintf(p, sizeof(p), "%s/%s", dir, sub),
	    sizeof(p));
	dh = opendir(p);
	cr_assert_not_null(dh, "%s", p);
	while ((d = readdir(dh)) != NULL)
		if (d->d_name[0] != '.')
			n++;
	closedir(dh);
	return n;
}

static struct mf_queue *
open_q(void)
{
	struct mf_err e = {0};
	struct mf_queue *q = mf_queue_open(dir, &e);

	cr_assert_not_null(q, "open: %s", e.msg);
	return q;
}

static void
add(struct mf_queue *q, const char *account, const char *to,
    const char *msg, char *id, size_t idlen)
{
	char *rcpts[1] = { (char *)to };
	struct mf_err e = {0};

	cr_assert_eq(mf_queue_add_message(q, account, "joe@example.org", rcpts,
	    1, "FAILURE,DELAY", "HDRS", msg, strlen(msg), id, idlen, &e), 0,
	    "add: %s", e.msg);
}

Test(queue, add_is_a_file_in_new_with_envelope_and_message)
{
	struct mf_queue *q = open_q();
	char id[96], p[256], buf[512];
	struct stat sb;
	FILE *f;
	size_t n;

	add(q, "work", "ann@example.net", "Subject: hi\r\n\r\nbody\r\n", id,
	    sizeof(id));
	cr_expect_eq(count("new"), 1);
	cr_expect_eq(count("tmp"), 0);
	cr_assert_lt((size_t)snprintf(p, sizeof(p), "%s/new/%s", dir, id),
	    sizeof(p));
	cr_assert_eq(stat(p, &sb), 0, "%s", p);
	cr_expect_eq(sb.st_mode & 0777, 0600);
	cr_assert_eq(stat(dir, &sb), 0);
	cr_expect_eq(sb.st_mode & 0777, 0700);
	f = fopen(p, "r");
	cr_assert_not_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	cr_expect_str_eq(buf, "mailflow-queue 1\naccount work\n"
	    "from joe@example.org\nrcpt ann@example.net\n"
	    "dsn-notify FAILURE,DELAY\ndsn-ret HDRS\n\n"
	    "Subject: hi\r\n\r\nbody\r\n");
	mf_queue_close(q);
}

struct seen {
	int n;
	char ids[4][96];
	char states[4][16];
	size_t len[4];
};

static int
on_entry(void *arg, const struct mf_queue_entry *ent)
{
	struct seen *s = arg;

	cr_assert_lt(s->n, 4);
	cr_expect_null(ent->msg);
	mf_strlcpy(s->ids[s->n], ent->id, sizeof(s->ids[0]));
	mf_strlcpy(s->states[s->n], ent->state, sizeof(s->states[0]));
	s->len[s->n++] = ent->len;
	return 0;
}

Test(queue, claim_release_fail_done_move_the_file)
{
	struct mf_queue *q = open_q();
	struct mf_queue_entry ent;
	struct mf_err e = {0};
	struct seen s = {0};
	char id1[96], id2[96];

	add(q, "work", "a@example.net", "one\r\n", id1, sizeof(id1));
	add(q, "home", "b@example.net", "two two\r\n", id2, sizeof(id2));
	/* only the account asked for */
	cr_assert_eq(mf_queue_claim(q, "home", &ent, &e), 1, "%s", e.msg);
	cr_expect_str_eq(ent.id, id2);
	cr_expect_str_eq(ent.state, "sending");
	cr_expect_str_eq(ent.msg, "two two\r\n");
	cr_expect_eq(ent.nrcpts, 1);
	cr_expect_str_eq(ent.rcpts[0], "b@example.net");
	cr_expect_eq(count("new"), 1);
	cr_expect_eq(count("sending"), 1);
	cr_assert_eq(mf_queue_claim(q, "home", &ent, &e), 0,
	    "a claimed message is not claimed twice");
	cr_assert_eq(mf_queue_list(q, on_entry, &s, &e), 0);
	cr_expect_eq(s.n, 2);
	/* temporary failure: back to new/ */
	cr_assert_eq(mf_queue_release(q, &ent, &e), 0, "%s", e.msg);
	cr_expect_eq(count("new"), 2);
	cr_expect_eq(count("sending"), 0);
	mf_queue_entry_free(&ent);
	/* permanent failure: kept in failed/ */
	cr_assert_eq(mf_queue_claim(q, "work", &ent, &e), 1);
	cr_expect_str_eq(ent.id, id1);
	cr_assert_eq(mf_queue_fail(q, &ent, &e), 0, "%s", e.msg);
	mf_queue_entry_free(&ent);
	cr_expect_eq(count("failed"), 1);
	/* accepted: gone */
	cr_assert_eq(mf_queue_claim(q, NULL, &ent, &e), 1);
	cr_expect_str_eq(ent.id, id2);
	cr_assert_eq(mf_queue_done(q, &ent, &e), 0, "%s", e.msg);
	mf_queue_entry_free(&ent);
	cr_expect_eq(count("new") + count("sending"), 0);
	cr_assert_eq(mf_queue_claim(q, NULL, &ent, &e), 0);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(mf_queue_list(q, on_entry, &s, &e), 0);
	cr_assert_eq(s.n, 1);
	cr_expect_str_eq(s.ids[0], id1);
	cr_expect_str_eq(s.states[0], "failed");
	mf_queue_close(q);
}

/* What the fake server does with each message, by recipient, and the
 * status the flush reported for each. */
struct server {
	int calls, reports;
	char got[8][64];
	char reported[8][64];
	int status[8];
};

static int
send_cb(void *arg, const struct mf_queue_entry *ent, struct mf_err *e)
{
	struct server *sv = arg;
	const char *to = ent->rcpts[0];

	cr_assert_lt(sv->calls, 8, "the flush loops over the same messages");
	mf_strlcpy(sv->got[sv->calls++], to, sizeof(sv->got[0]));
	if (strncmp(to, "ok", 2) == 0)
		return 0;
	if (strncmp(to, "later", 5) == 0)
		return mf_err_set(e, MF_E_TEMP, "451 try again");
	if (strncmp(to, "down", 4) == 0)
		return mf_err_set(e, MF_E_TEMP, "unreachable"), -2;
	return mf_err_set(e, MF_E_PERM, "550 no such user");
}

static void
report_cb(void *arg, const struct mf_queue_entry *ent, int status,
          const struct mf_err *e)
{
	struct server *sv = arg;

	(void)e;
	cr_assert_lt(sv->reports, 8);
	mf_strlcpy(sv->reported[sv->reports], ent->rcpts[0],
	    sizeof(sv->reported[0]));
	sv->status[sv->reports++] = status;
}

/* The status reported for the message to `to`; -1 if none was. */
static int
status_of(const struct server *sv, const char *to)
{
	int i;

	for (i = 0; i < sv->reports; i++)
		if (strcmp(sv->reported[i], to) == 0)
			return sv->status[i];
	return -1;
}

Test(queue, flush_sends_defers_and_fails_each_once)
{
	struct mf_queue *q = open_q();
	struct mf_queue_stats st;
	struct server sv = {0};
	struct mf_err e = {0};
	char id[96];

	add(q, NULL, "ok1@example.net", "1\r\n", id, sizeof(id));
	add(q, NULL, "later@example.net", "2\r\n", id, sizeof(id));
	add(q, NULL, "bad@example.net", "3\r\n", id, sizeof(id));
	add(q, NULL, "ok2@example.net", "4\r\n", id, sizeof(id));
	cr_assert_eq(mf_queue_flush(q, NULL, send_cb, report_cb, &sv, &st, &e),
	    0, "%s", e.msg);
	cr_expect_eq(sv.calls, 4, "each message tried once, got %d", sv.calls);
	cr_expect_eq(st.sent, 2);
	cr_expect_eq(st.deferred, 1);
	cr_expect_eq(st.failed, 1);
	/* ids made in the same second sort at random: check by recipient */
	cr_expect_eq(status_of(&sv, "ok1@example.net"), 0);
	cr_expect_eq(status_of(&sv, "ok2@example.net"), 0);
	cr_expect_eq(status_of(&sv, "later@example.net"), EX_TEMPFAIL);
	cr_expect_eq(status_of(&sv, "bad@example.net"), EX_UNAVAILABLE);
	cr_expect_eq(count("new"), 1);
	cr_expect_eq(count("failed"), 1);
	cr_expect_eq(count("sending"), 0);
	/* the next flush tries the deferred one again */
	memset(&sv, 0, sizeof(sv));
	cr_assert_eq(mf_queue_flush(q, NULL, send_cb, report_cb, &sv, &st, &e),
	    0);
	cr_expect_eq(sv.calls, 1);
	cr_expect_str_eq(sv.got[0], "later@example.net");
	cr_expect_eq(st.deferred, 1);
	cr_expect_eq(st.last_status, EX_TEMPFAIL);
	mf_queue_close(q);
}

Test(queue, unreachable_server_stops_the_flush)
{
	struct mf_queue *q = open_q();
	struct mf_queue_stats st;
	struct server sv = {0};
	struct mf_err e = {0};
	char id[96];

	/* ids made in the same second sort at random: both fail alike */
	add(q, NULL, "down1@example.net", "1\r\n", id, sizeof(id));
	add(q, NULL, "down2@example.net", "2\r\n", id, sizeof(id));
	cr_assert_eq(mf_queue_flush(q, NULL, send_cb, report_cb, &sv, &st, &e),
	    0);
	cr_expect_eq(sv.calls, 1);
	cr_expect_eq(st.deferred, 1);
	cr_expect_eq(st.sent, 0);
	cr_expect_eq(count("new"), 2, "both kept for the next flush");
	mf_queue_close(q);
}

Test(queue, claim_of_a_dead_process_returns_to_new)
{
	struct mf_queue *q = open_q();
	struct mf_queue_entry ent;
	struct mf_err e = {0};
	char id[96], from[256], to[256];
	pid_t pid;

	add(q, NULL, "ok@example.net", "1\r\n", id, sizeof(id));
	/* a flusher that died holding the claim */
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	snprintf(from, sizeof(from), "%s/new/%s", dir, id);
	snprintf(to, sizeof(to), "%s/sending/%s@%d", dir, id, (int)pid);
	cr_assert_eq(rename(from, to), 0);
	cr_assert_eq(count("new"), 0);
	cr_assert_eq(mf_queue_claim(q, NULL, &ent, &e), 1, "%s", e.msg);
	cr_expect_str_eq(ent.id, id);
	cr_expect_str_eq(ent.msg, "1\r\n");
	mf_queue_entry_free(&ent);
	mf_queue_close(q);
}

Test(queue, garbage_file_is_skipped_not_sent)
{
	struct mf_queue *q = open_q();
	struct mf_queue_entry ent;
	struct mf_err e = {0};
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/new/1.2.junk", dir);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs("not a queue file\n", f);
	fclose(f);
	cr_expect_eq(mf_queue_claim(q, NULL, &ent, &e), 0);
	cr_expect_eq(count("new"), 1, "left where it was");
	mf_queue_close(q);
}

Test(queue, line_break_in_envelope_is_refused)
{
	struct mf_queue *q = open_q();
	char *rcpts[1] = { "a@example.net\r\nrcpt evil@example.net" };
	struct mf_err e = {0};
	char id[96];

	cr_expect_eq(mf_queue_add_message(q, NULL, "joe@example.org", rcpts, 1,
	    NULL, NULL, "x\r\n", 3, id, sizeof(id), &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
	/* a bare LF would forge an envelope line just the same */
	rcpts[0] = "a@example.net\nrcpt evil@example.net";
	cr_expect_eq(mf_queue_add_message(q, NULL, "joe@example.org", rcpts, 1,
	    NULL, NULL, "x\r\n", 3, id, sizeof(id), &e), -1);
	cr_expect_eq(mf_queue_add_message(q, NULL, "joe@example.org\nrcpt "
	    "evil@example.net", rcpts + 1, 0, NULL, NULL, "x\r\n", 3, id,
	    sizeof(id), &e), -1);
	cr_expect_eq(count("new") + count("tmp"), 0);
	mf_queue_close(q);
}
