/* json.c - streaming JSON writer. */
#include "json.h"
#include "esc.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void
mf_json_init(struct mf_json *j, struct mf_buf *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->first[0] = 1;
}

static void
put(struct mf_json *j, const char *s, size_t n)
{
	if (!j->failed && mf_buf_append(j->out, s, n, NULL) == -1)
		j->failed = 1;
}

static void
puts_(struct mf_json *j, const char *s)
{
	put(j, s, strlen(s));
}

/* Comma before every element but the first of its container. */
static void
sep(struct mf_json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = 0;
}

static void
open_(struct mf_json *j, const char *c)
{
	sep(j);
	puts_(j, c);
	if (j->depth + 1 >= MF_JSON_DEPTH) {
		j->failed = 1;
		return;
	}
	j->first[++j->depth] = 1;
}

static void
close_(struct mf_json *j, const char *c)
{
	if (j->depth > 0)
		j->depth--;
	puts_(j, c);
}

void mf_json_object_begin(struct mf_json *j) { open_(j, "{"); }
void mf_json_object_end(struct mf_json *j) { close_(j, "}"); }
void mf_json_array_begin(struct mf_json *j) { open_(j, "["); }
void mf_json_array_end(struct mf_json *j) { close_(j, "]"); }

static void
escaped(struct mf_json *j, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;
	unsigned long cp;
	char tmp[8];

	put(j, "\"", 1);
	while (i < n) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			tmp[0] = '\\'; tmp[1] = (char)c;
			put(j, tmp, 2);
			i++;
		} else if (c < 0x20) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", c);
			puts_(j, tmp);
			i++;
		} else if ((l = mf_esc_utf8(p + i, n - i, &cp)) == 0) {
			puts_(j, "\\ufffd");
			i++;
		} else {
			put(j, s + i, l);
			i += l;
		}
	}
	put(j, "\"", 1);
}

void
mf_json_key(struct mf_json *j, const char *key)
{
	sep(j);
	escaped(j, key, strlen(key));
	put(j, ":", 1);
	j->after_key = 1;
}

void
mf_json_string_n(struct mf_json *j, const char *s, size_t n)
{
	sep(j);
	escaped(j, s, n);
}

void
mf_json_string(struct mf_json *j, const char *s)
{
	if (s == NULL)
		mf_json_null(j);
	else
		mf_json_string_n(j, s, strlen(s));
}

void
mf_json_int(struct mf_json *j, long long v)
{
	char tmp[32];

	sep(j);
	snprintf(tmp, sizeof(tmp), "%lld", v);
	puts_(j, tmp);
}

void
mf_json_double(struct mf_json *j, double v)
{
	/* %.3f of DBL_MAX has 309 integer digits: a short buffer would cut
	 * the number (wrong value, and "123." is not JSON, RFC 8259 §6). */
	char tmp[DBL_MAX_10_EXP + 16];
	int n;

	sep(j);
	if (!isfinite(v)) {
		puts_(j, "null");
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%.3f", v);
	puts_(j, n > 0 && (size_t)n < sizeof(tmp) ? tmp : "null");
}

void
mf_json_bool(struct mf_json *j, int v)
{
	sep(j);
	puts_(j, v ? "true" : "false");
}

void
mf_json_null(struct mf_json *j)
{
	sep(j);
	puts_(j, "null");
}

void
mf_json_kv_string(struct mf_json *j, const char *key, const char *s)
{
	mf_json_key(j, key);
	mf_json_string(j, s);
}

void
mf_json_kv_error(struct mf_json *j, const char *kind, const char *message)
{
	mf_json_key(j, "error");
	mf_json_object_begin(j);
	mf_json_kv_string(j, "kind", kind);
	mf_json_kv_string(j, "message", message);
	mf_json_object_end(j);
}

void
mf_json_kv_int(struct mf_json *j, const char *key, long long v)
{
	mf_json_key(j, key);
	mf_json_int(j, v);
}

void
mf_json_kv_double(struct mf_json *j, const char *key, double v)
{
	mf_json_key(j, key);
	mf_json_double(j, v);
}

void
mf_json_kv_bool(struct mf_json *j, const char *key, int v)
{
	mf_json_key(j, key);
	mf_json_bool(j, v);
}

int
mf_json_status(const struct mf_json *j)
{
	return j->failed ? -1 : 0;
}
