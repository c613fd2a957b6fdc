/* fuzz_jsonread.c - the JSON reader of mailsend --jsonl on arbitrary
 * bytes: it never crashes; what it accepts has only valid UTF-8 strings
 * without NUL, and written back with the JSON writer (json.h) it reads
 * again as the same tree (numbers compared by type only: the writer
 * rounds them). */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "json.h"
#include "jsonread.h"
#include "mime.h"

static void
write_value(struct mf_json *w, const struct mf_jv *v)
{
	size_t i;

	switch (v->type) {
	case MF_JV_NULL: mf_json_null(w); break;
	case MF_JV_BOOL: mf_json_bool(w, v->b); break;
	case MF_JV_NUMBER: mf_json_double(w, v->num); break;
	case MF_JV_STRING: mf_json_string_n(w, v->s, v->slen); break;
	case MF_JV_ARRAY:
		mf_json_array_begin(w);
		for (i = 0; i < v->n; i++)
			write_value(w, &v->v[i]);
		mf_json_array_end(w);
		break;
	case MF_JV_OBJECT:
		mf_json_object_begin(w);
		for (i = 0; i < v->n; i++) {
			mf_json_key(w, v->keys[i]);
			write_value(w, &v->v[i]);
		}
		mf_json_object_end(w);
		break;
	}
}

static void
same(const struct mf_jv *a, const struct mf_jv *b)
{
	size_t i;

	FUZZ_CHECK(a->type == b->type);
	FUZZ_CHECK(a->n == b->n);
	if (a->type == MF_JV_BOOL)
		FUZZ_CHECK(a->b == b->b);
	if (a->type == MF_JV_STRING) {
		FUZZ_CHECK(a->slen == b->slen);
		FUZZ_CHECK(memcmp(a->s, b->s, a->slen) == 0);
		FUZZ_CHECK(strlen(a->s) == a->slen);
		FUZZ_CHECK(mf_mime_utf8_valid(a->s, a->slen));
	}
	for (i = 0; i < a->n; i++) {
		if (a->type == MF_JV_OBJECT)
			FUZZ_CHECK(strcmp(a->keys[i], b->keys[i]) == 0);
		same(&a->v[i], &b->v[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_buf out = MF_BUF_INIT(1 << 24);
	struct mf_jv *v, *again;
	struct mf_json w;
	struct mf_err e;

	if (mf_jv_parse((const char *)data, size, &v, &e) == -1) {
		FUZZ_CHECK(v == NULL && e.kind != MF_OK);
		return 0;
	}
	mf_json_init(&w, &out);
	write_value(&w, v);
	if (mf_json_status(&w) == 0) {
		FUZZ_CHECK(mf_jv_parse(out.data, out.len, &again, &e) == 0);
		same(v, again);
		mf_jv_free(again);
	}
	mf_jv_free(v);
	mf_buf_free(&out);
	return 0;
}
