/* Unit tests: line reader and writer over a scripted transport. */
#include <criterion/criterion.h>
#include <string.h>

#include "lineio.h"
#include "memtransport.h"

static struct memt mt;

static struct mf_lineio *
reader(const char *const *chunks, size_t n)
{
	struct mf_err e;
	struct mf_lineio *l = mf_lineio_new(memt_transport(&mt, chunks, n), NULL, &e);

	cr_assert_not_null(l);
	return l;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

Test(lineio, crlf_lines_split_anywhere)
{
	/* The same two lines cut at every possible point of the stream. */
	const char *all = "220 hello\r\n250 ok\r\n";
	size_t cut;

	for (cut = 1; cut < strlen(all); cut++) {
		char a[64], b[64];
		const char *chunks[2] = { a, b };
		const char *line;
		size_t len;
		struct mf_err e;
		struct mf_lineio *l;

		memcpy(a, all, cut); a[cut] = '\0';
		memcpy(b, all + cut, strlen(all + cut) + 1);
		l = reader(chunks, 2);
		cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), 0, "cut %zu", cut);
		cr_assert_str_eq(line, "220 hello");
		cr_assert_eq(len, 9);
		cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), 0);
		cr_assert_str_eq(line, "250 ok");
		cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), -1);
		cr_assert_eq(e.kind, MF_E_CLOSED);
		mf_lineio_free(l);
	}
}

Test(lineio, bare_lf_tolerated_and_noted)
{
	const char *chunks[] = { "+OK a\n+OK b\r\n" };
	struct mf_lineio *l = reader(chunks, N(chunks));
	const char *line;
	size_t len;
	struct mf_err e;

	cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), 0);
	cr_assert_str_eq(line, "+OK a");
	cr_assert(mf_lineio_last_bare_lf(l));
	cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), 0);
	cr_assert_str_eq(line, "+OK b");
	cr_assert_not(mf_lineio_last_bare_lf(l));
	mf_lineio_free(l);
}

Test(lineio, overlong_line_is_an_error)
{
	static char big[5000];
	const char *chunks[] = { big };
	struct mf_lineio *l;
	const char *line;
	size_t len;
	struct mf_err e;

	memset(big, 'x', sizeof(big) - 3);
	big[sizeof(big) - 3] = '\r';
	big[sizeof(big) - 2] = '\n';
	l = reader(chunks, N(chunks));
	mf_lineio_set_max_line(l, 1000);
	cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), -1);
	cr_assert_eq(e.kind, MF_E_LIMIT);
	mf_lineio_free(l);
}

Test(lineio, line_exactly_at_limit_passes)
{
	static char big[1003];
	const char *chunks[] = { big };
	struct mf_lineio *l;
	const char *line;
	size_t len;
	struct mf_err e;

	memset(big, 'y', 1000);
	memcpy(big + 1000, "\r\n", 3);
	l = reader(chunks, N(chunks));
	mf_lineio_set_max_line(l, 1000);
	cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), 0);
	cr_assert_eq(len, 1000);
	mf_lineio_free(l);
}

Test(lineio, eof_mid_line)
{
	const char *chunks[] = { "250 partial" };
	struct mf_lineio *l = reader(chunks, N(chunks));
	const char *line;
	size_t len;
	struct mf_err e;

	cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), -1);
	cr_assert_eq(e.kind, MF_E_CLOSED);
	cr_assert(strstr(e.msg, "middle of a line") != NULL, "%s", e.msg);
	mf_lineio_free(l);
}

Test(lineio, timeout_is_reported)
{
	const char *chunks[] = { "220 hi\r\n" };
	struct mf_lineio *l = reader(chunks, N(chunks));
	const char *line;
	size_t len;
	struct mf_err e;

	mt.stall = 1;
	cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), 0);
	cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), -1);
	cr_assert_eq(e.kind, MF_E_TIMEOUT);
	mf_lineio_free(l);
}

Test(lineio, literal_reads_after_line)
{
	const char *chunks[] = { "* 1 FETCH (BODY[] {5}\r\nab", "cde)\r\n" };
	struct mf_lineio *l = reader(chunks, N(chunks));
	const char *line;
	size_t len;
	char lit[6] = "";
	struct mf_err e;

	cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), 0);
	cr_assert_str_eq(line, "* 1 FETCH (BODY[] {5}");
	cr_assert_eq(mf_lineio_read_exact(l, lit, 5, &e), 0);
	cr_assert_str_eq(lit, "abcde");
	cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), 0);
	cr_assert_str_eq(line, ")");
	cr_assert_eq(mf_lineio_read_exact(l, lit, 1, &e), -1);
	cr_assert_eq(e.kind, MF_E_CLOSED);
	mf_lineio_free(l);
}

Test(lineio, sends_are_coalesced_until_flush)
{
	const char *chunks[] = { "" };
	struct mf_lineio *l = reader(chunks, 0);
	struct mf_err e;

	cr_assert_eq(mf_lineio_send(l, &e, "MAIL FROM:<%s>", "a@b"), 0);
	cr_assert_eq(mf_lineio_send(l, &e, "RCPT TO:<c@d>"), 0);
	cr_assert_eq(mt.written.len, 0, "nothing may be written before flush");
	cr_assert_eq(mf_lineio_flush(l, &e), 0);
	cr_assert_str_eq(mt.written.data, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
	cr_assert_eq(mf_lineio_bytes_out(l), 32);
	mf_lineio_free(l);
	(void)chunks;
}

Test(lineio, refuses_line_breaks_in_commands)
{
	const char *chunks[] = { "" };
	struct mf_lineio *l = reader(chunks, 0);
	struct mf_err e;

	cr_assert_eq(mf_lineio_send(l, &e, "RCPT TO:<%s>", "x>\r\nDATA"), -1);
	cr_assert_eq(e.kind, MF_E_INTERNAL);
	cr_assert_eq(mf_lineio_flush(l, &e), 0);
	cr_assert_eq(mt.written.len, 0, "the refused command must not be queued");
	mf_lineio_free(l);
	(void)chunks;
}

Test(lineio, starttls_refuses_pipelined_plaintext)
{
	/* Bytes after the go-ahead, before TLS: CVE-2011-0411 style injection. */
	const char *chunks[] = { "220 go ahead\r\n250 injected\r\n" };
	struct mf_lineio *l = reader(chunks, N(chunks));
	struct mf_tls_params p = { 0 };
	const char *line;
	size_t len;
	struct mf_err e;

	cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), 0);
	cr_assert_eq(mf_lineio_starttls(l, &p, NULL, &e), -1);
	cr_assert_eq(e.kind, MF_E_PROTO);
	mf_lineio_free(l);
}
