/* fuzz_smtp.c - SMTP replies from a hostile server: the pure reply-line
 * parser on every line, then a whole session over a memory transport
 * (greeting, EHLO capability parsing, replies, a pipelined send) with the
 * server's bytes split at fuzzer-chosen places.  Also the wire form of a
 * message (RFC 5321 §4.5.2, §2.3.8): only CRLF line ends, and with
 * dot-stuffing no line that is a lone "." (SMTP smuggling). */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "smtp.h"

static void
check_reply(const struct mf_smtp_reply *r)
{
	fz_touch(r->text, sizeof(r->text) - 1);
	fz_touch(r->enhanced, sizeof(r->enhanced) - 1);
}

static void
lines(const uint8_t *data, size_t size)
{
	size_t start = 0, i;

	for (i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		char *l = fz_cstr(data + start, i - start);
		int code = -1, rc;
		const char *text = NULL;

		rc = mf_smtp_parse_reply_line(l, i - start, &code, &text);
		FUZZ_CHECK(rc >= -1 && rc <= 1);
		if (rc >= 0) {
			FUZZ_CHECK(code >= 100 && code <= 999);
			FUZZ_CHECK(text >= l && text <= l + (i - start));
		}
		free(l);
		start = i + 1;
	}
}

static void
session(const uint8_t *data, size_t size, unsigned mode)
{
	struct mf_smtp_params p;
	struct mf_smtp_reply r;
	struct mf_err e;
	struct mf_smtp *s;
	struct fz_mem m;
	int i;

	memset(&p, 0, sizeof(p));
	p.conn.host = "mx.test";
	p.ehlo_name = "client.test";
	s = mf_smtp_new(&p, &e);
	FUZZ_CHECK(s != NULL);
	if (mf_smtp_attach(s, fz_mem_transport(&m, data, size,
	    mode * 2654435761u, mode & 0x1f), &e) == -1) {
		mf_smtp_free(s);
		return;
	}
	memset(&r, 0, sizeof(r));
	if (mf_smtp_greeting(s, &r, &e) == 0 &&
	    mf_smtp_ehlo(s, &r, &e) == 0) {
		const struct mf_smtp_caps *c = mf_smtp_caps(s);

		check_reply(&r);
		fz_touch(c->auth, sizeof(c->auth) - 1);
		fz_touch(c->raw, sizeof(c->raw) - 1);
		if (mode & 0x20) {
			static const char *const rcpts[] = { "a@b.test",
			    "c@d.test" };
			struct mf_smtp_envelope env = { .from = "me@x.test",
			    .rcpts = rcpts, .nrcpts = 2 };
			struct mf_smtp_rcpt_result rr[2];
			struct mf_smtp_result res;

			memset(&res, 0, sizeof(res));
			res.rcpt = rr;
			if (mode & 0x40)
				mf_smtp_set_chunking(s, 0);
			(void)mf_smtp_send_message(s, &env, "Subject: x\n\n.\nhi\n",
			    17, &res, &e);
			check_reply(&res.final);
		}
	}
	for (i = 0; i < 64 && mf_smtp_usable(s); i++) {
		if (mf_smtp_read_reply(s, &r, &e) == -1)
			break;
		check_reply(&r);
		FUZZ_CHECK(r.code >= 100 && r.code <= 999);
	}
	fz_touch(e.msg, sizeof(e.msg) - 1);
	mf_smtp_free(s);
}

static void
wire(const uint8_t *data, size_t size, int dotstuff)
{
	struct mf_buf out = MF_BUF_INIT(1 << 20);
	struct mf_err e;
	size_t i, bol = 0;

	FUZZ_CHECK(mf_smtp_normalise((const char *)data, size, dotstuff, &out,
	    &e) == 0);
	FUZZ_CHECK(size == 0 || out.len >= 2);
	if (size > 0)
		FUZZ_CHECK(out.data[out.len - 2] == '\r' &&
		    out.data[out.len - 1] == '\n');
	for (i = 0; i < out.len; i++) {
		if (out.data[i] == '\r') {
			FUZZ_CHECK(i + 1 < out.len && out.data[i + 1] == '\n');
			if (dotstuff)
				FUZZ_CHECK(!(i == bol + 1 && out.data[bol] == '.'));
			i++;
			bol = i + 1;
		} else {
			FUZZ_CHECK(out.data[i] != '\n');
		}
	}
	FUZZ_CHECK(mf_smtp_message_8bit((const char *)data, size) ==
	    mf_smtp_message_8bit(out.data, out.len));
	mf_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	lines(data + 1, size - 1);
	session(data + 1, size - 1, data[0]);
	wire(data + 1, size - 1, data[0] & 1);
	return 0;
}
