/* fuzz_json.c - the --json writer driven by a well-formed sequence of
 * calls chosen by the input, with arbitrary bytes as keys and strings
 * (server replies end up there): when the writer reports success its
 * output must be valid JSON (RFC 8259) and valid UTF-8, checked by the
 * small validator below. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "json.h"

/* ---- a strict validator ---- */

struct v { const unsigned char *p, *end; int depth; };

static void ws(struct v *v)
{
	while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' ||
	    *v->p == '\n' || *v->p == '\r'))
		v->p++;
}

static int utf8(struct v *v)
{
	unsigned c = *v->p, n, cp, i;

	if (c < 0x80) { v->p++; return 0; }
	if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
	else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
	else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
	else return -1;
	if ((size_t)(v->end - v->p) <= n)
		return -1;
	for (i = 1; i <= n; i++) {
		if ((v->p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (v->p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	v->p += n + 1;
	return 0;
}

static int hex4(struct v *v)
{
	int i;

	if (v->end - v->p < 4)
		return -1;
	for (i = 0; i < 4; i++)
		if (!strchr("0123456789abcdefABCDEF", v->p[i]) || !v->p[i])
			return -1;
	v->p += 4;
	return 0;
}

static int str(struct v *v)
{
	if (v->p >= v->end || *v->p != '"')
		return -1;
	v->p++;
	while (v->p < v->end && *v->p != '"') {
		if (*v->p < 0x20)
			return -1;
		if (*v->p == '\\') {
			v->p++;
			if (v->p >= v->end)
				return -1;
			if (*v->p == 'u') {
				v->p++;
				if (hex4(v) == -1)
					return -1;
			} else if (*v->p && strchr("\"\\/bfnrt", *v->p)) {
				v->p++;
			} else {
				return -1;
			}
		} else if (utf8(v) == -1) {
			return -1;
		}
	}
	if (v->p >= v->end)
		return -1;
	v->p++;
	return 0;
}

static int number(struct v *v)
{
	const unsigned char *s = v->p;

	if (v->p < v->end && *v->p == '-')
		v->p++;
	if (v->p >= v->end || *v->p < '0' || *v->p > '9')
		return -1;
	if (*v->p == '0')
		v->p++;
	else
		while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
			v->p++;
	if (v->p < v->end && *v->p == '.') {
		v->p++;
		if (v->p >= v->end || *v->p < '0' || *v->p > '9')
			return -1;
		while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
			v->p++;
	}
	if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
		v->p++;
		if (v->p < v->end && (*v->p == '+' || *v->p == '-'))
			v->p++;
		if (v->p >= v->end || *v->p < '0' || *v->p > '9')
			return -1;
		while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
			v->p++;
	}
	return v->p > s ? 0 : -1;
}

static int lit(struct v *v, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(v->end - v->p) < n || memcmp(v->p, w, n) != 0)
		return -1;
	v->p += n;
	return 0;
}

static int value(struct v *v)
{
	ws(v);
	if (v->p >= v->end)
		return -1;
	if (*v->p == '{' || *v->p == '[') {
		unsigned char close = *v->p == '{' ? '}' : ']';
		int obj = *v->p == '{';

		if (++v->depth > 64)
			return -1;
		v->p++;
		ws(v);
		if (v->p < v->end && *v->p == close) {
			v->p++;
			v->depth--;
			return 0;
		}
		for (;;) {
			if (obj) {
				ws(v);
				if (str(v) == -1)
					return -1;
				ws(v);
				if (v->p >= v->end || *v->p++ != ':')
					return -1;
			}
			if (value(v) == -1)
				return -1;
			ws(v);
			if (v->p >= v->end)
				return -1;
			if (*v->p == ',') { v->p++; continue; }
			if (*v->p == close) { v->p++; v->depth--; return 0; }
			return -1;
		}
	}
	if (*v->p == '"')
		return str(v);
	if (*v->p == 't')
		return lit(v, "true");
	if (*v->p == 'f')
		return lit(v, "false");
	if (*v->p == 'n')
		return lit(v, "null");
	return number(v);
}

static int valid_json(const char *s, size_t n)
{
	struct v v = { (const unsigned char *)s, (const unsigned char *)s + n, 0 };

	if (value(&v) == -1)
		return 0;
	ws(&v);
	return v.p == v.end;
}

/* ---- the driver ---- */

struct in { const uint8_t *p; size_t n; };

static unsigned byte(struct in *in)
{
	unsigned c;

	if (in->n == 0)
		return 0;
	c = *in->p++;
	in->n--;
	return c;
}

static size_t chunk(struct in *in, const char **s)
{
	size_t n = byte(in) % 40;

	if (n > in->n)
		n = in->n;
	*s = (const char *)in->p;
	in->p += n;
	in->n -= n;
	return n;
}

static void emit_value(struct mf_json *j, struct in *in, unsigned op,
                       int *stack, int *depth, int *deep)
{
	const char *s;
	size_t n;
	long long ll;
	double d;
	char *z;

	switch (op % 9) {
	case 0:
		n = chunk(in, &s);
		mf_json_string_n(j, s, n);
		break;
	case 1:
		n = chunk(in, &s);
		z = fz_cstr((const uint8_t *)s, n);
		mf_json_string(j, z);
		free(z);
		break;
	case 2:
		memcpy(&ll, in->n >= 8 ? in->p : (const uint8_t *)"\x80\0\0\0\0\0\0\x80", 8);
		mf_json_int(j, ll);
		break;
	case 3:
		memcpy(&d, in->n >= 8 ? in->p : (const uint8_t *)"\0\0\0\0\0\0\xf0\x7f", 8);
		if (in->n >= 8) { in->p += 8; in->n -= 8; }
		if (!isfinite(d))
			d = byte(in) & 1 ? NAN : INFINITY;
		mf_json_double(j, d);
		break;
	case 4:
		mf_json_bool(j, (int)(byte(in) & 1));
		break;
	case 5:
		mf_json_null(j);
		break;
	case 6:
		mf_json_string(j, NULL);
		break;
	case 7:
		mf_json_object_begin(j);
		if (*depth < 64) stack[*depth] = 1;
		(*depth)++;
		if (*depth > MF_JSON_DEPTH - 1)
			*deep = 1;
		break;
	default:
		mf_json_array_begin(j);
		if (*depth < 64) stack[*depth] = 0;
		(*depth)++;
		if (*depth > MF_JSON_DEPTH - 1)
			*deep = 1;
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_buf out = MF_BUF_INIT(1 << 20);
	struct in in = { data, size };
	struct mf_json j;
	int stack[64], depth = 0, deep = 0, steps = 0;
	const char *s;
	size_t n;

	mf_json_init(&j, &out);
	mf_json_object_begin(&j);
	stack[depth++] = 1;
	while (in.n > 0 && depth > 0 && depth < 64 && steps++ < 2000) {
		unsigned op = byte(&in);

		if (op >= 0xf0) {
			if (stack[depth - 1])
				mf_json_object_end(&j);
			else
				mf_json_array_end(&j);
			depth--;
			continue;
		}
		if (stack[depth - 1]) {
			char *z;

			n = chunk(&in, &s);
			if (op & 0x80) {
				z = fz_cstr((const uint8_t *)s, n);
				mf_json_kv_string(&j, z, (op & 1) ? z : NULL);
				free(z);
				continue;
			}
			z = fz_cstr((const uint8_t *)s, n);
			mf_json_key(&j, z);
			free(z);
		}
		emit_value(&j, &in, op, stack, &depth, &deep);
	}
	while (depth > 0) {
		if (depth <= 64 && stack[depth - 1])
			mf_json_object_end(&j);
		else
			mf_json_array_end(&j);
		depth--;
	}
	if (mf_json_status(&j) == 0) {
		(void)deep;   /* past MF_JSON_DEPTH the writer must fail */
		if (!valid_json(out.data, out.len)) {
			fprintf(stderr, "invalid JSON: %.*s\n", (int)out.len,
			    out.data);
			FUZZ_CHECK(0);
		}
	}
	mf_buf_free(&out);
	return 0;
}
