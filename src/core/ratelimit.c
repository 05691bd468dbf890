/* ratelimit.c - token buckets with AIMD. */
#include "ratelimit.h"

#include <math.h>
#include <stdlib.h>

#define AIMD_DOWN  0.7
#define AIMD_UP    0.05 /* of the target rate, per second */
#define AIMD_FLOOR 0.1  /* never below 10 % of the target */

/* A late caller (the loop woke a little after a token was due) keeps the
 * cadence if it is at most this late, so polling granularity does not eat
 * into the rate; later than that, the schedule restarts from now. */
#define CADENCE_SLACK_MS 5.0

/* ZIM counts its per-second quotas over one second. */
#define SHARE_GAIN_DELAY_MS 1000

/* GCRA ("virtual scheduling"): the next call is due at tat; with burst b,
 * it may come (b - 1) intervals early. */
struct ratelimit {
    double limit, headroom, burst;
    double target;      /* limit x share x (1 - headroom) */
    double rate;        /* current, <= target */
    double pending;     /* a higher target, from pending_at on */
    int64_t pending_at; /* 0: nothing pending */
    double tat;         /* theoretical arrival time of the next call, ms */
    int64_t last_ms;    /* last AIMD recovery step */
};

struct ratelimit *ratelimit_new(double limit, double burst, double headroom)
{
    struct ratelimit *rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return NULL;
    rl->limit = limit;
    rl->burst = burst < 1 ? 1 : burst;
    rl->headroom = headroom;
    rl->target = rl->rate = limit * (1 - headroom);
    rl->tat = -1e18;
    rl->last_ms = -1;
    return rl;
}

void ratelimit_destroy(struct ratelimit *rl)
{
    free(rl);
}

static void set_target(struct ratelimit *rl, double target)
{
    double old = rl->target;
    rl->target = target;
    /* Keep the AIMD state proportionally. */
    rl->rate = old > 0 ? rl->rate * rl->target / old : rl->target;
}

/* Additive recovery after a throttle; a share gained takes effect. */
static void recover(struct ratelimit *rl, int64_t now)
{
    if (rl->pending_at && now >= rl->pending_at) {
        set_target(rl, rl->pending);
        rl->pending_at = 0;
    }
    if (rl->last_ms < 0)
        rl->last_ms = now;
    double dt = (double)(now - rl->last_ms) / 1000.0;
    if (dt <= 0)
        return;
    rl->last_ms = now;
    if (rl->rate < rl->target) {
        rl->rate += rl->target * AIMD_UP * dt;
        if (rl->rate > rl->target)
            rl->rate = rl->target;
    }
}

void ratelimit_set_share(struct ratelimit *rl, double share, int64_t now_ms)
{
    recover(rl, now_ms);
    double target = rl->limit * share * (1 - rl->headroom);
    rl->pending_at = 0;
    if (target > rl->target) {
        /* Partitions gained: their previous owner may have used their
         * share of the quota in the last second. Take it over only once
         * that second has passed; a lower share applies at once. */
        rl->pending = target;
        rl->pending_at = now_ms + SHARE_GAIN_DELAY_MS;
        return;
    }
    set_target(rl, target);
}

bool ratelimit_take(struct ratelimit *rl, int64_t now_ms)
{
    if (rl->limit <= 0)
        return true;
    recover(rl, now_ms);
    if (rl->rate <= 0)
        return false;
    double interval = 1000.0 / rl->rate, now = (double)now_ms;
    if (now < rl->tat - (rl->burst - 1) * interval)
        return false;
    if (rl->tat < now - CADENCE_SLACK_MS)
        rl->tat = now;
    rl->tat += interval;
    return true;
}

int64_t ratelimit_wait_ms(struct ratelimit *rl, int64_t now_ms)
{
    if (rl->limit <= 0)
        return 0;
    recover(rl, now_ms);
    if (rl->rate <= 0)
        return rl->pending_at ? rl->pending_at - now_ms : -1;
    double due = rl->tat - (rl->burst - 1) * 1000.0 / rl->rate;
    return due <= (double)now_ms ? 0 : (int64_t)ceil(due - (double)now_ms);
}

void ratelimit_throttled(struct ratelimit *rl, int64_t now_ms)
{
    recover(rl, now_ms);
    rl->rate *= AIMD_DOWN;
    if (rl->rate < rl->target * AIMD_FLOOR)
        rl->rate = rl->target * AIMD_FLOOR;
    rl->tat = (double)now_ms + 1000.0 / rl->rate; /* and pause a beat */
}

double ratelimit_goal(const struct ratelimit *rl)
{
    if (rl->limit <= 0)
        return 0;
    return rl->pending_at ? rl->pending : rl->target;
}

double ratelimit_rate(const struct ratelimit *rl)
{
    return rl->limit <= 0 ? 0 : rl->rate;
}
