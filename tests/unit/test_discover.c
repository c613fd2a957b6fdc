/* Unit tests: --discover's pure parts: the query split, the guesses and
 * the candidate order (SRV by priority across both submission services,
 * implicit TLS first on a tie, then autoconfig, then guesses; repeats of
 * a host and port removed). */
#include <criterion/criterion.h>
#include <string.h>

#include "discover.h"

static struct mf_disc_cand
cand(enum mf_disc_source src, const char *host, int port,
     enum mf_tls_mode tls, int prio, int weight)
{
	struct mf_disc_cand c;

	memset(&c, 0, sizeof(c));
	c.proto = MF_DISC_SUBMISSION;
	c.source = src;
	strcpy(c.host, host);
	c.port = port;
	c.tls = tls;
	c.prio = prio;
	c.weight = weight;
	return c;
}

Test(discover, split)
{
	char d[256], a[320];

	cr_assert_eq(mf_discover_split("alice@Example.TEST.", d, sizeof(d), a,
	    sizeof(a)), 0);
	cr_assert_str_eq(d, "example.test");
	cr_assert_str_eq(a, "alice@example.test");
	cr_assert_eq(mf_discover_split("example.test", d, sizeof(d), a,
	    sizeof(a)), 0);
	cr_assert_str_eq(d, "example.test");
	cr_assert_str_eq(a, "");
	cr_assert_eq(mf_discover_split("@example.test", d, sizeof(d), a,
	    sizeof(a)), -1);
	cr_assert_eq(mf_discover_split("a@", d, sizeof(d), a, sizeof(a)), -1);
	cr_assert_eq(mf_discover_split("a b@x.test", d, sizeof(d), a,
	    sizeof(a)), -1);
	cr_assert_eq(mf_discover_split("a@x..test", d, sizeof(d), a,
	    sizeof(a)), -1);
	cr_assert_eq(mf_discover_split("a@x/test", d, sizeof(d), a,
	    sizeof(a)), -1);
	cr_assert_eq(mf_discover_split("a@x.test\nhost evil", d, sizeof(d), a,
	    sizeof(a)), -1);
	/* issue 12: an IDN is looked up and guessed from as A-labels */
	cr_assert_eq(mf_discover_split("jörg@BÜCHER.example", d, sizeof(d), a,
	    sizeof(a)), 0);
	cr_assert_str_eq(d, "xn--bcher-kva.example");
	cr_assert_str_eq(a, "jörg@xn--bcher-kva.example");
	cr_assert_eq(mf_discover_split("a@-bücher.example", d, sizeof(d), a,
	    sizeof(a)), -1);
}

Test(discover, guesses)
{
	static const char *const mx[] = { "mx1.example.test", "mx2.example.test" };
	struct mf_disc_cand g[32];
	size_t n;

	n = mf_discover_guesses("example.test", mx, 2, g, 32);
	cr_assert_eq(n, 12);
	cr_assert_str_eq(g[0].host, "mx1.example.test");
	cr_assert_eq(g[0].port, 465);
	cr_assert_eq(g[0].tls, MF_TLS_IMPLICIT);
	cr_assert_eq(g[1].port, 587);
	cr_assert_eq(g[1].tls, MF_TLS_STARTTLS);
	cr_assert_eq(g[2].port, 25);
	cr_assert_str_eq(g[3].host, "mx2.example.test");
	cr_assert_str_eq(g[6].host, "smtp.example.test");
	cr_assert_str_eq(g[9].host, "mail.example.test");
	cr_assert_eq(g[11].source, MF_DISC_GUESS);
	/* bounded by max */
	cr_assert_eq(mf_discover_guesses("example.test", mx, 2, g, 4), 4);
}

Test(discover, order)
{
	struct mf_disc_cand in[10], out[10];
	size_t n;

	/* as discovered: guesses, autoconfig and SRV mixed up */
	in[0] = cand(MF_DISC_GUESS, "mail.example.test", 465, MF_TLS_IMPLICIT, 0, 0);
	in[1] = cand(MF_DISC_SRV, "b.example.test", 587, MF_TLS_STARTTLS, 10, 0);
	in[2] = cand(MF_DISC_AUTOCONFIG, "ac.example.test", 587, MF_TLS_STARTTLS, 0, 0);
	in[3] = cand(MF_DISC_SRV, "a.example.test", 587, MF_TLS_STARTTLS, 0, 5);
	in[4] = cand(MF_DISC_SRV, "a.example.test", 465, MF_TLS_IMPLICIT, 0, 1);
	in[5] = cand(MF_DISC_SRV, "c.example.test", 465, MF_TLS_IMPLICIT, 20, 0);
	/* repeats: the autoconfig server again as a guess, a SRV one again
	 * from autoconfig (the better-ranked source stays) */
	in[6] = cand(MF_DISC_GUESS, "AC.example.test", 587, MF_TLS_STARTTLS, 0, 0);
	in[7] = cand(MF_DISC_AUTOCONFIG, "b.example.test", 587, MF_TLS_STARTTLS, 0, 0);
	in[8] = cand(MF_DISC_GUESS, "mail.example.test", 25, MF_TLS_STARTTLS, 0, 0);
	in[9] = cand(MF_DISC_SRV, "", 0, MF_TLS_IMPLICIT, 0, 0);   /* "." */
	in[9].port = 0;
	n = mf_discover_order(in, 10, out, 10);
	cr_assert_eq(n, 7);
	cr_assert_str_eq(out[0].host, "a.example.test");
	cr_assert_eq(out[0].port, 465);      /* implicit first on equal priority */
	cr_assert_str_eq(out[1].host, "a.example.test");
	cr_assert_eq(out[1].port, 587);
	cr_assert_str_eq(out[2].host, "b.example.test");
	cr_assert_eq(out[2].source, MF_DISC_SRV);
	cr_assert_str_eq(out[3].host, "c.example.test");
	cr_assert_str_eq(out[4].host, "ac.example.test");
	cr_assert_eq(out[4].source, MF_DISC_AUTOCONFIG);
	cr_assert_eq(out[5].port, 465);
	cr_assert_eq(out[5].source, MF_DISC_GUESS);
	cr_assert_eq(out[6].port, 25);
	/* bounded by max: the best ones are kept */
	n = mf_discover_order(in, 10, out, 2);
	cr_assert_eq(n, 2);
	cr_assert_eq(out[0].port, 465);
	cr_assert_str_eq(out[0].host, "a.example.test");
}

/* IMAP and POP3 servers are reported, never tried as submission. */
Test(discover, order_keeps_submission_only)
{
	struct mf_disc_cand in[2], out[2];

	in[0] = cand(MF_DISC_SRV, "imap.example.test", 993, MF_TLS_IMPLICIT, 0, 0);
	in[0].proto = MF_DISC_IMAP;
	in[1] = cand(MF_DISC_SRV, "smtp.example.test", 465, MF_TLS_IMPLICIT, 0, 0);
	cr_assert_eq(mf_discover_order(in, 2, out, 2), 1);
	cr_assert_str_eq(out[0].host, "smtp.example.test");
}
