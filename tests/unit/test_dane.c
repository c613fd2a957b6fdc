/* Unit tests: DANE matching and verdicts (RFC 7672, RFC 7671 §5.2). */
#include <criterion/criterion.h>
#include <stdio.h>
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

	mf_dane_check(&set, &tls, NULL, &r);
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
	mf_dane_check(&set, &tls, NULL, &r);
	cr_assert_eq(r.state, MF_DANE_FAIL);
	cr_assert(strstr(r.reason, "does not chain") != NULL, "%s", r.reason);
}

/* Names alone must not make a chain: a leaf that claims the
 * intermediate as issuer but whose signature does not verify with the
 * intermediate's key is refused; with verified signatures it passes. */
Test(dane, ta_chain_needs_verified_signatures)
{
	struct mf_dane_digests dg[3];
	struct mf_dane_result r;

	good_chain();
	add(&set, 2, 1, 1, 3);
	memset(dg, 0, sizeof(dg));
	dg[0].signatures_known = dg[1].signatures_known = 1;
	dg[2].signatures_known = 1;
	dg[0].signed_by = 1u << 1;     /* leaf signed by Inter */
	dg[1].signed_by = 1u << 2;     /* Inter signed by Root */
	dg[2].signed_by = 1u << 2;
	mf_dane_check(&set, &tls, dg, &r);
	cr_assert_eq(r.state, MF_DANE_PASS, "%s", r.reason);

	dg[0].signed_by = 0;           /* forged: right name, wrong key */
	mf_dane_check(&set, &tls, dg, &r);
	cr_assert_eq(r.state, MF_DANE_FAIL);
	cr_assert(strstr(r.reason, "does not chain") != NULL, "%s", r.reason);

	dg[0].signed_by = 1u << 1;
	dg[1].signed_by = 0;           /* intermediate not signed by the TA */
	mf_dane_check(&set, &tls, dg, &r);
	cr_assert_eq(r.state, MF_DANE_FAIL);
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

/* RFC 7672 §2.2.2: validated TLSA for a host whose addresses are not
 * validated is ignored, matching or not, with or without TLS. */
Test(dane, tlsa_of_an_insecure_host_is_not_applicable)
{
	struct mf_dane_result r;

	good_chain();
	add(&set, 3, 1, 1, 9);          /* stale: would fail */
	set.lookup = MF_DANE_HOST_INSECURE;
	cr_assert_eq(verdict(), MF_DANE_NOT_APPLICABLE);
	mf_dane_check(&set, NULL, NULL, &r);
	cr_assert_eq(r.state, MF_DANE_NOT_APPLICABLE);
	set.lookup = MF_DANE_SECURE;
	cr_assert_eq(verdict(), MF_DANE_FAIL);
	cr_expect_str_eq(mf_dane_lookup_name(MF_DANE_HOST_INSECURE),
	    "host-insecure");
	cr_expect_str_eq(mf_dane_lookup_name(MF_DANE_SECURE), "secure");
}

Test(dane, secure_tlsa_without_tls_fails)
{
	struct mf_dane_result r;

	good_chain();
	add(&set, 3, 1, 1, 1);
	mf_dane_check(&set, NULL, NULL, &r);
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
	cr_assert_eq(mf_dane_match(&t, &c, NULL), 1);
	t.data[0] ^= 1;
	cr_assert_eq(mf_dane_match(&t, &c, NULL), 0);
}

/* ---- matching on the DER of a real certificate ---- */

/* A self-signed ECDSA certificate made with certtool; the digests below
 * were computed by certtool --pubkey-info --outder | sha256sum/sha512sum
 * and sha256sum/sha512sum of the DER, not by mailflow. */
static const unsigned char cert_der[347] = {
	0x30, 0x82, 0x01, 0x57, 0x30, 0x81, 0xfe, 0xa0, 0x03, 0x02, 0x01, 0x02,
	0x02, 0x01, 0x07, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x04, 0x03, 0x02, 0x30, 0x14, 0x31, 0x12, 0x30, 0x10, 0x06, 0x03, 0x55,
	0x04, 0x03, 0x13, 0x09, 0x74, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c,
	0x65, 0x30, 0x20, 0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x31, 0x32,
	0x33, 0x32, 0x30, 0x30, 0x35, 0x5a, 0x18, 0x0f, 0x32, 0x31, 0x32, 0x36,
	0x31, 0x30, 0x32, 0x38, 0x32, 0x33, 0x32, 0x30, 0x30, 0x35, 0x5a, 0x30,
	0x14, 0x31, 0x12, 0x30, 0x10, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x09,
	0x74, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x30, 0x59, 0x30,
	0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
	0x57, 0x0c, 0xee, 0x11, 0x06, 0xce, 0xa7, 0x15, 0xa3, 0x04, 0x0d, 0x35,
	0x43, 0xbf, 0x90, 0x15, 0x79, 0x92, 0x15, 0xc1, 0x03, 0x52, 0x02, 0xd8,
	0x41, 0x33, 0xe7, 0x3e, 0x31, 0x4a, 0x63, 0xb3, 0xd8, 0xe0, 0x1c, 0x50,
	0x37, 0xc0, 0x39, 0x5f, 0x65, 0xc8, 0xce, 0x7a, 0x24, 0x1e, 0xa8, 0xd1,
	0x51, 0x67, 0xb8, 0x19, 0xc7, 0x41, 0x6d, 0x44, 0xb1, 0xf3, 0x09, 0xcd,
	0x59, 0x6f, 0xc8, 0xd8, 0xa3, 0x3f, 0x30, 0x3d, 0x30, 0x0c, 0x06, 0x03,
	0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x02, 0x30, 0x00, 0x30, 0x0e,
	0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01, 0x01, 0xff, 0x04, 0x04, 0x03, 0x02,
	0x07, 0x80, 0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04,
	0x14, 0x75, 0xad, 0xbd, 0xd2, 0x83, 0xc7, 0x47, 0xad, 0xb5, 0x14, 0x25,
	0x97, 0x11, 0x59, 0xe3, 0x0c, 0x69, 0xfe, 0x60, 0x1f, 0x30, 0x0a, 0x06,
	0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x48, 0x00,
	0x30, 0x45, 0x02, 0x21, 0x00, 0xa7, 0xf6, 0x7f, 0x7a, 0xbe, 0x49, 0x22,
	0x85, 0x0b, 0x16, 0x76, 0xb5, 0xaf, 0xa3, 0x3f, 0x98, 0xe3, 0x99, 0xbc,
	0x15, 0xae, 0x89, 0xc5, 0xd7, 0xdb, 0x7e, 0x94, 0xa1, 0x8c, 0xf7, 0x9f,
	0xda, 0x02, 0x20, 0x09, 0x9a, 0xa7, 0xdf, 0x75, 0x1b, 0xff, 0xdc, 0x51,
	0x59, 0xcf, 0x0a, 0x3a, 0x61, 0x15, 0x33, 0xd5, 0xea, 0x08, 0xa8, 0xcc,
	0x96, 0x0a, 0xf9, 0x85, 0xea, 0xf7, 0x92, 0xab, 0x87, 0x22, 0x71,
};
static const char cert_spki_sha256[] =
    "c43a94b1da2481bcbc216cfda543c06c056e3cd555fccd92ddad90d569a33467";
static const char cert_sha256[] =
    "4ddda360b8513c858d8ed5ebeae67150280f6e6be38147ce8d677e31ea9f0010";
static const char cert_spki_sha512[] =
    "598f44e9534a8b99665d96a6e4f385623340268006eab516f4adf30ca2832a82"
    "17b355e627f04e9a11161047d86b0b18f82102c9bbec97867b6dcce79a28d5c8";
static const char cert_sha512[] =
    "07b3711742250c05f275ff7ebad33a71e74f4dd8211efb28e95ab61cd417f6d7"
    "f51d5402438ba28cd922a71552e468ed8aa4700ebc79388a765148a9b50ed247";

static void
unhex(const char *hex, unsigned char *out)
{
	size_t i;
	unsigned v;

	for (i = 0; hex[2 * i]; i++) {
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
}

Test(dane, spki_found_in_real_certificate)
{
	struct mf_dane_digests d;
	unsigned char want[64];

	cr_assert_eq(mf_dane_digest_cert(cert_der, sizeof(cert_der), &d), 0);
	cr_assert(d.have);
	unhex(cert_spki_sha256, want);
	cr_assert_eq(memcmp(d.spki256, want, 32), 0);
	unhex(cert_sha256, want);
	cr_assert_eq(memcmp(d.cert256, want, 32), 0);
	unhex(cert_spki_sha512, want);
	cr_assert_eq(memcmp(d.spki512, want, 64), 0);
	unhex(cert_sha512, want);
	cr_assert_eq(memcmp(d.cert512, want, 64), 0);
}

Test(dane, every_selector_and_matching_type_with_der)
{
	struct mf_dane_digests d;
	struct mf_dane_set s;
	struct mf_cert_info c;
	unsigned char h[64];
	size_t off, len, i;

	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	cr_assert_eq(mf_dane_digest_cert(cert_der, sizeof(cert_der), &d), 0);
	cr_assert_eq(mf_dane_spki(cert_der, sizeof(cert_der), &off, &len), 0);
	mf_dane_set_add(&s, 3, 0, 0, cert_der, sizeof(cert_der));
	mf_dane_set_add(&s, 3, 1, 0, cert_der + off, len);
	unhex(cert_sha256, h);
	mf_dane_set_add(&s, 3, 0, 1, h, 32);
	unhex(cert_spki_sha256, h);
	mf_dane_set_add(&s, 3, 1, 1, h, 32);
	unhex(cert_sha512, h);
	mf_dane_set_add(&s, 3, 0, 2, h, 64);
	unhex(cert_spki_sha512, h);
	mf_dane_set_add(&s, 3, 1, 2, h, 64);
	for (i = 0; i < s.n; i++) {
		cr_assert_eq(mf_dane_match(&s.rr[i], &c, &d), 1, "record %zu", i);
		/* without the DER, only SHA-256 can be judged, never matched
		 * by accident */
		cr_assert_neq(mf_dane_match(&s.rr[i], &c, NULL), 1, "record %zu", i);
	}
	/* a single changed bit no longer matches */
	for (i = 0; i < s.n; i++) {
		s.rr[i].data[5] ^= 0x10;
		s.rr[i].full256[5] ^= 0x10;
		cr_assert_eq(mf_dane_match(&s.rr[i], &c, &d), 0, "record %zu", i);
	}
}

Test(dane, malformed_der_is_refused)
{
	struct mf_dane_digests d;
	size_t off, len, cut;

	for (cut = 0; cut < sizeof(cert_der); cut += 7)
		cr_assert_eq(mf_dane_digest_cert(cert_der, cut, &d), -1, "cut %zu", cut);
	cr_assert_eq(mf_dane_spki((const unsigned char *)"\x04\x01\x00", 3,
	    &off, &len), -1);
}
