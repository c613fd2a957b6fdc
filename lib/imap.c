/* imap.c - IMAP4rev1 response parser and client (RFC 3501 §7, §9). */
#include "imap.h"
#include "tlsport.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "lineio.h"
#include "sasl.h"
#include "session.h"
#include "sock.h"

/* ================================================================== */
/* Parser                                                              */

enum pstate { P_LINE, P_LIT };

struct lit {
	uint64_t size;
	int kept;
};

struct mf_imap_parser {
	struct mf_imap_limits lim;
	struct mf_imap_hooks hk;
	enum pstate state;
	int broken;
	int done;
	struct mf_buf raw;        /* segments; a literal is "{N}" '\0' [bytes] */
	size_t seg_start;         /* start of the current segment in raw */
	uint64_t lit_left;
	int lit_stream;
	struct lit *lits;
	size_t nlits, caplits;
	struct mf_imap_tok *toks;
	size_t ntoks, captoks;
	struct mf_buf arena;      /* NUL-terminated token values */
	struct mf_imap_resp resp;
};

static void
set_limits(struct mf_imap_limits *l, const struct mf_imap_limits *in)
{
	if (in)
		*l = *in;
	else
		memset(l, 0, sizeof *l);
	if (!l->max_line)
		l->max_line = 1u << 20;
	if (!l->max_response)
		l->max_response = 16u << 20;
	if (!l->max_literal_kept)
		l->max_literal_kept = 1u << 20;
	if (!l->max_tokens)
		l->max_tokens = 1000000;
	if (!l->max_depth)
		l->max_depth = 64;
}

struct mf_imap_parser *
mf_imap_parser_new(const struct mf_imap_limits *lim,
                   const struct mf_imap_hooks *hooks)
{
	struct mf_imap_parser *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	set_limits(&p->lim, lim);
	if (hooks)
		p->hk = *hooks;
	/* the raw text holds a response, its literal markers and kept
	 * literals; the arena holds token values copied from it. */
	mf_buf_init(&p->raw, p->lim.max_response + 64);
	mf_buf_init(&p->arena, p->lim.max_response + p->lim.max_response / 2 + 64);
	return p;
}

void
mf_imap_parser_set_hooks(struct mf_imap_parser *p,
                         const struct mf_imap_hooks *hooks)
{
	if (hooks)
		p->hk = *hooks;
	else
		memset(&p->hk, 0, sizeof p->hk);
}

void
mf_imap_parser_free(struct mf_imap_parser *p)
{
	if (!p)
		return;
	mf_buf_free(&p->raw);
	mf_buf_free(&p->arena);
	free(p->lits);
	free(p->toks);
	free(p);
}

int
mf_imap_parser_idle(const struct mf_imap_parser *p)
{
	return p->state == P_LINE && (p->done || p->raw.len == 0);
}

const struct mf_imap_resp *
mf_imap_parser_response(struct mf_imap_parser *p)
{
	return p->done ? &p->resp : NULL;
}

static void
reset_response(struct mf_imap_parser *p)
{
	mf_buf_reset(&p->raw);
	mf_buf_reset(&p->arena);
	p->seg_start = 0;
	p->nlits = 0;
	p->ntoks = 0;
	p->done = 0;
	memset(&p->resp, 0, sizeof p->resp);
}

/* "{123}" or "{123+}" (RFC 7888) at the end of seg[0..len): literal size. */
static int
literal_marker(const char *seg, size_t len, uint64_t *size,
               size_t *open)
{
	size_t i;
	uint64_t v = 0;
	size_t end;
	size_t k;

	if (len < 3 || seg[len - 1] != '}')
		return 0;
	i = len - 1;
	if (seg[i - 1] == '+')
		i--;
	end = i;
	while (i > 0 && isdigit((unsigned char)seg[i - 1]))
		i--;
	if (i == end || i == 0 || seg[i - 1] != '{')
		return 0;
	if (end - i > 18)
		return -1;
	for (k = i; k < end; k++)
		v = v * 10 + (uint64_t)(seg[k] - '0');
	*size = v;
	*open = i - 1;
	return 1;
}

static int
push_lit(struct mf_imap_parser *p, uint64_t size, int kept,
         struct mf_err *e)
{
	if (p->nlits == p->caplits) {
		size_t n = p->caplits ? p->caplits * 2 : 8;
		struct lit *l = realloc(p->lits, n * sizeof *l);
		if (!l)
			return mf_err_set(e, MF_E_NOMEM, "out of memory");
		p->lits = l;
		p->caplits = n;
	}
	p->lits[p->nlits].size = size;
	p->lits[p->nlits].kept = kept;
	p->nlits++;
	return 0;
}

static int tokenize(struct mf_imap_parser *p, struct mf_err *e);

static int
hook_fail(struct mf_err *e, const char *what)
{
	if (e && e->kind == MF_OK)
		mf_err_set(e, MF_E_INTERNAL, "IMAP literal %s failed", what);
	return -1;
}

/* A line segment (without its line ending) is complete in raw. */
static int
end_segment(struct mf_imap_parser *p, struct mf_err *e)
{
	const char *seg = p->raw.data + p->seg_start;
	size_t len = p->raw.len - p->seg_start;
	uint64_t size;
	size_t open;
	int r;
	int take;

	if (p->hk.line)
		p->hk.line(p->hk.arg, seg, len);
	r = literal_marker(seg, len, &size, &open);
	if (r == -1)
		return mf_err_set(e, MF_E_LIMIT, "IMAP literal size too large");
	if (r == 0) {
		if (tokenize(p, e) == -1)
			return -1;
		p->done = 1;
		return 0;
	}
	take = 0;
	if (p->hk.lit_begin) {
		take = p->hk.lit_begin(p->hk.arg, seg, open, size);
		if (take < 0)
			return hook_fail(e, "start");
	}
	if (!take && size > p->lim.max_literal_kept)
		return mf_err_set(e, MF_E_LIMIT,
		                  "IMAP literal of %llu bytes exceeds the limit",
		                  (unsigned long long)size);
	if (!take && p->raw.len + size + 1 > p->lim.max_response)
		return mf_err_set(e, MF_E_LIMIT, "IMAP response too large");
	if (push_lit(p, size, !take, e) == -1 || mf_buf_putc(&p->raw, '\0', e) == -1)
		return -1;
	p->lit_stream = take;
	p->lit_left = size;
	p->state = P_LIT;
	if (size == 0) {
		p->state = P_LINE;
		p->seg_start = p->raw.len;
		if (take && p->hk.lit_end && p->hk.lit_end(p->hk.arg) < 0)
			return hook_fail(e, "end");
	}
	return 0;
}

static ssize_t
feed_line(struct mf_imap_parser *p, const char *d, size_t len,
          struct mf_err *e)
{
	const char *nl = memchr(d, '\n', len);
	size_t take = nl ? (size_t)(nl - d) : len;

	if (p->raw.len - p->seg_start + take > p->lim.max_line)
		return mf_err_set(e, MF_E_LIMIT, "IMAP response line too long");
	if (p->raw.len + take > p->lim.max_response)
		return mf_err_set(e, MF_E_LIMIT, "IMAP response too large");
	if (mf_buf_append(&p->raw, d, take, e) == -1)
		return -1;
	if (!nl)
		return (ssize_t)take;
	/* CRLF ends a line; a bare LF is tolerated (RFC 3501 §2.2). */
	if (p->raw.len > p->seg_start && p->raw.data[p->raw.len - 1] == '\r') {
		p->raw.len--;
		p->raw.data[p->raw.len] = '\0';
	}
	if (memchr(p->raw.data + p->seg_start, '\0', p->raw.len - p->seg_start) ||
	    memchr(p->raw.data + p->seg_start, '\r', p->raw.len - p->seg_start))
		return mf_err_set(e, MF_E_PROTO, "IMAP response line holds NUL or CR");
	if (end_segment(p, e) == -1)
		return -1;
	return (ssize_t)take + 1;
}

static ssize_t
feed_lit(struct mf_imap_parser *p, const char *d, size_t len,
         struct mf_err *e)
{
	size_t n = len;

	if ((uint64_t)n > p->lit_left)
		n = (size_t)p->lit_left;
	if (p->lit_stream) {
		if (n && p->hk.lit_data && p->hk.lit_data(p->hk.arg, d, n) < 0)
			return hook_fail(e, "write");
	} else if (mf_buf_append(&p->raw, d, n, e) == -1) {
		return -1;
	}
	p->lit_left -= n;
	if (p->lit_left == 0) {
		p->state = P_LINE;
		p->seg_start = p->raw.len;
		if (p->lit_stream && p->hk.lit_end && p->hk.lit_end(p->hk.arg) < 0)
			return hook_fail(e, "end");
	}
	return (ssize_t)n;
}

ssize_t
mf_imap_parser_feed(struct mf_imap_parser *p, const char *data,
                    size_t len, int *done, struct mf_err *e)
{
	size_t used = 0;

	*done = 0;
	if (p->broken)
		return mf_err_set(e, MF_E_INTERNAL, "IMAP parser used after an error");
	if (p->done)
		reset_response(p);
	while (used < len) {
		ssize_t n = p->state == P_LINE ? feed_line(p, data + used, len - used, e)
		                               : feed_lit(p, data + used, len - used, e);
		if (n == -1) {
			p->broken = 1;
			return -1;
		}
		used += (size_t)n;
		if (p->done) {
			*done = 1;
			break;
		}
	}
	return (ssize_t)used;
}

/* ---- tokenizer over a complete response ---- */

struct tz {
	struct mf_imap_parser *p;
	const char *s;
	size_t i, n;
	size_t lit;
	struct mf_err *e;
};

static int
tz_fail(struct tz *t, const char *what)
{
	return mf_err_set(t->e, MF_E_PROTO, "malformed IMAP response (%s): %.200s",
	                  what, t->s);
}

static long
add_tok(struct tz *t, enum mf_imap_tok_type type, const char *s,
        size_t len)
{
	struct mf_imap_parser *p = t->p;
	size_t off = p->arena.len;
	struct mf_imap_tok *k;

	if (p->ntoks >= p->lim.max_tokens)
		return mf_err_set(t->e, MF_E_LIMIT, "too many tokens in IMAP response");
	if (p->ntoks == p->captoks) {
		size_t nc = p->captoks ? p->captoks * 2 : 64;
		struct mf_imap_tok *nt = realloc(p->toks, nc * sizeof *nt);
		if (!nt)
			return mf_err_set(t->e, MF_E_NOMEM, "out of memory");
		p->toks = nt;
		p->captoks = nc;
	}
	if (mf_buf_append(&p->arena, s ? s : "", s ? len : 0, t->e) == -1 ||
	    mf_buf_putc(&p->arena, '\0', t->e) == -1)
		return -1;
	k = &p->toks[p->ntoks];
	k->type = type;
	k->s = (const char *)(uintptr_t)off;   /* fixed up after tokenizing */
	k->len = len;
	k->next = p->ntoks + 1;
	return (long)p->ntoks++;
}

static int parse_value(struct tz *t, int depth, int in_code);

static int
parse_list(struct tz *t, int depth, int in_code)
{
	long idx;
	size_t count = 0;

	if (depth >= t->p->lim.max_depth)
		return mf_err_set(t->e, MF_E_LIMIT, "IMAP lists nested too deep");
	idx = add_tok(t, MF_IMAP_LIST, NULL, 0);
	if (idx == -1)
		return -1;
	t->i++;
	for (;;) {
		while (t->i < t->n && t->s[t->i] == ' ')
			t->i++;
		if (t->i >= t->n)
			return tz_fail(t, "unclosed list");
		if (t->s[t->i] == ')') {
			t->i++;
			break;
		}
		if (parse_value(t, depth + 1, in_code) == -1)
			return -1;
		count++;
	}
	t->p->toks[idx].len = count;
	t->p->toks[idx].next = t->p->ntoks;
	return 0;
}

static int
parse_quoted(struct tz *t)
{
	struct mf_buf *a = &t->p->arena;
	size_t start, off;
	char *tmp;
	long r;

	t->i++;
	/* unescape into a scratch area at the arena's end, then re-add */
	start = a->len;
	for (;;) {
		char c;
		if (t->i >= t->n || t->s[t->i] == '\0')
			return tz_fail(t, "unterminated quoted string");
		c = t->s[t->i++];
		if (c == '"')
			break;
		if (c == '\\') {
			if (t->i >= t->n)
				return tz_fail(t, "bad escape");
			c = t->s[t->i++];
			if (c != '\\' && c != '"')
				return tz_fail(t, "bad escape");
		}
		if (mf_buf_putc(a, c, t->e) == -1)
			return -1;
	}
	off = a->len - start;
	/* add_tok copies from a pointer into the same arena: copy out first */
	tmp = malloc(off + 1);
	if (!tmp)
		return mf_err_set(t->e, MF_E_NOMEM, "out of memory");
	memcpy(tmp, a->data + start, off);
	a->len = start;
	a->data[start] = '\0';
	r = add_tok(t, MF_IMAP_STRING, tmp, off);
	free(tmp);
	return r == -1 ? -1 : 0;
}

static int
parse_literal(struct tz *t)
{
	size_t j = t->i + 1;
	uint64_t size = 0;
	struct lit *l;
	long r;

	while (j < t->n && isdigit((unsigned char)t->s[j]))
		size = size * 10 + (uint64_t)(t->s[j++] - '0');
	if (j < t->n && t->s[j] == '+')
		j++;
	if (j + 1 >= t->n + 1 || t->s[j] != '}' || j + 1 >= t->n ||
	    t->s[j + 1] != '\0' || t->lit >= t->p->nlits)
		return tz_fail(t, "bad literal");
	l = &t->p->lits[t->lit++];
	t->i = j + 2;
	if (l->size != size)
		return tz_fail(t, "literal bookkeeping");
	if (!l->kept)
		return add_tok(t, MF_IMAP_STREAMED, NULL, (size_t)size) == -1 ? -1 : 0;
	if (t->i + size > t->n)
		return tz_fail(t, "short literal");
	r = add_tok(t, MF_IMAP_STRING, t->s + t->i, (size_t)size);
	t->i += (size_t)size;
	return r == -1 ? -1 : 0;
}

static int
parse_atom(struct tz *t, int in_code)
{
	size_t start = t->i;
	size_t len;
	enum mf_imap_tok_type ty;

	while (t->i < t->n) {
		char c = t->s[t->i];
		if (c == ' ' || c == '(' || c == ')' || (in_code && c == ']'))
			break;
		if (c == '\0' || c == '"' || c == '{')
			return tz_fail(t, "bad atom");
		if (c == '[') {
			/* section spec: BODY[HEADER.FIELDS (A B)]<0.100> */
			int d = 0;
			do {
				c = t->s[t->i];
				if (c == '[')
					d++;
				else if (c == ']')
					d--;
				else if (c == '\0')
					return tz_fail(t, "bad section");
				t->i++;
			} while (d > 0 && t->i < t->n);
			if (d)
				return tz_fail(t, "unclosed section");
			continue;
		}
		t->i++;
	}
	if (t->i == start)
		return tz_fail(t, "empty atom");
	len = t->i - start;
	ty = MF_IMAP_ATOM;
	if (len == 3 && strncasecmp(t->s + start, "NIL", 3) == 0)
		ty = MF_IMAP_NIL;
	return add_tok(t, ty, t->s + start, len) == -1 ? -1 : 0;
}

static int
parse_value(struct tz *t, int depth, int in_code)
{
	switch (t->s[t->i]) {
	case '(':
		return parse_list(t, depth, in_code);
	case '"':
		return parse_quoted(t);
	case '{':
		return parse_literal(t);
	default:
		return parse_atom(t, in_code);
	}
}

/* Copy a word (up to ' ' or end or stop) upper-cased into the arena. */
static size_t
arena_word(struct tz *t, char stop, size_t *off)
{
	struct mf_buf *a = &t->p->arena;
	size_t start = t->i;
	size_t k;

	*off = a->len;
	while (t->i < t->n && t->s[t->i] != ' ' && t->s[t->i] != stop &&
	       t->s[t->i] != '\0')
		t->i++;
	for (k = start; k < t->i; k++)
		if (mf_buf_putc(a, (char)toupper((unsigned char)t->s[k]), t->e) == -1)
			return (size_t)-1;
	if (mf_buf_putc(a, '\0', t->e) == -1)
		return (size_t)-1;
	return t->i - start;
}

static int
arena_text(struct tz *t, size_t *off)
{
	struct mf_buf *a = &t->p->arena;

	*off = a->len;
	for (; t->i < t->n; t->i++) {
		char c = t->s[t->i];
		if (mf_buf_putc(a, c ? c : ' ', t->e) == -1)
			return -1;
	}
	return mf_buf_putc(a, '\0', t->e);
}

/* resp-text = ["[" resp-text-code "]" SP] text (RFC 3501 §9). */
static int
parse_resp_text(struct tz *t, size_t *code_off, size_t *text_off)
{
	struct mf_imap_parser *p = t->p;

	*code_off = (size_t)-1;
	if (t->i < t->n && t->s[t->i] == ' ')
		t->i++;
	p->resp.code_first = p->ntoks;
	if (t->i < t->n && t->s[t->i] == '[') {
		size_t save_i = t->i, save_nt = p->ntoks, save_arena = p->arena.len;
		int ok = 1;
		t->i++;
		if (arena_word(t, ']', code_off) == (size_t)-1)
			return -1;
		p->resp.code_first = p->ntoks;
		while (ok && t->i < t->n && t->s[t->i] == ' ') {
			while (t->i < t->n && t->s[t->i] == ' ')
				t->i++;
			if (t->i < t->n && t->s[t->i] != ']' &&
			    parse_value(t, 1, 1) == -1) {
				if (t->e->kind == MF_E_NOMEM)
					return -1;
				ok = 0;
			}
		}
		if (ok && t->i < t->n && t->s[t->i] == ']') {
			t->i++;
			if (t->i < t->n && t->s[t->i] == ' ')
				t->i++;
		} else {
			/* not a well-formed code: keep it all as text */
			mf_err_clear(t->e);
			t->i = save_i;
			p->ntoks = save_nt;
			p->arena.len = save_arena;
			p->arena.data[save_arena] = '\0';
			*code_off = (size_t)-1;
			p->resp.code_first = p->ntoks;
		}
	}
	p->resp.data_first = p->ntoks;
	return arena_text(t, text_off);
}

static int
is_status_word(const char *w)
{
	return !strcmp(w, "OK") || !strcmp(w, "NO") || !strcmp(w, "BAD") ||
	       !strcmp(w, "BYE") || !strcmp(w, "PREAUTH");
}

static int
tokenize(struct mf_imap_parser *p, struct mf_err *e)
{
	struct tz t = { p, p->raw.data, 0, p->raw.len, 0, e };
	struct mf_imap_resp *r = &p->resp;
	const char *tag;
	const char *base;
	size_t k;
	size_t tag_off, kw_off = (size_t)-1, code_off = (size_t)-1,
	       text_off = (size_t)-1;

	memset(r, 0, sizeof *r);
	if (arena_word(&t, '\0', &tag_off) == (size_t)-1)
		return -1;
	if (t.i == 0)
		return tz_fail(&t, "no tag");
	tag = p->arena.data + tag_off;
	if (!strcmp(tag, "+")) {
		r->kind = MF_IMAP_CONT;
		if (t.i < t.n && t.s[t.i] == ' ')
			t.i++;
		if (arena_text(&t, &text_off) == -1)
			return -1;
		r->code_first = r->data_first = 0;
	} else {
		const char *kw;
		if (t.i >= t.n || t.s[t.i] != ' ')
			return tz_fail(&t, "no space after tag");
		t.i++;
		r->kind = !strcmp(tag, "*") ? MF_IMAP_UNTAGGED : MF_IMAP_TAGGED;
		if (r->kind == MF_IMAP_UNTAGGED && t.i < t.n &&
		    isdigit((unsigned char)t.s[t.i])) {
			unsigned long v = 0;
			while (t.i < t.n && isdigit((unsigned char)t.s[t.i])) {
				if (v > 0xFFFFFFFFul)
					return tz_fail(&t, "number too large");
				v = v * 10 + (unsigned long)(t.s[t.i++] - '0');
			}
			if (t.i >= t.n || t.s[t.i] != ' ')
				return tz_fail(&t, "number without keyword");
			t.i++;
			r->has_number = 1;
			r->number = v;
		}
		if (arena_word(&t, '\0', &kw_off) == (size_t)-1)
			return -1;
		kw = p->arena.data + kw_off;
		if (!*kw)
			return tz_fail(&t, "no keyword");
		if (is_status_word(kw)) {
			r->is_status = 1;
			if (parse_resp_text(&t, &code_off, &text_off) == -1)
				return -1;
		} else if (r->kind == MF_IMAP_TAGGED) {
			return tz_fail(&t, "tagged response without status");
		} else {
			r->code_first = r->data_first = p->ntoks;
			for (;;) {
				while (t.i < t.n && t.s[t.i] == ' ')
					t.i++;
				if (t.i >= t.n)
					break;
				if (t.s[t.i] == ')')
					return tz_fail(&t, "unbalanced ')'");
				if (parse_value(&t, 0, 0) == -1)
					return -1;
			}
		}
	}
	/* the arena no longer grows: turn offsets into pointers */
	base = p->arena.data;
	for (k = 0; k < p->ntoks; k++)
		p->toks[k].s = base + (uintptr_t)p->toks[k].s;
	r->tag = base + tag_off;
	r->keyword = kw_off != (size_t)-1 ? base + kw_off : "";
	r->code = code_off != (size_t)-1 ? base + code_off : "";
	r->text = text_off != (size_t)-1 ? base + text_off : "";
	r->toks = p->toks;
	r->ntoks = p->ntoks;
	return 0;
}

/* ================================================================== */
/* Client                                                              */

#define DONE_MAX 256

/* The raw untagged function and its argument for typed events. */
#define EV_FN(ev)  ((ev) ? mf_imap_events_fn : NULL)
#define EV_ARG(ev) ((void *)(uintptr_t)(ev))

struct done_tag {
	unsigned tag;
	struct mf_imap_status st;
};

struct mf_imap {
	struct mf_session *sess;
	struct mf_lineio *io;     /* the session's */
	struct mf_imap_parser *p;
	struct mf_transcript *tr;
	char rbuf[65536];
	size_t rpos, rlen;
	unsigned next_tag;
	unsigned caps_gen;
	struct mf_buf caps;       /* " CAP1 CAP2 " upper-cased */
	struct mf_buf enabled;
	struct mf_imap_mailbox mb;
	struct mf_imap_hooks lit;
	int preauth;
	/* the shortcut of mf_imap_connect_ahead() */
	struct mf_buf greet_caps; /* what the greeting announced */
	struct mf_buf login_caps; /* what the login's OK announced, unasked */
	unsigned ahead_tag;       /* AUTHENTICATE queued before the greeting */
	char ahead_mech[64];
	int dead;                 /* connection or parser unusable: no LOGOUT */
	int bye;
	char byetext[256];
	struct done_tag done[DONE_MAX];
	size_t ndone;
};

static void
on_line(void *arg, const char *line, size_t len)
{
	struct mf_imap *im = arg;

	if (im->tr)
		mf_transcript_line(im->tr, MF_TX_RECV, mf_lineio_is_tls(im->io),
		                   line, len, MF_TX_NO_SECRET);
}

static int
on_lit_begin(void *arg, const char *prefix, size_t n, uint64_t size)
{
	struct mf_imap *im = arg;

	return im->lit.lit_begin ? im->lit.lit_begin(im->lit.arg, prefix, n, size)
	                         : 0;
}

static int
on_lit_data(void *arg, const char *p, size_t n)
{
	struct mf_imap *im = arg;

	return im->lit.lit_data ? im->lit.lit_data(im->lit.arg, p, n) : 0;
}

static int
on_lit_end(void *arg)
{
	struct mf_imap *im = arg;

	return im->lit.lit_end ? im->lit.lit_end(im->lit.arg) : 0;
}

void
mf_imap_set_literal_hooks(struct mf_imap *im,
                          const struct mf_imap_hooks *hooks)
{
	if (hooks)
		im->lit = *hooks;
	else
		memset(&im->lit, 0, sizeof im->lit);
}

struct mf_imap_mailbox *
mf_imap_mailbox(struct mf_imap *im)
{
	return &im->mb;
}

unsigned long long
mf_imap_bytes_in(const struct mf_imap *im)
{
	return mf_lineio_bytes_in(im->io);
}

int
mf_imap_has_cap(const struct mf_imap *im, const char *cap)
{
	char key[128];

	if (!im->caps.data)
		return 0;
	snprintf(key, sizeof key, " %s ", cap);
	return strcasestr(im->caps.data, key) != NULL;
}

int
mf_imap_enabled(const struct mf_imap *im, const char *ext)
{
	char key[128];

	if (!im->enabled.data)
		return 0;
	snprintf(key, sizeof key, " %s ", ext);
	return strcasestr(im->enabled.data, key) != NULL;
}

static void
set_words(struct mf_buf *b, const struct mf_imap_resp *r,
          size_t from, size_t to, int append)
{
	size_t k;

	if (!append)
		mf_buf_reset(b);
	if (b->len == 0)
		mf_buf_putc(b, ' ', NULL);
	for (k = from; k < to; k++) {
		if (r->toks[k].type != MF_IMAP_ATOM)
			continue;
		mf_buf_puts(b, r->toks[k].s, NULL);
		mf_buf_putc(b, ' ', NULL);
	}
}

static uint64_t
code_num(const struct mf_imap_resp *r)
{
	uint64_t v = 0;

	if (r->code_first < r->data_first)
		mf_imap_tok_u64(&r->toks[r->code_first], &v);
	return v;
}

/* What every response tells the client, whoever waits for it. */
static void
builtin(struct mf_imap *im, const struct mf_imap_resp *r)
{
	const char *kw = r->keyword;

	if (r->is_status && *r->code) {
		const char *c = r->code;
		if (!strcmp(c, "CAPABILITY")) {
			set_words(&im->caps, r, r->code_first, r->data_first, 0);
			im->caps_gen++;
		} else if (!strcmp(c, "UIDVALIDITY")) {
			im->mb.uidvalidity = (uint32_t)code_num(r);
		} else if (!strcmp(c, "UIDNEXT")) {
			im->mb.uidnext = (uint32_t)code_num(r);
		} else if (!strcmp(c, "HIGHESTMODSEQ")) {
			im->mb.highestmodseq = code_num(r);
		} else if (!strcmp(c, "NOMODSEQ")) {
			im->mb.nomodseq = 1;
		} else if (!strcmp(c, "READ-ONLY")) {
			im->mb.readonly = 1;
		}
	}
	if (r->kind != MF_IMAP_UNTAGGED)
		return;
	if (!strcmp(kw, "CAPABILITY")) {
		set_words(&im->caps, r, r->data_first, r->ntoks, 0);
		im->caps_gen++;
	} else if (!strcmp(kw, "ENABLED")) {
		set_words(&im->enabled, r, r->data_first, r->ntoks, 1);
	} else if (!strcmp(kw, "EXISTS") && r->has_number) {
		im->mb.exists = (uint32_t)r->number;
		im->mb.changed = 1;
	} else if (!strcmp(kw, "EXPUNGE") || !strcmp(kw, "VANISHED") ||
	           !strcmp(kw, "FETCH")) {
		if (!strcmp(kw, "EXPUNGE") && im->mb.exists)
			im->mb.exists--;
		im->mb.changed = 1;
	} else if (!strcmp(kw, "BYE")) {
		im->bye = 1;
		mf_strlcpy(im->byetext, r->text, sizeof im->byetext);
	}
}

static int
read_resp(struct mf_imap *im, const struct mf_imap_resp **out,
          struct mf_err *e)
{
	for (;;) {
		ssize_t n;
		if (im->rpos < im->rlen) {
			int done;

			n = mf_imap_parser_feed(im->p, im->rbuf + im->rpos,
			                        im->rlen - im->rpos, &done, e);
			if (n == -1) {
				im->dead = 1;
				return -1;
			}
			im->rpos += (size_t)n;
			if (done) {
				*out = mf_imap_parser_response(im->p);
				builtin(im, *out);
				return 0;
			}
		}
		n = mf_lineio_read_some(im->io, im->rbuf, sizeof im->rbuf, e);
		if (n <= 0)
			im->dead = 1;
		/* After a BYE (RFC 3501 §7.1.5) its text is the reason, not
		 * how the close looked (a TLS close without close_notify) */
		if (n == -1 && im->bye)
			return mf_err_set(e, MF_E_CLOSED,
			                  "IMAP server closed the connection: %s",
			                  im->byetext);
		if (n == -1)
			return -1;
		if (n == 0) {
			if (im->bye)
				return mf_err_set(e, MF_E_TEMP,
				                  "IMAP server closed the connection: %s",
				                  im->byetext);
			return mf_err_set(e, MF_E_CLOSED,
			                  "IMAP server closed the connection");
		}
		im->rpos = 0;
		im->rlen = (size_t)n;
	}
}

static void
fill_status(struct mf_imap_status *st, const struct mf_imap_resp *r)
{
	memset(st, 0, sizeof *st);
	mf_strlcpy(st->status, r->keyword, sizeof st->status);
	mf_strlcpy(st->code, r->code, sizeof st->code);
	mf_strlcpy(st->text, r->text, sizeof st->text);
	if (!strcmp(r->code, "APPENDUID") && r->data_first - r->code_first >= 2) {
		uint64_t v = 0, u = 0;
		mf_imap_tok_u64(&r->toks[r->code_first], &v);
		mf_imap_tok_u64(&r->toks[r->code_first + 1], &u);
		st->append_uidvalidity = (uint32_t)v;
		st->append_uid = (uint32_t)u;
	}
}

static int
tag_number(const char *tag, unsigned *out)
{
	long v;

	if (tag[0] != 'A' || mf_parse_long(tag + 1, 1, 0x7FFFFFFF, &v) == -1)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Handle a response inside a wait: 1 if it completed `tag`. */
static int
dispatch(struct mf_imap *im, const struct mf_imap_resp *r,
         unsigned tag, mf_imap_untagged_fn fn, void *arg,
         struct mf_imap_status *st, struct mf_err *e)
{
	unsigned t;

	if (r->kind == MF_IMAP_UNTAGGED)
		return fn && fn(arg, r, e) < 0 ? -1 : 0;
	if (r->kind == MF_IMAP_CONT)
		return mf_err_set(e, MF_E_PROTO,
		                  "unexpected IMAP continuation request: %.200s",
		                  r->text);
	if (tag_number(r->tag, &t) == -1 || t >= im->next_tag) {
		im->dead = 1;
		return mf_err_set(e, MF_E_PROTO, "IMAP response with unknown tag %.40s",
		                  r->tag);
	}
	if (t == tag) {
		fill_status(st, r);
		return 1;
	}
	if (im->ndone == DONE_MAX)
		return mf_err_set(e, MF_E_INTERNAL, "too many commands in flight");
	im->done[im->ndone].tag = t;
	fill_status(&im->done[im->ndone].st, r);
	im->ndone++;
	return 0;
}

int
mf_imap_wait(struct mf_imap *im, unsigned tag, mf_imap_untagged_fn fn,
             void *arg, struct mf_imap_status *st, struct mf_err *e)
{
	struct mf_imap_status dummy;
	size_t k;

	if (!st)
		st = &dummy;
	if (im->dead)
		return mf_err_set(e, MF_E_CLOSED, "the IMAP connection is unusable "
		                  "after an earlier error");
	for (k = 0; k < im->ndone; k++) {
		if (im->done[k].tag != tag)
			continue;
		*st = im->done[k].st;
		im->done[k] = im->done[--im->ndone];
		return 0;
	}
	if (mf_imap_flush(im, e) == -1)
		return -1;
	for (;;) {
		const struct mf_imap_resp *r;
		int d;
		if (read_resp(im, &r, e) == -1)
			return -1;
		d = dispatch(im, r, tag, fn, arg, st, e);
		if (d == -1)
			return -1;
		if (d == 1)
			return 0;
	}
}

__attribute__((format(printf, 4, 0)))
static unsigned
vsend(struct mf_imap *im, size_t secret_from, struct mf_err *e,
      const char *fmt, va_list ap)
{
	struct mf_buf b = MF_BUF_INIT(1u << 20);
	unsigned tag = im->next_tag++;
	int r;

	if (mf_buf_printf(&b, e, "A%u ", tag) == -1 ||
	    mf_buf_vprintf(&b, e, fmt, ap) == -1) {
		mf_buf_wipe(&b);
		return 0;
	}
	if (secret_from != MF_TX_NO_SECRET)
		secret_from += strlen("A ") + (size_t)snprintf(NULL, 0, "%u", tag);
	r = mf_lineio_send_secret(im->io, secret_from, e, "%s", b.data);
	mf_buf_wipe(&b);
	return r == -1 ? 0 : tag;
}

/* Queue "TAG fmt..." (not flushed): the tag (> 0), or 0 on error. */
__attribute__((format(printf, 3, 4)))
static unsigned
send_cmd(struct mf_imap *im, struct mf_err *e, const char *fmt, ...)
{
	va_list ap;
	unsigned t;

	va_start(ap, fmt);
	t = vsend(im, MF_TX_NO_SECRET, e, fmt, ap);
	va_end(ap);
	return t;
}

__attribute__((format(printf, 4, 5)))
static unsigned
send_secret(struct mf_imap *im, size_t secret_from,
            struct mf_err *e, const char *fmt, ...)
{
	va_list ap;
	unsigned t;

	va_start(ap, fmt);
	t = vsend(im, secret_from, e, fmt, ap);
	va_end(ap);
	return t;
}

int
mf_imap_flush(struct mf_imap *im, struct mf_err *e)
{
	return mf_lineio_flush(im->io, e);
}

/*
 * RFC 5530 section 3: UNAVAILABLE ("a subsystem is down") and INUSE
 * ("try again later") say a retry may succeed; every other NO is final.
 */
static int
no_is_temporary(const char *code)
{
	return strcasecmp(code, "UNAVAILABLE") == 0 ||
	    strcasecmp(code, "INUSE") == 0;
}

static int
check_ok(const struct mf_imap_status *st, struct mf_err *e)
{
	if (!strcmp(st->status, "OK"))
		return 0;
	if (!strcmp(st->status, "NO") && st->code[0] != '\0')
		return mf_err_reply(e, no_is_temporary(st->code) ? MF_E_TEMP :
		    MF_E_PERM, 0, NULL, st->text,
		    "IMAP server said NO [%s]: %s", st->code, st->text);
	if (!strcmp(st->status, "NO"))
		return mf_err_reply(e, MF_E_PERM, 0, NULL, st->text,
		                    "IMAP server said NO: %s", st->text);
	return mf_err_reply(e, MF_E_PROTO, 0, NULL, st->text,
	                    "IMAP server said %s: %s", st->status, st->text);
}

int
mf_imap_wait_ok(struct mf_imap *im, unsigned tag, mf_imap_untagged_fn fn,
                void *arg, struct mf_err *e)
{
	struct mf_imap_status st;

	if (mf_imap_wait(im, tag, fn, arg, &st, e) == -1)
		return -1;
	return check_ok(&st, e);
}

int
mf_imap_wait_events(struct mf_imap *im, unsigned tag,
                    const struct mf_imap_events *ev, struct mf_err *e)
{
	return mf_imap_wait_ok(im, tag, EV_FN(ev), EV_ARG(ev), e);
}

/* Send, flush, wait; -1 unless the result is OK (check_ok()). */
__attribute__((format(printf, 5, 6)))
static int
simple(struct mf_imap *im, mf_imap_untagged_fn fn, void *arg,
       struct mf_err *e, const char *fmt, ...)
{
	struct mf_imap_status st;
	va_list ap;
	unsigned t;

	va_start(ap, fmt);
	t = vsend(im, MF_TX_NO_SECRET, e, fmt, ap);
	va_end(ap);
	if (!t || mf_imap_wait(im, t, fn, arg, &st, e) == -1)
		return -1;
	return check_ok(&st, e);
}

int
mf_imap_quote(struct mf_buf *out, const char *s, struct mf_err *e)
{
	if (mf_buf_putc(out, '"', e) == -1)
		return -1;
	for (; *s; s++) {
		if (*s == '\r' || *s == '\n')
			return mf_err_set(e, MF_E_DATA, "CR or LF in an IMAP string");
		if ((*s == '"' || *s == '\\') && mf_buf_putc(out, '\\', e) == -1)
			return -1;
		if (mf_buf_putc(out, *s, e) == -1)
			return -1;
	}
	return mf_buf_putc(out, '"', e);
}

/* ---- connection setup ---- */

#define HINT_MAX 8192           /* bytes of one capability list kept */

/* dst = src (a " CAP1 CAP2 " list), or empty when it does not fit. */
static int
copy_caps(struct mf_buf *dst, const struct mf_buf *src)
{
	mf_buf_reset(dst);
	if (!src->len || src->len >= HINT_MAX)
		return -1;
	return mf_buf_append(dst, src->data, src->len, NULL);
}

static int
greeting(struct mf_imap *im, struct mf_err *e)
{
	const struct mf_imap_resp *r;

	if (read_resp(im, &r, e) == -1)
		return -1;
	if (r->kind != MF_IMAP_UNTAGGED || !r->is_status)
		return mf_err_set(e, MF_E_PROTO, "bad IMAP greeting");
	if (!strcmp(r->keyword, "BYE"))
		return mf_err_reply(e, MF_E_TEMP, 0, NULL, r->text,
		                    "IMAP server refused the connection: %s", r->text);
	if (!strcmp(r->keyword, "PREAUTH"))
		im->preauth = 1;
	else if (strcmp(r->keyword, "OK"))
		return mf_err_set(e, MF_E_PROTO, "bad IMAP greeting: %s", r->keyword);
	if (im->caps_gen)
		(void)copy_caps(&im->greet_caps, &im->caps);
	return 0;
}

/*
 * Learn the capabilities unless a response since generation gen already
 * listed them: RFC 3501 §7.1 (RFC 9051 §7.1) lets the greeting and a
 * tagged OK carry them as a [CAPABILITY ...] response code, which saves
 * the CAPABILITY round trip.  RFC 3501 §7.2.1: "IMAP4rev1" MUST be listed
 * (RFC 9051: or "IMAP4rev2").  A server without either is not an IMAP
 * server we can talk to: say so before any password is sent.
 */
static int
has_rev(const struct mf_imap *im)
{
	return mf_imap_has_cap(im, "IMAP4rev1") || mf_imap_has_cap(im, "IMAP4rev2");
}

/* A list without either is taken as incomplete and asked for in full. */
static int
capability(struct mf_imap *im, unsigned gen, struct mf_err *e)
{
	if (im->caps_gen != gen && has_rev(im))
		return 0;
	if (simple(im, NULL, NULL, e, "CAPABILITY") == -1)
		return -1;
	if (!has_rev(im))
		return mf_err_set(e, MF_E_PROTO, "the server's CAPABILITY lists "
		    "neither IMAP4rev1 nor IMAP4rev2: not an IMAP server "
		    "this client can talk to");
	return 0;
}

static int
starttls(struct mf_imap *im, struct mf_err *e)
{
	if (!mf_imap_has_cap(im, "STARTTLS"))
		return mf_err_set(e, MF_E_UNSUPPORTED,
		                  "the IMAP server does not offer STARTTLS "
		                  "(use --tls implicit or, unsafely, --tls none)");
	if (simple(im, NULL, NULL, e, "STARTTLS") == -1)
		return -1;
	if (im->rpos < im->rlen || !mf_imap_parser_idle(im->p))
		return mf_err_set(e, MF_E_PROTO,
		                  "IMAP server sent data after its STARTTLS go-ahead "
		                  "(possible injection)");
	if (mf_session_starttls(im->sess, e) == -1)
		return -1;
	/* RFC 3501 §6.2.1: capabilities learnt before TLS are void */
	mf_buf_reset(&im->caps);
	mf_buf_reset(&im->greet_caps);
	return capability(im, im->caps_gen, e);
}

/* The protocol's state over session sess (owned from now on, freed on
 * error). */
static struct mf_imap *
imap_new(struct mf_session *sess,
         const struct mf_conn *p, struct mf_err *e)
{
	struct mf_imap_hooks hk = { on_lit_begin, on_lit_data, on_lit_end,
	                            on_line, NULL };
	struct mf_imap *im;

	if (!sess)
		return NULL;
	if (!(im = calloc(1, sizeof *im))) {
		mf_session_free(sess);
		mf_err_set(e, MF_E_NOMEM, "out of memory");
		return NULL;
	}
	im->sess = sess;
	im->io = mf_session_lineio(sess);
	im->next_tag = 1;
	im->tr = p->tr;
	mf_buf_init(&im->caps, 64 * 1024);
	mf_buf_init(&im->enabled, 4096);
	mf_buf_init(&im->greet_caps, HINT_MAX);
	mf_buf_init(&im->login_caps, HINT_MAX);
	hk.arg = im;
	if ((im->p = mf_imap_parser_new(NULL, &hk)) != NULL)
		return im;
	mf_err_set(e, MF_E_NOMEM, "out of memory");
	im->dead = 1;
	mf_imap_free(im);
	return NULL;
}

/* Free a session that never logged in: no LOGOUT. */
static void
session_drop(struct mf_imap *im)
{
	im->dead = 1;
	mf_imap_free(im);
}

/* The session's settings: the connection with IMAP's defaults (port by
 * TLS mode, verify_name, socket timeouts from timeout_ms); returns the
 * TLS mode, "auto" resolved by the port. */
static enum mf_tls_mode
session_params(const struct mf_conn *p,
               struct mf_session_params *sp)
{
	const char *port = p->port && *p->port ? p->port : NULL;
	enum mf_tls_mode mode = p->tls;

	if (mode == MF_TLS_UNSET || mode == MF_TLS_AUTO)
		mode = mf_tlsport_auto(port);
	if (!port)
		port = mode == MF_TLS_IMPLICIT ? "993" : "143";
	memset(sp, 0, sizeof *sp);
	sp->conn = *p;
	sp->conn.port = port;
	sp->conn.tls = mode;
	if (!sp->conn.tlsp.verify_name)
		sp->conn.tlsp.verify_name = p->host;
	if (!sp->conn.sock.connect_timeout_ms)
		sp->conn.sock.connect_timeout_ms = p->timeout_ms;
	if (!sp->conn.sock.io_timeout_ms)
		sp->conn.sock.io_timeout_ms = p->timeout_ms;
	return mode;
}

struct mf_imap *
mf_imap_attach(struct mf_transport *t,
               const struct mf_conn *p, struct mf_err *e)
{
	struct mf_session_params sp;
	struct mf_imap *im;

	(void)session_params(p, &sp);
	im = imap_new(mf_session_attach(t, &sp, e), p, e);
	if (im && (greeting(im, e) == -1 || capability(im, 0, e) == -1)) {
		session_drop(im);
		return NULL;
	}
	return im;
}

/* The connection and its TLS as p asks, nothing read yet. */
static struct mf_imap *
session_new(const struct mf_conn *p, enum mf_tls_mode *mode,
            struct mf_err *e)
{
	struct mf_session_params sp;
	struct mf_tls_info info;
	struct mf_session *sess;

	*mode = session_params(p, &sp);
	if (!(sess = mf_session_open(&sp, &info, e))) {
		if (*mode == MF_TLS_IMPLICIT)
			mf_tlsport_explain_implicit(&info, sp.conn.port, e);
		return NULL;
	}
	return imap_new(sess, p, e);
}

/* Greeting, capabilities, STARTTLS when mode asks for it. */
static int
session_start(struct mf_imap *im, enum mf_tls_mode mode, struct mf_err *e)
{
	if (mf_session_check_port(im->sess, e) == -1 || greeting(im, e) == -1 ||
	    capability(im, 0, e) == -1 ||
	    (mode == MF_TLS_STARTTLS && starttls(im, e) == -1))
		return -1;
	return 0;
}

struct mf_imap *
mf_imap_connect(const struct mf_conn *p, struct mf_err *e)
{
	enum mf_tls_mode mode;
	struct mf_imap *im = session_new(p, &mode, e);

	if (im && session_start(im, mode, e) == -1) {
		session_drop(im);
		return NULL;
	}
	return im;
}

void
mf_imap_free(struct mf_imap *im)
{
	struct mf_err e;

	if (!im)
		return;
	/* RFC 3501 §6.1.3: the server answers BYE and OK and closes; nothing
	 * in them changes what the session did, so send LOGOUT and close
	 * without waiting a round trip for them. */
	if (im->io && !im->bye && !im->dead) {
		mf_err_clear(&e);
		mf_lineio_set_timeout(im->io, 5000);
		if (send_cmd(im, &e, "LOGOUT"))
			(void)mf_imap_flush(im, &e);
	}
	mf_session_free(im->sess);
	mf_imap_parser_free(im->p);
	mf_buf_free(&im->caps);
	mf_buf_free(&im->enabled);
	mf_buf_free(&im->greet_caps);
	mf_buf_free(&im->login_caps);
	free(im);
}

/* ---- authentication ---- */

static int
login_cmd(struct mf_imap *im, const struct mf_sasl_params *p,
          struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(8192);
	struct mf_imap_status st;
	size_t secret_from;
	unsigned t = 0;

	if (mf_imap_has_cap(im, "LOGINDISABLED"))
		return mf_err_set(e, MF_E_UNSUPPORTED,
		                  "the IMAP server disabled LOGIN on this connection");
	if (mf_buf_puts(&b, "LOGIN ", e) == 0 && mf_imap_quote(&b, p->user, e) == 0 &&
	    mf_buf_putc(&b, ' ', e) == 0) {
		secret_from = b.len;
		if (mf_imap_quote(&b, p->password ? p->password : "", e) == 0) {
			struct mf_buf line = MF_BUF_INIT(8300);

			t = im->next_tag;
			mf_buf_printf(&line, NULL, "A%u %s", t, b.data);
			secret_from += line.len - b.len;
			im->next_tag++;
			if (mf_lineio_send_secret(im->io, secret_from, e, "%s",
			                          line.data) == -1)
				t = 0;
			mf_buf_wipe(&line);
		}
	}
	mf_buf_wipe(&b);
	if (!t || mf_imap_wait(im, t, NULL, NULL, &st, e) == -1)
		return -1;
	/* RFC 3501 section 6.2.3: NO is a refused login; BAD is a command the
	 * server did not accept at all, which no password change would fix. */
	if (!strcmp(st.status, "BAD"))
		return mf_err_reply(e, MF_E_PROTO, 0, NULL, st.text,
		    "the IMAP server rejected the LOGIN command (BAD): %s", st.text);
	if (strcmp(st.status, "OK"))
		return mf_err_reply(e, MF_E_AUTH, 0, NULL, st.text,
		                    "IMAP login refused: %s", st.text);
	return 0;
}

/* IMAP's side of the SASL exchange (RFC 3501 §6.2.2): "TAG AUTHENTICATE
 * MECH [initial]" (the initial response only with SASL-IR, RFC 4959),
 * challenges as "+ base64", the end is the tagged OK / NO / BAD; untagged
 * responses in between are the session's (CAPABILITY). */
struct imap_sasl_io {
	struct mf_imap *im;
	unsigned tag;
	int queue;              /* the command is queued, not flushed */
	struct mf_imap_status st;
};

static int
sasl_send_command(void *arg, const char *line, size_t secret_from,
                  struct mf_err *e)
{
	struct imap_sasl_io *io = arg;

	io->tag = send_secret(io->im, secret_from, e, "%s", line);
	if (!io->tag)
		return -1;
	return io->queue ? 0 : mf_imap_flush(io->im, e);
}

static int
sasl_send_line(void *arg, const char *line, int secret,
               struct mf_err *e)
{
	struct imap_sasl_io *io = arg;

	if (mf_lineio_send_secret(io->im->io, secret ? 0 : MF_TX_NO_SECRET, e,
	                          "%s", line) == -1)
		return -1;
	return mf_imap_flush(io->im, e);
}

static int
sasl_read_reply(void *arg, struct mf_sasl_reply *sr,
                struct mf_err *e)
{
	struct imap_sasl_io *io = arg;
	const struct mf_imap_resp *r;
	int d;

	for (;;) {
		if (read_resp(io->im, &r, e) == -1)
			return -1;
		if (r->kind == MF_IMAP_CONT) {
			sr->kind = MF_SASL_CONTINUE;
			sr->payload = r->text;
			return 0;
		}
		d = dispatch(io->im, r, io->tag, NULL, NULL, &io->st, e);
		if (d == -1)
			return -1;
		if (d > 0)
			break;
	}
	sr->kind = !strcmp(io->st.status, "OK") ? MF_SASL_SUCCESS :
	           MF_SASL_FAILURE;
	sr->payload = "";
	return 0;
}

static void
sasl_refused(void *arg, const char *mech, struct mf_err *e)
{
	const struct imap_sasl_io *io = arg;

	mf_err_reply(e, MF_E_AUTH, 0, NULL, io->st.text,
	             "IMAP authentication (%s) refused: %s", mech, io->st.text);
}

static const struct mf_sasl_proto imap_sasl = {
	.command = "AUTHENTICATE",
	.ir_line_max = 0,
	.send_command = sasl_send_command,
	.send_line = sasl_send_line,
	.read_reply = sasl_read_reply,
	.refused = sasl_refused,
};

static int
sasl_auth(struct mf_imap *im, const char *mech,
          const struct mf_sasl_params *sp, struct mf_err *e)
{
	struct imap_sasl_io io;

	memset(&io, 0, sizeof io);
	io.im = im;
	return mf_sasl_exchange(&imap_sasl, &io, mf_imap_has_cap(im, "SASL-IR"),
	                        mech, sp, NULL, 0, e);
}

static void
offered_mechs(const struct mf_imap *im, char *out, size_t len)
{
	const char *c = im->caps.data ? im->caps.data : "";
	size_t o = 0;

	out[0] = '\0';
	while ((c = strcasestr(c, " AUTH=")) != NULL) {
		size_t n;
		c += 6;
		n = strcspn(c, " ");
		if (o + n + 2 < len) {
			if (o)
				out[o++] = ' ';
			memcpy(out + o, c, n);
			o += n;
			out[o] = '\0';
		}
	}
}

static int
sasl_attempt(void *arg, const char *mech,
             const struct mf_sasl_params *sp, struct mf_err *e)
{
	return sasl_auth(arg, mech, sp, e);
}

/* The mechanism mf_imap_login() tries first, in mech: 1, or 0 when it
 * would send LOGIN.  sp as mf_imap_login() fills it. */
static int
first_mech(const struct mf_imap *im, const char *mode,
           const struct mf_sasl_params *sp, char *mech, size_t len)
{
	char offered[1024];

	if (!strcasecmp(mode, "login"))
		return 0;
	if (strcasecmp(mode, "auto"))
		return mf_strlcpy(mech, mode, len) < len;
	offered_mechs(im, offered, sizeof offered);
	return *offered && mf_sasl_choose(offered, NULL, sp,
	    mf_lineio_is_tls(im->io), 0, mech, len, NULL) == 0;
}

int
mf_imap_login(struct mf_imap *im, const struct mf_conn *p,
              struct mf_err *e)
{
	const char *mode = p->cred.mech && *p->cred.mech ? p->cred.mech : "auto";
	struct mf_sasl_params sp;
	struct mf_secret pw;
	unsigned char cb[64];
	char offered[1024], mech[64];
	unsigned gen = im->caps_gen;
	int tls = mf_lineio_is_tls(im->io), rc;

	if (im->preauth)
		return 0;
	if (!p->cred.user)
		return mf_err_set(e, MF_E_CONFIG, "no IMAP user name (use -u)");
	if (mf_auth_secret(&p->cred, &pw, e) == -1)
		return -1;
	mf_sasl_params_set(&sp, &p->cred, mode, pw.data, p->host, 0);
	if (tls)
		mf_sasl_bind_tls(&sp, mf_lineio_transport(im->io), cb, sizeof cb);
	offered_mechs(im, offered, sizeof offered);
	if (!strcasecmp(mode, "login")) {
		rc = login_cmd(im, &sp, e);
	} else if (!strcasecmp(mode, "auto")) {
		if (*offered && mf_sasl_choose(offered, NULL, &sp, tls, 0, mech,
		                               sizeof mech, NULL) == 0)
			rc = mf_sasl_login(offered, NULL, &sp, tls, 0, sasl_attempt,
			                   im, mf_lineio_transcript(im->io), mech,
			                   sizeof mech, e);
		else
			rc = login_cmd(im, &sp, e);
	} else {
		/* A named mechanism is used even if not advertised (servers
		 * may take mechanisms they do not list); the gs2 flag still
		 * follows what was offered. */
		sp.server_plus = mf_sasl_offers_plus(offered);
		rc = sasl_auth(im, mode, &sp, e);
	}
	mf_secret_wipe(&pw);
	mf_memwipe(cb, sizeof cb);
	if (rc == -1)
		return -1;
	if (im->caps_gen != gen && has_rev(im))
		(void)copy_caps(&im->login_caps, &im->caps);
	/* RFC 3501 §6.2.3: capabilities may change after login */
	return capability(im, gen, e);
}

/* ---- a login queued before the greeting: a later session's shortcut ---- */

int
mf_imap_hint(const struct mf_imap *im, struct mf_buf *out, struct mf_err *e)
{
	const struct mf_buf *g = &im->greet_caps, *l = &im->login_caps;

	mf_buf_reset(out);
	if (g->len < 3 || l->len < 3)
		return 0;
	return mf_buf_printf(out, e, "%.*s\n%.*s\n", (int)(g->len - 2),
	                     g->data + 1, (int)(l->len - 2), l->data + 1);
}

/* dst = the words of line[0..len) as a " CAP1 CAP2 " list; -1 when the
 * line is empty, too long or holds a control byte. */
static int
hint_words(struct mf_buf *dst, const char *line, size_t len)
{
	size_t i;

	mf_buf_reset(dst);
	if (!len || len + 3 >= HINT_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			return -1;
	if (mf_buf_putc(dst, ' ', NULL) == -1 ||
	    mf_buf_append(dst, line, len, NULL) == -1 ||
	    mf_buf_putc(dst, ' ', NULL) == -1)
		return -1;
	return 0;
}

/* Take the hint's two lists into greet_caps and login_caps and answer
 * capability questions from the greeting's: 1, or 0 (all reset) when the
 * hint is not two such lines. */
static int
hint_take(struct mf_imap *im, const char *hint)
{
	const char *nl = hint ? strchr(hint, '\n') : NULL;

	if (nl && hint_words(&im->greet_caps, hint, (size_t)(nl - hint)) == 0 &&
	    hint_words(&im->login_caps, nl + 1, strcspn(nl + 1, "\n")) == 0 &&
	    copy_caps(&im->caps, &im->greet_caps) == 0)
		return 1;
	mf_buf_reset(&im->greet_caps);
	mf_buf_reset(&im->login_caps);
	mf_buf_reset(&im->caps);
	return 0;
}

/* Queue AUTHENTICATE with its initial response before the greeting is
 * read, when the hint's greeting offered SASL-IR (RFC 4959) and the login
 * would start with a one-round mechanism (PLAIN, EXTERNAL; mf_sasl.h).
 * The session then answers mf_imap_has_cap() from the hint's login
 * capabilities.  1 queued; 0 not applicable, nothing sent; -1 error. */
static int
queue_login(struct mf_imap *im, const struct mf_conn *p, const char *hint,
            struct mf_err *e)
{
	const char *mode = p->cred.mech && *p->cred.mech ? p->cred.mech : "auto";
	struct mf_sasl_params sp;
	struct imap_sasl_io io;
	struct mf_secret pw;
	unsigned char cb[64];
	int rc;

	if (!p->cred.user || !hint_take(im, hint))
		return 0;
	/* the choice mf_imap_login() would make, the secret not fetched yet */
	mf_sasl_params_set(&sp, &p->cred, mode, "", p->host, 0);
	if (mf_lineio_is_tls(im->io))
		mf_sasl_bind_tls(&sp, mf_lineio_transport(im->io), cb, sizeof cb);
	rc = mf_imap_has_cap(im, "SASL-IR") &&
	     first_mech(im, mode, &sp, im->ahead_mech, sizeof im->ahead_mech) &&
	     mf_sasl_one_round(im->ahead_mech);
	mf_memwipe(cb, sizeof cb);
	if (!rc)
		return hint_take(im, NULL);
	if (mf_auth_secret(&p->cred, &pw, e) == -1)
		return -1;
	mf_sasl_params_set(&sp, &p->cred, mode, pw.data, p->host, 0);
	memset(&io, 0, sizeof io);
	io.im = im;
	io.queue = 1;
	rc = mf_sasl_send_one_round(&imap_sasl, &io, im->ahead_mech, &sp, e);
	mf_secret_wipe(&pw);
	if (rc == -1)
		return -1;
	im->ahead_tag = io.tag;
	return copy_caps(&im->caps, &im->login_caps) == 0 ? 1 : -1;
}

struct mf_imap *
mf_imap_connect_ahead(const struct mf_conn *p, const char *hint,
                      int *queued, struct mf_err *e)
{
	enum mf_tls_mode mode;
	struct mf_imap *im = session_new(p, &mode, e);
	int q = 0;

	*queued = 0;
	if (!im)
		return NULL;
	if (mode == MF_TLS_IMPLICIT && hint && *hint)
		q = queue_login(im, p, hint, e);
	if (q == -1 || (q == 0 && session_start(im, mode, e) == -1)) {
		session_drop(im);
		return NULL;
	}
	*queued = q;
	return im;
}

/* 1 when list holds exactly the hint's words. */
static int
same_caps(const struct mf_buf *list, const struct mf_buf *hint)
{
	return list->len == hint->len && !strcmp(list->data, hint->data);
}

/* The verdict on the queued AUTHENTICATE: 1 OK, 0 the server asked for a
 * continuation (it took no initial response: what follows is not what it
 * expects), -1 refused or error. */
static int
ahead_verdict(struct mf_imap *im, struct mf_err *e)
{
	struct mf_imap_status st;
	const struct mf_imap_resp *r;
	int d;

	memset(&st, 0, sizeof st);
	for (;;) {
		if (read_resp(im, &r, e) == -1)
			return -1;
		if (r->kind == MF_IMAP_CONT)
			return 0;
		d = dispatch(im, r, im->ahead_tag, NULL, NULL, &st, e);
		if (d == -1)
			return -1;
		if (d > 0)
			break;
	}
	if (strcmp(st.status, "OK"))
		return mf_err_reply(e, MF_E_AUTH, 0, NULL, st.text,
		                    "IMAP authentication (%s) refused: %s",
		                    im->ahead_mech, st.text);
	return 1;
}

int
mf_imap_ahead_finish(struct mf_imap *im, struct mf_err *e)
{
	struct mf_buf greet = im->greet_caps, login = im->login_caps;
	unsigned gen;
	int r;

	if (!im->ahead_tag)
		return 1;
	mf_buf_init(&im->greet_caps, HINT_MAX);
	mf_buf_init(&im->login_caps, HINT_MAX);
	mf_buf_reset(&im->caps);
	gen = im->caps_gen;
	r = mf_imap_flush(im, e) == -1 || greeting(im, e) == -1 ? -1 : 0;
	/* the greeting must say what the hint says, or what was queued on
	 * its word may not be what this server takes */
	if (r == 0 && !im->preauth && im->caps_gen != gen &&
	    same_caps(&im->caps, &greet)) {
		gen = im->caps_gen;
		r = ahead_verdict(im, e);
		/* RFC 3501 §6.2.3: the login's OK must list the capabilities
		 * again, the same as the hint's, for the queued commands */
		if (r == 1 && !(im->caps_gen != gen && has_rev(im) &&
		                same_caps(&im->caps, &login)))
			r = 0;
	}
	if (r == 1)
		(void)copy_caps(&im->login_caps, &im->caps);
	im->ahead_tag = 0;
	mf_buf_free(&greet);
	mf_buf_free(&login);
	return r;
}

/* ---- extensions ---- */

int
mf_imap_enable_send(struct mf_imap *im, const char *exts, unsigned *tag,
                    struct mf_err *e)
{
	char list[512] = "", word[64];
	const char *p = exts;
	size_t l = 0;

	*tag = 0;

	while (*p) {
		size_t n = strcspn(p, " ");
		/* never an ENABLE with an extension cut or silently left out */
		if (n >= sizeof word || l + n + 2 > sizeof list)
			return mf_err_set(e, MF_E_USAGE, "ENABLE: the extension "
			                  "list is too long");
		if (n) {
			memcpy(word, p, n);
			word[n] = '\0';
			if (mf_imap_has_cap(im, word)) {
				if (l)
					list[l++] = ' ';
				memcpy(list + l, word, n + 1);
				l += n;
			}
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	if (!*list || !mf_imap_has_cap(im, "ENABLE"))
		return 0;
	*tag = send_cmd(im, e, "ENABLE %s", list);
	return *tag ? 0 : -1;
}

int
mf_imap_enable(struct mf_imap *im, const char *exts, struct mf_err *e)
{
	unsigned tag;

	if (mf_imap_enable_send(im, exts, &tag, e) == -1)
		return -1;
	return tag ? mf_imap_wait_ok(im, tag, NULL, NULL, e) : 0;
}

/* Wait for the "+" go-ahead of a synchronizing literal or IDLE. */
static int
wait_cont(struct mf_imap *im, unsigned tag, mf_imap_untagged_fn fn,
          void *arg, struct mf_imap_status *st, struct mf_err *e)
{
	if (mf_imap_flush(im, e) == -1)
		return -1;
	for (;;) {
		const struct mf_imap_resp *r;
		int d;
		if (read_resp(im, &r, e) == -1)
			return -1;
		if (r->kind == MF_IMAP_CONT)
			return 1;
		d = dispatch(im, r, tag, fn, arg, st, e);
		if (d != 0)
			return d == -1 ? -1 : 0;
	}
}

int
mf_imap_append(struct mf_imap *im, const char *mbox_utf7,
               const char *flags, uint64_t size,
               ssize_t (*read)(void *arg, char *buf, size_t n),
               void *arg, uint32_t *uid, struct mf_err *e)
{
	struct mf_buf q = MF_BUF_INIT(4096);
	struct mf_imap_status st;
	int plus = mf_imap_has_cap(im, "LITERAL+") ||
	           (mf_imap_has_cap(im, "LITERAL-") && size <= 4096);
	char chunk[65536];
	uint64_t sent = 0;
	unsigned tag;

	*uid = 0;
	if (mf_imap_quote(&q, mbox_utf7, e) == -1)
		return -1;
	tag = send_cmd(im, e, "APPEND %s (%s) {%llu%s}", q.data, flags,
	                   (unsigned long long)size, plus ? "+" : "");
	mf_buf_free(&q);
	if (!tag)
		return -1;
	if (!plus) {
		int c = wait_cont(im, tag, NULL, NULL, &st, e);
		if (c == -1)
			return -1;
		if (c == 0)
			return check_ok(&st, e) == -1 ? -1 : mf_err_set(e, MF_E_PROTO,
			                  "IMAP APPEND completed before its literal");
	}
	while (sent < size) {
		ssize_t n = read(arg, chunk, sizeof chunk);
		if (n < 0)
			return mf_err_set(e, MF_E_IO, "reading the message to upload failed");
		if (n == 0 || sent + (uint64_t)n > size)
			return mf_err_set(e, MF_E_INTERNAL,
			                  "message size changed during upload");
		if (mf_lineio_write(im->io, chunk, (size_t)n, e) == -1)
			return -1;
		sent += (uint64_t)n;
	}
	if (mf_lineio_write(im->io, "\r\n", 2, e) == -1 ||
	    mf_imap_wait(im, tag, NULL, NULL, &st, e) == -1 || check_ok(&st, e) == -1)
		return -1;
	*uid = st.append_uid;
	return 0;
}

static int
idle_event(const struct mf_imap_resp *r)
{
	return r->kind == MF_IMAP_UNTAGGED &&
	       (!strcmp(r->keyword, "EXISTS") || !strcmp(r->keyword, "EXPUNGE") ||
	        !strcmp(r->keyword, "VANISHED") || !strcmp(r->keyword, "FETCH"));
}

/* RFC 2177: IDLE, then "+", then untagged responses until DONE. */
unsigned
mf_imap_idle_begin(struct mf_imap *im, const struct mf_imap_events *ev,
                   struct mf_err *e)
{
	struct mf_imap_status st;
	unsigned tag;
	int c;

	if (!mf_imap_has_cap(im, "IDLE")) {
		mf_err_set(e, MF_E_UNSUPPORTED, "the IMAP server has no IDLE");
		return 0;
	}
	tag = send_cmd(im, e, "IDLE");
	if (!tag)
		return 0;
	c = wait_cont(im, tag, EV_FN(ev), EV_ARG(ev), &st, e);
	if (c <= 0) {
		if (c == 0)
			mf_err_set(e, MF_E_PROTO, "IDLE refused: %s", st.text);
		return 0;
	}
	return tag;
}

int
mf_imap_idle_poll(struct mf_imap *im, int timeout_ms,
                  const struct mf_imap_events *ev, struct mf_err *e)
{
	int changed = 0;

	for (;;) {
		const struct mf_imap_resp *r;
		if (im->rpos >= im->rlen) {
			int w = mf_lineio_wait(im->io, timeout_ms, e);
			if (w == -1) {
				im->dead = 1;
				return -1;
			}
			if (w == 0)
				return changed;
		}
		if (read_resp(im, &r, e) == -1)
			return -1;
		if (r->kind != MF_IMAP_UNTAGGED) {
			im->dead = 1;
			return mf_err_set(e, MF_E_PROTO, "unexpected response in IDLE");
		}
		if (!strcmp(r->keyword, "BYE")) {
			im->dead = 1;
			return mf_err_set(e, MF_E_CLOSED, "IMAP server closed the "
			                  "connection: %s", im->byetext);
		}
		if (ev && mf_imap_events_fn(EV_ARG(ev), r, e) == -1)
			return -1;
		changed |= idle_event(r);
		timeout_ms = 0;   /* take what is there, wait no more */
	}
}

int
mf_imap_idle_end(struct mf_imap *im, unsigned tag, int timeout_ms,
                 const struct mf_imap_events *ev, struct mf_err *e)
{
	struct mf_imap_status st;
	int old = mf_imap_set_timeout(im, timeout_ms);
	int rc;

	rc = mf_lineio_send(im->io, e, "DONE");
	if (rc == 0)
		rc = mf_imap_wait(im, tag, EV_FN(ev), EV_ARG(ev), &st, e);
	if (rc == 0)
		rc = check_ok(&st, e);
	mf_lineio_set_timeout(im->io, old);
	return rc;
}

int
mf_imap_pollfd(struct mf_imap *im)
{
	if (im->rpos < im->rlen || mf_lineio_pending(im->io) ||
	    mf_transport_pending(mf_lineio_transport(im->io)))
		return -2;
	return mf_transport_fd(mf_lineio_transport(im->io));
}

int
mf_imap_set_timeout(struct mf_imap *im, int timeout_ms)
{
	struct mf_transport *t = mf_lineio_transport(im->io);
	int old = mf_transport_timeout(t);

	mf_lineio_set_timeout(im->io, timeout_ms);
	return old;
}

void
mf_imap_abandon(struct mf_imap *im)
{
	if (im)
		im->dead = 1;
}

/* ---- typed commands: the only place the words are spelled ---- */

#define CMD_MAX ((size_t)1 << 20)

static int
no_crlf(const char *s, const char *what, struct mf_err *e)
{
	if (s == NULL || strpbrk(s, "\r\n") != NULL)
		return mf_err_set(e, MF_E_DATA, "CR or LF in an IMAP %s", what);
	return 0;
}

/* RFC 3501 §9 sequence-set, as UIDs: digits, ':', ',' and '*'. */
static int
check_set(const char *set, struct mf_err *e)
{
	if (set == NULL || *set == '\0' ||
	    set[strspn(set, "0123456789:,*")] != '\0')
		return mf_err_set(e, MF_E_DATA, "not an IMAP UID set");
	return 0;
}

/* RFC 3501 §9 astring: as an atom when it is one, else quoted. */
static int
put_astring(struct mf_buf *b, const char *s, struct mf_err *e)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("(){%*\"\\", *p) != NULL)
			break;
	if (*s != '\0' && *p == '\0')
		return mf_buf_puts(b, s, e);
	return mf_imap_quote(b, s, e);
}

/* " (" names[bit] for each bit of items, in table order ")". */
struct item {
	unsigned bit;
	const char *name;
};

static int
put_items(struct mf_buf *b, const struct item *t, size_t n, unsigned items,
          struct mf_err *e)
{
	unsigned known = 0;
	const char *sep = " (";
	size_t i;

	for (i = 0; i < n; i++)
		known |= t[i].bit;
	if (items == 0 || (items & ~known) != 0)
		return mf_err_set(e, MF_E_INTERNAL, "bad IMAP item set %#x", items);
	for (i = 0; i < n; i++) {
		if ((items & t[i].bit) == 0)
			continue;
		if (mf_buf_printf(b, e, "%s%s", sep, t[i].name) == -1)
			return -1;
		sep = " ";
	}
	return mf_buf_putc(b, ')', e);
}

/* Queue the command built in b (freed): 0 and *tag, or -1. */
static int
queue(struct mf_imap *im, struct mf_buf *b, unsigned *tag, struct mf_err *e)
{
	*tag = send_cmd(im, e, "%s", b->data);
	mf_buf_free(b);
	return *tag != 0 ? 0 : -1;
}

static int
drop(struct mf_buf *b, unsigned *tag)
{
	mf_buf_free(b);
	*tag = 0;
	return -1;
}

/* Wait for a command X_send() queued (tag 0: it failed). */
static int
sent_wait_ok(struct mf_imap *im, int r, unsigned tag, mf_imap_untagged_fn fn,
             void *arg, struct mf_err *e)
{
	if (r == -1)
		return -1;
	return mf_imap_wait_ok(im, tag, fn, arg, e);
}

static const struct item fetch_items[] = {
	{ MF_IMAP_FETCH_UID, "UID" },
	{ MF_IMAP_FETCH_FLAGS, "FLAGS" },
	{ MF_IMAP_FETCH_SIZE, "RFC822.SIZE" },
	{ MF_IMAP_FETCH_MESSAGE_ID, "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]" },
	{ MF_IMAP_FETCH_BODY, "BODY.PEEK[]" },
};

int
mf_imap_uid_fetch_send(struct mf_imap *im, const char *set, unsigned items,
                       unsigned *tag, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(CMD_MAX);

	if (check_set(set, e) == -1 ||
	    mf_buf_printf(&b, e, "UID FETCH %s", set) == -1 ||
	    put_items(&b, fetch_items, sizeof fetch_items / sizeof *fetch_items,
	    items, e) == -1)
		return drop(&b, tag);
	return queue(im, &b, tag, e);
}

int
mf_imap_uid_fetch(struct mf_imap *im, const char *set, unsigned items,
                  const struct mf_imap_events *ev, struct mf_err *e)
{
	unsigned tag;
	int r;

	r = mf_imap_uid_fetch_send(im, set, items, &tag, e);
	return sent_wait_ok(im, r, tag, EV_FN(ev), EV_ARG(ev), e);
}

int
mf_imap_select_send(struct mf_imap *im, const char *mbox_utf7, unsigned how,
                    const struct mf_imap_qresync *q, unsigned *tag,
                    struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(CMD_MAX);
	int r;

	r = mf_buf_puts(&b, (how & MF_IMAP_SELECT_READONLY) != 0 ?
	    "EXAMINE " : "SELECT ", e);
	if (r == 0)
		r = mf_imap_quote(&b, mbox_utf7, e);
	/* RFC 7162 §3.2.5: QRESYNC (uidvalidity modseq) */
	if (r == 0 && q != NULL)
		r = mf_buf_printf(&b, e, " (QRESYNC (%u %llu))", q->uidvalidity,
		    (unsigned long long)q->modseq);
	else if (r == 0 && (how & MF_IMAP_SELECT_CONDSTORE) != 0)
		r = mf_buf_puts(&b, " (CONDSTORE)", e);
	if (r == -1)
		return drop(&b, tag);
	memset(&im->mb, 0, sizeof im->mb);
	return queue(im, &b, tag, e);
}

static const char *const store_words[] = {
	[MF_IMAP_STORE_ADD] = "+FLAGS.SILENT",
	[MF_IMAP_STORE_REMOVE] = "-FLAGS.SILENT",
};

int
mf_imap_uid_store_send(struct mf_imap *im, const char *set,
                       enum mf_imap_store_op op, const char *flags,
                       unsigned *tag, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(CMD_MAX);

	if (check_set(set, e) == -1 || no_crlf(flags, "flag list", e) == -1)
		return drop(&b, tag);
	if (op != MF_IMAP_STORE_ADD && op != MF_IMAP_STORE_REMOVE) {
		mf_err_set(e, MF_E_INTERNAL, "bad IMAP STORE operation");
		return drop(&b, tag);
	}
	if (strpbrk(flags, "()\"{") != NULL) {
		mf_err_set(e, MF_E_DATA, "not an IMAP flag list: %s", flags);
		return drop(&b, tag);
	}
	if (mf_buf_printf(&b, e, "UID STORE %s %s (%s)", set, store_words[op],
	    flags) == -1)
		return drop(&b, tag);
	return queue(im, &b, tag, e);
}

int
mf_imap_uid_store(struct mf_imap *im, const char *set,
                  enum mf_imap_store_op op, const char *flags,
                  struct mf_err *e)
{
	unsigned tag;
	int r;

	r = mf_imap_uid_store_send(im, set, op, flags, &tag, e);
	return sent_wait_ok(im, r, tag, NULL, NULL, e);
}

int
mf_imap_uid_expunge_send(struct mf_imap *im, const char *set, unsigned *tag,
                         struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(CMD_MAX);

	if (check_set(set, e) == -1)
		return drop(&b, tag);
	if (!mf_imap_has_cap(im, "UIDPLUS")) {
		mf_err_set(e, MF_E_UNSUPPORTED, "the IMAP server has no UIDPLUS "
		    "(UID EXPUNGE)");
		return drop(&b, tag);
	}
	if (mf_buf_printf(&b, e, "UID EXPUNGE %s", set) == -1)
		return drop(&b, tag);
	return queue(im, &b, tag, e);
}

int
mf_imap_uid_expunge(struct mf_imap *im, const char *set, struct mf_err *e)
{
	unsigned tag;
	int r;

	r = mf_imap_uid_expunge_send(im, set, &tag, e);
	return sent_wait_ok(im, r, tag, NULL, NULL, e);
}

int
mf_imap_uid_search_header_send(struct mf_imap *im, uint32_t from,
                               const char *field, const char *value,
                               unsigned *tag, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(CMD_MAX);
	int r;

	if (no_crlf(field, "header name", e) == -1 ||
	    no_crlf(value, "search string", e) == -1)
		return drop(&b, tag);
	r = mf_buf_printf(&b, e, "UID SEARCH UID %u:* HEADER ",
	    from != 0 ? from : 1);
	if (r == 0)
		r = put_astring(&b, field, e);
	if (r == 0)
		r = mf_buf_putc(&b, ' ', e);
	if (r == 0)
		r = put_astring(&b, value, e);
	if (r == -1)
		return drop(&b, tag);
	return queue(im, &b, tag, e);
}

struct search_each {
	int (*each)(void *arg, uint32_t uid, struct mf_err *e);
	void *arg;
};

/* "* SEARCH n ..." (RFC 3501 §7.2.5): each number to each(). */
static int
search_cb(void *arg, const struct mf_imap_resp *r, struct mf_err *e)
{
	struct search_each *s = arg;
	uint64_t u;
	size_t k;

	if (strcmp(r->keyword, "SEARCH") != 0)
		return 0;
	for (k = r->data_first; k < r->ntoks; k++) {
		if (r->toks[k].type != MF_IMAP_ATOM ||
		    mf_imap_tok_u64(&r->toks[k], &u) == -1 || u == 0 ||
		    u > 0xFFFFFFFFu)
			continue;
		if (s->each(s->arg, (uint32_t)u, e) == -1)
			return -1;
	}
	return 0;
}

int
mf_imap_uid_search_header(struct mf_imap *im, uint32_t from,
                          const char *field, const char *value,
                          int (*each)(void *arg, uint32_t uid,
                                      struct mf_err *e),
                          void *arg, struct mf_err *e)
{
	struct search_each s = { each, arg };
	unsigned tag;
	int r;

	r = mf_imap_uid_search_header_send(im, from, field, value, &tag, e);
	return sent_wait_ok(im, r, tag, search_cb, &s, e);
}

/* The patterns, one quoted, several as a parenthesised list (RFC 5258
 * §3: mbox-or-pat). */
static int
put_patterns(struct mf_buf *b, const char *const *pats, size_t n,
             struct mf_err *e)
{
	size_t i;

	if (n > 1 && mf_buf_putc(b, '(', e) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (i > 0 && mf_buf_putc(b, ' ', e) == -1)
			return -1;
		if (mf_imap_quote(b, pats[i], e) == -1)
			return -1;
	}
	return n > 1 ? mf_buf_putc(b, ')', e) : 0;
}

static const struct item status_items[] = {
	{ MF_IMAP_STATUS_MESSAGES, "MESSAGES" },
	{ MF_IMAP_STATUS_UIDNEXT, "UIDNEXT" },
	{ MF_IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY" },
	{ MF_IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ" },
};

/* " RETURN (SPECIAL-USE STATUS (...))" of a LIST (RFC 5258 §3,
 * RFC 6154 §2, RFC 5819 §2), or nothing. */
static int
put_list_return(struct mf_buf *b, int su, unsigned status, struct mf_err *e)
{
	if (!su && !status)
		return 0;
	if (mf_buf_puts(b, " RETURN (", e) == -1 ||
	    (su && mf_buf_puts(b, status ? "SPECIAL-USE " : "SPECIAL-USE", e) == -1))
		return -1;
	if (status && (mf_buf_puts(b, "STATUS", e) == -1 ||
	    put_items(b, status_items, sizeof status_items /
	    sizeof *status_items, status, e) == -1))
		return -1;
	return mf_buf_putc(b, ')', e);
}

int
mf_imap_list_send(struct mf_imap *im, const char *const *pats_utf7,
                  size_t npats, unsigned how, unsigned status,
                  unsigned *tag, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(CMD_MAX);
	int ext = mf_imap_has_cap(im, "LIST-EXTENDED");
	int su = (how & MF_IMAP_LIST_SPECIAL_USE) != 0;

	if (npats == 0 || (npats > 1 && !ext) ||
	    (su && (!ext || !mf_imap_has_cap(im, "SPECIAL-USE"))) ||
	    (status && (!ext || !mf_imap_has_cap(im, "LIST-STATUS")))) {
		mf_err_set(e, npats == 0 ? MF_E_INTERNAL : MF_E_UNSUPPORTED,
		    npats == 0 ? "LIST without a pattern" : "the IMAP server "
		    "has no LIST-EXTENDED, SPECIAL-USE or LIST-STATUS");
		return drop(&b, tag);
	}
	if (mf_buf_puts(&b, "LIST \"\" ", e) == -1 ||
	    put_patterns(&b, pats_utf7, npats, e) == -1 ||
	    put_list_return(&b, su, status, e) == -1)
		return drop(&b, tag);
	return queue(im, &b, tag, e);
}

int
mf_imap_status_send(struct mf_imap *im, const char *mbox_utf7, unsigned items,
                    unsigned *tag, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(CMD_MAX);

	if (mf_buf_puts(&b, "STATUS ", e) == -1 ||
	    mf_imap_quote(&b, mbox_utf7, e) == -1 ||
	    put_items(&b, status_items, sizeof status_items /
	    sizeof *status_items, items, e) == -1)
		return drop(&b, tag);
	return queue(im, &b, tag, e);
}

int
mf_imap_status(struct mf_imap *im, const char *mbox_utf7, unsigned items,
               const struct mf_imap_events *ev, struct mf_err *e)
{
	unsigned tag;
	int r;

	r = mf_imap_status_send(im, mbox_utf7, items, &tag, e);
	return sent_wait_ok(im, r, tag, EV_FN(ev), EV_ARG(ev), e);
}

int
mf_imap_noop_send(struct mf_imap *im, unsigned *tag, struct mf_err *e)
{
	*tag = send_cmd(im, e, "NOOP");
	return *tag != 0 ? 0 : -1;
}

int
mf_imap_noop(struct mf_imap *im, const struct mf_imap_events *ev,
             struct mf_err *e)
{
	return simple(im, EV_FN(ev), EV_ARG(ev), e, "NOOP");
}

int
mf_imap_notify_set_status(struct mf_imap *im, const char *const *mboxes_utf7,
                          size_t nmbox, struct mf_err *e)
{
	struct mf_buf b = MF_BUF_INIT(CMD_MAX);
	unsigned tag;
	size_t i;
	int r;

	/* RFC 5465 §3: the selected mailbox as usual, the others by STATUS */
	r = mf_buf_puts(&b, "NOTIFY SET STATUS (selected (MessageNew "
	    "MessageExpunge FlagChange)) (mailboxes (", e);
	for (i = 0; r == 0 && i < nmbox; i++) {
		if (i > 0)
			r = mf_buf_putc(&b, ' ', e);
		if (r == 0)
			r = mf_imap_quote(&b, mboxes_utf7[i], e);
	}
	if (r == 0)
		r = mf_buf_puts(&b, ") (MessageNew MessageExpunge FlagChange))", e);
	if (r == -1)
		r = drop(&b, &tag);
	else
		r = queue(im, &b, &tag, e);
	return sent_wait_ok(im, r, tag, NULL, NULL, e);
}
