/* imapidle.c - reconnect delays, fatal errors, clock jumps and debouncing
 * for the --idle service (see imapidle.h). */
#include "imapidle.h"

#include <time.h>

int
mf_backoff_next(struct mf_backoff *b, uint32_t rnd)
{
	int64_t d = b->min_ms > 0 ? b->min_ms : 1;
	int64_t cap = b->max_ms > d ? b->max_ms : d;

	for (unsigned i = 0; i < b->attempt && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	if (b->attempt < 1000)
		b->attempt++;
	/* "equal jitter": between half the delay and all of it */
	int64_t half = d / 2;
	if (half > 0)
		d = half + (int64_t)(rnd % (uint32_t)(half + 1));
	if (d < b->min_ms)
		d = b->min_ms;
	return (int)d;
}

void
mf_backoff_reset(struct mf_backoff *b)
{
	b->attempt = 0;
}

int
mf_imapidle_fatal(enum mf_err_kind kind)
{
	switch (kind) {
	case MF_E_AUTH:
	case MF_E_TLS_VERIFY:
	case MF_E_CONFIG:
	case MF_E_USAGE:
	case MF_E_IO:
	case MF_E_UNSUPPORTED:
	case MF_E_INTERNAL:
		return 1;
	default:
		/* NOHOST too: a DNS failure on a changed network passes */
		return 0;
	}
}

int
mf_imapidle_keepalive_ms(int asked_ms)
{
	if (asked_ms <= 0)
		return MF_IMAPIDLE_KEEPALIVE_MS;
	if (asked_ms > MF_IMAPIDLE_REISSUE_MAX_MS)
		return MF_IMAPIDLE_REISSUE_MAX_MS;
	return asked_ms;
}

static int64_t
ms_of(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
mf_clocks_now(struct mf_clocks *c)
{
	c->mono = ms_of(CLOCK_MONOTONIC);
	c->boot = ms_of(CLOCK_BOOTTIME);
	c->real = ms_of(CLOCK_REALTIME);
}

int64_t
mf_clocks_jump(const struct mf_clocks *a, const struct mf_clocks *b,
               int64_t threshold_ms)
{
	int64_t mono = b->mono - a->mono;
	int64_t slept = (b->boot - a->boot) - mono;
	int64_t wall = (b->real - a->real) - mono;

	if (wall < 0)
		wall = -wall;
	int64_t j = slept > wall ? slept : wall;
	return j >= threshold_ms ? j : 0;
}

void
mf_debounce_note(struct mf_debounce *d, int64_t now_ms)
{
	if (now_ms <= 0)
		now_ms = 1;
	if (!d->first)
		d->first = now_ms;
	d->last = now_ms;
}

int
mf_debounce_due(struct mf_debounce *d, int64_t now_ms, int quiet_ms,
                int max_ms, int *wait_ms)
{
	if (!d->first)
		return 0;
	int64_t at = d->last + quiet_ms;
	if (d->first + max_ms < at)
		at = d->first + max_ms;
	if (now_ms >= at) {
		d->first = d->last = 0;
		return 1;
	}
	if (wait_ms && at - now_ms < *wait_ms)
		*wait_ms = (int)(at - now_ms);
	return 0;
}
