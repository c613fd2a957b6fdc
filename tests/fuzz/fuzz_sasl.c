/* fuzz_sasl.c - the SASL client engine answering a hostile server:
 * SCRAM server-first / server-final messages (with our nonce prefixed
 * when the mode says so, to get past the nonce check), random challenges
 * to every mechanism after a valid initial response, and the OAuth error
 * JSON decoder.  The input is "mode byte, then challenges separated by
 * NUL bytes"; SCRAM iteration counts are capped here (a hard limit of
 * the harness: the engine allows 10,000,000, minutes of CPU). */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "sasl.h"

#define NONCE "fyko+d2lbbFgONRv9qkxdawL"

static const char *const mechs[] = { "SCRAM-SHA-256", "SCRAM-SHA-1",
	"SCRAM-SHA-256-PLUS", "XOAUTH2", "OAUTHBEARER", "CRAM-MD5", "PLAIN",
	"LOGIN", "EXTERNAL" };

/* 1 when a challenge asks for more than 4096 iterations. */
static int
too_many_iterations(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 2 < n; i++) {
		if ((i == 0 || p[i - 1] == ',') && p[i] == 'i' && p[i + 1] == '=') {
			size_t j = i + 2, digits = 0;
			unsigned long v = 0;

			while (j < n && p[j] == '0')
				j++;
			while (j < n && p[j] >= '0' && p[j] <= '9') {
				v = v * 10 + (p[j++] - '0');
				if (++digits > 5)
					return 1;
			}
			if (v > 4096)
				return 1;
		}
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char cb[32] = { 1, 2, 3 };
	struct mf_sasl_params p;
	struct mf_buf out = MF_BUF_INIT(1 << 16), ch = MF_BUF_INIT(1 << 16);
	struct mf_sasl *s;
	struct mf_err e;
	char desc[256], tiny[3];
	size_t pos, step = 0;
	unsigned mode;
	int has_initial = 0, failed = 0;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;

	/* the OAuth error decoder on the whole input */
	memset(desc, 'x', sizeof(desc));
	mf_sasl_describe_oauth_error(data, size, desc, sizeof(desc));
	fz_touch(desc, sizeof(desc) - 1);
	mf_sasl_describe_oauth_error(data, size, tiny, sizeof(tiny));
	fz_touch(tiny, sizeof(tiny) - 1);

	if (too_many_iterations(data, size))
		return 0;
	memset(&p, 0, sizeof(p));
	p.user = "user";
	p.password = "pencil";
	p.token = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";
	p.host = "server.example.com";
	p.port = 587;
	p.test_nonce = NONCE;
	p.cb_data = cb;
	p.cb_len = sizeof(cb);
	if (mode & 0x80)
		p.authzid = "admin";
	s = mf_sasl_new(mechs[(mode & 0x0f) % (sizeof(mechs) / sizeof(mechs[0]))],
	                &p, &e);
	FUZZ_CHECK(s != NULL);
	if (mf_sasl_initial(s, &out, &has_initial, &e) == -1)
		goto done;
	for (pos = 0; pos <= size && step < 8; step++) {
		const uint8_t *end = memchr(data + pos, 0, size - pos);
		size_t n = end ? (size_t)(end - (data + pos)) : size - pos;

		mf_buf_reset(&ch);
		if (step == 0 && (mode & 0x10) &&
		    mf_buf_puts(&ch, "r=" NONCE, &e) == -1)
			abort();
		if (mf_buf_append(&ch, data + pos, n, &e) == -1)
			abort();
		mf_buf_reset(&out);
		if (mf_sasl_step(s, (const unsigned char *)ch.data, ch.len,
		    &out, &e) == -1) {
			failed = 1;
			break;
		}
		pos += n + 1;
	}
	if (!failed && (mode & 0x20))
		(void)mf_sasl_finish(s, NULL, 0, &e);
	fz_touch(mf_sasl_server_error(s), 1 << 16);
done:
	fz_touch(e.msg, sizeof(e.msg) - 1);
	mf_sasl_free(s);
	mf_buf_free(&out);
	mf_buf_free(&ch);
	return 0;
}
