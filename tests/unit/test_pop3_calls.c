/* test_pop3_calls.c - the typed POP3 transaction calls of pop3.c (STAT,
 * UIDL, LIST, RETR, DELE; pipelined through mf_pop3_queue / mf_pop3_reply)
 * over a scripted server (mf_pop3_attach on memtransport.h): the exact
 * bytes written, the replies matched to their commands in order, and the
 * refusal of arguments no command line may carry.  The calls take only
 * message numbers, never text, so a CR, LF or NUL cannot reach a command
 * line through them: what they refuse is a number the command does not
 * take (0 for RETR and DELE, RFC 1939 §5; any for STAT, UIDL, LIST) and a
 * command that does not exist, before anything is written. */
#include <criterion/criterion.h>
#include <string.h>

#include "memtransport.h"
#include "pop3.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define GREETING "+OK POP3 ready\r\n"
#define CAPA     "+OK\r\nUIDL\r\nPIPELINING\r\n.\r\n"

static struct memt mt;
static struct mf_pop3 *p;

static void
teardown(void)
{
	mf_pop3_free(p);
	p = NULL;
	mf_buf_free(&mt.written);
}

TestSuite(pop3_calls, .fini = teardown, .timeout = 10);

/* A session over the server replies r[0..n) (greeting and CAPA first);
 * what CAPA wrote is dropped from mt.written. */
static void
attach(const char *const *r, size_t n)
{
	struct mf_conn cp;
	struct mf_err e = {0};
	struct mf_transport *t;

	memset(&cp, 0, sizeof(cp));
	cp.host = "pop.example";
	cp.port = "110";
	t = memt_transport(&mt, r, n);
	cr_assert_not_null(t);
	p = mf_pop3_attach(t, &cp, &e);
	cr_assert_not_null(p, "attach: %s", e.msg);
	cr_assert_str_eq(mt.written.data, "CAPA\r\n");
	mf_buf_reset(&mt.written);
}

static const char *
written(void)
{
	return mt.written.data != NULL ? mt.written.data : "";
}

/* ---- command lines ---- */

struct line_case {
	enum mf_pop3_cmd cmd;
	unsigned long num;
	const char *want;       /* NULL: refused with MF_E_USAGE */
};

static const struct line_case line_cases[] = {
	{ MF_POP3_STAT, 0, "STAT" },
	{ MF_POP3_UIDL, 0, "UIDL" },
	{ MF_POP3_LIST, 0, "LIST" },
	{ MF_POP3_RETR, 1, "RETR 1" },
	{ MF_POP3_DELE, 4294967295UL, "DELE 4294967295" },
	{ MF_POP3_RETR, 0, NULL },      /* messages are numbered from 1 */
	{ MF_POP3_DELE, 0, NULL },
	{ MF_POP3_STAT, 3, NULL },      /* STAT takes no argument */
	{ MF_POP3_UIDL, 1, NULL },      /* the one-message form: not offered */
	{ MF_POP3_LIST, 1, NULL },
	{ (enum mf_pop3_cmd)99, 1, NULL },
};

Test(pop3_calls, cmd_line_table)
{
	char out[32];
	size_t i;

	for (i = 0; i < N(line_cases); i++) {
		const struct line_case *c = &line_cases[i];
		struct mf_err e = {0};
		int r = mf_pop3_cmd_line(c->cmd, c->num, out, sizeof(out), &e);

		if (c->want == NULL) {
			cr_expect_eq(r, -1, "case %zu accepted", i);
			cr_expect_eq(e.kind, MF_E_USAGE, "case %zu: %s", i, e.msg);
			continue;
		}
		cr_expect_eq(r, 0, "case %zu: %s", i, e.msg);
		cr_expect_str_eq(out, c->want, "case %zu", i);
	}
}

Test(pop3_calls, cmd_line_too_small_buffer)
{
	struct mf_err e = {0};
	char out[6];

	cr_expect_eq(mf_pop3_cmd_line(MF_POP3_RETR, 12, out, sizeof(out), &e),
	    -1);
	cr_expect_eq(e.kind, MF_E_INTERNAL);
}

/* ---- RETR and DELE, pipelined ---- */

static int
to_buf(void *arg, const char *data, size_t n, struct mf_err *e)
{
	return mf_buf_append(arg, data, n, e);
}

Test(pop3_calls, queue_writes_on_flush_and_replies_come_in_order)
{
	static const char *const r[] = {
		GREETING, CAPA,
		"+OK 12 octets\r\nSubject: a\r\n\r\n..x\r\n.\r\n"
		"-ERR no such message\r\n+OK deleted\r\n",
	};
	struct mf_err e = {0};
	enum mf_pop3_cmd cmd;
	unsigned long num;
	struct mf_buf body;
	char text[64];

	attach(r, N(r));
	cr_assert_eq(mf_pop3_queue(p, MF_POP3_RETR, 1, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_pop3_queue(p, MF_POP3_RETR, 2, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_pop3_queue(p, MF_POP3_DELE, 1, &e), 0, "%s", e.msg);
	cr_expect_str_eq(written(), "", "queued commands wait for a flush");
	cr_expect_eq(mf_pop3_pending(p), 3);
	cr_assert_eq(mf_pop3_flush(p, &e), 0, "%s", e.msg);
	cr_expect_str_eq(written(), "RETR 1\r\nRETR 2\r\nDELE 1\r\n");

	cr_assert_eq(mf_pop3_reply(p, &cmd, &num, text, sizeof(text), &e), 1,
	    "%s", e.msg);
	cr_expect_eq(cmd, MF_POP3_RETR);
	cr_expect_eq(num, 1);
	cr_expect_str_eq(text, "12 octets");
	mf_buf_init(&body, 1024);
	cr_assert_eq(mf_pop3_read_body(p, 1000, 1000, to_buf, &body, &e), 0,
	    "%s", e.msg);
	cr_expect_str_eq(body.data, "Subject: a\n\n.x\n");
	mf_buf_free(&body);

	cr_assert_eq(mf_pop3_reply(p, &cmd, &num, text, sizeof(text), &e), 0,
	    "%s", e.msg);
	cr_expect_eq(cmd, MF_POP3_RETR);
	cr_expect_eq(num, 2);
	cr_expect_str_eq(text, "no such message");
	cr_assert_eq(mf_pop3_reply(p, &cmd, &num, NULL, 0, &e), 1, "%s",
	    e.msg);
	cr_expect_eq(cmd, MF_POP3_DELE);
	cr_expect_eq(num, 1);
	cr_expect_eq(mf_pop3_pending(p), 0);
	cr_expect_str_eq(written(), "RETR 1\r\nRETR 2\r\nDELE 1\r\n",
	    "reading wrote nothing more");
}

Test(pop3_calls, reply_sends_what_was_queued)
{
	static const char *const r[] = { GREETING, CAPA, "+OK\r\n" };
	struct mf_err e = {0};

	attach(r, N(r));
	cr_assert_eq(mf_pop3_queue(p, MF_POP3_DELE, 7, &e), 0, "%s", e.msg);
	cr_expect_eq(mf_pop3_reply(p, NULL, NULL, NULL, 0, &e), 1, "%s",
	    e.msg);
	cr_expect_str_eq(written(), "DELE 7\r\n");
}

Test(pop3_calls, queue_refuses_bad_arguments_and_writes_nothing)
{
	static const char *const r[] = { GREETING, CAPA };
	struct mf_err e = {0};

	attach(r, N(r));
	cr_expect_eq(mf_pop3_queue(p, MF_POP3_RETR, 0, &e), -1);
	cr_expect_eq(e.kind, MF_E_USAGE);
	cr_expect_eq(mf_pop3_queue(p, MF_POP3_DELE, 0, &e), -1);
	cr_expect_eq(mf_pop3_queue(p, MF_POP3_STAT, 1, &e), -1);
	cr_expect_eq(mf_pop3_queue(p, (enum mf_pop3_cmd)-1, 1, &e), -1);
	cr_expect_eq(mf_pop3_pending(p), 0);
	cr_expect_eq(mf_pop3_flush(p, &e), 0);
	cr_expect_str_eq(written(), "");
}

Test(pop3_calls, reply_without_a_command_is_a_bug)
{
	static const char *const r[] = { GREETING, CAPA, "+OK\r\n" };
	struct mf_err e = {0};

	attach(r, N(r));
	cr_expect_eq(mf_pop3_reply(p, NULL, NULL, NULL, 0, &e), -1);
	cr_expect_eq(e.kind, MF_E_INTERNAL);
	cr_expect_str_eq(written(), "");
}

Test(pop3_calls, reply_neither_ok_nor_err)
{
	static const char *const r[] = { GREETING, CAPA, "* OK hello\r\n" };
	struct mf_err e = {0};

	attach(r, N(r));
	cr_assert_eq(mf_pop3_queue(p, MF_POP3_RETR, 3, &e), 0);
	cr_expect_eq(mf_pop3_reply(p, NULL, NULL, NULL, 0, &e), -1);
	cr_expect_eq(e.kind, MF_E_PROTO);
	cr_expect(strstr(e.msg, "RETR") != NULL, "%s", e.msg);
}

/* The queue grows past its first allocation and keeps the order. */
Test(pop3_calls, many_in_flight_keep_their_order)
{
	static char replies[300 * 6 + 1];
	static const char *r[] = { GREETING, CAPA, replies };
	char want[300 * 12 + 1], *w = want;
	struct mf_err e = {0};
	enum mf_pop3_cmd cmd;
	unsigned long i, num;

	/* 300 lines of "+OK\r\n" */
	for (i = 0; i < 300; i++)
		memcpy(replies + i * 5, "+OK\r\n", 5);
	replies[300 * 5] = '\0';
	attach(r, N(r));
	for (i = 1; i <= 150; i++) {
		cr_assert_eq(mf_pop3_queue(p, MF_POP3_DELE, i, &e), 0);
		w += snprintf(w, sizeof(want) - (size_t)(w - want),
		    "DELE %lu\r\n", i);
	}
	/* read some, queue more: the ring wraps */
	for (i = 1; i <= 100; i++) {
		cr_assert_eq(mf_pop3_reply(p, &cmd, &num, NULL, 0, &e), 1);
		cr_expect_eq(num, i);
	}
	for (i = 151; i <= 300; i++) {
		cr_assert_eq(mf_pop3_queue(p, MF_POP3_RETR, i, &e), 0);
		w += snprintf(w, sizeof(want) - (size_t)(w - want),
		    "RETR %lu\r\n", i);
	}
	cr_expect_eq(mf_pop3_pending(p), 200);
	for (i = 101; i <= 300; i++) {
		cr_assert_eq(mf_pop3_reply(p, &cmd, &num, NULL, 0, &e), 1,
		    "%lu: %s", i, e.msg);
		cr_expect_eq(num, i);
		cr_expect_eq(cmd, i <= 150 ? MF_POP3_DELE : MF_POP3_RETR);
	}
	cr_expect_str_eq(written(), want);
}

/* ---- STAT, UIDL, LIST ---- */

Test(pop3_calls, stat_sends_and_parses)
{
	static const char *const r[] = { GREETING, CAPA, "+OK 2 320\r\n" };
	struct mf_err e = {0};
	unsigned long long size;
	unsigned long n;

	attach(r, N(r));
	cr_assert_eq(mf_pop3_stat(p, &n, &size, &e), 0, "%s", e.msg);
	cr_expect_str_eq(written(), "STAT\r\n");
	cr_expect_eq(n, 2);
	cr_expect_eq(size, 320);
}

Test(pop3_calls, stat_empty_maildrop)
{
	static const char *const r[] = { GREETING, CAPA, "+OK 0 0\r\n" };
	struct mf_err e = {0};
	unsigned long long size = 9;
	unsigned long n = 9;

	attach(r, N(r));
	cr_assert_eq(mf_pop3_stat(p, &n, &size, &e), 0, "%s", e.msg);
	cr_expect_eq(n, 0);
	cr_expect_eq(size, 0);
}

Test(pop3_calls, stat_refused_is_a_protocol_error)
{
	static const char *const r[] = { GREETING, CAPA, "-ERR \x1b[31mno\r\n" };
	struct mf_err e = {0};
	unsigned long long size;
	unsigned long n;

	attach(r, N(r));
	cr_expect_eq(mf_pop3_stat(p, &n, &size, &e), -1);
	cr_expect_eq(e.kind, MF_E_PROTO);
	cr_expect(strstr(e.msg, "STAT refused") != NULL, "%s", e.msg);
	cr_expect(strchr(e.msg, '\x1b') == NULL, "escaped: %s", e.msg);
}

struct lines {
	char got[512];
};

static int
on_uidl(void *arg, unsigned long num, const char *uid, struct mf_err *e)
{
	struct lines *l = arg;
	size_t len = strlen(l->got);

	(void)e;
	snprintf(l->got + len, sizeof(l->got) - len, "%lu=%s;", num, uid);
	return 0;
}

static int
on_list(void *arg, unsigned long num, unsigned long long size,
        struct mf_err *e)
{
	struct lines *l = arg;
	size_t len = strlen(l->got);

	(void)e;
	snprintf(l->got + len, sizeof(l->got) - len, "%lu:%llu;", num, size);
	return 0;
}

static int
on_uidl_stop(void *arg, unsigned long num, const char *uid, struct mf_err *e)
{
	(void)arg;
	(void)uid;
	return mf_err_set(e, MF_E_PROTO, "stopped at %lu", num);
}

Test(pop3_calls, uidl_and_list_lock_step)
{
	static const char *const r[] = {
		GREETING, CAPA, "+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:"
		"00WBw1Ph7x7\r\n.\r\n", "+OK 2 messages\r\n1 120\r\n2 200\r\n"
		".\r\n",
	};
	struct mf_err e = {0};
	struct lines u = {""}, l = {""};

	attach(r, N(r));
	cr_assert_eq(mf_pop3_uidl(p, 2, on_uidl, &u, &e), 1, "%s", e.msg);
	cr_expect_str_eq(written(), "UIDL\r\n");
	cr_assert_eq(mf_pop3_list(p, 2, on_list, &l, &e), 1, "%s", e.msg);
	cr_expect_str_eq(written(), "UIDL\r\nLIST\r\n");
	/* the RFC 1939 §7 example UIDs */
	cr_expect_str_eq(u.got, "1=whqtswO00WBw418f9t5JxYwZ;"
	    "2=QhdPYR:00WBw1Ph7x7;");
	cr_expect_str_eq(l.got, "1:120;2:200;");
}

/* RFC 2449 §6.6: the three listings queued, then read in order: one
 * write. */
Test(pop3_calls, stat_uidl_list_pipelined)
{
	static const char *const r[] = {
		GREETING, CAPA, "+OK 1 5\r\n+OK\r\n1 u1\r\n.\r\n+OK\r\n1 5\r\n"
		".\r\n",
	};
	struct mf_err e = {0};
	struct lines u = {""}, l = {""};
	unsigned long long size;
	unsigned long n;

	attach(r, N(r));
	cr_assert_eq(mf_pop3_queue(p, MF_POP3_STAT, 0, &e), 0);
	cr_assert_eq(mf_pop3_queue(p, MF_POP3_UIDL, 0, &e), 0);
	cr_assert_eq(mf_pop3_queue(p, MF_POP3_LIST, 0, &e), 0);
	cr_assert_eq(mf_pop3_stat(p, &n, &size, &e), 0, "%s", e.msg);
	cr_expect_str_eq(written(), "STAT\r\nUIDL\r\nLIST\r\n");
	cr_assert_eq(mf_pop3_uidl(p, n, on_uidl, &u, &e), 1, "%s", e.msg);
	cr_assert_eq(mf_pop3_list(p, n, on_list, &l, &e), 1, "%s", e.msg);
	cr_expect_str_eq(written(), "STAT\r\nUIDL\r\nLIST\r\n",
	    "nothing sent twice");
	cr_expect_str_eq(u.got, "1=u1;");
	cr_expect_str_eq(l.got, "1:5;");
}

Test(pop3_calls, typed_read_out_of_order_is_a_bug)
{
	static const char *const r[] = { GREETING, CAPA, "+OK\r\n" };
	struct mf_err e = {0};
	struct lines u = {""};

	attach(r, N(r));
	cr_assert_eq(mf_pop3_queue(p, MF_POP3_DELE, 1, &e), 0);
	cr_expect_eq(mf_pop3_uidl(p, 1, on_uidl, &u, &e), -1);
	cr_expect_eq(e.kind, MF_E_INTERNAL);
	cr_expect_eq(mf_pop3_pending(p), 1, "the DELE still awaits its reply");
}

Test(pop3_calls, uidl_refused_is_zero)
{
	static const char *const r[] = { GREETING, CAPA, "-ERR what\r\n" };
	struct mf_err e = {0};
	struct lines u = {""};

	attach(r, N(r));
	cr_expect_eq(mf_pop3_uidl(p, 1, on_uidl, &u, &e), 0);
	cr_expect_str_eq(u.got, "");
}

Test(pop3_calls, malformed_listing_line_stops)
{
	static const char *const r[] = {
		GREETING, CAPA, "+OK\r\n1 u1\r\n2 bad uid\x01\r\n3 u3\r\n.\r\n",
	};
	struct mf_err e = {0};
	struct lines u = {""};

	attach(r, N(r));
	cr_expect_eq(mf_pop3_uidl(p, 3, on_uidl, &u, &e), -1);
	cr_expect_eq(e.kind, MF_E_PROTO);
	cr_expect_str_eq(u.got, "1=u1;");
}

Test(pop3_calls, callback_error_stops_the_listing)
{
	static const char *const r[] = {
		GREETING, CAPA, "+OK\r\n1 u1\r\n2 u2\r\n.\r\n",
	};
	struct mf_err e = {0};

	attach(r, N(r));
	cr_expect_eq(mf_pop3_uidl(p, 2, on_uidl_stop, NULL, &e), -1);
	cr_expect_str_eq(e.msg, "stopped at 1");
}

/* A listing far longer than STAT announced is cut off (MF_E_LIMIT). */
Test(pop3_calls, listing_bounded_by_the_stat_count)
{
	static char big[64 * 600 + 16];
	static const char *const r[] = { GREETING, CAPA, big };
	struct mf_err e = {0};
	struct lines l = {""};
	size_t i, off;

	off = (size_t)snprintf(big, sizeof(big), "+OK\r\n");
	for (i = 1; i <= 600; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off,
		    "%zu 5 padding-padding-padding-padding-padding\r\n",
		    i);
	snprintf(big + off, sizeof(big) - off, ".\r\n");
	attach(r, N(r));
	cr_expect_eq(mf_pop3_list(p, 1, on_list, &l, &e), -1);
	cr_expect_eq(e.kind, MF_E_LIMIT, "kind %d: %s", e.kind, e.msg);
}
