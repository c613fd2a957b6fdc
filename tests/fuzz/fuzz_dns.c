/* fuzz_dns.c - parsing a hostile DNS response (a resolver's answer is
 * peer data: compression pointers, lengths, counts) for each record type
 * we use; every record kept must have NUL-terminated names and data
 * within its bounds. */
#include <stdint.h>
#include <string.h>

#include "dns.h"
#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = { MF_DNS_A, MF_DNS_AAAA, MF_DNS_MX,
	    MF_DNS_TXT, MF_DNS_TLSA, MF_DNS_CNAME, MF_DNS_PTR, 99 };
	struct mf_dns_answer ans;
	struct mf_err e;
	size_t i;
	int type;

	if (size < 1)
		return 0;
	type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	memset(&ans, 0, sizeof(ans));
	if (mf_dns_parse(data + 1, size - 1, type, &ans, &e) == 0) {
		FUZZ_CHECK(ans.n <= MF_DNS_RR_MAX);
		FUZZ_CHECK(ans.n == 0 || ans.rr != NULL);
		fz_touch(ans.qname, MF_DNS_NAME_MAX - 1);
		fz_touch(ans.canon, MF_DNS_NAME_MAX - 1);
		fz_touch(mf_dns_status_name(ans.status), 64);
		for (i = 0; i < ans.n; i++) {
			const struct mf_dns_rr *r = &ans.rr[i];

			FUZZ_CHECK(r->type == type);
			fz_touch(r->owner, MF_DNS_NAME_MAX - 1);
			fz_touch(r->target, MF_DNS_NAME_MAX - 1);
			fz_touch(r->addr, sizeof(r->addr) - 1);
			FUZZ_CHECK(r->datalen <= MF_DNS_DATA_MAX);
			if (type == MF_DNS_TXT)
				FUZZ_CHECK(r->data[r->datalen] == '\0');
		}
	} else {
		fz_touch(e.msg, sizeof(e.msg) - 1);
	}
	mf_dns_answer_free(&ans);
	return 0;
}
