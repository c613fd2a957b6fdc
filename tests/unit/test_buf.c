/* Unit tests: growable buffer, bounded helpers, errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "err.h"

Test(buf, append_grows_and_terminates)
{
	struct mf_buf b = MF_BUF_INIT(1 << 20);
	struct mf_err e;
	int i;

	for (i = 0; i < 1000; i++)
		cr_assert_eq(mf_buf_puts(&b, "abc", &e), 0);
	cr_assert_eq(b.len, 3000);
	cr_assert_eq(b.data[b.len], '\0');
	cr_assert_eq(strncmp(b.data + 2997, "abc", 3), 0);
	mf_buf_free(&b);
}

Test(buf, hard_limit_refuses_growth)
{
	struct mf_buf b = MF_BUF_INIT(10);
	struct mf_err e;

	cr_assert_eq(mf_buf_append(&b, "0123456789", 10, &e), 0);
	cr_assert_eq(mf_buf_putc(&b, 'x', &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	cr_assert_eq(b.len, 10, "a refused append must not change the buffer");
	cr_assert_str_eq(b.data, "0123456789");
	mf_buf_free(&b);
}

Test(buf, limit_exact_boundary_with_printf)
{
	struct mf_buf b = MF_BUF_INIT(5);
	struct mf_err e;

	cr_assert_eq(mf_buf_printf(&b, &e, "%d", 12345), 0);
	cr_assert_eq(mf_buf_printf(&b, &e, "%d", 6), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	mf_buf_free(&b);
}

Test(buf, huge_append_does_not_overflow)
{
	struct mf_buf b = MF_BUF_INIT(100);
	struct mf_err e;

	cr_assert_eq(mf_buf_append(&b, "x", 1, &e), 0);
	cr_assert_eq(mf_buf_reserve(&b, (size_t)-1, &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	mf_buf_free(&b);
}

Test(buf, reserve_alone_terminates)
{
	struct mf_buf b = MF_BUF_INIT(100);

	cr_assert_eq(mf_buf_reserve(&b, 10, NULL), 0);
	cr_assert_not_null(b.data);
	cr_assert_str_eq(b.data, "", "a reserved empty buffer is an empty string");
	mf_buf_free(&b);
}

Test(buf, consume_and_take)
{
	struct mf_buf b = MF_BUF_INIT(100);
	char *s;

	mf_buf_puts(&b, "hello world", NULL);
	mf_buf_consume(&b, 6);
	cr_assert_str_eq(b.data, "world");
	s = mf_buf_take(&b);
	cr_assert_str_eq(s, "world");
	cr_assert_null(b.data);
	free(s);
	s = mf_buf_take(&b);
	cr_assert_str_eq(s, "");
	free(s);
}

Test(buf, wipe_clears_memory)
{
	struct mf_buf b = MF_BUF_INIT(100);

	mf_buf_puts(&b, "secret", NULL);
	mf_buf_wipe(&b);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
}

Test(buf, strlcpy_truncates)
{
	char d[4];

	cr_assert_eq(mf_strlcpy(d, "abcdef", sizeof(d)), 6);
	cr_assert_str_eq(d, "abc");
}

Test(buf, parse_long_table)
{
	static const struct { const char *s; long min, max; int ok; long v; } t[] = {
		{ "587", 1, 65535, 0, 587 }, { "0", 1, 65535, -1, 0 },
		{ "65536", 1, 65535, -1, 0 }, { "12x", 0, 100, -1, 0 },
		{ "", 0, 100, -1, 0 }, { "-5", -10, 10, 0, -5 },
		{ "99999999999999999999", 0, 10, -1, 0 },
	};
	size_t i;
	long v;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = 0;
		cr_assert_eq(mf_parse_long(t[i].s, t[i].min, t[i].max, &v), t[i].ok,
		    "case %zu (%s)", i, t[i].s);
		if (t[i].ok == 0)
			cr_assert_eq(v, t[i].v);
	}
}

Test(err, exit_codes_follow_sysexits)
{
	static const struct { enum mf_err_kind k; int code; } t[] = {
		{ MF_E_USAGE, EX_USAGE }, { MF_E_DATA, EX_DATAERR },
		{ MF_E_TEMP, EX_TEMPFAIL }, { MF_E_TIMEOUT, EX_TEMPFAIL },
		{ MF_E_PERM, EX_UNAVAILABLE }, { MF_E_AUTH, EX_NOPERM },
		{ MF_E_PROTO, EX_PROTOCOL }, { MF_E_IO, EX_IOERR },
		{ MF_E_CONFIG, EX_CONFIG }, { MF_E_TLS_VERIFY, EX_UNAVAILABLE },
	};
	struct mf_err e;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mf_err_set(&e, t[i].k, "x");
		cr_assert_eq(mf_err_exit_code(&e), t[i].code, "kind %s",
		    mf_err_kind_name(t[i].k));
	}
}

Test(err, messages_and_context)
{
	struct mf_err e;

	cr_assert_eq(mf_err_sys(&e, MF_E_IO, ENOSPC, "writing %s", "f"), -1);
	cr_assert_str_eq(e.msg, "writing f: No space left on device");
	cr_assert_eq(e.sys_errno, ENOSPC);
	mf_err_prefix(&e, "account %s", "work");
	cr_assert_str_eq(e.msg, "account work: writing f: No space left on device");
	mf_err_reply(&e, MF_E_AUTH, 535, "5.7.8", "bad credentials", "AUTH refused");
	cr_assert_eq(e.reply_code, 535);
	cr_assert_str_eq(e.enhanced, "5.7.8");
	cr_assert_str_eq(e.reply, "bad credentials");
}

Test(err, long_messages_are_truncated_not_overflowed)
{
	struct mf_err e;
	char big[3000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mf_err_set(&e, MF_E_DATA, "%s", big);
	cr_assert_eq(strlen(e.msg), MF_ERR_MSG_MAX - 1);
	mf_err_prefix(&e, "ctx");
	cr_assert_eq(strlen(e.msg), MF_ERR_MSG_MAX - 1);
	cr_assert_eq(strncmp(e.msg, "ctx: aaa", 8), 0);
}
