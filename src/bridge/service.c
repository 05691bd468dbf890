/* service.c - the main loop. A job is held by the scheduler (queued behind
 * its key, or ready) or is in exactly one list: waiting (retry backoff, or
 * held while the breaker is open), inflight (a ZIM call is out) or done
 * (its records are being delivered). */
#define _GNU_SOURCE   /* pipe2 */
#define LOG_COMPONENT "service"
#include "service.h"

#include "breaker.h"
#include "call.h"
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
#include "send.h"
#include "tracing.h"
#include "window.h"
#include "zim_client.h"

#include "action.h"
#include "clock.h"
#include "dlq.h"
#include "fault.h"
#include "history.h"
#include "ledger.h"
#include "log.h"
#include "pack.h"
#include "rng.h"
#include "utf8.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PRODUCE_RETRY_MS 500

/* The loop's state. A job is held by the scheduler (queued behind its
 * key, or ready), is in a call in flight (the send path's), or is in one
 * of the lists here: waiting (retry backoff, or held while the breaker is
 * open) or done (its records are being delivered). */
struct service {
    const struct config *cfg;
    struct event_limits lim;
    struct kafka_in *ki;
    struct kafka_out *ko;
    struct zim_client *zc;
    struct sender *tx; /* the send path (send.h) */
    int wake[2];
    struct jobsched *sched;
    struct jlist waiting, done;
    int n_jobs;
    int max_jobs;
    bool stopping;
    struct flow flow;  /* breaker, quotas, daily window: shared with tx */
    bool daily_paused; /* the daily window is full */
    struct metrics *m;
    struct http_server *http;
    int64_t next_lag_ms;
    int64_t last_poll_ms;
    struct job_pool jobs;          /* freed jobs, kept for reuse */
    struct rotate rotate;          /* secret files watched */
    struct record_mac_key mac;     /* signs broadcast replies (dlq_stamp) */
    struct record_claim_key claim; /* every outcome's claim (the ledger) */
    /* Out of memory (style: a record is never skipped for it): a polled
     * record not yet tracked, or a tracked job not yet scheduled, offered
     * again each turn. While one is held no record is taken after it. */
    rd_kafka_message_t *stalled;
    struct job *unscheduled;
    int64_t stall_since_ms;    /* 0: not stalled */
    struct tracing *tr;        /* NULL: tracing is off */
    int64_t drain_deadline_ms; /* shutdown: spans are flushed until then */
};

/* l: the list j is in, or NULL when only the scheduler holds it. */
static void service_drop(struct service *s, struct jlist *l, struct job *j)
{
    sender_jobs_changed(s->tx);
    if (l)
        jl_remove(l, j);
    jobsched_remove(s->sched, &j->sn);
    job_destroy(&s->jobs, j);
    s->n_jobs--;
}

/* ---- producing the outcome ---- */

/* A DLQ record refused as too large (by the producer's message.max.bytes
 * or the DLQ topic's max.message.bytes) would be refused forever and hold
 * its partition: cut its value in half and try again at once. */
static bool cut_if_too_large(struct job_record *r, rd_kafka_resp_err_t e)
{
    if (e != RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || r->topic != TOPIC_DLQ ||
        dlq_cut(&r->value, r->hdrs, r->job->rkm->len) == -1)
        return false;
    log_warnx("the DLQ record of offset=%" PRId64 " is too large for Kafka: "
              "cut to %zu bytes of value (zim.value.truncated); raise the "
              "DLQ topic's max.message.bytes to keep such records whole",
              r->job->rkm->offset, r->value.len);
    r->retry_at_ms = clock_mono_ms();
    return true;
}

/* Adds zim.record.claim: which input record this outcome is for, as the
 * ledger reads it back after a crash (ledger.h). 0 or -1. */
static int claim(struct service *s, rd_kafka_headers_t *h,
                 const struct job_record *r, int64_t wall_ms)
{
    const struct job *j = r->job;
    const char *topic = rd_kafka_topic_name(j->rkm->rkt);
    struct record_claim c = {.ms = wall_ms,
                             .failed = j->failure != FAILURE_NONE,
                             .partition = j->rkm->partition,
                             .offset = j->rkm->offset,
                             .topic = topic,
                             .topic_len = strlen(topic)};
    char v[RECORD_CLAIM_MAX]; /* an input's own was stripped (dlq.c) */
    return record_claim_sign(&s->claim, dlq_mac_kind(r->topic), &c, v) == 0 &&
                   rd_kafka_header_add(h, RECORD_CLAIM_HEADER, -1, v, -1) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR
               ? 0
               : -1;
}

static void produce(struct service *s, struct job_record *r, int64_t now)
{
    struct job *j = r->job;
    char err[256];
    /* Signed: the replies of the action with a daily quota, the records
     * the broadcast history trusts (history.h). Signing every record cost
     * 12 % more instructions per event (scripts/bench instructions). */
    bool sign = r->topic == TOPIC_REPLY && action_of(j->kind)->daily;
    rd_kafka_headers_t *h =
        r->hdrs ? rd_kafka_headers_copy(r->hdrs) : rd_kafka_headers_new(2);
    int64_t wall = clock_wall_ms();
    r->retry_at_ms = 0;
    /* A record that cannot be stamped still goes out (its outcome must
     * not be lost); only the broadcast history or the ledger will not
     * count it. */
    if (sign && h && dlq_stamp(h, &s->mac, r->topic, wall, &r->value) == -1)
        log_error("the %s record of offset=%" PRId64 " could not be signed "
                  "(zim.record.mac)",
                  dlq_mac_kind(r->topic), j->rkm->offset);
    if (h && claim(s, h, r, wall) == -1)
        log_error("the %s record of offset=%" PRId64 " could not be signed "
                  "(%s): a crash may send its event again",
                  dlq_mac_kind(r->topic), j->rkm->offset, RECORD_CLAIM_HEADER);
    if (s->tr)
        tracing_produce(s->tr, r, h);
    rd_kafka_resp_err_t e = kafka_out_produce(
        s->ko, s->cfg->topic[r->topic], j->rkm->key, j->rkm->key_len,
        r->value.data, r->value.len, h, r, err, sizeof(err));
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR || cut_if_too_large(r, e))
        return;
    /* Queue full or topic unknown: keep the record, try again later. */
    log_warnx("produce to %s failed, retrying: %s topic=%s partition=%d "
              "offset=%" PRId64,
              s->cfg->topic[r->topic], err, rd_kafka_topic_name(j->rkm->rkt),
              (int)j->rkm->partition, j->rkm->offset);
    r->retry_at_ms = now + PRODUCE_RETRY_MS;
}

/* Builds the job's next outcome record (reply or DLQ) and produces it. A
 * record that could not be built is not produced: that would publish a
 * broken value. dlq_reply() and dlq_record() fail only if Kafka's header
 * API does, since every value they build is bounded below the buffer. */
static void add_record(struct service *s, struct job *j, int topic, int64_t now)
{
    struct job_record *r = &j->out[j->n_out++];
    r->job = j;
    r->topic = topic;
    buf_init(&r->value, (size_t)s->cfg->max_record_bytes * 2 + 65536);
    int rc = topic == TOPIC_REPLY
                 ? dlq_reply(j, s->cfg, &r->value, &r->hdrs)
                 : dlq_record(j, s->cfg, clock_wall_ms(), &r->value, &r->hdrs);
    if (rc == -1) {
        log_error("the %s record of offset=%" PRId64 " could not be built: "
                  "not written topic=%s partition=%d",
                  topic == TOPIC_REPLY ? "reply" : "dlq", j->rkm->offset,
                  rd_kafka_topic_name(j->rkm->rkt), (int)j->rkm->partition);
        metrics_produce_failed(s->m, topic);
        r->acked = true; /* nothing to wait for */
        return;
    }
    produce(s, r, now);
}

static void service_finish(struct service *s, struct job *j, enum outcome o,
                           enum failure_class f, int64_t now)
{
    j->outcome = o;
    j->failure = f;
    j->finished_ms = now;
    /* Its key's next record may go now (its reply need not be out). */
    jobsched_remove(s->sched, &j->sn);
    if (action_of(j->kind)->daily && o == OUTCOME_SENT)
        window_add(s->flow.daily, clock_wall_ms());
    dlq_describe(j);
    jl_push(&s->done, j);
    add_record(s, j, TOPIC_REPLY, now);
    /* Rejected by moderation: a replay would be rejected again. */
    if (f != FAILURE_NONE)
        add_record(s, j, TOPIC_DLQ, now);
    metrics_outcome(s->m, (int)j->kind, outcome_status(o, f), j->code);
    log_debug("outcome status=%s code=%" PRId64 " attempts=%d topic=%s "
              "partition=%d offset=%" PRId64,
              f == FAILURE_NONE ? outcome_name(o) : outcome_failure_name(f),
              j->code, j->attempts, rd_kafka_topic_name(j->rkm->rkt),
              (int)j->rkm->partition, j->rkm->offset);
}

static void on_delivery(void *ctx, void *opaque, rd_kafka_resp_err_t err,
                        const char *errstr)
{
    struct service *s = ctx;
    struct job_record *r = opaque;
    struct job *j = r->job;
    if (err)
        metrics_produce_failed(s->m, r->topic);
    else
        metrics_produced(s->m, r->topic);
    if (err && cut_if_too_large(r, err))
        return;
    if (err) {
        /* Never dropped: produced again until Kafka takes it. */
        log_warnx("delivery to %s failed, retrying: %s offset=%" PRId64,
                  r->topic == TOPIC_REPLY ? "reply" : "dlq", errstr,
                  j->rkm->offset);
        r->retry_at_ms = clock_mono_ms() + PRODUCE_RETRY_MS;
        return;
    }
    r->acked = true;
    if (s->tr)
        tracing_acked(s->tr, r);
}

static void service_hold(struct service *s, struct job *j, int64_t due)
{
    j->due_ms = due;
    jl_push(&s->waiting, j);
}

/* ---- consuming ---- */

/* Out of memory taking the record at rkm: said once per stall. */
static void stall(struct service *s, const rd_kafka_message_t *rkm, int64_t now)
{
    if (s->stall_since_ms)
        return;
    s->stall_since_ms = now ? now : 1;
    metrics_memory_stall(s->m);
    log_warnx("out of memory taking topic=%s partition=%d offset=%" PRId64
              ": no record is taken after it until it is (nothing skipped)",
              rd_kafka_topic_name(rkm->rkt), (int)rkm->partition, rkm->offset);
}

/* Prepares and schedules a valid job. false: out of memory (the job is
 * then in s->unscheduled, to be offered again). */
static bool schedule(struct service *s, struct job *j, int64_t now)
{
    bool pack = s->cfg->pack_enabled;
    if (action_of(j->kind)->pack == ACTION_PACK_RECIPIENTS && j->to == NULL) {
        int rc = job_prepare_peer(j, pack);
        if (rc == JOB_PREP_TOO_LARGE) {
            /* This event can never go: dead-letter it, move on. */
            snprintf(j->verr.field, sizeof(j->verr.field), "ToUserId");
            j->verr.code = ZB_CODE_CANNOT_SPLIT;
            snprintf(j->verr.message, sizeof(j->verr.message),
                     "%zu recipients need several calls, and the rest of "
                     "the request, written again, is over the record's size "
                     "plus 64 bytes: send it in events of at most %d "
                     "recipients",
                     j->n_to, PACK_MAX_RECIPIENTS);
            service_finish(s, j, OUTCOME_FAILED, FAILURE_VALIDATION, now);
            return true;
        }
        if (rc == JOB_PREP_NO_MEMORY) {
            s->unscheduled = j;
            stall(s, j->rkm, now);
            return false;
        }
    }
    struct jobsched_key k = job_key(j);
    if (fault_fail(FAULT_SCHED) ||
        jobsched_add(s->sched, &j->sn, (int)j->kind, j->ev.priority,
                     pack && j->rest ? pack_hash(j->rest, j->rest_len) : 0,
                     &k) == -1) {
        s->unscheduled = j;
        stall(s, j->rkm, now);
        return false;
    }
    return true;
}

/* Takes one polled record. false: out of memory before it was tracked;
 * the caller keeps rkm and offers it again. A job that could not be
 * scheduled is kept in s->unscheduled (true is returned: rkm is taken). */
static bool on_record(struct service *s, rd_kafka_message_t *rkm, int64_t now)
{
    int role = kafka_in_topic_role(s->ki, rkm);
    if (role < 0) {
        rd_kafka_message_destroy(rkm);
        return true;
    }
    struct job *j = job_new(&s->jobs, rkm, (enum event_kind)role, now);
    if (j == NULL) {
        stall(s, rkm, now);
        return false;
    }
    int tracked = kafka_in_track(s->ki, rkm, &j->ticket);
    if (tracked != 0) {
        j->rkm = NULL; /* the caller's again, or freed below */
        job_destroy(&s->jobs, j);
        if (tracked == KAFKA_IN_NO_MEMORY) {
            stall(s, rkm, now);
            return false;
        }
        /* Not ours (any more): its next owner will get it. */
        rd_kafka_message_destroy(rkm);
        return true;
    }
    metrics_consumed(s->m, role);
    if (s->tr)
        tracing_received(s->tr, j);
    s->n_jobs++;
    sender_jobs_changed(s->tx);
    /* The record's value through its envelope (core/envelope.h), then
     * the request body through the contract. */
    struct envelope_body body;
    if (envelope_decode(j->envelope, rkm->payload, rkm->len, &body, &j->verr) ==
            0 &&
        event_parse(&j->ev, j->kind, body.data, body.len, &s->lim, &j->verr) ==
            0) {
        j->body = body.data;
        j->body_len = body.len;
        j->valid = true;
        schedule(s, j, now);
    } else {
        service_finish(s, j, OUTCOME_FAILED, FAILURE_VALIDATION, now);
    }
    return true;
}

/* Offers again what a stall holds, in order. true when nothing is held
 * any more (records may be taken). */
static bool unstall(struct service *s, int64_t now)
{
    struct job *j = s->unscheduled;
    s->unscheduled = NULL;
    if (j && !schedule(s, j, now))
        return false;
    rd_kafka_message_t *rkm = s->stalled;
    s->stalled = NULL;
    if (rkm && !on_record(s, rkm, now)) {
        s->stalled = rkm;
        return false;
    }
    if (s->unscheduled)
        return false;
    if (s->stall_since_ms) {
        log_info("memory again: taking records after a %" PRId64 " ms stall",
                 now - s->stall_since_ms);
        s->stall_since_ms = 0;
    }
    return true;
}

struct revoked {
    struct service *s;
    int topic;
    int32_t partition; /* -1: every partition */
};

static void drop_held(void *opaque, struct jobsched_node *n)
{
    struct revoked *r = opaque;
    struct job *j = job_of(n);
    if (r->partition < 0 ||
        (j->ticket.topic == r->topic && j->ticket.partition == r->partition))
        service_drop(r->s, NULL, j);
}

static void on_revoke(void *opaque, int topic, int32_t partition)
{
    struct service *s = opaque;
    struct revoked r = {s, topic, partition};
    jobsched_foreach_held(s->sched, drop_held, &r);
    struct job *u = s->unscheduled;
    if (u && u->ticket.topic == topic && u->ticket.partition == partition) {
        s->unscheduled = NULL;
        service_drop(s, NULL, u);
    }
    for (struct job *j = s->waiting.head, *n; j; j = n) {
        n = j->next;
        if (j->ticket.topic == topic && j->ticket.partition == partition)
            service_drop(s, &s->waiting, j);
    }
    struct jlist *mark[] = {sender_inflight(s->tx), &s->done};
    for (int k = 0; k < 2; k++)
        for (struct job *j = mark[k]->head; j; j = j->next)
            if (j->ticket.topic == topic && j->ticket.partition == partition)
                j->stale = true;
}

/* Jobs of partitions being given up that are in flight, or whose
 * outcomes are not yet in Kafka. */
static int revoking_jobs(struct service *s)
{
    int n = 0;
    struct jlist *lists[] = {sender_inflight(s->tx), &s->done};
    for (int k = 0; k < 2; k++)
        for (struct job *j = lists[k]->head; j; j = j->next)
            n += kafka_in_revoking(s->ki, &j->ticket);
    return n;
}

static void drain_wake(struct service *s);
static void take_finished(struct service *s, int64_t now);

/* An orderly rebalance takes partitions away: let their calls in flight
 * finish and their outcomes reach Kafka, so the commit before the
 * hand-over covers them and their next owner does not send them again.
 * Nothing new is sent meanwhile; at most shutdown.drain_ms. What is left
 * then is redone by the next owner, as after a crash. */
/* Newly assigned partitions: the ledger names what finished above their
 * commits before any of their records is sent. */
static void on_assigned(void *opaque, struct kafka_in *ki,
                        const struct kafka_in_recovery *parts, size_t n)
{
    struct service *s = opaque;
    ledger_recover(s->cfg, &s->claim, ki, parts, n, s->m, NULL);
}

static void on_revoking(void *opaque)
{
    struct service *s = opaque;
    if (s->stopping)
        return; /* shutdown_drain() has had its turn */
    int64_t t0 = clock_mono_ms(), deadline = t0 + s->cfg->drain_ms;
    int n0 = revoking_jobs(s), n = n0;
    while (n > 0 && clock_mono_ms() < deadline) {
        zim_client_poll(s->zc, 10, s->wake, 1);
        drain_wake(s);
        take_finished(s, clock_mono_ms());
        n = revoking_jobs(s);
    }
    if (n0)
        log_info("rebalance: finished %d of %d calls in flight for the "
                 "partitions given up in %" PRId64 " ms",
                 n0 - n, n0, clock_mono_ms() - t0);
}

/* ---- the loop ---- */

/* log.slow_ms: where the time of a slow record went, from its produce
 * time (the record's timestamp) to its outcome acknowledged by Kafka. */
static void log_if_slow(const struct service *s, const struct job *j,
                        int64_t now)
{
    rd_kafka_timestamp_type_t tt;
    int64_t created = rd_kafka_message_timestamp(j->rkm, &tt);
    int64_t wall = clock_wall_ms(), total = wall - created;
    if (created <= 0 || total < s->cfg->slow_ms)
        return;
    /* Mono ms to wall ms: the record was fetched at received_ms. */
    int64_t fetched = wall - (now - j->received_ms);
    log_info(
        "slow record: %" PRId64 " ms from produce to outcome in Kafka: "
        "fetched after %" PRId64 " ms, waited %" PRId64 " ms to be "
        "sent, ZIM %" PRId64 " ms, %d attempts, outcome written in %" PRId64
        " ms topic=%s partition=%d offset=%" PRId64,
        total, fetched - created,
        j->first_send_ms ? j->first_send_ms - j->received_ms : 0,
        j->first_send_ms ? j->answered_ms - j->first_send_ms : 0, j->attempts,
        now - j->finished_ms, rd_kafka_topic_name(j->rkm->rkt),
        (int)j->rkm->partition, j->rkm->offset);
}

static void sweep_done(struct service *s, int64_t now)
{
    for (struct job *j = s->done.head, *n; j; j = n) {
        n = j->next;
        bool all = true;
        for (int i = 0; i < j->n_out; i++) {
            struct job_record *r = &j->out[i];
            if (r->retry_at_ms && r->retry_at_ms <= now)
                produce(s, r, now);
            all = all && r->acked;
        }
        if (all) {
            if (s->cfg->slow_ms > 0)
                log_if_slow(s, j, now);
            if (!j->stale)
                kafka_in_done(s->ki, &j->ticket);
            if (!j->stale && s->tr)
                tracing_done(s->tr, j);
            service_drop(s, &s->done, j);
        }
    }
}

/* Serves delivery reports, then lets go the jobs whose outcomes are all
 * in Kafka (the next record of each key becomes ready, offsets are
 * stored). */
static void take_finished(struct service *s, int64_t now)
{
    kafka_out_poll(s->ko);
    sweep_done(s, now);
}

static void update_shares(struct service *s, int64_t now)
{
    s->next_lag_ms = 0; /* new partitions: refresh their lag at once */
    for (int a = 0; a < EVENT_KIND_COUNT; a++) {
        double share = kafka_in_share(s->ki, a);
        ratelimit_set_share(s->flow.rl[a], share, now);
        if (action_of((enum event_kind)a)->daily)
            window_set_share(s->flow.daily, share);
        if (s->cfg->quota[a] > 0)
            log_info("quota share %s: %.3f -> %.2f calls/s",
                     event_kind_name((enum event_kind)a), share,
                     ratelimit_goal(s->flow.rl[a]));
        else
            log_info("quota share %s: %.3f, no rate limit",
                     event_kind_name((enum event_kind)a), share);
    }
}

/* Which input topics to pause, and why: memory (all), the breaker (all),
 * the broadcast window (broadcast). */
static void apply_pauses(struct service *s)
{
    unsigned mask = 0;
    const unsigned all = (1u << ZB_ACTION_COUNT) - 1;
    /* Memory is bounded by not polling (turn()); pausing, which makes
     * librdkafka drop and refetch what it prefetched, is kept for long
     * stops: the breaker and shutdown. */
    if (s->flow.breaker.state == BREAKER_OPEN || s->stopping)
        mask = all;
    int64_t wall = clock_wall_ms();
    bool full = window_full(s->flow.daily, wall);
    for (int a = 0; full && a < ZB_ACTION_COUNT; a++)
        if (action_of((enum event_kind)a)->daily)
            mask |= 1u << a;
    if (full != s->daily_paused) {
        int64_t at = window_frees_at(s->flow.daily, wall);
        if (full)
            log_warnx("broadcast quota used up (%" PRId64 " per window): "
                      "broadcasts wait, paused for about %" PRId64 " s",
                      window_limit(s->flow.daily),
                      at > 0 ? (at - wall + 999) / 1000 : -1);
        else
            log_info("broadcast quota window has room again: resuming "
                     "broadcasts");
        s->daily_paused = full;
    }
    kafka_in_set_paused(s->ki, mask);
    metrics_paused(s->m, mask);
}

static void on_lag(void *opaque, int role, int32_t partition, int64_t lag)
{
    metrics_lag_set(opaque, role, partition, lag);
}

/* Gauges the HTTP thread reads, refreshed every turn (lag: every 5 s). */
static void publish_gauges(struct service *s, int64_t now)
{
    metrics_heartbeat(s->m, now);
    metrics_inflight(s->m, zim_client_inflight(s->zc));
    metrics_assigned(s->m, kafka_in_assigned(s->ki));
    metrics_producer_ok(s->m, !kafka_out_fatal(s->ko));
    int64_t wall = clock_wall_ms();
    metrics_broadcast_remaining(s->m,
                                s->cfg->broadcast_daily > 0
                                    ? window_limit(s->flow.daily) -
                                          window_count(s->flow.daily, wall)
                                    : -1);
    if (now >= s->next_lag_ms) {
        metrics_lag_begin(s->m);
        kafka_in_lags(s->ki, on_lag, s->m);
        metrics_lag_commit(s->m);
        s->next_lag_ms = now + 5000;
    }
}

static int64_t turn(struct service *s, int64_t now)
{
    int64_t next = now + 100;
    /* First what finished: written outcomes let their jobs go (and the
     * next record of each key become ready), and commit results free the
     * window, so that sending below sees all of it. Done after sending,
     * it would wait for the next wake-up, up to 100 ms. */
    take_finished(s, now);
    kafka_in_commit_tick(s->ki);
    if (!s->stopping) {
        /* Back-pressure: take records only while there is room, so at most
         * queue.max_records are held; librdkafka's prefetch is bounded by
         * kafka.queued.max.messages.kbytes. Poll at least every 5 s anyway,
         * to serve rebalances and stay in the group. */
        int room = s->max_jobs - s->n_jobs;
        if (room <= 0 && now - s->last_poll_ms >= 5000)
            room = 1;
        if (room > 1000)
            room = 1000;
        /* Out of memory: nothing is polled until what is held is in
         * (a record after it would overtake it). */
        if (!unstall(s, now))
            room = 0;
        rd_kafka_message_t *rkm;
        for (int i = 0; i < room && (rkm = kafka_in_poll(s->ki)); i++) {
            if (!on_record(s, rkm, now)) {
                s->stalled = rkm;
                break;
            }
            if (s->unscheduled)
                break;
        }
        if (room > 0)
            s->last_poll_ms = now;
        if (kafka_in_rebalanced(s->ki))
            update_shares(s, now);
        for (struct job *j = s->waiting.head, *n; j; j = n) {
            n = j->next;
            if (j->due_ms <= now) {
                jl_remove(&s->waiting, j);
                sender_requeue(s->tx, j);
            } else if (j->due_ms < next) {
                next = j->due_ms;
            }
        }
        next = sender_ready(s->tx, next);
        apply_pauses(s);
    }
    rotate_check(&s->rotate, s->cfg, s->zc, s->ki, s->ko, s->m, &s->mac,
                 &s->claim, now);
    publish_gauges(s, now);
    return next;
}

/* What a stall holds is not committed: the next owner gets it. */
static void drop_stalled(struct service *s)
{
    if (s->unscheduled)
        service_drop(s, NULL, s->unscheduled);
    s->unscheduled = NULL;
    if (s->stalled)
        rd_kafka_message_destroy(s->stalled);
    s->stalled = NULL;
}

static void drain_wake(struct service *s)
{
    char tmp[256];
    while (read(s->wake[0], tmp, sizeof(tmp)) > 0)
        ;
}

static void shutdown_drain(struct service *s)
{
    s->stopping = true;
    sender_stop(s->tx);
    kafka_in_set_paused(s->ki, (1u << ZB_ACTION_COUNT) - 1);
    /* Work not started is not committed: the next owner gets it. */
    struct revoked all = {s, 0, -1};
    jobsched_foreach_held(s->sched, drop_held, &all);
    while (s->waiting.head)
        service_drop(s, &s->waiting, s->waiting.head);
    drop_stalled(s);
    int64_t deadline = clock_mono_ms() + s->cfg->drain_ms;
    s->drain_deadline_ms = deadline;
    struct jlist *inflight = sender_inflight(s->tx);
    log_info("draining: %d in flight, %d outcomes being written", inflight->n,
             s->done.n);
    while ((inflight->n || s->done.n) && clock_mono_ms() < deadline) {
        turn(s, clock_mono_ms());
        zim_client_poll(s->zc, 10, s->wake, 1);
        drain_wake(s);
    }
    kafka_out_flush(s->ko, 5000);
    turn(s, clock_mono_ms());
    log_info("drained: %d in flight and %d undelivered left uncommitted",
             inflight->n, s->done.n);
}

/* The pure state: quotas, breaker, scheduler, broadcast window. */
static int service_init_state(struct service *s, const struct config *cfg)
{
    event_limits_from_config(cfg, &s->lim);
    s->max_jobs = (int)cfg->max_records;
    s->jobs.max = s->max_jobs < 256 ? s->max_jobs : 256;
    double headroom = (double)cfg->headroom_pct / 100.0;
    for (int a = 0; a < EVENT_KIND_COUNT; a++) {
        if ((s->flow.rl[a] =
                 ratelimit_new((double)cfg->quota[a], 1, headroom)) == NULL)
            return -1;
        /* No partitions yet: shares are gained (with their delay) on
         * assignment. */
        ratelimit_set_share(s->flow.rl[a], 0, clock_mono_ms());
    }
    breaker_init(&s->flow.breaker, (int)cfg->breaker_failures,
                 cfg->breaker_probe_ms, cfg->breaker_probe_max_ms);
    if ((s->sched = jobsched_new((enum ordering)cfg->ordering)) == NULL ||
        (s->flow.daily = window_new(cfg->broadcast_daily,
                                    cfg->broadcast_window_ms)) == NULL)
        return -1;
    return 0;
}

/* The send path's hooks: what it gives back to the loop. */
static void hook_hold(void *ctx, struct job *j, int64_t due)
{
    service_hold(ctx, j, due);
}

static void hook_finish(void *ctx, struct job *j, enum outcome o,
                        enum failure_class f, int64_t now)
{
    service_finish(ctx, j, o, f, now);
}

static void hook_drop(void *ctx, struct job *j)
{
    service_drop(ctx, NULL, j);
}

/* Kafka's clients, the send path and its ZIM client. 0, or -1 with err. */
/* Settings that weaken transport security: a warning each, and the
 * zimbridge_insecure_transport gauge (config_check refused them unless
 * opted in). */
static void warn_insecure(const struct config *cfg, struct metrics *m)
{
    const char *v =
        config_kafka_get(cfg, "enable.ssl.certificate.verification");
    const char *proto = config_kafka_get(cfg, "security.protocol");
    bool zim = strncmp(cfg->endpoint, "http://", 7) == 0 &&
               !config_endpoint_loopback(cfg->endpoint);
    bool verify_off = v && (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0);
    bool sasl = proto && strcasecmp(proto, "sasl_plaintext") == 0;
    char otel[2048];
    bool otel_plain = config_otel_url(cfg, otel, sizeof(otel)) == 0 &&
                      strncmp(otel, "http://", 7) == 0 &&
                      !config_endpoint_loopback(otel);
    if (otel_plain)
        log_warnx("otel.allow_insecure_http: spans and otel.headers go to "
                  "the OTLP endpoint in the clear");
    if (zim)
        log_warnx("zim.allow_insecure_http: calls to ZIM go in the clear; "
                  "anyone on the path can replay a signed URL on any server "
                  "API of the AppID for about 10 minutes");
    if (verify_off)
        log_warnx("kafka.enable.ssl.certificate.verification = %s: the "
                  "broker's certificate is not checked",
                  v);
    if (sasl)
        log_warnx("kafka.allow_plaintext_sasl: SASL credentials and records "
                  "go to Kafka in the clear");
    if (zim || verify_off || sasl || otel_plain)
        metrics_insecure_transport(m);
}

static int service_start_clients(struct service *s, char *err, size_t n)
{
    const struct config *cfg = s->cfg;
    const struct send_hooks hooks = {s, hook_hold, hook_finish, hook_drop};
    if ((s->ko = kafka_out_new(cfg, on_delivery, s, s->wake[1], err, n)) ==
            NULL ||
        (s->ki = kafka_in_new(cfg, s->wake[1], on_revoking, on_revoke, s, err,
                              n)) == NULL)
        return -1;
    kafka_in_set_recover(s->ki, on_assigned);
    if ((s->tx = sender_new(cfg, s->sched, s->ki, s->m, &s->flow, &hooks)) ==
        NULL) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    if ((s->tr = tracing_new(cfg, s->m, err, n)) == NULL && err[0])
        return -1;
    sender_set_tracing(s->tx, s->tr);
    if ((s->zc = zim_client_new(cfg, sender_done, s->tx, err, n)) == NULL)
        return -1;
    sender_attach(s->tx, s->zc);
    return 0;
}

/* Jobs left (a fatal error, or the drain ran out) are not committed. */
static void service_free(struct service *s)
{
    drop_stalled(s);
    zim_client_destroy(s->zc);
    if (s->sched) {
        struct revoked all = {s, 0, -1};
        jobsched_foreach_held(s->sched, drop_held, &all);
    }
    struct jlist *lists[] = {&s->waiting, &s->done,
                             s->tx ? sender_inflight(s->tx) : NULL};
    for (size_t k = 0; k < ZB_LEN(lists); k++)
        while (lists[k] && lists[k]->head)
            service_drop(s, lists[k], lists[k]->head);
    sender_destroy(s->tx);
    tracing_close(s->tr, clock_mono_ms()); /* NULL after a clean stop */
    http_server_destroy(s->http);
    metrics_destroy(s->m);
    jobsched_destroy(s->sched);
    job_pool_free(&s->jobs);
    for (int a = 0; a < ZB_ACTION_COUNT; a++)
        ratelimit_destroy(s->flow.rl[a]);
    window_destroy(s->flow.daily);
    rotate_free(&s->rotate);
    record_mac_forget(&s->mac);
    record_claim_forget(&s->claim);
    kafka_in_destroy(s->ki);
    kafka_out_destroy(s->ko);
    for (int i = 0; i < 2; i++)
        if (s->wake[i] >= 0)
            close(s->wake[i]);
}

int service_run(struct config *cfg, volatile sig_atomic_t *stop)
{
    struct service s = {.cfg = cfg, .wake = {-1, -1}};
    char err[512];
    int rc = 1;
    if (service_init_state(&s, cfg) == -1)
        goto oom;
    if (pipe2(s.wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        log_warn("pipe");
        goto out;
    }
    /* The secret files are looked at before the clients read them: a
     * change in between is then seen as one (and read again). */
    if (rotate_init(&s.rotate, cfg, clock_mono_ms()) == -1)
        goto oom;
    if ((s.m = metrics_new((const char *const *)cfg->topic)) == NULL)
        goto oom;
    const char *group = config_kafka_get(cfg, "group.id");
    if (record_mac_derive(&s.mac, cfg->secret, cfg->app_id) == -1 ||
        record_claim_derive(&s.claim, &s.mac, group ? group : "") == -1) {
        log_error("start-up failed: the record MAC key (OpenSSL HMAC)");
        goto out;
    }
    warn_insecure(cfg, s.m);
    if (service_start_clients(&s, err, sizeof(err)) == -1) {
        log_error("start-up failed: %s", err);
        goto out;
    }
    config_forget_secret(cfg); /* the client and the MAC key have theirs */
    kafka_out_warm(s.ko, cfg->topic[TOPIC_REPLY], cfg->topic[TOPIC_DLQ], 1000);
    if (cfg->listen[0]) {
        if ((s.http = http_server_new(s.m, cfg->listen, cfg->stall_ms, err,
                                      sizeof(err))) == NULL) {
            log_error("start-up failed: %s", err);
            goto out;
        }
        log_info("metrics and probes on http://%s -> port %d", cfg->listen,
                 http_server_port(s.http));
    }
    if (history_broadcasts(cfg, &s.mac, s.flow.daily, err, sizeof(err)) == -1)
        log_warnx("broadcast window not rebuilt from %s: %s",
                  cfg->topic[TOPIC_REPLY], err);
    for (int a = 0; a < ZB_ACTION_COUNT; a++)
        log_info("%s events from %s", event_kind_action((enum event_kind)a),
                 cfg->topic[a]);
    char shown[512];
    config_url_redact(cfg->endpoint, shown, sizeof(shown));
    log_info("running: endpoint=%s app_id=%u inflight=%d", shown, cfg->app_id,
             (int)cfg->max_inflight);
    while (!*stop) {
        int64_t now = clock_mono_ms();
        int64_t next = turn(&s, now);
        if (kafka_in_fatal(s.ki) || kafka_out_fatal(s.ko)) {
            log_error("fatal Kafka error: stopping without committing more");
            goto out;
        }
        int wait = (int)(next > now ? next - now : 0);
        zim_client_poll(s.zc, wait, s.wake, 1);
        drain_wake(&s);
    }
    log_info("stopping on signal %d", (int)*stop);
    shutdown_drain(&s);
    /* The spans of what finished, within what is left of the drain. */
    tracing_close(s.tr, s.drain_deadline_ms);
    s.tr = NULL;
    sender_set_tracing(s.tx, NULL);
    kafka_in_close(s.ki);
    rc = 0;
    goto out;
oom:
    log_error("start-up failed: out of memory");
out:
    service_free(&s);
    return rc;
}
