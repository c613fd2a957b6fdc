/* fuzz_maildir.c - the pure Maildir name helpers on hostile file names
 * (another program may have put anything in cur/): flags, ",K=V" fields,
 * flag normalisation (system flags A-Z, keyword letters a-z), with output
 * buffers from 1 byte up. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "maildir.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "U", "S", "K", "", "U=" };
	char out[64], norm[64];
	size_t lens[] = { 1, 2, 5, sizeof(out) }, i, k, n;
	char *s;

	if (size < 1)
		return 0;
	s = fz_cstr(data + 1, size - 1);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(out, 'x', sizeof(out));
		mf_maildir_name_flags(s, out, lens[i]);
		fz_touch(out, lens[i] - 1);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			memset(out, 'x', sizeof(out));
			if (mf_maildir_name_field(s, keys[k], out, lens[i]) == 0)
				fz_touch(out, lens[i] - 1);
		}
		memset(out, 'x', sizeof(out));
		mf_maildir_flags_normalise(s, out, lens[i]);
		n = fz_touch(out, lens[i] - 1);
		for (k = 0; k < n; k++) {
			/* A-Z, then the keyword letters a-z: strictly
			 * increasing in ASCII */
			FUZZ_CHECK((out[k] >= 'A' && out[k] <= 'Z') ||
			    (out[k] >= 'a' && out[k] <= 'z'));
			FUZZ_CHECK(k == 0 || out[k - 1] < out[k]);
		}
	}
	/* idempotent */
	mf_maildir_flags_normalise(s, out, sizeof(out));
	mf_maildir_flags_normalise(out, norm, sizeof(norm));
	FUZZ_CHECK(strcmp(out, norm) == 0);
	free(s);
	return 0;
}
