/* jsonread.h - a small JSON reader (RFC 8259) for input the tools take
 * as JSON (mailsend --jsonl).
 *
 * mf_jv_parse() turns one JSON text into a tree of values it owns; the
 * caller walks it with mf_jv_get() and frees it with mf_jv_free().
 * Limits: nesting MF_JV_DEPTH_MAX, the caller's length; strings must be
 * valid UTF-8 and may not contain U+0000 (they are C strings); surrogate
 * pairs are joined, lone surrogates refused; duplicate object keys are
 * refused (RFC 8259 §4 leaves them undefined: we take no guess).  Errors
 * name the byte offset.  Pure: no I/O.
 *
 * Must not: accept more nesting than MF_JV_DEPTH_MAX, print or exit. */
#ifndef MF_JSONREAD_H
#define MF_JSONREAD_H

#include <stddef.h>

#include "err.h"

#define MF_JV_DEPTH_MAX 32

enum mf_jv_type {
	MF_JV_NULL = 0, MF_JV_BOOL, MF_JV_NUMBER, MF_JV_STRING, MF_JV_ARRAY,
	MF_JV_OBJECT
};

struct mf_jv {
	enum mf_jv_type type;
	int b;                   /* MF_JV_BOOL */
	double num;              /* MF_JV_NUMBER */
	char *s;                 /* MF_JV_STRING, UTF-8, NUL-terminated */
	size_t slen;
	size_t n;                /* MF_JV_ARRAY / MF_JV_OBJECT: members */
	struct mf_jv *v;         /* n values */
	char **keys;             /* MF_JV_OBJECT: n keys */
};

/* Parse text[0..len) (one value, white space around it allowed) into a
 * new tree *out.  -1 with MF_E_DATA ("offset N: ...") when it is not
 * JSON, MF_E_NOMEM. */
int mf_jv_parse(const char *text, size_t len, struct mf_jv **out,
                struct mf_err *e);

/* Free a tree from mf_jv_parse(); NULL is fine. */
void mf_jv_free(struct mf_jv *v);

/* The member `key` of an object, or NULL (also when v is no object). */
const struct mf_jv *mf_jv_get(const struct mf_jv *v, const char *key);

/* "null", "boolean", "number", "string", "array", "object". */
const char *mf_jv_type_name(enum mf_jv_type t);

#endif
