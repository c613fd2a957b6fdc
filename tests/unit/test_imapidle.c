/* Unit tests: the --idle service's policy (backoff, fatal errors, clock
 * jumps, debouncing). */
#include <criterion/criterion.h>

#include "imapidle.h"

Test(imapidle, backoff_doubles_to_the_cap)
{
	struct mf_backoff b = { 1000, 300000, 0 };
	/* rnd = 0xffffffff % (half + 1) is some value; use the bounds */
	static const int want_max[] = { 1000, 2000, 4000, 8000, 16000, 32000,
	    64000, 128000, 256000, 300000, 300000, 300000 };

	for (size_t i = 0; i < sizeof want_max / sizeof *want_max; i++) {
		struct mf_backoff lo = b, hi = b;
		int dlo = mf_backoff_next(&lo, 0);
		int dhi = mf_backoff_next(&hi, (uint32_t)want_max[i] / 2);
		cr_assert_eq(dhi, want_max[i], "attempt %zu: %d", i, dhi);
		cr_assert_eq(dlo, want_max[i] / 2 < 1000 ? 1000 : want_max[i] / 2,
		    "attempt %zu: low %d", i, dlo);
		mf_backoff_next(&b, 12345);
	}
	cr_assert_eq(b.attempt, 12);
	mf_backoff_reset(&b);
	cr_assert_eq(mf_backoff_next(&b, 999), 1000);
}

Test(imapidle, backoff_jitter_stays_in_range)
{
	struct mf_backoff b = { 1000, 300000, 0 };
	uint32_t x = 2463534242u;

	for (int i = 0; i < 2000; i++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		int d = mf_backoff_next(&b, x);
		cr_assert(d >= 1000 && d <= 300000, "delay %d", d);
	}
	/* equal configured bounds: no jitter below the minimum */
	struct mf_backoff f = { 5000, 5000, 0 };
	for (int i = 0; i < 10; i++)
		cr_assert_eq(mf_backoff_next(&f, (uint32_t)i * 7919u), 5000);
}

Test(imapidle, fatal_kinds)
{
	cr_assert(mf_imapidle_fatal(MF_E_AUTH));
	cr_assert(mf_imapidle_fatal(MF_E_TLS_VERIFY));
	cr_assert(mf_imapidle_fatal(MF_E_CONFIG));
	cr_assert(!mf_imapidle_fatal(MF_E_CLOSED));
	cr_assert(!mf_imapidle_fatal(MF_E_CONNECT));
	cr_assert(!mf_imapidle_fatal(MF_E_TIMEOUT));
	cr_assert(!mf_imapidle_fatal(MF_E_TLS));      /* an alert at restart */
	cr_assert(!mf_imapidle_fatal(MF_E_NOHOST));   /* DNS on a new network */
	cr_assert(!mf_imapidle_fatal(MF_E_TEMP));
}

/* RFC 2177 §3: IDLE is re-issued before the server's 29-30 minutes, even
 * when --keepalive asks for longer; the default finds a silent connection
 * (keepalive plus the NOOP's timeout) within two minutes. */
Test(imapidle, keepalive_reissues_idle_in_time)
{
	cr_assert_eq(mf_imapidle_keepalive_ms(0), MF_IMAPIDLE_KEEPALIVE_MS);
	cr_assert_eq(mf_imapidle_keepalive_ms(-5), MF_IMAPIDLE_KEEPALIVE_MS);
	cr_assert_eq(mf_imapidle_keepalive_ms(10000), 10000);
	cr_assert(mf_imapidle_keepalive_ms(86400 * 1000) < 29 * 60 * 1000);
	cr_assert(mf_imapidle_keepalive_ms(29 * 60 * 1000) < 29 * 60 * 1000);
	cr_assert(MF_IMAPIDLE_KEEPALIVE_MS + MF_IMAPIDLE_PROBE_TIMEOUT_MS <=
	    2 * 60 * 1000);
}

Test(imapidle, clock_jumps)
{
	static const struct {
		struct mf_clocks a, b;
		int64_t want;
	} t[] = {
		/* a normal second */
		{ { 1000, 1000, 50000 }, { 2000, 2000, 51000 }, 0 },
		/* suspended for an hour: boottime ran, monotonic did not */
		{ { 1000, 1000, 50000 }, { 2000, 3602000, 3651000 }, 3600000 },
		/* the wall clock set back ten minutes */
		{ { 1000, 1000, 900000 }, { 2000, 2000, 301000 }, 600000 },
		/* forward by 4 s: under the threshold */
		{ { 1000, 1000, 50000 }, { 2000, 2000, 55000 }, 0 },
	};

	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		cr_assert_eq(mf_clocks_jump(&t[i].a, &t[i].b, 5000), t[i].want,
		    "case %zu", i);
	struct mf_clocks now, later;
	mf_clocks_now(&now);
	mf_clocks_now(&later);
	cr_assert_eq(mf_clocks_jump(&now, &later, 5000), 0);
	cr_assert(now.mono > 0 && now.boot > 0 && now.real > 0);
}

Test(imapidle, debounce)
{
	struct mf_debounce d = { 0, 0 };
	int w = 60000;

	cr_assert(!mf_debounce_due(&d, 100, 1000, 5000, &w));
	cr_assert_eq(w, 60000);
	mf_debounce_note(&d, 100);
	cr_assert(!mf_debounce_due(&d, 600, 1000, 5000, &w));
	cr_assert_eq(w, 500);
	mf_debounce_note(&d, 900);
	cr_assert(!mf_debounce_due(&d, 1500, 1000, 5000, NULL));
	cr_assert(mf_debounce_due(&d, 1900, 1000, 5000, NULL));
	cr_assert(!mf_debounce_due(&d, 5000, 1000, 5000, NULL), "reset");
	/* a steady stream: due after max_ms anyway */
	int64_t t;
	for (t = 10000; t < 20000; t += 300) {
		mf_debounce_note(&d, t);
		if (mf_debounce_due(&d, t, 1000, 5000, NULL))
			break;
	}
	cr_assert(t >= 15000 && t < 15300, "due at %lld", (long long)t);
}
