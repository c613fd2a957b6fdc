/* json.h - a small streaming JSON writer for the tools' --json output.
 *
 * Values are appended to a struct mf_buf; commas and nesting are tracked
 * here so callers only say what comes next.  Strings are escaped per
 * RFC 8259 §7 (control characters as \u00XX; invalid UTF-8 bytes become
 * U+FFFD so the output is always valid JSON).
 *
 * Must not: emit invalid JSON for any input bytes, print or exit. */
#ifndef MF_JSON_H
#define MF_JSON_H

#include <stddef.h>

#include "buf.h"

#define MF_JSON_DEPTH 32

struct mf_json {
	struct mf_buf *out;
	int depth;
	int first[MF_JSON_DEPTH];   /* no element written yet at this level */
	int after_key;              /* a key was written, its value comes next */
	int failed;                 /* a limit was hit; output is incomplete */
};

/* Start writing into out (not owned; appended to). */
void mf_json_init(struct mf_json *j, struct mf_buf *out);

void mf_json_object_begin(struct mf_json *j);
void mf_json_object_end(struct mf_json *j);
void mf_json_array_begin(struct mf_json *j);
void mf_json_array_end(struct mf_json *j);
/* Inside an object: the key of the next value. */
void mf_json_key(struct mf_json *j, const char *key);

void mf_json_string(struct mf_json *j, const char *s);   /* NULL -> null */
void mf_json_string_n(struct mf_json *j, const char *s, size_t n);
void mf_json_int(struct mf_json *j, long long v);
void mf_json_double(struct mf_json *j, double v);        /* %.3f style */
void mf_json_bool(struct mf_json *j, int v);
void mf_json_null(struct mf_json *j);

/* Shorthands for "key": value inside an object. */
void mf_json_kv_string(struct mf_json *j, const char *key, const char *s);
void mf_json_kv_int(struct mf_json *j, const char *key, long long v);
void mf_json_kv_double(struct mf_json *j, const char *key, double v);
void mf_json_kv_bool(struct mf_json *j, const char *key, int v);
/* The one error object of every tool's --json (mailflow(7)):
 * "error": {"kind": kind (mf_err_kind_name()), "message": message}. */
void mf_json_kv_error(struct mf_json *j, const char *kind,
                      const char *message);

/* 0 when everything was written, -1 if a buffer limit or nesting limit
 * was hit (the output is then incomplete). */
int mf_json_status(const struct mf_json *j);

#endif
