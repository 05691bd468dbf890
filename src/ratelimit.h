/* ratelimit.h - token buckets keeping each ZIM action under its quota,
 * plus the rolling window for broadcast's daily quota.
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

/* A rolling window: at most `limit` events per `window_ms`. */
struct window;
struct window *window_new(int64_t limit, int64_t window_ms);
void window_destroy(struct window *w);
/* Scales the limit by share (replicas split the daily quota). */
void window_set_share(struct window *w, double share);
bool window_full(const struct window *w, int64_t now_ms);
/* When the oldest event leaves the window (0 if not full). */
int64_t window_frees_at(const struct window *w, int64_t now_ms);
void window_add(struct window *w, int64_t at_ms);
int64_t window_count(const struct window *w, int64_t now_ms);
int64_t window_limit(const struct window *w);

#endif
