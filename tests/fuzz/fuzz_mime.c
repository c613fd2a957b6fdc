/* fuzz_mime.c - reading the header of a ready message (mailsend -t,
 * --message, --batch, the queue): header length, field lookup, the
 * recipients of To/Cc/Bcc, preparation (Bcc removed, Date/Message-ID
 * added), the sendmail "." cut, and the address parsers on each line.
 * The message is passed without a terminating NUL, as the API allows. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "mime.h"

static int
on_addr(void *arg, const char *name, const char *addr)
{
	unsigned *n = arg;

	fz_touch(name, 1 << 20);
	FUZZ_CHECK(fz_touch(addr, 1 << 20) > 0);
	(*n)++;
	return *n > 5000;
}

static void
addresses(const char *l)
{
	char name[64], addr[64], big[1024], bigaddr[1024];
	struct mf_buf out = MF_BUF_INIT(1 << 16);
	struct mf_err e;
	unsigned n = 0;

	if (mf_mime_parse_address(l, name, sizeof(name), addr, sizeof(addr),
	    &e) == 0) {
		fz_touch(name, sizeof(name) - 1);
		fz_touch(addr, sizeof(addr) - 1);
	}
	if (mf_mime_parse_address(l, big, sizeof(big), bigaddr,
	    sizeof(bigaddr), &e) == 0)
		(void)mf_mime_format_address(big, bigaddr, &out, &e);
	(void)mf_mime_address_list(l, on_addr, &n, &e);
	mf_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_buf out = MF_BUF_INIT(1 << 20);
	const char *msg = (const char *)data;
	struct mf_rcpts r;
	struct mf_err e;
	char val[256], tiny[2];
	size_t hl, cut, i, start;
	unsigned n = 0;
	char *s;

	hl = mf_mime_header_len(msg, size);
	FUZZ_CHECK(hl <= size);
	cut = mf_mime_sendmail_cut(msg, size);
	FUZZ_CHECK(cut <= size);
	if (mf_mime_header_get(msg, size, "To", val, sizeof(val)) == 0)
		fz_touch(val, sizeof(val) - 1);
	(void)mf_mime_header_get(msg, size, "subject", tiny, sizeof(tiny));
	(void)mf_mime_header_get(msg, size, "", val, sizeof(val));
	(void)mf_mime_header_recipients(msg, size, on_addr, &n, &e);
	memset(&r, 0, sizeof(r));
	(void)mf_rcpts_add_header(&r, msg, size, &e);
	FUZZ_CHECK(r.n <= MF_RCPTS_MAX);
	(void)mf_rcpts_need_utf8(&r, NULL);
	mf_rcpts_clear(&r);
	if (mf_mime_prepare(msg, size, "fuzz.test", &out, &e) == 0) {
		/* Bcc must not survive into what is sent */
		FUZZ_CHECK(mf_mime_header_get(out.data, out.len, "Bcc", val,
		    sizeof(val)) == -1);
		(void)mf_mime_add_from(&out, "Fuzz", "f@fuzz.test", &e);
	}
	mf_buf_free(&out);

	s = fz_cstr(data, size);
	for (start = 0, i = 0; i <= size; i++) {
		if (i < size && s[i] != '\n')
			continue;
		char *l = fz_cstr((const uint8_t *)s + start, i - start);
		addresses(l);
		free(l);
		start = i + 1;
	}
	free(s);
	return 0;
}
