/* Unit tests: the admin's log lines (maillog). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "maillog.h"

Test(maillog, facilities)
{
	static const struct {
		const char *in;
		int rc, fac;
	} t[] = {
		{ "on", 0, LOG_MAIL }, { "off", 0, -1 }, { "OFF", 0, -1 },
		{ "LOG_USER", 0, LOG_USER }, { "LOG_MAIL", 0, LOG_MAIL },
		{ "log_local0", 0, LOG_LOCAL0 }, { "LOG_LOCAL7", 0, LOG_LOCAL7 },
		{ "local3", 0, LOG_LOCAL3 }, { "LOG_LOCAL8", -1, 0 },
		{ "LOG_ON", -1, 0 }, { "yes", -1, 0 }, { "", -1, 0 },
		{ "LOG_KERN", -1, 0 },
	};
	size_t i;
	int f;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		f = 12345;
		cr_expect_eq(mf_maillog_facility(t[i].in, &f), t[i].rc, "%s",
		    t[i].in);
		if (t[i].rc == 0)
			cr_expect_eq(f, t[i].fac, "%s", t[i].in);
	}
}

Test(maillog, fields_quoted_and_control_characters_neutralised)
{
	struct mf_maillog_line l;
	const char *rc[] = { "a@example.org", "b@example.org" };

	mf_maillog_line_init(&l);
	mf_maillog_add(&l, "host", "smtp.example.org");
	mf_maillog_add(&l, "user", NULL);
	mf_maillog_add_list(&l, "recipients", rc, 2);
	mf_maillog_add(&l, "smtpmsg", "250 2.0.0 Ok: it's queued");
	mf_maillog_add(&l, "errormsg", "bad\r\nforged line");
	mf_maillog_add(&l, "empty", "");
	cr_assert_str_eq(l.text, " host=smtp.example.org"
	    " recipients=a@example.org,b@example.org"
	    " smtpmsg='250 2.0.0 Ok: it''s queued'"
	    " errormsg='bad??forged line' empty=''");
	cr_expect_eq(l.len, strlen(l.text));
}

Test(maillog, overlong_fields_dropped_whole)
{
	struct mf_maillog_line l;
	char big[3000];
	int i;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mf_maillog_line_init(&l);
	mf_maillog_add(&l, "a", big);
	mf_maillog_add(&l, "b", big);
	mf_maillog_add(&l, "c", "after");
	cr_assert(l.truncated);
	cr_expect(strstr(l.text, " b=") == NULL);
	cr_expect(strstr(l.text, " c=") == NULL);
	cr_expect(strstr(l.text, " truncated=yes") != NULL);
	cr_expect(l.len < sizeof(l.text));
	for (i = 0; i < 10; i++)
		mf_maillog_add(&l, "more", big);
	cr_expect_eq(l.len, strlen(l.text));
}

Test(maillog, exit_names)
{
	char b[16];

	cr_expect_str_eq(mf_maillog_exit_name(0, b, sizeof(b)), "EX_OK");
	cr_expect_str_eq(mf_maillog_exit_name(75, b, sizeof(b)), "EX_TEMPFAIL");
	cr_expect_str_eq(mf_maillog_exit_name(67, b, sizeof(b)), "EX_NOUSER");
	cr_expect_str_eq(mf_maillog_exit_name(3, b, sizeof(b)), "EX_3");
}

Test(maillog, open_needs_a_sink_and_a_good_facility)
{
	struct mf_err e;

	cr_expect_null(mf_maillog_open("mailsend", NULL, NULL, &e));
	cr_expect_eq(e.kind, MF_OK);
	cr_expect_null(mf_maillog_open("mailsend", NULL, "off", &e));
	cr_expect_eq(e.kind, MF_OK);
	cr_expect_null(mf_maillog_open("mailsend", NULL, "LOG_KERN", &e));
	cr_expect_eq(e.kind, MF_E_CONFIG);
	cr_expect(strstr(e.msg, "LOG_KERN") != NULL);
}

Test(maillog, file_gets_one_line_per_write)
{
	char dir[] = "/tmp/test_maillog.XXXXXX", path[256], buf[1024];
	struct mf_maillog_line l;
	struct mf_maillog *lg;
	struct mf_err e;
	struct stat st;
	FILE *f;
	int n = 0;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	lg = mf_maillog_open("mailsend", path, NULL, &e);
	cr_assert_not_null(lg);
	mf_maillog_line_init(&l);
	mf_maillog_add(&l, "host", "h");
	mf_maillog_add(&l, "exitcode", "EX_OK");
	cr_assert_eq(mf_maillog_write(lg, &l, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(mf_maillog_write(lg, &l, 1, &e), 0, "%s", e.msg);
	mf_maillog_close(lg);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(buf, sizeof(buf), f) != NULL) {
		/* "Dec 06 14:36:09 mailsend host=h exitcode=EX_OK" */
		cr_expect_eq(strlen(buf), 16 + strlen("mailsend host=h "
		    "exitcode=EX_OK\n"), "%s", buf);
		cr_expect_str_eq(buf + 16, "mailsend host=h exitcode=EX_OK\n");
		n++;
	}
	fclose(f);
	cr_expect_eq(n, 2);
	unlink(path);
	rmdir(dir);
}

Test(maillog, unwritable_file_is_an_io_error_naming_it)
{
	struct mf_maillog_line l;
	struct mf_maillog *lg;
	struct mf_err e;

	lg = mf_maillog_open("pop-fetch", "/nonexistent-dir/x/log", NULL, &e);
	cr_assert_not_null(lg);
	mf_maillog_line_init(&l);
	mf_maillog_add(&l, "k", "v");
	cr_expect_eq(mf_maillog_write(lg, &l, 0, &e), -1);
	cr_expect_eq(e.kind, MF_E_IO);
	cr_expect(strstr(e.msg, "/nonexistent-dir/x/log") != NULL);
	mf_maillog_close(lg);
}
