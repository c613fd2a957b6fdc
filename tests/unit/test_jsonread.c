/* Unit tests: the JSON reader (RFC 8259): values, escapes and surrogate
 * pairs (§7), numbers (§6), and the inputs it must refuse. */
#include <criterion/criterion.h>
#include <string.h>

#include "jsonread.h"

static struct mf_jv *
ok(const char *text)
{
	struct mf_jv *v = NULL;
	struct mf_err e;

	mf_err_clear(&e);
	cr_assert_eq(mf_jv_parse(text, strlen(text), &v, &e), 0, "%s: %s",
	    text, e.msg);
	return v;
}

Test(jsonread, object_of_everything)
{
	struct mf_jv *v = ok(" {\"to\": [\"a@b\", \"c@d\"], \"n\": -1.5e2, "
	    "\"t\": true, \"f\": false, \"z\": null, \"o\": {}, \"a\": []}\n");
	const struct mf_jv *to = mf_jv_get(v, "to");

	cr_assert_eq(v->type, MF_JV_OBJECT);
	cr_assert_eq(v->n, 7);
	cr_assert_eq(to->type, MF_JV_ARRAY);
	cr_assert_eq(to->n, 2);
	cr_assert_str_eq(to->v[1].s, "c@d");
	cr_assert_eq(mf_jv_get(v, "n")->num, -150.0);
	cr_assert_eq(mf_jv_get(v, "t")->b, 1);
	cr_assert_eq(mf_jv_get(v, "f")->type, MF_JV_BOOL);
	cr_assert_eq(mf_jv_get(v, "f")->b, 0);
	cr_assert_eq(mf_jv_get(v, "z")->type, MF_JV_NULL);
	cr_assert_eq(mf_jv_get(v, "o")->type, MF_JV_OBJECT);
	cr_assert_eq(mf_jv_get(v, "a")->n, 0);
	cr_assert_null(mf_jv_get(v, "missing"));
	cr_assert_null(mf_jv_get(to, "to"));
	mf_jv_free(v);
}

Test(jsonread, escapes)
{
	struct mf_jv *v = ok("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t "
	    "\\u00e9 \\u20AC \\ud83d\\ude00 ü\"");

	cr_assert_str_eq(v->s, "q\" b\\ s/ \b\f\n\r\t \xc3\xa9 \xe2\x82\xac "
	    "\xf0\x9f\x98\x80 \xc3\xbc");
	cr_assert_eq(v->slen, strlen(v->s));
	mf_jv_free(v);
	v = ok("\"\"");
	cr_assert_str_eq(v->s, "");
	mf_jv_free(v);
}

Test(jsonread, refused)
{
	static const char *const bad[] = {
		"", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}",
		"'x'", "\"unterminated", "\"tab\there\"", "\"\\x\"",
		"\"\\u12\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"",
		"\"\\u0000\"", "01", "1.", ".5", "-", "1e", "+1", "0x10",
		"NaN", "Infinity", "1e999", "tru", "nul", "[1] 2",
		"{\"a\":1,\"a\":2}", "\"\xff\"", "\"\xc3\"",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	};
	struct mf_jv *v;
	struct mf_err e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = (struct mf_jv *)1;
		mf_err_clear(&e);
		cr_expect_eq(mf_jv_parse(bad[i], strlen(bad[i]), &v, &e), -1,
		    "accepted: %s", bad[i]);
		cr_expect_null(v, "%s", bad[i]);
		cr_expect_eq(e.kind, MF_E_DATA, "%s", bad[i]);
		cr_expect(strncmp(e.msg, "offset ", 7) == 0, "%s: %s", bad[i],
		    e.msg);
	}
}

/* What the JSON writer prints for a huge double (%f: up to 309 digits) must
 * read back (found by tests/fuzz/fuzz_jsonread.c). */
Test(jsonread, long_numbers)
{
	char text[400];
	struct mf_jv *v;

	memset(text, '9', 308);
	memcpy(text + 308, ".000", 5);
	v = ok(text);
	cr_assert_eq(v->type, MF_JV_NUMBER);
	cr_assert_gt(v->num, 1e307);
	mf_jv_free(v);
}

Test(jsonread, embedded_nul_in_input_is_not_json)
{
	struct mf_jv *v;
	struct mf_err e;

	cr_assert_eq(mf_jv_parse("\"a\0b\"", 5, &v, &e), -1);
	cr_assert_eq(mf_jv_parse("1\0", 2, &v, &e), -1);
}

Test(jsonread, nesting_at_the_limit)
{
	char text[2 * MF_JV_DEPTH_MAX + 3];
	struct mf_jv *v;
	size_t i;

	for (i = 0; i < MF_JV_DEPTH_MAX; i++) {
		text[i] = '[';
		text[2 * MF_JV_DEPTH_MAX - 1 - i] = ']';
	}
	text[2 * MF_JV_DEPTH_MAX] = '\0';
	v = ok(text);
	mf_jv_free(v);
}
