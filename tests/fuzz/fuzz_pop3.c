/* fuzz_pop3.c - POP3 parsers: status lines, response codes, CAPA, UIDL
 * and LIST lines, the APOP timestamp, and the multi-line decoder fed in
 * fuzzer-chosen chunks into a small output buffer, checked against the
 * same input decoded in one call. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "pop3.h"

#define OUT_MAX 65536

static void
one_line(const char *l)
{
	struct mf_pop3_capa c;
	const char *text = NULL;
	char code[32], uid[MF_POP3_UID_MAX + 1], ts[64];
	unsigned long num;
	unsigned long long sz;
	struct mf_err e;
	int rc;

	rc = mf_pop3_status(l, &text);
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	if (rc >= 0) {
		fz_touch(text, strlen(l));
		mf_pop3_resp_code(text, code, sizeof(code));
		fz_touch(code, sizeof(code) - 1);
		mf_pop3_resp_code(text, code, 1);
		FUZZ_CHECK(code[0] == '\0');
	}
	memset(&c, 0, sizeof(c));
	mf_pop3_capa_line(&c, l);
	fz_touch(c.sasl, sizeof(c.sasl) - 1);
	if (mf_pop3_parse_uidl(l, &num, uid, sizeof(uid), &e) == 0) {
		size_t n = fz_touch(uid, sizeof(uid) - 1), i;

		FUZZ_CHECK(n > 0 && n <= MF_POP3_UID_MAX);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(uid[i] >= 0x21 && uid[i] <= 0x7e);
	}
	(void)mf_pop3_parse_uidl(l, &num, uid, 4, &e);
	(void)mf_pop3_parse_list(l, &num, &sz, &e);
	if (mf_pop3_greeting_timestamp(l, ts, sizeof(ts)) == 0)
		fz_touch(ts, sizeof(ts) - 1);
	(void)mf_pop3_greeting_timestamp(l, ts, 2);
}

/* Decode in[0..n) with chunks of at most `chunk` input bytes and outcap
 * output bytes per call; returns 0 done, 1 needs more, -1 error. */
static int
decode(const char *in, size_t n, size_t chunk, size_t outcap,
       struct mf_buf *out, size_t *used)
{
	struct mf_pop3_ml m;
	struct mf_err e;
	char *tmp = malloc(outcap);
	size_t pos = 0, stall = 0;
	int rc = 1;

	FUZZ_CHECK(tmp != NULL);
	mf_pop3_ml_init(&m, 200, 4000);
	while (!m.done) {
		size_t give = n - pos < chunk ? n - pos : chunk, olen = 12345;
		ssize_t r = mf_pop3_ml_feed(&m, in + pos, give, tmp, outcap,
		                            &olen, &e);

		if (r == -1) {
			rc = -1;
			break;
		}
		FUZZ_CHECK((size_t)r <= give);
		FUZZ_CHECK(olen <= outcap);
		if (mf_buf_append(out, tmp, olen, &e) == -1)
			abort();
		pos += (size_t)r;
		if (r == 0 && olen == 0 && !m.done) {
			/* nothing consumed: fine only at the end of input */
			if (give > 0)
				FUZZ_CHECK(++stall < 3);
			else
				break;
		} else {
			stall = 0;
		}
		if (pos == n && !m.done && olen < outcap)
			break;
	}
	if (m.done && rc != -1)
		rc = 0;
	/* the limit error comes after the chunk that passed it */
	if (rc != -1)
		FUZZ_CHECK(m.total <= 4000);
	*used = pos;
	free(tmp);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_buf a = MF_BUF_INIT(OUT_MAX), b = MF_BUF_INIT(OUT_MAX);
	size_t start, i, ua, ub;
	char *s;
	int ra, rb;

	if (size < 2)
		return 0;
	s = fz_cstr(data + 2, size - 2);
	for (start = 0, i = 0; i <= size - 2; i++) {
		if (i < size - 2 && s[i] != '\n')
			continue;
		char *l = fz_cstr((const uint8_t *)s + start, i - start);
		one_line(l);
		free(l);
		start = i + 1;
	}
	ra = decode(s, size - 2, size, OUT_MAX, &a, &ua);
	rb = decode(s, size - 2, 1 + data[0] % 16, 2 + data[1] % 16, &b, &ub);
	FUZZ_CHECK(ra == rb);
	if (ra != -1) {
		FUZZ_CHECK(a.len == b.len);
		FUZZ_CHECK(a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
		if (ra == 0)
			FUZZ_CHECK(ua == ub);
	}
	mf_buf_free(&a);
	mf_buf_free(&b);
	free(s);
	return 0;
}
