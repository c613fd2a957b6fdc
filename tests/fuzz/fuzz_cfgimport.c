/* fuzz_cfgimport.c - mailflow-config import on hostile text: the first
 * byte picks the format (msmtp, mpop, mbsync or detection); a text that
 * converts must give a file mailflow's own parser accepts. */
#include <stdint.h>
#include <string.h>

#include "cfgimport.h"
#include "config.h"
#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_cfgimport *r;
	struct mf_config *c;
	struct mf_err e;
	const char *w;
	size_t i;
	char *s;

	if (size < 1)
		return 0;
	s = fz_cstr(data + 1, size - 1);
	r = mf_cfgimport_convert(s, "fuzz", (enum mf_cfgimport_format)(data[0] %
	    4), &e);
	if (r == NULL) {
		FUZZ_CHECK(e.kind == MF_E_DATA || e.kind == MF_E_NOMEM);
		fz_touch(e.msg, sizeof(e.msg) - 1);
	} else {
		for (i = 0; (w = mf_cfgimport_warning(r, i)) != NULL; i++)
			fz_touch(w, 1 << 20);
		c = mf_config_parse(mf_cfgimport_text(r), "out", 0600, &e);
		FUZZ_CHECK(c != NULL);
		mf_config_free(c);
		mf_cfgimport_free(r);
	}
	free(s);
	return 0;
}
