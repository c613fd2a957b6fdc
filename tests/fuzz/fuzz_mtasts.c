/* fuzz_mtasts.c - MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) parsers on
 * hostile input: the policy file comes over HTTPS from the domain, the
 * records from DNS.  The first byte picks the parser; for pattern
 * matching the input is "pattern NUL host". */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "mtasts.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_mtasts_policy pol;
	struct mf_mtasts_txt txt;
	struct mf_tlsrpt rpt;
	const uint8_t *nul;
	char *s, *h;
	size_t i;

	if (size < 1)
		return 0;
	s = fz_cstr(data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		memset(&pol, 0x55, sizeof(pol));
		if (mf_mtasts_parse_policy((const char *)data + 1, size - 1,
		    &pol) == 0) {
			FUZZ_CHECK(pol.valid);
			FUZZ_CHECK(pol.nmx <= MF_MTASTS_MX_MAX);
			for (i = 0; i < pol.nmx; i++)
				fz_touch(pol.mx[i], sizeof(pol.mx[i]) - 1);
			(void)mf_mtasts_mx_allowed(&pol, "mx1.example.com");
			(void)mf_mtasts_mx_allowed(&pol, "");
			fz_touch(mf_mtasts_mode_name(pol.mode), 64);
		} else {
			fz_touch(pol.error, sizeof(pol.error) - 1);
		}
		break;
	case 1:
		memset(&txt, 0x55, sizeof(txt));
		if (mf_mtasts_parse_txt(s, &txt) == 0) {
			fz_touch(txt.error, sizeof(txt.error) - 1);
			if (txt.valid)
				FUZZ_CHECK(fz_touch(txt.id, 32) > 0);
		}
		break;
	case 2:
		memset(&rpt, 0x55, sizeof(rpt));
		if (mf_tlsrpt_parse(s, &rpt) == 0) {
			fz_touch(rpt.error, sizeof(rpt.error) - 1);
			fz_touch(rpt.rua, sizeof(rpt.rua) - 1);
		}
		break;
	default:
		nul = memchr(data + 1, 0, size - 1);
		h = nul ? s + (nul - (data + 1)) + 1 : s;
		FUZZ_CHECK(mf_mtasts_match(s, h) >= 0);
		FUZZ_CHECK(mf_mtasts_match(h, s) <= 1);
		break;
	}
	free(s);
	return 0;
}
