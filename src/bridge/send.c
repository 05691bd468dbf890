/* send.c - choosing, packing and sending ZIM calls, and what each answer
 * means for the jobs a call carried. A ready job goes when the commit
 * window, the breaker, the quota and (broadcasts) the daily window let
 * it. A SendPeerMessage call takes along the other ready events that
 * are identical but for ToUserId (core/pack.h): they gather only while
 * they wait anyway, so packing adds no latency while the quota is not
 * the bottleneck. */
#define LOG_COMPONENT "send"
#include "send.h"

#include "call.h"
#include "tracing.h"

#include "action.h"
#include "clock.h"
#include "log.h"
#include "offsets.h"
#include "pack.h"
#include "rng.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sender {
    const struct config *cfg;
    struct jobsched *sched;
    struct kafka_in *ki;
    struct zim_client *zc;
    struct metrics *m;
    struct flow *flow;
    struct send_hooks hooks;
    struct jlist inflight;   /* jobs in calls in flight */
    struct call *free_calls; /* calls answered, kept for reuse */
    uint64_t rng;            /* retry jitter */
    bool stopping;
    struct tracing *tracing; /* NULL: off */
    /* Bumped when a job comes, goes or is queued again: which jobs are
     * ready, and which of them hold back commits, change only then. A
     * search for a job the window lets go that found none is not repeated
     * before this or the window moves. */
    uint64_t epoch, searched[ZB_ACTION_COUNT];
    int64_t searched_window[ZB_ACTION_COUNT], searched_limit[ZB_ACTION_COUNT];
};

static void free_calls(struct sender *s);

struct sender *sender_new(const struct config *cfg, struct jobsched *sched,
                          struct kafka_in *ki, struct metrics *m,
                          struct flow *flow, const struct send_hooks *hooks)
{
    struct sender *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->cfg = cfg;
    s->sched = sched;
    s->ki = ki;
    s->m = m;
    s->flow = flow;
    s->hooks = *hooks;
    if (rng_secure(&s->rng, sizeof(s->rng)) == -1)
        s->rng = (uint64_t)clock_wall_us(); /* jitter only: not a secret */
    s->rng |= 1;
    return s;
}

void sender_attach(struct sender *s, struct zim_client *zc)
{
    s->zc = zc;
}

void sender_set_tracing(struct sender *s, struct tracing *t)
{
    s->tracing = t;
}

void sender_destroy(struct sender *s)
{
    if (s == NULL)
        return;
    free_calls(s);
    free(s);
}

void sender_requeue(struct sender *s, struct job *j)
{
    /* A job back to the scheduler may be the one a blocked window waits
     * for: the search for one may find it now (epoch). */
    s->epoch++;
    jobsched_requeue(s->sched, &j->sn);
}

void sender_jobs_changed(struct sender *s)
{
    s->epoch++;
}

void sender_stop(struct sender *s)
{
    s->stopping = true;
}

struct jlist *sender_inflight(struct sender *s)
{
    return &s->inflight;
}

/* ---- the commit window ---- */

/* The commit window (offsets.h): records sent to ZIM and not recorded by
 * a commit, at most its limit now. */
static struct offsets_window window_now(const struct sender *s)
{
    return (struct offsets_window){.used = kafka_in_window(s->ki),
                                   .max = kafka_in_window_limit(s->ki),
                                   .partitions = kafka_in_assigned(s->ki)};
}

static struct offsets_cand cand_of(struct sender *s, const struct job *j)
{
    return (struct offsets_cand){.sent_before = j->first_send_ms != 0,
                                 .holds_commit =
                                     kafka_in_holds_commit(s->ki, &j->ticket)};
}

/* The ready jobs of one action, best first, with what the window knows
 * of them: the candidates offsets_choose() picks from. */
struct ready_set {
    struct sender *s;
    int action;
    struct job **jobs;
    struct offsets_cand *cands;
    size_t n, cap;
    bool oom;
};

static void add_ready(void *opaque, struct jobsched_node *node)
{
    struct ready_set *r = opaque;
    struct job *j = job_of(node);
    if (r->oom || node->action != r->action || !jobsched_is_ready(node) ||
        (r->n > 0 && r->jobs[0] == j))
        return;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct job **jv = realloc(r->jobs, cap * sizeof(*jv));
        if (jv)
            r->jobs = jv;
        struct offsets_cand *cv = realloc(r->cands, cap * sizeof(*cv));
        if (cv)
            r->cands = cv;
        if (jv == NULL || cv == NULL) {
            r->oom = true;
            return;
        }
        r->cap = cap;
    }
    r->jobs[r->n] = j;
    r->cands[r->n++] = cand_of(r->s, j);
}

/* The next job of action to send: the best ready one, or when the window
 * does not let that one go, the first ready one it lets go (a retry, or
 * a record holding back its partition's commit). NULL: none may go now;
 * a search that found none is not repeated before the jobs or the window
 * change. */
static struct job *next_job(struct sender *s, enum event_kind action)
{
    struct job *best = job_of(jobsched_pop(s->sched, (int)action));
    struct offsets_window w = window_now(s);
    if (best == NULL || offsets_may_send(&w, cand_of(s, best)))
        return best;
    jobsched_requeue(s->sched, &best->sn);
    if (s->searched[action] == s->epoch &&
        s->searched_window[action] == w.used &&
        s->searched_limit[action] == w.max)
        return NULL;
    struct ready_set r = {.s = s, .action = (int)action};
    add_ready(&r, &best->sn);
    jobsched_foreach_held(s->sched, add_ready, &r);
    ptrdiff_t i = r.oom ? -1 : offsets_choose(&w, r.cands, r.n);
    struct job *j = i >= 0 ? r.jobs[i] : NULL;
    free(r.jobs);
    free(r.cands);
    if (j && jobsched_take(s->sched, &j->sn))
        return j;
    s->searched[action] = s->epoch;
    s->searched_window[action] = w.used;
    s->searched_limit[action] = w.max;
    log_debug("%s: window %" PRId64 " of %" PRId64 " (%" PRId64
              " reserved) lets no ready record go",
              event_kind_name(action), w.used, w.max, offsets_reserved(&w));
    return NULL;
}

/* ---- calls ---- */

static struct call *call_get(struct sender *s, enum event_kind kind)
{
    struct call *c = s->free_calls;
    if (c)
        s->free_calls = c->next;
    else if ((c = calloc(1, sizeof(*c))) == NULL)
        return NULL;
    call_reset(c, kind);
    return c;
}

static void call_put(struct sender *s, struct call *c)
{
    c->next = s->free_calls;
    s->free_calls = c;
}

static void free_calls(struct sender *s)
{
    while (s->free_calls) {
        struct call *c = s->free_calls;
        s->free_calls = c->next;
        call_free(c);
        free(c);
    }
}

/* The other ready events of j's group join its call while they fit and
 * the commit window lets each go, oldest first. */
static void pack_more(struct sender *s, struct call *c, const struct job *j)
{
    struct offsets_window w = window_now(s);
    w.used += j->first_send_ms == 0;
    struct jobsched_node *n = jobsched_group_first(s->sched, j->sn.group);
    while (n && c->pc.n < PACK_MAX_RECIPIENTS) {
        struct jobsched_node *next = jobsched_group_next(n);
        struct job *o = job_of(n);
        if (offsets_may_send(&w, cand_of(s, o)) && call_add(c, o)) {
            jobsched_take(s->sched, n);
            w.used += o->first_send_ms == 0;
        }
        n = next;
    }
}

/* Puts the jobs of a call not sent back to the scheduler. */
static void unpack(struct sender *s, struct call *c)
{
    for (size_t i = 0; i < c->n_jobs; i++)
        sender_requeue(s, c->jobs[i]);
    call_put(s, c);
}

static bool dispatch(struct sender *s, struct call *c, int64_t now)
{
    const char *body = NULL;
    size_t len = 0;
    int rc = call_body(c, &body, &len);
    if (rc == 0)
        rc = zim_client_send(s->zc, event_kind_action(c->kind), body, len, c);
    if (rc == ZIM_CLIENT_UNSIGNED) {
        /* Nothing can be sent until this clears: said, counted, and
         * /readyz turns 503. */
        log_error("cannot sign ZIM requests (the secure random source or "
                  "OpenSSL failed): sending is stalled");
        metrics_sign_failed(s->m, true);
    }
    if (rc != 0) {
        unpack(s, c);
        return false;
    }
    metrics_sign_failed(s->m, false);
    c->sent_ms = now;
    c->sent_us = s->tracing ? clock_wall_us() : 0;
    for (size_t i = 0; i < c->n_jobs; i++) {
        struct job *j = c->jobs[i];
        kafka_in_sent(s->ki, &j->ticket);
        jl_push(&s->inflight, j);
        j->attempts++;
        j->calls++;
        j->packed = (int)c->n_jobs;
        j->sent_ms = now;
        if (j->first_send_ms == 0) {
            j->first_send_ms = now;
            j->breaker_open_at_first = breaker_open_ms(&s->flow->breaker, now);
        }
    }
    if (action_of(c->kind)->pack == ACTION_PACK_RECIPIENTS)
        metrics_call(s->m, c->whole ? c->jobs[0]->n_to : c->pc.n, c->n_jobs);
    return true;
}

/* The call for the next ready job of action, packed, or NULL. *wait_ms
 * gets when to look again if a call is held to fill (pack.linger_ms). */
static struct call *make_call(struct sender *s, enum event_kind a, int64_t now,
                              int64_t *wait_ms)
{
    struct job *j = next_job(s, a);
    if (j == NULL)
        return NULL;
    struct call *c = call_get(s, a);
    if (c == NULL) {
        sender_requeue(s, j);
        return NULL;
    }
    if (!call_add(c, j)) {
        /* Its part names a user twice: validation refuses such events,
         * so this is a bug; the event is failed, never sent. */
        call_put(s, c);
        j->verr.code = ZIM_CODE_BAD_PARAM;
        snprintf(j->verr.field, sizeof(j->verr.field), "ToUserId");
        snprintf(j->verr.message, sizeof(j->verr.message),
                 "no call could be built: a recipient is named twice");
        log_error("no call could be built for offset=%" PRId64
                  ": a recipient is named twice",
                  j->rkm->offset);
        s->hooks.finish(s->hooks.ctx, j, OUTCOME_FAILED, FAILURE_VALIDATION,
                        now);
        return NULL;
    }
    if (j->sn.group && s->cfg->pack_enabled)
        pack_more(s, c, j);
    if (pack_linger(j->sn.group != 0, c->pc.n, j->first_send_ms != 0, now,
                    j->received_ms, s->cfg->pack_linger_ms)) {
        unpack(s, c);
        *wait_ms = j->received_ms + s->cfg->pack_linger_ms - now;
        return NULL;
    }
    return c;
}

/* How long a wait the quota, the breaker or the daily window asks for
 * before action a may send; 0: it may now. */
static int64_t gate(struct sender *s, enum event_kind a, int64_t now,
                    int64_t wall)
{
    if (!breaker_allow(&s->flow->breaker, now)) {
        int64_t w = breaker_wait_ms(&s->flow->breaker, now);
        return w > 0 ? w : 1;
    }
    if (action_of(a)->daily && window_full(s->flow->daily, wall)) {
        int64_t at = window_frees_at(s->flow->daily, wall);
        return at > 0 ? at - wall : INT64_MAX;
    }
    return 0;
}

/* next, or now + w if that comes first (w < 0: no wait known; 0 counts
 * as 1 ms, so the loop does not spin). */
static int64_t sooner(int64_t next, int64_t now, int64_t w)
{
    if (w < 0)
        return next;
    w = w > 0 ? w : 1;
    return w < next - now ? now + w : next; /* w may be INT64_MAX */
}

int64_t sender_ready(struct sender *s, int64_t next)
{
    int64_t now = clock_mono_ms(), wall = clock_wall_ms();
    bool paced = false; /* a call under a quota went out */
    for (enum event_kind a = 0; a < EVENT_KIND_COUNT; a++) {
        while (jobsched_has_ready(s->sched, (int)a) &&
               zim_client_capacity(s->zc) > 0) {
            int64_t w = gate(s, a, now, wall);
            if (w > 0) {
                next = sooner(next, now, w);
                if (!breaker_allow(&s->flow->breaker, now))
                    goto out;
                break;
            }
            w = -1;
            struct call *c = make_call(s, a, now, &w);
            if (c == NULL) {
                next = sooner(next, now, w);
                break; /* the window is full (a commit wakes us), or lingering
                        */
            }
            if (!ratelimit_take(s->flow->rl[a], now)) {
                unpack(s, c);
                metrics_quota_wait(s->m, (int)a);
                next =
                    sooner(next, now, ratelimit_wait_ms(s->flow->rl[a], now));
                break;
            }
            if (!dispatch(s, c, now))
                goto out;
            paced = paced || ratelimit_goal(s->flow->rl[a]) > 0;
            if (s->flow->breaker.state == BREAKER_OPEN) {
                breaker_probe_sent(&s->flow->breaker, now);
                log_info("breaker: probing with offset=%" PRId64,
                         c->jobs[0]->rkm->offset);
            }
        }
    }
out:
    /* A paced call leaves now, stamped as it leaves; without quotas the
     * next zim_client_poll() starts the calls (an extra curl pass per
     * turn cost ~5 % of throughput with quotas off). */
    if (paced)
        zim_client_start(s->zc);
    return next;
}

/* ---- answers ---- */

/* Tells the breaker; logs when it opens or closes. */
static void tell_breaker(struct sender *s, const struct zim_result *res,
                         enum breaker_event bev, int64_t now)
{
    if (!breaker_record(&s->flow->breaker, bev, res->code, now))
        return;
    metrics_breaker(s->m, s->flow->breaker.state == BREAKER_OPEN);
    if (s->flow->breaker.state == BREAKER_OPEN)
        log_error("breaker open: %s code=%" PRId64 " (%s); pausing all "
                  "consumption, nothing is dead-lettered until ZIM answers "
                  "again",
                  bev == BREAKER_SYSTEMIC
                      ? "ZIM rejects our credentials or setup"
                      : "ZIM unreachable or failing every call",
                  res->code, res->error[0] ? res->error : res->message);
    else
        log_info("breaker closed: ZIM answers again; resuming");
}

/* The event is over with o and f; a split event's parts are put
 * together first (fail_rest: the recipients not reached failed). */
static void conclude(struct sender *s, struct job *j, enum outcome o,
                     enum failure_class f, bool fail_rest, int64_t now)
{
    if (job_split(j)) {
        enum outcome all = job_settle(j, o, fail_rest);
        if (f == FAILURE_NONE || all == OUTCOME_SENT || all == OUTCOME_PARTIAL)
            f = outcome_failure(all);
        o = all;
    }
    s->hooks.finish(s->hooks.ctx, j, o, f, now);
}

/* A retry verdict: wait and send again, or give up (exhausted). */
static void retry_or_give_up(struct sender *s, struct job *j, int64_t now)
{
    const struct config *c = s->cfg;
    const struct retry_policy p = {c->retry_max_attempts, c->retry_base_ms,
                                   c->retry_max_ms, c->retry_max_elapsed_ms};
    /* Time the breaker was open does not count against the event. */
    int64_t elapsed =
        now - j->first_send_ms -
        (breaker_open_ms(&s->flow->breaker, now) - j->breaker_open_at_first);
    int64_t wait = s->stopping ? -1
                               : outcome_retry_wait(&p, j->attempts, elapsed,
                                                    rng_next(&s->rng));
    if (wait < 0) {
        conclude(s, j, OUTCOME_RETRY, FAILURE_EXHAUSTED, true, now);
        return;
    }
    log_debug("retry in %" PRId64 " ms attempt=%d code=%" PRId64 " err=%s "
              "offset=%" PRId64,
              wait, j->attempts, j->res.code, j->res.error, j->rkm->offset);
    metrics_retry(s->m, (int)j->kind);
    s->hooks.hold(s->hooks.ctx, j, now + wait);
}

/* What j's own answer (j->res) means for it. accepted: ZIM took the call
 * (Code 0), so failures in it are per recipient. */
static void answered(struct sender *s, struct job *j, bool accepted,
                     int64_t now)
{
    enum outcome o = outcome_classify(&j->res, j->kind);
    if (o == OUTCOME_RETRY) {
        retry_or_give_up(s, j, now);
        return;
    }
    if (!job_split(j)) {
        s->hooks.finish(s->hooks.ctx, j, o, outcome_failure(o), now);
        return;
    }
    bool per_recipient = accepted && o != OUTCOME_REJECTED;
    if (per_recipient && job_next_part(j)) {
        j->attempts = 0; /* the next part's own attempts */
        sender_requeue(s, j);
        return;
    }
    conclude(s, j, o, outcome_failure(o), !per_recipient, now);
}

/* One job of an answered call: its part of the answer, then what that
 * means, unless the answer is not about the message. */
static void answer_job(struct sender *s, const struct call *c, struct job *j,
                       struct zim_result *res, struct verdict v, bool accepted,
                       int64_t now)
{
    jl_remove(&s->inflight, j);
    j->answered_ms = now;
    j->latency_ms = (double)(now - j->sent_ms);
    if (j->stale) {
        /* Revoked while in flight: the partition's next owner redoes it. */
        s->hooks.drop(s->hooks.ctx, j);
        return;
    }
    zim_result_free(&j->res);
    if (c->whole) {
        j->res = *res;
        j->res.target = NULL; /* the client's, gone after the call */
        zim_result_init(res); /* the job owns the answer now */
    } else {
        call_part(c, j, res, &j->res);
    }
    if (s->flow->breaker.state == BREAKER_OPEN && v.breaker != BREAKER_OK &&
        v.outcome != OUTCOME_UNKNOWN) {
        /* Not the message's fault: hold it; the attempt does not count.
         * (Not when it may have been sent: that is never sent again.) */
        j->attempts--;
        s->hooks.hold(s->hooks.ctx, j, now);
    } else if (v.throttled) {
        j->attempts--;
        sender_requeue(s, j);
    } else {
        answered(s, j, accepted, now);
    }
}

void sender_done(void *ctx, void *opaque, struct zim_result *res)
{
    struct sender *s = ctx;
    struct call *c = opaque;
    int64_t now = clock_mono_ms();
    if (s->tracing)
        tracing_call(s->tracing, c, res, c->sent_us);
    metrics_latency(s->m, (int)c->kind, (double)(now - c->sent_ms));
    struct verdict v = outcome_judge(res, c->kind);
    bool accepted = res->parsed && res->code == 0;
    tell_breaker(s, res, v.breaker, now);
    if (v.throttled) {
        /* Over ZIM's quota anyway (another client of the AppID?): slow
         * down and try again; this is not the message's fault either. */
        ratelimit_throttled(s->flow->rl[c->kind], now);
        metrics_throttled(s->m, (int)c->kind);
        log_warnx("ZIM throttled %s (code %" PRId64 "): rate now %.2f/s",
                  event_kind_action(c->kind), res->code,
                  ratelimit_rate(s->flow->rl[c->kind]));
    }
    for (size_t i = 0; i < c->n_jobs; i++)
        answer_job(s, c, c->jobs[i], res, v, accepted, now);
    call_put(s, c);
}
