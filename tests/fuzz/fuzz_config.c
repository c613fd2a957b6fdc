/* fuzz_config.c - the configuration parser on hostile text (a config file
 * is user input, and may be shared): parse, then look up the default
 * account and a few names; every string of an account must be readable. */
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "fuzz_common.h"

static void
touch_account(const struct mf_account *a)
{
	const char *const s[] = { a->name, a->host, a->tls_trust_file,
	    a->tls_fingerprint, a->tls_cert_file, a->tls_key_file,
	    a->tls_min_version, a->tls_priority, a->user, a->auth,
	    a->passwordeval, a->password, a->from, a->maildir, a->state,
	    a->queue, a->ehlo, a->source };
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (s[i] != NULL)
			fz_touch(s[i], 1 << 20);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { NULL, "default", "a", "b",
	    "work", "" };
	struct mf_config *c;
	struct mf_err e;
	size_t i;
	char *s;

	if (size < 1)
		return 0;
	s = fz_cstr(data + 1, size - 1);
	c = mf_config_parse(s, "fuzz", (data[0] & 1) ? 0600 : 0644, &e);
	if (c == NULL) {
		FUZZ_CHECK(e.kind != MF_OK);
		fz_touch(e.msg, sizeof(e.msg) - 1);
	} else {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			const struct mf_account *a = mf_config_account(c,
			    names[i], &e);
			if (a != NULL)
				touch_account(a);
		}
		fz_touch(mf_config_path(c), 1 << 20);
		mf_config_free(c);
	}
	free(s);
	return 0;
}
