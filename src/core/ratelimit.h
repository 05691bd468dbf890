/* ratelimit.h - token buckets keeping each ZIM action under its quota
 * (broadcast's daily quota is a rolling window, window.h).
 * Pure: the caller passes the time; no clock, no I/O, no locks.
 *
 * A bucket's rate is limit x share x (1 - headroom), where share is this
 * replica's part of the topic's partitions; it is recomputed on every
 * rebalance. On ZIM's "too fast" (code 7) the rate drops multiplicatively
 * (x0.7) and then recovers additively (+5 % of the target per second). */
#ifndef ZB_RATELIMIT_H
#define ZB_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;

/* limit: calls per second (0: unlimited). burst: tokens that may pile up
 * (at least 1). */
struct ratelimit *ratelimit_new(double limit, double burst, double headroom);
void ratelimit_destroy(struct ratelimit *rl); /* NULL: no-op */
/* This replica's share of the quota, 0..1. A lower share applies at
 * once; a higher one one second later (the previous owner of the gained
 * partitions may have used their share in the last second). */
void ratelimit_set_share(struct ratelimit *rl, double share, int64_t now_ms);
/* true: go, a token was taken. */
bool ratelimit_take(struct ratelimit *rl, int64_t now_ms);
/* ms until a token will be there (0: now; -1: never, rate is 0). */
int64_t ratelimit_wait_ms(struct ratelimit *rl, int64_t now_ms);
/* ZIM said too fast: back off (AIMD). */
void ratelimit_throttled(struct ratelimit *rl, int64_t now_ms);
double ratelimit_rate(const struct ratelimit *rl); /* current calls/s */
/* The calls/s the share sets: the current target, or a gained share's
 * once its second has passed. 0 when unlimited. */
double ratelimit_goal(const struct ratelimit *rl);

#endif
