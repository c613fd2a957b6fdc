/* certfmt.c - certificate facts as JSON. */
#include "certfmt.h"

#include <string.h>

void
mf_certfmt_iso_time(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (t > 0 && gmtime_r(&t, &tm) != NULL)
		strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
kv_time(struct mf_json *j, const char *key, time_t t)
{
	char d[32];

	mf_certfmt_iso_time(t, d, sizeof(d));
	mf_json_key(j, key);
	if (d[0] == '\0')
		mf_json_null(j);
	else
		mf_json_string(j, d);
}

void
mf_certfmt_json(struct mf_json *j, const struct mf_cert_info *c)
{
	mf_json_object_begin(j);
	mf_json_kv_string(j, "subject", c->subject);
	mf_json_kv_string(j, "issuer", c->issuer);
	mf_json_kv_string(j, "sans", c->sans);
	kv_time(j, "not_before", c->not_before);
	kv_time(j, "not_after", c->not_after);
	mf_json_key(j, "days_left");
	if (c->not_after > 0)
		mf_json_int(j, (long long)((c->not_after - time(NULL)) / 86400));
	else
		mf_json_null(j);
	mf_json_kv_string(j, "sha256", c->sha256);
	mf_json_kv_string(j, "spki_sha256", c->spki_sha256);
	mf_json_kv_bool(j, "self_signed", c->self_signed);
	mf_json_kv_bool(j, "is_ca", c->is_ca);
	mf_json_kv_string(j, "key", c->key_desc);
	mf_json_object_end(j);
}
