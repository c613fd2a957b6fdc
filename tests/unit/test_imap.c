/* The IMAP response parser: structure, resumption at every byte boundary,
 * streamed literals, limits. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "imap.h"

struct sink {
	struct mf_buf dump;
	struct mf_buf body;     /* streamed literal bytes */
	struct mf_buf lines;
	int stream;             /* take literals whose prefix ends in BODY[] */
	int begins, ends;
};

static int h_begin(void *arg, const char *prefix, size_t n, uint64_t size)
{
	struct sink *s = arg;
	(void)size;
	while (n && prefix[n - 1] == ' ')
		n--;
	if (!s->stream || n < 6 || strncmp(prefix + n - 6, "BODY[]", 6))
		return 0;
	s->begins++;
	return 1;
}

static int h_data(void *arg, const char *p, size_t n)
{
	struct sink *s = arg;
	return mf_buf_append(&s->body, p, n, NULL);
}

static int h_end(void *arg)
{
	struct sink *s = arg;
	s->ends++;
	return 0;
}

static void h_line(void *arg, const char *l, size_t n)
{
	struct sink *s = arg;
	mf_buf_append(&s->lines, l, n, NULL);
	mf_buf_putc(&s->lines, '|', NULL);
}

static void dump_toks(struct mf_buf *b, const struct mf_imap_resp *r,
                      size_t from, size_t to)
{
	for (size_t k = from; k < to; k = r->toks[k].next) {
		const struct mf_imap_tok *t = &r->toks[k];
		if (k != from)
			mf_buf_putc(b, ' ', NULL);
		switch (t->type) {
		case MF_IMAP_ATOM: mf_buf_printf(b, NULL, "%s", t->s); break;
		case MF_IMAP_STRING: mf_buf_printf(b, NULL, "\"%s\"", t->s); break;
		case MF_IMAP_NIL: mf_buf_puts(b, "NIL", NULL); break;
		case MF_IMAP_STREAMED: mf_buf_printf(b, NULL, "<S%zu>", t->len); break;
		case MF_IMAP_LIST:
			mf_buf_putc(b, '(', NULL);
			dump_toks(b, r, k + 1, t->next);
			mf_buf_putc(b, ')', NULL);
			break;
		}
	}
}

static void dump(struct mf_buf *b, const struct mf_imap_resp *r)
{
	static const char *kinds[] = { "T", "U", "C" };
	mf_buf_printf(b, NULL, "%s|%s|", kinds[r->kind], r->tag);
	if (r->has_number)
		mf_buf_printf(b, NULL, "%lu", r->number);
	mf_buf_printf(b, NULL, "|%s|%s[", r->keyword, r->code);
	dump_toks(b, r, r->code_first, r->data_first);
	mf_buf_printf(b, NULL, "]|%s|", r->text);
	dump_toks(b, r, r->data_first, r->ntoks);
	mf_buf_puts(b, "\n", NULL);
}

/* Feed `in` in pieces of `step` bytes (0: at split point `split`), dumping
 * every complete response. Returns 0 or -1 (error kind in *kind). */
static int run(const char *in, size_t len, size_t split, size_t step,
               const struct mf_imap_limits *lim, struct sink *s, int *kind)
{
	struct mf_imap_hooks hk = { h_begin, h_data, h_end, h_line, s };
	struct mf_imap_parser *p = mf_imap_parser_new(lim, &hk);
	struct mf_err e;
	size_t pos = 0;
	int rc = 0;

	mf_err_clear(&e);
	while (pos < len) {
		size_t n = step ? step : (pos < split ? split - pos : len - pos);
		if (n > len - pos)
			n = len - pos;
		size_t off = 0;
		while (off < n) {
			int done;
			ssize_t c = mf_imap_parser_feed(p, in + pos + off, n - off, &done, &e);
			if (c < 0) {
				*kind = e.kind;
				rc = -1;
				goto out;
			}
			off += (size_t)c;
			if (done)
				dump(&s->dump, mf_imap_parser_response(p));
		}
		pos += n;
	}
	if (!mf_imap_parser_idle(p)) {
		*kind = -2;
		rc = -1;
	}
out:
	mf_imap_parser_free(p);
	return rc;
}

static const struct {
	const char *in;
	int stream;
	const char *out;
	const char *body;
} cases[] = {
	{ "* OK [CAPABILITY IMAP4rev1 IDLE] Dovecot ready.\r\n", 0,
	  "U|*||OK|CAPABILITY[IMAP4rev1 IDLE]|Dovecot ready.|\n", "" },
	{ "A1 OK [APPENDUID 38505 3955] APPEND completed\r\n", 0,
	  "T|A1||OK|APPENDUID[38505 3955]|APPEND completed|\n", "" },
	{ "* OK [PERMANENTFLAGS (\\Seen \\*)] Limited\r\n", 0,
	  "U|*||OK|PERMANENTFLAGS[(\\Seen \\*)]|Limited|\n", "" },
	{ "* 12 FETCH (UID 5 FLAGS (\\Seen \\Flagged) BODY[] {10}\r\nhello\r\nwor)\r\n", 1,
	  "U|*|12|FETCH|[]||(UID 5 FLAGS (\\Seen \\Flagged) BODY[] <S10>)\n",
	  "hello\r\nwor" },
	{ "* 12 FETCH (UID 5 BODY[] {10}\r\nhello\r\nwor)\r\n", 0,
	  "U|*|12|FETCH|[]||(UID 5 BODY[] \"hello\r\nwor\")\n", "" },
	{ "* LIST (\\HasNoChildren) \".\" {5}\r\nab\"c)\r\n", 0,
	  "U|*||LIST|[]||(\\HasNoChildren) \".\" \"ab\"c)\"\n", "" },
	{ "* LIST (\\Noselect) NIL \"a\\\"b\\\\c\"\r\n", 0,
	  "U|*||LIST|[]||(\\Noselect) NIL \"a\"b\\c\"\n", "" },
	{ "+ dGVzdA==\r\n", 0, "C|+|||[]|dGVzdA==|\n", "" },
	{ "+\r\n", 0, "C|+|||[]||\n", "" },
	{ "* 3 EXISTS\r\n* 1 EXPUNGE\n* SEARCH 1 2 3\r\n", 0,
	  "U|*|3|EXISTS|[]||\nU|*|1|EXPUNGE|[]||\nU|*||SEARCH|[]||1 2 3\n", "" },
	{ "* VANISHED (EARLIER) 1:3,5\r\n", 0,
	  "U|*||VANISHED|[]||(EARLIER) 1:3,5\n", "" },
	{ "* 1 FETCH (UID 9 BODY[HEADER.FIELDS (MESSAGE-ID)] {4}\r\nab\r\n)\r\n", 1,
	  "U|*|1|FETCH|[]||(UID 9 BODY[HEADER.FIELDS (MESSAGE-ID)] \"ab\r\n\")\n", "" },
	{ "* 2 FETCH (BODY[] {0}\r\n UID 3)\r\n", 1,
	  "U|*|2|FETCH|[]||(BODY[] <S0> UID 3)\n", "" },
	{ "* 2 FETCH (BODY[] {3+}\r\nabc BODY[1] {2}\r\nxy)\r\n", 1,
	  "U|*|2|FETCH|[]||(BODY[] <S3> BODY[1] \"xy\")\n", "abc" },
	{ "* OK [broken code text\r\n", 0, "U|*||OK|[]|[broken code text|\n", "" },
	{ "A7 NO [TRYCREATE] no such mailbox\r\n", 0,
	  "T|A7||NO|TRYCREATE[]|no such mailbox|\n", "" },
	{ "* ID (\"name\" \"Dovecot\" \"x\" NIL)\r\n", 0,
	  "U|*||ID|[]||(\"name\" \"Dovecot\" \"x\" NIL)\n", "" },
};

Test(imap_parser, cases_at_every_split)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (!cases[i].out)
			continue;
		size_t len = strlen(cases[i].in);
		for (size_t split = 0; split <= len; split++) {
			for (int bytewise = 0; bytewise < 2; bytewise++) {
				struct sink s;
				int kind = 0;
				memset(&s, 0, sizeof s);
				mf_buf_init(&s.dump, 1 << 20);
				mf_buf_init(&s.body, 1 << 20);
				mf_buf_init(&s.lines, 1 << 20);
				s.stream = cases[i].stream;
				int r = run(cases[i].in, len, split, bytewise ? 1 : 0, NULL, &s,
				            &kind);
				cr_assert_eq(r, 0, "case %zu split %zu: error %d", i, split, kind);
				cr_assert_str_eq(s.dump.data ? s.dump.data : "", cases[i].out,
				                 "case %zu split %zu", i, split);
				cr_assert_str_eq(s.body.data ? s.body.data : "", cases[i].body,
				                 "case %zu body", i);
				cr_assert_eq(s.begins, s.ends);
				mf_buf_free(&s.dump);
				mf_buf_free(&s.body);
				mf_buf_free(&s.lines);
			}
		}
	}
}

Test(imap_parser, line_hook_sees_segments_without_bodies)
{
	const char *in = "* 1 FETCH (UID 2 BODY[] {3}\r\nabc)\r\n";
	struct sink s;
	int kind;
	memset(&s, 0, sizeof s);
	mf_buf_init(&s.dump, 1 << 20);
	mf_buf_init(&s.body, 1 << 20);
	mf_buf_init(&s.lines, 1 << 20);
	s.stream = 1;
	cr_assert_eq(run(in, strlen(in), 0, 0, NULL, &s, &kind), 0);
	cr_assert_str_eq(s.lines.data, "* 1 FETCH (UID 2 BODY[] {3}|)|");
	mf_buf_free(&s.dump);
	mf_buf_free(&s.body);
	mf_buf_free(&s.lines);
}

Test(imap_parser, streamed_literal_bigger_than_every_limit)
{
	/* a 5 MB body passes although the response limit is 64 KiB */
	struct mf_imap_limits lim = { 1024, 65536, 1024, 1000, 8 };
	size_t big = 5u << 20;
	struct mf_buf in = MF_BUF_INIT(8u << 20);
	mf_buf_printf(&in, NULL, "* 1 FETCH (UID 7 BODY[] {%zu}\r\n", big);
	for (size_t i = 0; i < big; i++)
		mf_buf_putc(&in, (char)('a' + i % 26), NULL);
	mf_buf_puts(&in, ")\r\n", NULL);
	struct sink s;
	int kind;
	memset(&s, 0, sizeof s);
	mf_buf_init(&s.dump, 1 << 20);
	mf_buf_init(&s.body, 8u << 20);
	mf_buf_init(&s.lines, 1 << 20);
	s.stream = 1;
	cr_assert_eq(run(in.data, in.len, 0, 4096, &lim, &s, &kind), 0);
	cr_assert_eq(s.body.len, big);
	cr_assert_str_eq(s.dump.data, "U|*|1|FETCH|[]||(UID 7 BODY[] <S5242880>)\n");
	mf_buf_free(&in);
	mf_buf_free(&s.dump);
	mf_buf_free(&s.body);
	mf_buf_free(&s.lines);
}

static const struct {
	const char *in;
	int kind;
} bad[] = {
	{ "* OK this line is much longer than the limit allows\r\n", MF_E_LIMIT },
	{ "* 1 FETCH (BODY[1] {2000}\r\n", MF_E_LIMIT },           /* kept > limit */
	{ "* X ((((((((((a))))))))))\r\n", MF_E_LIMIT },           /* depth */
	{ "* SEARCH 1 2 3 4 5 6 7 8 9 10 11 12\r\n", MF_E_LIMIT }, /* tokens */
	{ "A1 FOO bar\r\n", MF_E_PROTO },
	{ "* LIST (a\r\n", MF_E_PROTO },
	{ "* LIST a)\r\n", MF_E_PROTO },
	{ "* X \"unterminated\r\n", MF_E_PROTO },
	{ "* X \"bad \\q escape\"\r\n", MF_E_PROTO },
	{ "* X a\rb\r\n", MF_E_PROTO },
	{ "* 1 FETCH (BODY[] {99999999999999999999}\r\n", MF_E_LIMIT },
	{ "\r\n", MF_E_PROTO },
};

Test(imap_parser, limits_and_malformed_input)
{
	struct mf_imap_limits lim = { 40, 4096, 1024, 10, 8 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sink s;
		int kind = 0;
		memset(&s, 0, sizeof s);
		mf_buf_init(&s.dump, 1 << 20);
		mf_buf_init(&s.body, 1 << 20);
		mf_buf_init(&s.lines, 1 << 20);
		cr_assert_eq(run(bad[i].in, strlen(bad[i].in), 0, 0, &lim, &s, &kind), -1,
		             "case %zu accepted", i);
		cr_assert_eq(kind, bad[i].kind, "case %zu: kind %d", i, kind);
		mf_buf_free(&s.dump);
		mf_buf_free(&s.body);
		mf_buf_free(&s.lines);
	}
}

Test(imap_parser, fetch_item_lookup)
{
	const char *in = "* 1 FETCH (FLAGS (\\Seen) UID 42 RFC822.SIZE 100)\r\n";
	struct mf_imap_parser *p = mf_imap_parser_new(NULL, NULL);
	struct mf_err e;
	int done;
	uint64_t v;
	cr_assert_eq(mf_imap_parser_feed(p, in, strlen(in), &done, &e), (ssize_t)strlen(in));
	cr_assert(done);
	const struct mf_imap_resp *r = mf_imap_parser_response(p);
	size_t k = mf_imap_fetch_item(r, r->data_first, "uid");
	cr_assert_neq(k, (size_t)-1);
	cr_assert_eq(mf_imap_tok_u64(&r->toks[k], &v), 0);
	cr_assert_eq(v, 42);
	k = mf_imap_fetch_item(r, r->data_first, "RFC822.SIZE");
	cr_assert_eq(mf_imap_tok_u64(&r->toks[k], &v), 0);
	cr_assert_eq(v, 100);
	cr_assert_eq(mf_imap_fetch_item(r, r->data_first, "BODY[]"), (size_t)-1);
	mf_imap_parser_free(p);
}

Test(imap_parser, stops_after_each_response)
{
	const char *in = "* 1 EXISTS\r\nA1 OK done\r\n";
	struct mf_imap_parser *p = mf_imap_parser_new(NULL, NULL);
	struct mf_err e;
	int done;
	ssize_t n = mf_imap_parser_feed(p, in, strlen(in), &done, &e);
	cr_assert_eq(n, 12);
	cr_assert(done);
	cr_assert_str_eq(mf_imap_parser_response(p)->keyword, "EXISTS");
	n = mf_imap_parser_feed(p, in + 12, strlen(in) - 12, &done, &e);
	cr_assert(done);
	cr_assert_str_eq(mf_imap_parser_response(p)->tag, "A1");
	mf_imap_parser_free(p);
}

/* Folder names -> local paths (imapsync's pure helpers live with the IMAP
 * tests: they interpret what LIST returns). */
#include "imapsync.h"

static const struct {
	const char *name;
	char delim;
	int layout;        /* 0 maildir++, 1 fs */
	const char *out;   /* NULL: refused */
} names[] = {
	{ "INBOX", '/', 0, "" },
	{ "inbox", '.', 1, "" },
	{ "Archive", '/', 0, ".Archive" },
	{ "Archive/2024/Q1", '/', 0, ".Archive.2024.Q1" },
	{ "Archive/2024/Q1", '/', 1, "Archive/2024/Q1" },
	{ "A.B", '.', 0, ".A.B" },
	{ "A.B", '.', 1, "A/B" },
	{ "Entw\xc3\xbcrfe", '/', 0, ".Entw\xc3\xbcrfe" },
	{ "..", '/', 0, NULL },
	{ "..", '.', 1, NULL },
	{ "../../x", '/', 0, NULL },
	{ "a/../../b", '/', 1, NULL },
	{ "/etc", '/', 1, NULL },
	{ "a//b", '/', 0, NULL },
	{ "a/", '/', 0, NULL },
	{ "a.b", '/', 0, NULL },          /* '.' would split it in Maildir++ */
	{ "a.b", '/', 1, "a.b" },
	{ "x/cur", '/', 1, NULL },        /* would land in a Maildir's cur/ */
	{ "x/cur", '/', 0, ".x.cur" },
	{ ".hidden", '/', 1, NULL },
	{ "a\tb", '/', 0, NULL },
	{ "a/b", 0, 0, NULL },            /* no delimiter: '/' is not allowed */
	{ "", '/', 0, NULL },
};

Test(imapsync_names, mapping_and_refusal)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char out[256];
		struct mf_err e;
		mf_err_clear(&e);
		int r = mf_imapsync_map_name(names[i].name, names[i].delim,
		                             names[i].layout ? MF_LAYOUT_FS : MF_LAYOUT_MAILDIRPP,
		                             out, sizeof out, &e);
		if (!names[i].out) {
			cr_assert_eq(r, -1, "case %zu (%s) accepted as %s", i, names[i].name, out);
			cr_assert_eq(e.kind, MF_E_DATA);
		} else {
			cr_assert_eq(r, 0, "case %zu (%s): %s", i, names[i].name, e.msg);
			cr_assert_str_eq(out, names[i].out, "case %zu", i);
		}
	}
}

Test(imapsync_names, list_patterns)
{
	cr_assert(mf_imapsync_match("*", "a/b/c", '/'));
	cr_assert(mf_imapsync_match("a*", "a/b", '/'));
	cr_assert(mf_imapsync_match("a/%", "a/b", '/'));
	cr_assert_not(mf_imapsync_match("a/%", "a/b/c", '/'));
	cr_assert(mf_imapsync_match("%", "INBOX", '/'));
	cr_assert_not(mf_imapsync_match("b*", "a/b", '/'));
	cr_assert(mf_imapsync_match("Archive", "Archive", '.'));
	cr_assert_not(mf_imapsync_match("Archive", "Archive.x", '.'));
}
