/* fuzz_autoconfig.c - the autoconfig document reader and the HTTP
 * response parser under it, on hostile input: both come from whoever
 * answers for the domain.  The first byte picks the parser. */
#include <stdint.h>
#include <string.h>

#include "autoconfig.h"
#include "fuzz_common.h"
#include "https.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_autoconfig ac;
	struct mf_https_response resp;
	struct mf_buf raw = MF_BUF_INIT(1 << 16), body = MF_BUF_INIT(1 << 16);
	struct mf_err e;
	size_t i;

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		memset(&ac, 0x55, sizeof(ac));
		if (mf_autoconfig_parse((const char *)data + 1, size - 1,
		    "alice@example.test", &ac, &e) == 0) {
			FUZZ_CHECK(ac.n <= MF_AC_SERVERS_MAX);
			for (i = 0; i < ac.n; i++) {
				FUZZ_CHECK(ac.srv[i].port > 0 && ac.srv[i].port < 65536);
				FUZZ_CHECK(ac.srv[i].hostname[0] != '\0');
				FUZZ_CHECK(strpbrk(ac.srv[i].hostname, " \n\r\t") == NULL);
				FUZZ_CHECK(strpbrk(ac.srv[i].username, " \n\r\t") == NULL);
				fz_touch(ac.srv[i].auth, sizeof(ac.srv[i].auth) - 1);
			}
		} else {
			fz_touch(e.msg, sizeof(e.msg) - 1);
		}
		return 0;
	}
	if (mf_buf_append(&raw, data + 1, size - 1, NULL) == 0 &&
	    mf_https_parse(&raw, &body, &resp, &e) == 0) {
		FUZZ_CHECK(resp.status == 200);
		FUZZ_CHECK(body.len <= size);
	}
	mf_buf_free(&raw);
	mf_buf_free(&body);
	return 0;
}
