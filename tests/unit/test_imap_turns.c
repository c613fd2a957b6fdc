/* test_imap_turns.c - the IMAP client's round trips, counted on the
 * transport: a round trip is a read that follows a write (or the first
 * read: the greeting).  Capabilities the greeting or the login reply
 * carried are not asked for again (RFC 3501 §7.1, RFC 9051 §7.1), the
 * login uses SASL-IR (RFC 4959), ENABLE shares a round trip with the
 * commands queued after it, and LOGOUT is sent without waiting for its
 * reply.  The sync engine's own count is checked end to end by the fake
 * case imap-sync-roundtrips and against Dovecot in 50-imap-sync. */
#include <criterion/criterion.h>
#include <string.h>

#include "imap.h"
#include "memtransport.h"

/* memt, plus the count of round trips */
struct counted {
	struct memt m;
	int ops;                /* reads and writes so far */
	int last_write;
	int turns;
};

static ssize_t
ct_read(void *ctx, void *buf, size_t n, int timeout_ms, struct mf_err *e)
{
	struct counted *c = ctx;

	if (c->ops++ == 0 || c->last_write)
		c->turns++;
	c->last_write = 0;
	return memt_read(&c->m, buf, n, timeout_ms, e);
}

static int
ct_write(void *ctx, const void *buf, size_t n, int timeout_ms,
         struct mf_err *e)
{
	struct counted *c = ctx;

	c->ops++;
	c->last_write = 1;
	return memt_write(&c->m, buf, n, timeout_ms, e);
}

static int ct_fd(void *ctx) { (void)ctx; return -1; }
static void ct_close(void *ctx) { ((struct counted *)ctx)->m.closed = 1; }

static const struct mf_transport_ops ct_ops = {
	.read = ct_read, .write = ct_write, .pending = NULL,
	.fd = ct_fd, .close = ct_close,
};

static struct mf_imap *
attach(struct counted *c, const char *const *chunks, size_t n,
       struct mf_conn *ip, struct mf_err *e)
{
	struct mf_transport *t;
	struct mf_imap *im;

	memset(c, 0, sizeof(*c));
	(void)memt_transport(&c->m, chunks, n);   /* the scripted reads */
	t = mf_transport_new(&ct_ops, c, 0);
	cr_assert_not_null(t);
	memset(ip, 0, sizeof(*ip));
	ip->host = "imap.test";
	mf_err_clear(e);
	im = mf_imap_attach(t, ip, e);
	cr_assert_not_null(im, "%s", e->msg);
	return im;
}

static const char *
written(struct counted *c)
{
	return c->m.written.data ? c->m.written.data : "";
}

#define GREET_CAPS "* OK [CAPABILITY IMAP4rev1 SASL-IR ENABLE AUTH=PLAIN] hi\r\n"

Test(imap_turns, greeting_capabilities_are_not_asked_again)
{
	const char *chunks[] = { GREET_CAPS };
	struct counted c;
	struct mf_conn ip;
	struct mf_err e;
	struct mf_imap *im = attach(&c, chunks, 1, &ip, &e);

	cr_assert_str_eq(written(&c), "");
	cr_assert_eq(c.turns, 1);     /* the greeting */
	cr_assert(mf_imap_has_cap(im, "SASL-IR"));
	mf_imap_abandon(im);
	mf_imap_free(im);
	mf_buf_free(&c.m.written);
}

Test(imap_turns, no_capabilities_in_greeting_asks)
{
	const char *chunks[] = {
		"* OK hi\r\n",
		"* CAPABILITY IMAP4rev1 ENABLE\r\nA1 OK done\r\n",
	};
	struct counted c;
	struct mf_conn ip;
	struct mf_err e;
	struct mf_imap *im = attach(&c, chunks, 2, &ip, &e);

	cr_assert_str_eq(written(&c), "A1 CAPABILITY\r\n");
	cr_assert_eq(c.turns, 2);
	cr_assert(mf_imap_has_cap(im, "ENABLE"));
	mf_imap_abandon(im);
	mf_imap_free(im);
	mf_buf_free(&c.m.written);
}

/* A list without IMAP4rev1 is not taken as the whole list. */
Test(imap_turns, greeting_list_without_rev1_asks)
{
	const char *chunks[] = {
		"* OK [CAPABILITY STARTTLS] hi\r\n",
		"* CAPABILITY IMAP4rev1 STARTTLS\r\nA1 OK done\r\n",
	};
	struct counted c;
	struct mf_conn ip;
	struct mf_err e;
	struct mf_imap *im = attach(&c, chunks, 2, &ip, &e);

	cr_assert_str_eq(written(&c), "A1 CAPABILITY\r\n");
	mf_imap_abandon(im);
	mf_imap_free(im);
	mf_buf_free(&c.m.written);
}

/*
 * The whole session of a client that logs in, enables, lists and
 * selects, then logs out: 3 round trips.
 *   1 the greeting (with capabilities: no CAPABILITY)
 *   2 AUTHENTICATE PLAIN with its initial response (SASL-IR, RFC 4959);
 *     the OK carries the new capabilities (no CAPABILITY)
 *   3 ENABLE, LIST and SELECT sent in one write, replies read after
 *   - LOGOUT sent, its reply (left in the script) never read
 */
Test(imap_turns, login_enable_list_select_logout)
{
	const char *chunks[] = {
		GREET_CAPS,
		"A1 OK [CAPABILITY IMAP4rev1 ENABLE QRESYNC CONDSTORE] in\r\n",
		"* ENABLED QRESYNC CONDSTORE\r\nA2 OK\r\n",
		"* LIST () \"/\" INBOX\r\nA3 OK\r\n",
		"* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 2] x\r\nA4 OK\r\n",
		"* BYE bye\r\nA5 OK bye\r\n",
	};
	struct counted c;
	struct mf_conn ip;
	struct mf_err e;
	struct mf_imap *im = attach(&c, chunks, 6, &ip, &e);
	const char *star[] = { "*" };
	unsigned te, tl, ts;

	ip.cred.user = "alice";
	ip.cred.mech = "PLAIN";
	ip.cred.source.password = "pw";
	cr_assert_eq(mf_imap_login(im, &ip, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_imap_enable_send(im, "QRESYNC CONDSTORE", &te, &e), 0);
	cr_assert_gt(te, 0);
	cr_assert_eq(mf_imap_list_send(im, star, 1, 0, 0, &tl, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_imap_select_send(im, "INBOX", 0, NULL, &ts, &e), 0,
	    "%s", e.msg);
	cr_assert(tl && ts);
	cr_assert_eq(mf_imap_wait_ok(im, te, NULL, NULL, &e), 0, "%s", e.msg);
	cr_assert(mf_imap_enabled(im, "QRESYNC"));
	cr_assert_eq(mf_imap_wait_ok(im, tl, NULL, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_imap_wait_ok(im, ts, NULL, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_imap_mailbox(im)->uidvalidity, 7);
	mf_imap_free(im);
	cr_assert_str_eq(written(&c),
	    "A1 AUTHENTICATE PLAIN AGFsaWNlAHB3\r\n"
	    "A2 ENABLE QRESYNC CONDSTORE\r\n"
	    "A3 LIST \"\" \"*\"\r\n"
	    "A4 SELECT \"INBOX\"\r\n"
	    "A5 LOGOUT\r\n");
	cr_assert_eq(c.turns, 3, "round trips: %d", c.turns);
	cr_assert_eq(c.m.next, 5, "LOGOUT's reply was read");
	mf_buf_free(&c.m.written);
}

/* An ENABLE list that does not fit is an error before anything is sent:
 * never an extension cut or silently left out. */
Test(imap_turns, enable_list_too_long_is_not_sent)
{
	const char *chunks[] = { GREET_CAPS };
	static char list[600], name[80];
	struct counted c;
	struct mf_conn ip;
	struct mf_err e;
	struct mf_imap *im = attach(&c, chunks, 1, &ip, &e);
	unsigned tag = 1;
	size_t i;

	for (i = 0; i + 8 < sizeof(list); i += 8)
		memcpy(list + i, "ENABLE  ", 8);
	cr_assert_eq(mf_imap_enable_send(im, list, &tag, &e), -1);
	cr_assert_eq(e.kind, MF_E_USAGE, "%s", e.msg);
	cr_assert_eq(tag, 0);
	memset(name, 'X', sizeof(name) - 1);
	cr_assert_eq(mf_imap_enable_send(im, name, &tag, &e), -1);
	cr_assert_eq(e.kind, MF_E_USAGE, "%s", e.msg);
	cr_assert_str_eq(written(&c), "");
	mf_imap_abandon(im);
	mf_imap_free(im);
	mf_buf_free(&c.m.written);
}
