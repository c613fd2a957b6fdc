/* test_mimepart.c - 8-bit content made 7-bit (leaf, multipart, untouched
 * 7-bit input), the outer/entity split, security multiparts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mimepart.h"

static int
all_7bit(const char *s, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] > 127 || s[i] == '\0')
			return 0;
		col = s[i] == '\n' ? 0 : col + 1;
		if (col > 998)
			return 0;
	}
	return 1;
}

Test(mimepart, seven_bit_untouched)
{
	const char *m = "From: a@b\r\nSubject: x\r\n\r\nplain\r\n";
	struct mf_buf o = MF_BUF_INIT(1 << 16);
	struct mf_err e;
	int ch = 1;

	cr_assert_eq(mf_mimepart_7bit(m, strlen(m), &o, &ch, &e), 0);
	cr_expect_eq(ch, 0);
	cr_expect_str_eq(o.data, m);
	mf_buf_free(&o);
}

Test(mimepart, bare_utf8_body_gets_qp_and_type)
{
	const char *m = "From: a@b\r\nSubject: x\r\n\r\nGr\xc3\xbc\xc3\x9f" "e\r\n";
	struct mf_buf o = MF_BUF_INIT(1 << 16);
	struct mf_err e;
	int ch = 0;

	cr_assert_eq(mf_mimepart_7bit(m, strlen(m), &o, &ch, &e), 0);
	cr_expect_eq(ch, 1);
	cr_expect(all_7bit(o.data, o.len));
	cr_expect(strstr(o.data, "MIME-Version: 1.0\r\n") != NULL);
	cr_expect(strstr(o.data, "Content-Type: text/plain; charset=UTF-8\r\n"));
	cr_expect(strstr(o.data, "Content-Transfer-Encoding: quoted-printable"
	    "\r\n\r\nGr=C3=BC=C3=9Fe\r\n") != NULL, "%s", o.data);
	mf_buf_free(&o);
}

Test(mimepart, multipart_parts_each)
{
	const char *m =
	    "From: a@b\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
	    "pre\r\n--XX\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"
	    "\xc3\xa9t\xc3\xa9\r\n"
	    "--XX\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n"
	    "\x01\xff\xfe\r\n"
	    "--XX\r\n"
	    "Content-Type: text/plain\r\n\r\nascii\r\n"
	    "--XX--\r\nepi\r\n";
	struct mf_buf o = MF_BUF_INIT(1 << 16);
	struct mf_err e;
	int ch = 0;

	cr_assert_eq(mf_mimepart_7bit(m, strlen(m), &o, &ch, &e), 0);
	cr_expect_eq(ch, 1);
	cr_expect(all_7bit(o.data, o.len), "%s", o.data);
	cr_expect(strstr(o.data, "charset=utf-8\r\nContent-Transfer-Encoding: "
	    "quoted-printable\r\n\r\n=C3=A9t=C3=A9\r\n--XX\r\n") != NULL, "%s",
	    o.data);
	cr_expect(strstr(o.data, "application/octet-stream\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nAf/+\r\n\r\n--XX\r\n")
	    != NULL, "%s", o.data);
	cr_expect(strstr(o.data, "Content-Type: text/plain\r\n\r\nascii\r\n"
	    "--XX--\r\nepi\r\n") != NULL);
	cr_expect(strncmp(o.data, "From: a@b\r\nMIME-Version: 1.0\r\n", 30) == 0);
	mf_buf_free(&o);
}

Test(mimepart, split_outer_and_entity)
{
	const char *m = "From: a@b\r\nMIME-Version: 1.0\r\nSubject: s\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\nbody\r\n";
	const char *bare = "From: a@b\r\n\r\nbody\r\n";
	struct mf_buf out = MF_BUF_INIT(1 << 16), ent = MF_BUF_INIT(1 << 16);
	struct mf_err e;

	cr_assert_eq(mf_mimepart_split(m, strlen(m), &out, &ent, &e), 0);
	cr_expect_str_eq(out.data, "From: a@b\r\nSubject: s\r\n");
	cr_expect_str_eq(ent.data, "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\nbody\r\n");
	cr_expect_eq(mf_mimepart_signed_len(ent.data, ent.len), ent.len - 2);
	mf_buf_reset(&out);
	mf_buf_reset(&ent);
	cr_assert_eq(mf_mimepart_split(bare, strlen(bare), &out, &ent, &e), 0);
	cr_expect_str_eq(ent.data, "Content-Type: text/plain; "
	    "charset=us-ascii\r\n\r\nbody\r\n");
	mf_buf_free(&out);
	mf_buf_free(&ent);
}

Test(mimepart, signed_layout)
{
	struct mf_buf outer = MF_BUF_INIT(1024), o = MF_BUF_INIT(1 << 16);
	struct mf_err e;
	const char *ent = "Content-Type: text/plain\r\n\r\nhi\r\n", *p;
	char b[64];

	mf_buf_puts(&outer, "From: a@b\r\n", &e);
	cr_assert_eq(mf_mimepart_signed(&outer, ent, strlen(ent) - 2,
	    "protocol=\"application/pgp-signature\"; micalg=pgp-sha256",
	    "Content-Type: application/pgp-signature\r\n", "SIG\r\n", 5, &o,
	    &e), 0);
	p = strstr(o.data, "boundary=\"");
	cr_assert_not_null(p);
	cr_assert_eq(sscanf(p, "boundary=\"%63[^\"]", b), 1);
	/* RFC 1847 §2.1: the signed part, then the CRLF of the delimiter */
	{
		char want[512];

		snprintf(want, sizeof(want), "--%s\r\nContent-Type: text/plain"
		    "\r\n\r\nhi\r\n--%s\r\nContent-Type: application/"
		    "pgp-signature\r\n\r\nSIG\r\n--%s--\r\n", b, b, b);
		cr_expect(strstr(o.data, want) != NULL, "%s", o.data);
	}
	mf_buf_free(&outer);
	mf_buf_free(&o);
}
