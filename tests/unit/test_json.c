/* Unit tests: JSON writer (validity, escaping, nesting). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

Test(json, nested_document)
{
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_json j;

	mf_json_init(&j, &b);
	mf_json_object_begin(&j);
	mf_json_kv_string(&j, "host", "mail.example.test");
	mf_json_kv_int(&j, "port", 587);
	mf_json_key(&j, "caps");
	mf_json_array_begin(&j);
	mf_json_string(&j, "STARTTLS");
	mf_json_string(&j, "PIPELINING");
	mf_json_array_end(&j);
	mf_json_key(&j, "tls");
	mf_json_object_begin(&j);
	mf_json_kv_bool(&j, "verified", 1);
	mf_json_key(&j, "alert");
	mf_json_null(&j);
	mf_json_object_end(&j);
	mf_json_kv_double(&j, "ms", 1.5);
	mf_json_object_end(&j);
	cr_assert_eq(mf_json_status(&j), 0);
	cr_assert_str_eq(b.data, "{\"host\":\"mail.example.test\",\"port\":587,"
	    "\"caps\":[\"STARTTLS\",\"PIPELINING\"],\"tls\":{\"verified\":true,"
	    "\"alert\":null},\"ms\":1.500}");
	mf_buf_free(&b);
}

Test(json, escapes_quotes_controls_and_bad_utf8)
{
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_json j;

	mf_json_init(&j, &b);
	mf_json_string(&j, "a\"b\\c\r\n\x01 \xd9\x85 \xff");
	cr_assert_str_eq(b.data, "\"a\\\"b\\\\c\\u000d\\u000a\\u0001 \xd9\x85 \\ufffd\"");
	mf_buf_free(&b);
}

Test(json, truncated_utf8_sequence_replaced)
{
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_json j;

	mf_json_init(&j, &b);
	mf_json_string_n(&j, "\xe2\x82", 2);
	cr_assert_str_eq(b.data, "\"\\ufffd\\ufffd\"");
	mf_buf_free(&b);
}

Test(json, limit_reported)
{
	struct mf_buf b = MF_BUF_INIT(8);
	struct mf_json j;

	mf_json_init(&j, &b);
	mf_json_string(&j, "longer than eight bytes");
	cr_assert_eq(mf_json_status(&j), -1);
	mf_buf_free(&b);
}

/* Found by tests/fuzz/fuzz_json.c: a huge double was cut to 63
 * characters ("-5734...504."), a wrong number and invalid JSON. */
Test(json, huge_double_not_truncated)
{
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_json j;
	char want[400];

	mf_json_init(&j, &b);
	mf_json_array_begin(&j);
	mf_json_double(&j, -5.7345632164867683e59);
	mf_json_double(&j, 1.7976931348623157e308);
	mf_json_array_end(&j);
	cr_assert_eq(mf_json_status(&j), 0);
	snprintf(want, sizeof(want), "[%.3f,%.3f]", -5.7345632164867683e59,
	    1.7976931348623157e308);
	cr_assert_str_eq(b.data, want);
	cr_assert_eq(b.data[b.len - 2], '0');   /* "...000]", not "...504.]" */
	mf_buf_free(&b);
}
