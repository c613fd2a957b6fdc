/* jsonread.c - JSON text to a tree of values (RFC 8259). */
#include "jsonread.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime.h"

struct rd {
	const char *p, *start, *end;
	struct mf_err *e;
};

static int parse_value(struct rd *r, struct mf_jv *v, int depth);
static void release(struct mf_jv *v);

static int
bad(struct rd *r, const char *what)
{
	return mf_err_set(r->e, MF_E_DATA, "offset %zu: %s",
	    (size_t)(r->p - r->start), what);
}

static void
skip_ws(struct rd *r)
{
	/* §2: the four insignificant white space characters. */
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
	    *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int
literal(struct rd *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return bad(r, "unexpected character");
	r->p += n;
	return 0;
}

static int
hex4(struct rd *r, unsigned *out)
{
	unsigned v = 0;
	int i, c;

	if (r->end - r->p < 4)
		return bad(r, "short \\u escape");
	for (i = 0; i < 4; i++) {
		c = (unsigned char)r->p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return bad(r, "bad \\u escape");
	}
	r->p += 4;
	*out = v;
	return 0;
}

/* §7: \uXXXX, with a UTF-16 surrogate pair for code points past U+FFFF. */
static int
unicode_escape(struct rd *r, struct mf_buf *b)
{
	unsigned cp, lo;

	if (hex4(r, &cp) == -1)
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return bad(r, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
			return bad(r, "lone high surrogate");
		r->p += 2;
		if (hex4(r, &lo) == -1)
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return bad(r, "bad surrogate pair");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0)
		return bad(r, "\\u0000 is not allowed in a string");
	return mf_buf_put_utf8(b, cp, r->e);
}

static int
escape(struct rd *r, struct mf_buf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k;

	if (r->p >= r->end)
		return bad(r, "unterminated string");
	if (*r->p == 'u') {
		r->p++;
		return unicode_escape(r, b);
	}
	if ((k = strchr(from, *r->p)) == NULL || *r->p == '\0')
		return bad(r, "bad escape");
	r->p++;
	return mf_buf_putc(b, to[k - from], r->e);
}

static int
parse_string(struct rd *r, char **out, size_t *outlen)
{
	struct mf_buf b = MF_BUF_INIT((size_t)(r->end - r->p) + 1);
	const char *run;
	unsigned char c;

	r->p++;   /* the opening quote */
	for (;;) {
		run = r->p;
		while (r->p < r->end && *r->p != '"' && *r->p != '\\' &&
		    (unsigned char)*r->p >= 0x20)
			r->p++;
		if (r->p > run && mf_buf_append(&b, run, (size_t)(r->p - run),
		    r->e) == -1)
			goto fail;
		if (r->p >= r->end) {
			bad(r, "unterminated string");
			goto fail;
		}
		c = (unsigned char)*r->p;
		if (c == '"')
			break;
		if (c < 0x20) {
			/* §7: control characters must be escaped */
			bad(r, "control character in a string");
			goto fail;
		}
		r->p++;
		if (escape(r, &b) == -1)
			goto fail;
	}
	r->p++;
	if (b.len > 0 && !mf_mime_utf8_valid(b.data, b.len)) {
		bad(r, "string is not UTF-8");
		goto fail;
	}
	*outlen = b.len;
	if ((*out = mf_buf_take(&b)) == NULL)
		return mf_err_sys(r->e, MF_E_NOMEM, errno, "JSON");
	return 0;
fail:
	mf_buf_free(&b);
	return -1;
}

static int
parse_number(struct rd *r, struct mf_jv *v)
{
	const char *s = r->p;
	char tmp[512];         /* a double in %f form has up to 309 digits */
	size_t n;

	/* §6: -? int frac? exp? with no leading zeros, checked by hand
	 * (strtod takes more: hex, inf, nan, leading "+"). */
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (r->p < r->end && *r->p >= '1' && *r->p <= '9')
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	else
		return bad(r, "bad number");
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return bad(r, "bad number");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return bad(r, "bad number");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	n = (size_t)(r->p - s);
	if (n >= sizeof(tmp))
		return bad(r, "number too long");
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	v->type = MF_JV_NUMBER;
	v->num = strtod(tmp, NULL);
	if (!isfinite(v->num))
		return bad(r, "number out of range");
	return 0;
}

/* Append one member to an array or object value. */
static struct mf_jv *
grow(struct rd *r, struct mf_jv *v, size_t *cap)
{
	struct mf_jv *nv;
	char **nk;
	size_t c;

	if (v->n == *cap) {
		c = *cap ? *cap * 2 : 4;
		if ((nv = realloc(v->v, c * sizeof(*nv))) == NULL) {
			mf_err_sys(r->e, MF_E_NOMEM, errno, "JSON");
			return NULL;
		}
		v->v = nv;
		if (v->type == MF_JV_OBJECT) {
			if ((nk = realloc(v->keys, c * sizeof(*nk))) == NULL) {
				mf_err_sys(r->e, MF_E_NOMEM, errno, "JSON");
				return NULL;
			}
			v->keys = nk;
		}
		*cap = c;
	}
	memset(&v->v[v->n], 0, sizeof(v->v[0]));
	return &v->v[v->n];
}

static int
parse_array(struct rd *r, struct mf_jv *v, int depth)
{
	struct mf_jv *m;
	size_t cap = 0;

	v->type = MF_JV_ARRAY;
	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return 0;
	}
	for (;;) {
		if ((m = grow(r, v, &cap)) == NULL)
			return -1;
		if (parse_value(r, m, depth + 1) == -1) {
			release(m);   /* not counted in v->n yet */
			return -1;
		}
		v->n++;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return 0;
		}
		return bad(r, "expected , or ]");
	}
}

static int
parse_member(struct rd *r, struct mf_jv *v, struct mf_jv *m, int depth)
{
	char *key;
	size_t klen, i;

	skip_ws(r);
	if (r->p >= r->end || *r->p != '"')
		return bad(r, "expected a key string");
	if (parse_string(r, &key, &klen) == -1)
		return -1;
	for (i = 0; i < v->n; i++)
		if (strcmp(v->keys[i], key) == 0) {
			free(key);
			return bad(r, "duplicate key");
		}
	skip_ws(r);
	if (r->p >= r->end || *r->p != ':') {
		free(key);
		return bad(r, "expected :");
	}
	r->p++;
	if (parse_value(r, m, depth + 1) == -1) {
		release(m);   /* not counted in v->n yet */
		free(key);
		return -1;
	}
	v->keys[v->n++] = key;
	return 0;
}

static int
parse_object(struct rd *r, struct mf_jv *v, int depth)
{
	struct mf_jv *m;
	size_t cap = 0;

	v->type = MF_JV_OBJECT;
	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return 0;
	}
	for (;;) {
		if ((m = grow(r, v, &cap)) == NULL)
			return -1;
		if (parse_member(r, v, m, depth) == -1)
			return -1;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return 0;
		}
		return bad(r, "expected , or }");
	}
}

static int
parse_value(struct rd *r, struct mf_jv *v, int depth)
{
	if (depth > MF_JV_DEPTH_MAX)
		return bad(r, "nested too deeply");
	skip_ws(r);
	if (r->p >= r->end)
		return bad(r, "unexpected end");
	switch (*r->p) {
	case '{': return parse_object(r, v, depth);
	case '[': return parse_array(r, v, depth);
	case '"':
		v->type = MF_JV_STRING;
		return parse_string(r, &v->s, &v->slen);
	case 't':
		v->type = MF_JV_BOOL;
		v->b = 1;
		return literal(r, "true");
	case 'f':
		v->type = MF_JV_BOOL;
		return literal(r, "false");
	case 'n':
		v->type = MF_JV_NULL;
		return literal(r, "null");
	default:
		return parse_number(r, v);
	}
}

int
mf_jv_parse(const char *text, size_t len, struct mf_jv **out,
            struct mf_err *e)
{
	struct rd r = { text, text, text + len, e };
	struct mf_jv *v = calloc(1, sizeof(*v));

	*out = NULL;
	if (v == NULL)
		return mf_err_sys(e, MF_E_NOMEM, errno, "JSON");
	if (parse_value(&r, v, 0) == -1) {
		mf_jv_free(v);
		return -1;
	}
	skip_ws(&r);
	if (r.p != r.end) {
		mf_jv_free(v);
		return bad(&r, "text after the value");
	}
	*out = v;
	return 0;
}

/* Free what v owns, not v itself. */
static void
release(struct mf_jv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		release(&v->v[i]);
		if (v->keys != NULL)
			free(v->keys[i]);
	}
	free(v->v);
	free(v->keys);
	free(v->s);
	memset(v, 0, sizeof(*v));
}

void
mf_jv_free(struct mf_jv *v)
{
	if (v == NULL)
		return;
	release(v);
	free(v);
}

const struct mf_jv *
mf_jv_get(const struct mf_jv *v, const char *key)
{
	size_t i;

	if (v == NULL || v->type != MF_JV_OBJECT)
		return NULL;
	for (i = 0; i < v->n; i++)
		if (strcmp(v->keys[i], key) == 0)
			return &v->v[i];
	return NULL;
}

const char *
mf_jv_type_name(enum mf_jv_type t)
{
	static const char *const names[] = { "null", "boolean", "number",
	    "string", "array", "object" };

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] :
	    "?";
}
