/* Unit tests: DANE matching and verdicts (RFC 7672, RFC 7671 §5.2). */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "dane.h"

/* A fake certificate whose digests are derived from a tag. */
static void
cert(struct mf_cert_info *c, const char *subject, const char *issuer, int tag)
{
	unsigned char d[32];

	memset(c, 0, sizeof(*c));
	mf_strlcpy(c->subject, subject, sizeof(c->subject));
	mf_strlcpy(c->issuer, issuer, sizeof(c->issuer));
	memset(d, tag, sizeof(d));
	mf_hex(d, 32, c->sha256);
	memset(d, tag + 100, sizeof(d));
	mf_hex(d, 32, c->spki_sha256);
}

static void
add(struct mf_dane_set *s, unsigned u, unsigned sel, unsigned mt, int tag)
{
	unsigned char d[32];

	memset(d, sel == 1 ? tag + 100 : tag, sizeof(d));
	mf_dane_set_add(s, u, sel, mt, d, 32);
}

static struct mf_tls_info tls;
static struct mf_dane_set set;

/* leaf <- inter <- root, all sent by the server. */
static void
good_chain(void)
{
	memset(&tls, 0, sizeof(tls));
	tls.handshake_done = 1;
	tls.chain_len = 3;
	cert(&tls.chain[0], "CN=mx.example", "CN=Inter", 1);
	cert(&tls.chain[1], "CN=Inter", "CN=Root", 2);
	cert(&tls.chain[2], "CN=Root", "CN=Root", 3);
	memset(&set, 0, sizeof(set));
	set.lookup = MF_DANE_SECURE;
}

static enum mf_dane_state
verdict(void)
{
	struct mf_dane_result r;

	mf_dane_check(&set, &tls, &r);
	return r.state;
}

Test(dane, ee_spki_and_cert_match)
{
	good_chain();
	add(&set, 3, 1, 1, 1);
	cr_assert_eq(verdict(), MF_DANE_PASS);
	good_chain();
	add(&set, 3, 0, 1, 1);
	cr_assert_eq(verdict(), MF_DANE_PASS);
}

Test(dane, ee_ignores_names_and_dates)
{
	good_chain();
	tls.name_mismatch = 1;
	tls.expired = 1;
	tls.unknown_ca = 1;
	add(&set, 3, 1, 1, 1);
	cr_assert_eq(verdict(), MF_DANE_PASS);
}

Test(dane, stale_ee_fails)
{
	good_chain();
	add(&set, 3, 1, 1, 9);
	cr_assert_eq(verdict(), MF_DANE_FAIL);
}

Test(dane, ee_does_not_match_an_issuer)
{
	good_chain();
	add(&set, 3, 1, 1, 2);   /* the intermediate's key */
	cr_assert_eq(verdict(), MF_DANE_FAIL);
}

Test(dane, ta_matches_intermediate_or_root)
{
	good_chain();
	add(&set, 2, 1, 1, 2);
	cr_assert_eq(verdict(), MF_DANE_PASS);
	good_chain();
	add(&set, 2, 0, 1, 3);
	cr_assert_eq(verdict(), MF_DANE_PASS);
}

Test(dane, ta_does_not_match_the_leaf)
{
	good_chain();
	add(&set, 2, 1, 1, 1);
	cr_assert_eq(verdict(), MF_DANE_FAIL);
}

Test(dane, ta_with_unrelated_intermediate_fails)
{
	struct mf_dane_result r;

	/* leaf from "Other Inter" (from "Other Root"), the TA appended. */
	memset(&tls, 0, sizeof(tls));
	tls.handshake_done = 1;
	tls.chain_len = 3;
	cert(&tls.chain[0], "CN=mx.example", "CN=Other Inter", 1);
	cert(&tls.chain[1], "CN=Other Inter", "CN=Other Root", 4);
	cert(&tls.chain[2], "CN=Root", "CN=Root", 3);
	memset(&set, 0, sizeof(set));
	set.lookup = MF_DANE_SECURE;
	add(&set, 2, 1, 1, 3);
	mf_dane_check(&set, &tls, &r);
	cr_assert_eq(r.state, MF_DANE_FAIL);
	cr_assert(strstr(r.reason, "does not chain") != NULL, "%s", r.reason);
}

Test(dane, ta_needs_name_and_dates)
{
	good_chain();
	tls.name_mismatch = 1;
	add(&set, 2, 1, 1, 2);
	cr_assert_eq(verdict(), MF_DANE_FAIL);
	good_chain();
	tls.expired = 1;
	add(&set, 2, 1, 1, 2);
	cr_assert_eq(verdict(), MF_DANE_FAIL);
}

Test(dane, one_matching_record_among_several_passes)
{
	good_chain();
	add(&set, 3, 1, 1, 42);
	add(&set, 2, 1, 1, 43);
	add(&set, 3, 1, 1, 1);
	cr_assert_eq(verdict(), MF_DANE_PASS);
}

Test(dane, pkix_usages_are_unusable)
{
	good_chain();
	add(&set, 0, 1, 1, 3);
	add(&set, 1, 1, 1, 1);
	cr_assert_eq(verdict(), MF_DANE_UNUSABLE);
}

Test(dane, sha512_and_full_data_are_uncheckable)
{
	unsigned char d[64];

	good_chain();
	memset(d, 1, sizeof(d));
	mf_dane_set_add(&set, 3, 1, 2, d, 64);
	cr_assert_eq(verdict(), MF_DANE_UNCHECKABLE);
}

Test(dane, not_secure_or_missing_is_not_applicable)
{
	good_chain();
	add(&set, 3, 1, 1, 9);
	set.lookup = MF_DANE_UNSIGNED;
	cr_assert_eq(verdict(), MF_DANE_NOT_APPLICABLE);
	set.lookup = MF_DANE_NO_TLSA;
	cr_assert_eq(verdict(), MF_DANE_NOT_APPLICABLE);
	set.lookup = MF_DANE_LOOKUP_FAILED;
	cr_assert_eq(verdict(), MF_DANE_TEMPFAIL);
}

Test(dane, secure_tlsa_without_tls_fails)
{
	struct mf_dane_result r;

	good_chain();
	add(&set, 3, 1, 1, 1);
	mf_dane_check(&set, NULL, &r);
	cr_assert_eq(r.state, MF_DANE_NO_TLS);
}

Test(dane, match_is_case_insensitive_hex)
{
	struct mf_cert_info c;
	struct mf_dane_tlsa t;
	size_t i;

	cert(&c, "CN=x", "CN=x", 7);
	for (i = 0; c.spki_sha256[i]; i++)
		if (c.spki_sha256[i] >= 'a')
			c.spki_sha256[i] -= 32;
	memset(&t, 0, sizeof(t));
	t.usage = 3;
	t.selector = 1;
	t.mtype = 1;
	t.len = 32;
	memset(t.data, 107, 32);
	cr_assert_eq(mf_dane_match(&t, &c), 1);
	t.data[0] ^= 1;
	cr_assert_eq(mf_dane_match(&t, &c), 0);
}
