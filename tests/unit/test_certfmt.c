/* Unit tests: certificate facts as JSON, shared by smtp-auth-test and
 * mxprobe. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "certfmt.h"

Test(certfmt, iso_time)
{
	char d[32];

	mf_certfmt_iso_time(1609459200, d, sizeof(d));   /* 2021-01-01 */
	cr_assert_str_eq(d, "2021-01-01T00:00:00Z");
	mf_certfmt_iso_time(0, d, sizeof(d));
	cr_assert_str_eq(d, "");
}

Test(certfmt, json_object)
{
	struct mf_cert_info c;
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_json j;
	char want[1024];

	memset(&c, 0, sizeof(c));
	mf_strlcpy(c.subject, "CN=mail.example.test", sizeof(c.subject));
	mf_strlcpy(c.issuer, "CN=CA \"x\"", sizeof(c.issuer));
	mf_strlcpy(c.sans, "DNS:mail.example.test", sizeof(c.sans));
	c.not_before = 1609459200;
	c.not_after = time(NULL) + 10 * 86400 + 3600;
	mf_strlcpy(c.sha256, "aa", sizeof(c.sha256));
	mf_strlcpy(c.spki_sha256, "bb", sizeof(c.spki_sha256));
	c.is_ca = 1;
	mf_strlcpy(c.key_desc, "RSA 2048", sizeof(c.key_desc));
	mf_json_init(&j, &b);
	mf_certfmt_json(&j, &c);
	{
		char na[32];
		mf_certfmt_iso_time(c.not_after, na, sizeof(na));
		snprintf(want, sizeof(want), "{\"subject\":\"CN=mail.example.test\","
		    "\"issuer\":\"CN=CA \\\"x\\\"\",\"sans\":\"DNS:mail.example.test\","
		    "\"not_before\":\"2021-01-01T00:00:00Z\",\"not_after\":\"%s\","
		    "\"days_left\":10,\"sha256\":\"aa\",\"spki_sha256\":\"bb\","
		    "\"self_signed\":false,\"is_ca\":true,\"key\":\"RSA 2048\"}", na);
	}
	cr_assert_str_eq(b.data, want);
	mf_buf_free(&b);
}

Test(certfmt, unknown_dates_are_null)
{
	struct mf_cert_info c;
	struct mf_buf b = MF_BUF_INIT(4096);
	struct mf_json j;

	memset(&c, 0, sizeof(c));
	mf_json_init(&j, &b);
	mf_certfmt_json(&j, &c);
	cr_assert(strstr(b.data, "\"not_before\":null,\"not_after\":null,"
	    "\"days_left\":null") != NULL, "%s", b.data);
	mf_buf_free(&b);
}
