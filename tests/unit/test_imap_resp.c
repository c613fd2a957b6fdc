/* The typed responses of imap.h (imap_resp.c): FETCH, VANISHED, LIST and
 * STATUS decoded into records by mf_imap_events_fn, as the engines get
 * them. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "imap.h"

/* What the callbacks saw, flattened into text to compare. */
struct seen {
	char out[4096];
	size_t n;
	int changed;
	int fail;               /* the fetch callback returns -1 */
};

static void
say(struct seen *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s->n += (size_t)vsnprintf(s->out + s->n, sizeof s->out - s->n, fmt, ap);
	va_end(ap);
	cr_assert_lt(s->n, sizeof s->out);
}

static const char *const body_names[] = { "none", "streamed", "inline",
                                          "nil" };

static int
on_fetch(void *arg, const struct mf_imap_fetch *m, struct mf_err *e)
{
	struct seen *s = arg;
	size_t i;

	say(s, "fetch seq=%u uid=%u size=%llu", m->seq, m->uid,
	    (unsigned long long)m->size);
	if (m->has_flags) {
		say(s, " flags=");
		for (i = 0; i < m->nflags; i++)
			say(s, "%s%s", i ? "," : "", m->flags[i]);
	}
	if (m->msgid_fields)
		say(s, " ids=[%s]", m->msgid_fields);
	say(s, " body=%s", body_names[m->body]);
	if (m->body == MF_IMAP_BODY_INLINE)
		say(s, "(%.*s)", (int)m->body_len, m->body_data);
	say(s, ";");
	if (s->fail)
		return mf_err_set(e, MF_E_DATA, "stop here");
	return 0;
}

static int
on_vanished(void *arg, const char *uids, int earlier, struct mf_err *e)
{
	(void)e;
	say(arg, "vanished%s %s;", earlier ? " earlier" : "", uids);
	return 0;
}

static int
on_list(void *arg, const struct mf_imap_listed *l, struct mf_err *e)
{
	struct seen *s = arg;
	size_t i;

	(void)e;
	say(s, "list name=%.*s delim=%c attrs=", (int)l->name_len, l->name,
	    l->delim ? l->delim : '0');
	for (i = 0; i < l->nattrs; i++)
		say(s, "%s%s", i ? "," : "", l->attrs[i]);
	say(s, ";");
	return 0;
}

static int
on_status(void *arg, const struct mf_imap_mbox_status *st, struct mf_err *e)
{
	(void)e;
	say(arg, "status %.*s items=%x m=%llu n=%llu v=%llu h=%llu;",
	    (int)st->mbox_len, st->mbox, st->items,
	    (unsigned long long)st->messages, (unsigned long long)st->uidnext,
	    (unsigned long long)st->uidvalidity,
	    (unsigned long long)st->highestmodseq);
	return 0;
}

static int
on_changed(void *arg, struct mf_err *e)
{
	(void)e;
	((struct seen *)arg)->changed++;
	return 0;
}

static int
stream_body(void *arg, const char *prefix, size_t n, uint64_t size)
{
	(void)arg;
	(void)size;
	return n >= 7 && !strncmp(prefix + n - 7, "BODY[] ", 7);
}

static int
drop_data(void *arg, const char *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return 0;
}

static int
drop_end(void *arg)
{
	(void)arg;
	return 0;
}

/* Feed each response of `in` to mf_imap_events_fn; the first -1 ends it
 * and is returned. */
static int
decode(const char *in, struct seen *s, int streamed, struct mf_err *e)
{
	struct mf_imap_hooks hk = { stream_body, drop_data, drop_end, NULL, s };
	struct mf_imap_events ev = {
		on_fetch, on_vanished, on_list, on_status, on_changed, s
	};
	struct mf_imap_parser *p = mf_imap_parser_new(NULL, streamed ? &hk
	                                                              : NULL);
	size_t len = strlen(in), off = 0;
	int rc = 0;

	cr_assert(p);
	mf_err_clear(e);
	while (off < len && rc == 0) {
		int done = 0;
		ssize_t used = mf_imap_parser_feed(p, in + off, len - off, &done, e);
		cr_assert_geq(used, 0, "%s", e->msg);
		off += (size_t)used;
		cr_assert(done);
		rc = mf_imap_events_fn(&ev, mf_imap_parser_response(p), e);
	}
	mf_imap_parser_free(p);
	return rc;
}

Test(imap_resp, fetch_items_decoded)
{
	struct seen s = { .n = 0 };
	struct mf_err e;

	cr_assert_eq(decode("* 3 FETCH (UID 17 RFC822.SIZE 2048 FLAGS (\\Seen "
	    "$Junk) BODY[HEADER.FIELDS (MESSAGE-ID)] {21}\r\n"
	    "Message-ID: <a@b>\r\n\r\n)\r\n"
	    "* 4 FETCH (FLAGS ())\r\n"
	    "* 5 FETCH (UID 4294967296 BODY[] \"hi\")\r\n"
	    "* 6 FETCH (UID 9 BODY[] NIL)\r\n", &s, 0, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.out,
	    "fetch seq=3 uid=17 size=2048 flags=\\Seen,$Junk "
	    "ids=[Message-ID: <a@b>\r\n\r\n] body=none;"
	    "fetch seq=4 uid=0 size=0 flags= body=none;"
	    "fetch seq=5 uid=0 size=0 body=inline(hi);"
	    "fetch seq=6 uid=9 size=0 body=nil;");
	cr_assert_eq(s.changed, 4);
}

Test(imap_resp, streamed_body_is_said_streamed)
{
	struct seen s = { .n = 0 };
	struct mf_err e;

	cr_assert_eq(decode("* 1 FETCH (UID 2 FLAGS (\\Seen) BODY[] {5}\r\n"
	    "hello)\r\n", &s, 1, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.out,
	    "fetch seq=1 uid=2 size=0 flags=\\Seen body=streamed;");
}

/* More flags than the decoder keeps on its stack: all of them, in order. */
Test(imap_resp, many_flags)
{
	struct seen s = { .n = 0 };
	struct mf_err e;
	char in[2048], want[2048];
	size_t o, w;
	int i;

	o = (size_t)snprintf(in, sizeof in, "* 1 FETCH (UID 1 FLAGS (");
	w = (size_t)snprintf(want, sizeof want, "fetch seq=1 uid=1 size=0 flags=");
	for (i = 0; i < 100; i++) {
		o += (size_t)snprintf(in + o, sizeof in - o, "%sk%d", i ? " " : "", i);
		w += (size_t)snprintf(want + w, sizeof want - w, "%sk%d", i ? "," : "",
		                      i);
	}
	snprintf(in + o, sizeof in - o, "))\r\n");
	snprintf(want + w, sizeof want - w, " body=none;");
	cr_assert_eq(decode(in, &s, 0, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.out, want);
}

Test(imap_resp, callback_error_stops)
{
	struct seen s = { .n = 0, .fail = 1 };
	struct mf_err e;

	cr_assert_eq(decode("* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n", &s, 0,
	    &e), -1);
	cr_assert_eq(e.kind, MF_E_DATA);
	cr_assert_str_eq(s.out, "fetch seq=1 uid=1 size=0 body=none;");
}

/* RFC 7162 §3.2.10 */
Test(imap_resp, vanished)
{
	struct seen s = { .n = 0 };
	struct mf_err e;

	cr_assert_eq(decode("* VANISHED (EARLIER) 1:3,7\r\n* VANISHED 9\r\n"
	    "* VANISHED\r\n", &s, 0, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.out, "vanished earlier 1:3,7;vanished 9;");
	cr_assert_eq(s.changed, 3);
}

/* RFC 3501 §7.2.2 */
Test(imap_resp, list)
{
	struct seen s = { .n = 0 };
	struct mf_err e;

	cr_assert_eq(decode("* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n"
	    "* LIST () NIL INBOX\r\n* LIST \"x\" \"/\" y\r\n", &s, 0, &e), 0,
	    "%s", e.msg);
	cr_assert_str_eq(s.out,
	    "list name=Sent Items delim=/ attrs=\\HasNoChildren,\\Sent;"
	    "list name=INBOX delim=0 attrs=;");
	cr_assert_eq(s.changed, 0);
	memset(&s, 0, sizeof s);
	cr_assert_eq(decode("* LIST () \"/\"\r\n", &s, 0, &e), -1);
	cr_assert_eq(e.kind, MF_E_PROTO);
	cr_assert_eq(decode("* LIST () \"/\" (x)\r\n", &s, 0, &e), -1);
	cr_assert_eq(e.kind, MF_E_PROTO);
	cr_assert_str_eq(s.out, "");
}

/* RFC 3501 §7.2.4; RFC 7162 §3.1.6 */
Test(imap_resp, status)
{
	struct seen s = { .n = 0 };
	struct mf_err e;

	cr_assert_eq(decode("* STATUS \"Work\" (MESSAGES 2 X-GUID abc UIDNEXT 9 "
	    "UIDVALIDITY 7 HIGHESTMODSEQ 12345678901)\r\n"
	    "* STATUS INBOX (MESSAGES)\r\n* STATUS INBOX ()\r\n", &s, 0, &e), 0,
	    "%s", e.msg);
	cr_assert_str_eq(s.out,
	    "status Work items=f m=2 n=9 v=7 h=12345678901;"
	    "status INBOX items=0 m=0 n=0 v=0 h=0;"
	    "status INBOX items=0 m=0 n=0 v=0 h=0;");
}

/* Only untagged responses are decoded; the others are no news. */
Test(imap_resp, other_responses_ignored)
{
	struct seen s = { .n = 0 };
	struct mf_err e;

	cr_assert_eq(decode("* 4 EXISTS\r\n* 1 EXPUNGE\r\n* OK [UIDNEXT 5] x\r\n"
	    "A1 OK FETCH done\r\n+ go\r\n", &s, 0, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.out, "");
	cr_assert_eq(s.changed, 2);
}
