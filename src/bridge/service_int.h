/* service_int.h - what the service's two files share: the state of the
 * loop (service.c: consuming, outcomes, the loop) and of sending
 * (send.c: choosing, packing and sending calls, judging answers). Not
 * for other modules: service.h is the interface. */
#ifndef ZB_SERVICE_INT_H
#define ZB_SERVICE_INT_H

#include "breaker.h"
#include "call.h"
#include "config.h"
#include "event.h"
#include "http_server.h"
#include "job.h"
#include "jobsched.h"
#include "kafka_in.h"
#include "kafka_out.h"
#include "metrics.h"
#include "outcome.h"
#include "ratelimit.h"
#include "rotate.h"
#include "window.h"
#include "zim_client.h"

#include <stdbool.h>
#include <stdint.h>

struct jlist {
    struct job *head, *tail;
    int n;
};

struct service {
    const struct config *cfg;
    struct event_limits lim;
    struct kafka_in *ki;
    struct kafka_out *ko;
    struct zim_client *zc;
    int wake[2];
    struct jobsched *sched;
    struct jlist waiting, inflight, done;
    int n_jobs;
    int max_jobs;
    uint64_t rng;
    bool stopping;
    struct ratelimit *rl[EVENT_KIND_COUNT];
    struct window *daily; /* broadcast calls in the rolling window */
    struct breaker breaker;
    bool daily_paused; /* the broadcast window is full */
    struct metrics *m;
    struct http_server *http;
    int64_t next_lag_ms;
    int64_t last_poll_ms;
    /* Bumped when a job comes, goes or is queued again: which jobs are
     * ready, and which of them hold back commits, change only then. A
     * search for a job the window lets go that found none is not repeated
     * before this or the window moves. */
    uint64_t epoch, searched[EVENT_KIND_COUNT];
    int64_t searched_window[EVENT_KIND_COUNT], searched_limit[EVENT_KIND_COUNT];
    struct call *free_calls; /* calls answered, kept for reuse */
    struct job_pool jobs;    /* freed jobs, kept for reuse */
    struct rotate rotate;    /* secret files watched */
};

/* A job is in at most one list. */
void jl_push(struct jlist *l, struct job *j);
void jl_remove(struct jlist *l, struct job *j);

/* service.c */
uint64_t service_rnd(struct service *s);
/* l: the list j is in, or NULL when only the scheduler holds it. */
void service_drop(struct service *s, struct jlist *l, struct job *j);
/* Back to the scheduler (sent again, or first sent, later). */
void service_requeue(struct service *s, struct job *j);
/* Waits in the waiting list until due (mono ms). */
void service_hold(struct service *s, struct job *j, int64_t due);
/* The event is over: its records are built and produced. */
void service_finish(struct service *s, struct job *j, enum outcome o,
                    enum failure_class f, int64_t now);

/* send.c */
/* Sends what the commit window, the breaker, the quotas and the daily
 * broadcast window allow, packing peer events. Returns when to look
 * again (mono ms, at most next). */
int64_t send_ready(struct service *s, int64_t now, int64_t next);
/* zim_client's callback: a call's answer, for each job it carried. */
void send_done(void *ctx, void *opaque, struct zim_result *res);
/* The calls kept for reuse are freed. */
void send_free_calls(struct service *s);

#endif
