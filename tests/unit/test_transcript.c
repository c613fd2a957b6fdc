/* Unit tests: transcript markers, redaction and escaping. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lineio.h"
#include "memtransport.h"
#include "transcript.h"

static char lines[16][512];
static int nlines;

static void
collect(void *arg, enum mf_tx_dir dir, int tls, const char *line)
{
	(void)arg;
	snprintf(lines[nlines++ % 16], 512, "%s %s",
	    mf_transcript_marker(dir, tls), line);
}

Test(transcript, markers)
{
	cr_assert_str_eq(mf_transcript_marker(MF_TX_SEND, 0), "->");
	cr_assert_str_eq(mf_transcript_marker(MF_TX_RECV, 0), "<-");
	cr_assert_str_eq(mf_transcript_marker(MF_TX_SEND, 1), "~>");
	cr_assert_str_eq(mf_transcript_marker(MF_TX_RECV, 1), "<~");
	cr_assert_str_eq(mf_transcript_marker(MF_TX_INFO, 0), "===");
}

Test(transcript, secrets_redacted_by_default)
{
	struct mf_transcript *tr = mf_transcript_new_cb(collect, NULL, 0);
	const char *l = "AUTH PLAIN AGFsaWNlAHNlY3JldA==";

	nlines = 0;
	mf_transcript_line(tr, MF_TX_SEND, 1, l, strlen(l), 11);
	cr_assert_str_eq(lines[0], "~> AUTH PLAIN ********");
	cr_assert_null(strstr(lines[0], "AGFsaWNl"));
	mf_transcript_free(tr);
}

Test(transcript, secrets_shown_when_asked)
{
	struct mf_transcript *tr = mf_transcript_new_cb(collect, NULL,
	    MF_TX_SHOW_SECRETS);
	const char *l = "AUTH PLAIN AGFsaWNlAHNlY3JldA==";

	nlines = 0;
	mf_transcript_line(tr, MF_TX_SEND, 0, l, strlen(l), 11);
	cr_assert_str_eq(lines[0], "-> AUTH PLAIN AGFsaWNlAHNlY3JldA==");
	mf_transcript_free(tr);
}

Test(transcript, control_characters_escaped)
{
	struct mf_transcript *tr = mf_transcript_new_cb(collect, NULL, 0);
	const char l[] = "220 \x1b[31mred\r";

	nlines = 0;
	mf_transcript_line(tr, MF_TX_RECV, 0, l, sizeof(l) - 1, MF_TX_NO_SECRET);
	cr_assert_str_eq(lines[0], "<- 220 \\x1b[31mred\\r");
	mf_transcript_free(tr);
}

Test(transcript, lineio_records_both_directions_and_secret_lines)
{
	struct mf_transcript *tr = mf_transcript_new_cb(collect, NULL, 0);
	const char *chunks[] = { "334 \r\n" };
	struct memt mt;
	struct mf_err e;
	struct mf_lineio *l = mf_lineio_new(memt_transport(&mt, chunks, 1), tr, &e);
	const char *line;
	size_t len;

	nlines = 0;
	cr_assert_eq(mf_lineio_send_secret(l, 0, &e, "%s", "cGFzc3dvcmQ="), 0);
	cr_assert_eq(mf_lineio_flush(l, &e), 0);
	cr_assert_eq(mf_lineio_read_line(l, &line, &len, &e), 0);
	cr_assert_str_eq(lines[0], "-> ********");
	cr_assert_str_eq(lines[1], "<- 334 ");
	cr_assert_str_eq(mt.written.data, "cGFzc3dvcmQ=\r\n",
	    "the secret itself must still be sent");
	mf_lineio_free(l);
	mf_transcript_free(tr);
}

Test(transcript, prints_to_file)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	struct mf_transcript *tr = mf_transcript_new(f, 0);

	mf_transcript_line(tr, MF_TX_SEND, 0, "EHLO x", 6, MF_TX_NO_SECRET);
	mf_transcript_info(tr, "TLS started: %s", "TLS1.3");
	fclose(f);
	cr_assert_str_eq(out, "-> EHLO x\n=== TLS started: TLS1.3\n");
	free(out);
	mf_transcript_free(tr);
}
