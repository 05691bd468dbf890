/* send.h - the send path: which ready events go now (the commit window,
 * the breaker, the quotas, the daily window), packed into calls (core/
 * pack.h), sent through io/zim_client, and what each answer means for the
 * events a call carried (core/outcome.h). The loop (service.c) calls down
 * into it; it reports back only through the hooks, never into the loop's
 * lists: one direction.
 *
 * It owns the calls in flight (and the jobs in them) and the calls kept
 * for reuse; the loop owns every other job. The flow-control state
 * (breaker, rate limiters, daily window) is the loop's too, shared
 * through struct flow: the loop pauses topics and publishes gauges from
 * it. */
#ifndef ZB_SEND_H
#define ZB_SEND_H

#include "breaker.h"
#include "config.h"
#include "job.h"
#include "jobsched.h"
#include "kafka_in.h"
#include "metrics.h"
#include "outcome.h"
#include "ratelimit.h"
#include "window.h"
#include "zim_client.h"
#include "zim_proto.h"

#include <stdbool.h>
#include <stdint.h>

/* The flow control both sides read: the loop owns it. */
struct flow {
    struct breaker breaker;
    struct ratelimit *rl[ZB_ACTION_COUNT];
    struct window *daily; /* the daily action's calls (core/action.h) */
};

/* What the send path tells the loop about a job it gives back. */
struct send_hooks {
    void *ctx;
    /* Wait until due (mono ms): a retry's backoff, or held while the
     * breaker is open. */
    void (*hold)(void *ctx, struct job *j, int64_t due);
    /* The event is over: its outcome records are to be produced. */
    void (*finish)(void *ctx, struct job *j, enum outcome o,
                   enum failure_class f, int64_t now);
    /* Answered after its partition was revoked: the next owner redoes it;
     * forget it. */
    void (*drop)(void *ctx, struct job *j);
};

struct sender;

/* NULL when out of memory. The pointers are borrowed for its life. */
struct sender *sender_new(const struct config *cfg, struct jobsched *sched,
                          struct kafka_in *ki, struct metrics *m,
                          struct flow *flow, const struct send_hooks *hooks);
/* The client to send with: made after the sender, whose sender_done() it
 * calls back. */
void sender_attach(struct sender *tx, struct zim_client *zc);
void sender_destroy(struct sender *tx); /* NULL: no-op */
struct tracing;
/* Each answered call gets its client span (bridge/tracing.h); NULL: off. */
void sender_set_tracing(struct sender *tx, struct tracing *t);

/* Sends what the commit window, the breaker, the quotas and the daily
 * window allow, and starts the requests under a quota at once. It reads the
 * clock itself: a quota token is stamped with the time its request leaves, not
 * with the start of a turn that may have spent tens of ms on records.
 * Returns when to look again (mono ms, at most next). */
int64_t sender_ready(struct sender *tx, int64_t next);
/* zim_client's callback (zim_done_fn): a call's answer. */
void sender_done(void *ctx, void *opaque, struct zim_result *res);
/* A job back to the scheduler, to be sent (again). */
void sender_requeue(struct sender *tx, struct job *j);
/* Jobs came or went: a search of the held jobs may find another. */
void sender_jobs_changed(struct sender *tx);
/* Shutting down: nothing is retried any more. */
void sender_stop(struct sender *tx);
/* The jobs in calls in flight (the loop marks, counts and at the end
 * frees them; it removes one with jl_remove() before it frees it). */
struct jlist *sender_inflight(struct sender *tx);

#endif
