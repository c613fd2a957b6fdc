/* imapidle.h - what keeps imap-sync --idle running for months: the
 * reconnect policy (exponential backoff with jitter), the judgement of
 * which failures need a person, the detection of clock jumps (a suspended
 * laptop, a wall clock set by NTP), and the debouncing of local change
 * events.  Pure apart from reading the clocks: the service loop that uses
 * them is lib/imapsync_watch.c.
 *
 * Must not: do I/O, print or exit: it decides, the service loop acts. */
#ifndef MF_IMAPIDLE_H
#define MF_IMAPIDLE_H

#include <stdint.h>

#include "err.h"

/* Defaults of the service (imap-sync(1) documents them). */
#define MF_IMAPIDLE_BACKOFF_MIN_MS   1000
#define MF_IMAPIDLE_BACKOFF_MAX_MS   (5 * 60 * 1000)
/* Every IDLE is ended and a NOOP sent this often: a connection that went
 * silent (NAT table dropped, peer gone) is found within the interval plus
 * the probe timeout, well under two minutes; and IDLE is re-issued long
 * before RFC 2177's 29 minutes. */
#define MF_IMAPIDLE_KEEPALIVE_MS     (60 * 1000)
#define MF_IMAPIDLE_PROBE_TIMEOUT_MS (30 * 1000)
/* RFC 2177 §3: a server may end an IDLE inactive for 30 minutes; IDLE is
 * re-issued at least this often whatever --keepalive asks. */
#define MF_IMAPIDLE_REISSUE_MAX_MS   (25 * 60 * 1000)
#define MF_IMAPIDLE_POLL_MS          (5 * 60 * 1000)
#define MF_IMAPIDLE_CONNECTIONS      4
#define MF_IMAPIDLE_CONNECTIONS_MAX  64
/* A jump of the clocks larger than this is a suspend or a clock change. */
#define MF_IMAPIDLE_JUMP_MS          5000
/* Local changes: wait for this much quiet, but never longer than max. */
#define MF_IMAPIDLE_DEBOUNCE_MS      1000
#define MF_IMAPIDLE_DEBOUNCE_MAX_MS  5000

/* ---- reconnect delays ---- */

struct mf_backoff {
	int min_ms, max_ms;     /* first delay, cap */
	unsigned attempt;       /* failed attempts since the last success */
};

/* The delay before the next attempt: min_ms doubled per failed attempt,
 * capped at max_ms, then jittered down by up to a half from the random
 * value rnd (so many clients restarted together do not return together),
 * never below min_ms.  Counts the attempt. */
int mf_backoff_next(struct mf_backoff *b, uint32_t rnd);
/* A connection worked: the next failure starts from min_ms again. */
void mf_backoff_reset(struct mf_backoff *b);

/* 1 when an error of this kind will not go away by retrying and needs a
 * person (credentials refused, certificate not trusted, configuration,
 * usage, local disk, missing server features, bugs); 0 for what a
 * restarted server or a changed network explains. */
int mf_imapidle_fatal(enum mf_err_kind kind);

/* The interval between two probes of an idle connection (which also
 * re-issue IDLE) for a requested one in ms: the default for 0 or less,
 * and never above MF_IMAPIDLE_REISSUE_MAX_MS. */
int mf_imapidle_keepalive_ms(int asked_ms);

/* ---- clocks ---- */

/* Milliseconds on each clock at one moment.  CLOCK_MONOTONIC stops while
 * the system is suspended; CLOCK_BOOTTIME does not; CLOCK_REALTIME is the
 * wall clock and may be set. */
struct mf_clocks {
	int64_t mono, boot, real;
};

void mf_clocks_now(struct mf_clocks *c);
/* Milliseconds the system slept or the wall clock jumped between two
 * samples (the larger, as a positive number), 0 when below threshold_ms. */
int64_t mf_clocks_jump(const struct mf_clocks *before,
                       const struct mf_clocks *after, int64_t threshold_ms);

/* ---- debouncing ---- */

struct mf_debounce {
	int64_t first, last;    /* ms of the first and latest event; 0: none */
};

/* An event at now_ms. */
void mf_debounce_note(struct mf_debounce *d, int64_t now_ms);
/* 1 (and reset) when events are pending and either quiet_ms passed since
 * the latest or max_ms since the first; else 0.  *wait_ms, when not NULL,
 * is lowered to the time until it will be due. */
int mf_debounce_due(struct mf_debounce *d, int64_t now_ms, int quiet_ms,
                    int max_ms, int *wait_ms);

#endif
