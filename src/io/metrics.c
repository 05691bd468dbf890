/* metrics.c - counters and their Prometheus rendering. */
#include "metrics.h"

#include "zim_codes.h"

#include "event_kind.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ZB_VERSION
#define ZB_VERSION "0.0.0-dev"
#endif

#define KINDS        ZB_ACTION_COUNT
#define MAX_OUTCOMES 256
#define MAX_LAGS     512
static const double buckets_ms[] = {1,   2.5, 5,    10,   25,   50,   100,
                                    250, 500, 1000, 2500, 5000, 10000};
#define N_BUCKETS (sizeof(buckets_ms) / sizeof(buckets_ms[0]))
static const double buckets_rcpt[] = {1, 2, 5, 10, 20, 50, 100};
#define N_RCPT (sizeof(buckets_rcpt) / sizeof(buckets_rcpt[0]))
/* outcome_status()'s words; the last is for any other. */
static const char *const statuses[] = {"sent", "partial", "rejected", "unknown",
                                       "failed"};
#define N_STATUSES (sizeof(statuses) / sizeof(statuses[0]))

struct outcome_row {
    int kind, status;
    int64_t code;
    _Atomic uint64_t n;
};

struct lag {
    int role;
    int32_t partition;
    int64_t lag;
};

struct metrics {
    char *topics[TOPIC_ROLE_COUNT];
    _Atomic uint64_t consumed[KINDS];
    struct outcome_row outcomes[MAX_OUTCOMES];
    _Atomic size_t n_outcomes; /* rows published to readers */
    _Atomic uint64_t lat_bucket[KINDS][N_BUCKETS + 1], lat_count[KINDS];
    _Atomic uint64_t lat_sum_us[KINDS];
    /* SendPeerMessage calls: recipients each (a histogram), packing */
    _Atomic uint64_t rcpt_bucket[N_RCPT + 1], rcpt_count, rcpt_sum;
    _Atomic uint64_t events_packed, calls_saved;
    _Atomic uint64_t reloads[3]; /* zim secret, zim CA, Kafka SASL */
    _Atomic int inflight;
    _Atomic uint64_t retries[KINDS], throttled[KINDS], quota_waits[KINDS];
    _Atomic uint64_t produced[2], produce_failed[2];
    _Atomic int breaker_open;
    _Atomic uint64_t breaker_opens;
    _Atomic int64_t broadcast_remaining;
    _Atomic unsigned paused;
    _Atomic int64_t heartbeat_ms;
    _Atomic int assigned;
    _Atomic int producer_ok;
    _Atomic int insecure;
    _Atomic int sign_failing;
    _Atomic uint64_t sign_failures;
    _Atomic uint64_t memory_stalls;
    _Atomic uint64_t recovered; /* records the ledger found finished */
    _Atomic uint64_t otel[METRICS_OTEL_COUNT]; /* spans (metrics.h) */
    pthread_mutex_t lag_mu;
    struct lag lags[MAX_LAGS], next[MAX_LAGS];
    size_t n_lags, n_next;
};

struct metrics *metrics_new(const char *const topics[TOPIC_ROLE_COUNT])
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    for (int i = 0; i < TOPIC_ROLE_COUNT; i++) {
        if ((m->topics[i] = strdup(topics[i])) == NULL) {
            metrics_destroy(m);
            return NULL;
        }
    }
    pthread_mutex_init(&m->lag_mu, NULL);
    atomic_store(&m->producer_ok, 1);
    atomic_store(&m->broadcast_remaining, -1);
    return m;
}

void metrics_destroy(struct metrics *m)
{
    if (m == NULL)
        return;
    for (int i = 0; i < TOPIC_ROLE_COUNT; i++)
        free(m->topics[i]);
    pthread_mutex_destroy(&m->lag_mu);
    free(m);
}

void metrics_consumed(struct metrics *m, int role)
{
    atomic_fetch_add(&m->consumed[role], 1);
}

void metrics_outcome(struct metrics *m, int kind, const char *status,
                     int64_t code)
{
    int st = (int)N_STATUSES - 1;
    for (int i = 0; i < (int)N_STATUSES; i++)
        if (strcmp(statuses[i], status) == 0)
            st = i;
    /* Codes come from ZIM's answers: one the reference does not list is
     * "other", so an endpoint cannot fill the table with its own. */
    code = zim_code_label(code);
    size_t n = atomic_load(&m->n_outcomes);
    for (size_t i = 0; i < n; i++) {
        struct outcome_row *r = &m->outcomes[i];
        if (r->kind == kind && r->status == st && r->code == code) {
            atomic_fetch_add(&r->n, 1);
            return;
        }
    }
    if (n == MAX_OUTCOMES)
        return; /* bounded: codes beyond the table go uncounted */
    struct outcome_row *r = &m->outcomes[n];
    r->kind = kind;
    r->status = st;
    r->code = code;
    atomic_store(&r->n, 1);
    atomic_store(&m->n_outcomes, n + 1); /* publish after filling */
}

void metrics_latency(struct metrics *m, int kind, double ms)
{
    size_t b = 0;
    while (b < N_BUCKETS && ms > buckets_ms[b])
        b++;
    atomic_fetch_add(&m->lat_bucket[kind][b], 1);
    atomic_fetch_add(&m->lat_count[kind], 1);
    atomic_fetch_add(&m->lat_sum_us[kind], (uint64_t)(ms * 1000.0));
}

void metrics_call(struct metrics *m, size_t recipients, size_t events)
{
    size_t b = 0;
    while (b < N_RCPT && (double)recipients > buckets_rcpt[b])
        b++;
    atomic_fetch_add(&m->rcpt_bucket[b], 1);
    atomic_fetch_add(&m->rcpt_count, 1);
    atomic_fetch_add(&m->rcpt_sum, recipients);
    if (events > 1) {
        atomic_fetch_add(&m->events_packed, events);
        atomic_fetch_add(&m->calls_saved, events - 1);
    }
}

void metrics_reload(struct metrics *m, enum metrics_secret which)
{
    atomic_fetch_add(&m->reloads[which], 1);
}

void metrics_inflight(struct metrics *m, int n)
{
    atomic_store(&m->inflight, n);
}

void metrics_retry(struct metrics *m, int kind)
{
    atomic_fetch_add(&m->retries[kind], 1);
}

void metrics_throttled(struct metrics *m, int kind)
{
    atomic_fetch_add(&m->throttled[kind], 1);
}

void metrics_produced(struct metrics *m, int role)
{
    atomic_fetch_add(&m->produced[role == TOPIC_DLQ], 1);
}

void metrics_produce_failed(struct metrics *m, int role)
{
    atomic_fetch_add(&m->produce_failed[role == TOPIC_DLQ], 1);
}

void metrics_quota_wait(struct metrics *m, int kind)
{
    atomic_fetch_add(&m->quota_waits[kind], 1);
}

void metrics_sign_failed(struct metrics *m, bool failing)
{
    if (failing)
        atomic_fetch_add(&m->sign_failures, 1);
    atomic_store(&m->sign_failing, failing ? 1 : 0);
}

void metrics_memory_stall(struct metrics *m)
{
    atomic_fetch_add(&m->memory_stalls, 1);
}

void metrics_otel(struct metrics *m, enum metrics_otel what, uint64_t n)
{
    if (m && what < METRICS_OTEL_COUNT)
        atomic_fetch_add(&m->otel[what], n);
}

static void head(struct buf *b, const char *name, const char *type,
                 const char *help);
static void single(struct buf *b, const char *name, const char *type,
                   const char *help, uint64_t v);

static void render_otel(struct buf *b, struct metrics *m)
{
    static const char *const dropped[] = {"queue_full", "rejected", "failed"};
    single(b, "zimbridge_otel_spans_exported_total", "counter",
           "Spans the OTLP endpoint took.",
           atomic_load(&m->otel[METRICS_OTEL_EXPORTED]));
    head(b, "zimbridge_otel_spans_dropped_total", "counter",
         "Spans not exported: queue_full (the exporter's queue was full), "
         "rejected (the endpoint refused them: 400, 413, partial success), "
         "failed (no answer, or retries used up).");
    for (int i = 0; i < 3; i++)
        buf_printf(
            b,
            "zimbridge_otel_spans_dropped_total{reason=\"%s\"} %" PRIu64 "\n",
            dropped[i], atomic_load(&m->otel[METRICS_OTEL_DROPPED_FULL + i]));
    single(b, "zimbridge_otel_export_retries_total", "counter",
           "OTLP exports tried again (429, 502, 503, 504).",
           atomic_load(&m->otel[METRICS_OTEL_RETRIES]));
    single(b, "zimbridge_otel_invalid_traceparent_total", "counter",
           "Input records whose traceparent header was not valid W3C trace "
           "context: their process span started a new trace.",
           atomic_load(&m->otel[METRICS_OTEL_INVALID_PARENT]));
}

void metrics_recovered(struct metrics *m, uint64_t n)
{
    atomic_fetch_add(&m->recovered, n);
}

void metrics_insecure_transport(struct metrics *m)
{
    atomic_store(&m->insecure, 1);
}

void metrics_breaker(struct metrics *m, bool open)
{
    if (open && !atomic_exchange(&m->breaker_open, 1))
        atomic_fetch_add(&m->breaker_opens, 1);
    if (!open)
        atomic_store(&m->breaker_open, 0);
}

void metrics_broadcast_remaining(struct metrics *m, int64_t n)
{
    atomic_store(&m->broadcast_remaining, n);
}

void metrics_paused(struct metrics *m, unsigned mask)
{
    atomic_store(&m->paused, mask);
}

void metrics_heartbeat(struct metrics *m, int64_t mono_ms)
{
    atomic_store(&m->heartbeat_ms, mono_ms);
}

void metrics_assigned(struct metrics *m, int partitions)
{
    atomic_store(&m->assigned, partitions);
}

void metrics_producer_ok(struct metrics *m, bool ok)
{
    atomic_store(&m->producer_ok, ok ? 1 : 0);
}

void metrics_lag_begin(struct metrics *m)
{
    m->n_next = 0;
}

void metrics_lag_set(struct metrics *m, int role, int32_t partition,
                     int64_t lag)
{
    if (m->n_next < MAX_LAGS)
        m->next[m->n_next++] = (struct lag){role, partition, lag};
}

void metrics_lag_commit(struct metrics *m)
{
    pthread_mutex_lock(&m->lag_mu);
    memcpy(m->lags, m->next, m->n_next * sizeof(m->lags[0]));
    m->n_lags = m->n_next;
    pthread_mutex_unlock(&m->lag_mu);
}

static void head(struct buf *b, const char *name, const char *type,
                 const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void per_kind(struct buf *b, const char *name, const char *help,
                     _Atomic uint64_t *v)
{
    head(b, name, "counter", help);
    for (int k = 0; k < KINDS; k++)
        buf_printf(b, "%s{action=\"%s\"} %" PRIu64 "\n", name,
                   event_kind_action((enum event_kind)k), atomic_load(&v[k]));
}

/* A counter per output topic: [0] reply, [1] dead-letter. */
static void per_output(struct buf *b, const struct metrics *m, const char *name,
                       const char *help, _Atomic uint64_t *v)
{
    head(b, name, "counter", help);
    for (int i = 0; i < 2; i++)
        buf_printf(b, "%s{topic=\"%s\"} %" PRIu64 "\n", name,
                   m->topics[TOPIC_REPLY + i], atomic_load(&v[i]));
}

/* One histogram series: name{label,le=...} cumulative buckets (the
 * bounds times scale), _sum and _count. label: "" or `key="value"`. */
static void histogram(struct buf *b, const char *name, const char *label,
                      const double *le, size_t n, double scale,
                      _Atomic uint64_t *bucket, double sum, uint64_t count)
{
    const char *sep = label[0] ? "," : "";
    uint64_t cum = 0;
    for (size_t i = 0; i <= n; i++) {
        cum += atomic_load(&bucket[i]);
        if (i < n)
            buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name, label,
                       sep, le[i] * scale, cum);
        else
            buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name,
                       label, sep, cum);
    }
    const char *open = label[0] ? "{" : "", *close = label[0] ? "}" : "";
    buf_printf(b, "%s_sum%s%s%s %.6f\n", name, open, label, close, sum);
    buf_printf(b, "%s_count%s%s%s %" PRIu64 "\n", name, open, label, close,
               count);
}

/* A metric with one unlabelled value. */
static void single(struct buf *b, const char *name, const char *type,
                   const char *help, uint64_t v)
{
    head(b, name, type, help);
    buf_printf(b, "%s %" PRIu64 "\n", name, v);
}

/* zimbridge_zim_request_duration_seconds: a histogram per action. */
static void render_latency(struct buf *b, struct metrics *m)
{
    static const char name[] = "zimbridge_zim_request_duration_seconds";
    head(b, name, "histogram", "ZIM API call latency.");
    for (int k = 0; k < KINDS; k++) {
        char label[64];
        snprintf(label, sizeof(label), "action=\"%s\"",
                 event_kind_action((enum event_kind)k));
        histogram(b, name, label, buckets_ms, N_BUCKETS, 1e-3, m->lat_bucket[k],
                  (double)atomic_load(&m->lat_sum_us[k]) / 1e6,
                  atomic_load(&m->lat_count[k]));
    }
}

/* zimbridge_call_recipients (a histogram of SendPeerMessage calls) and
 * the packing counters. */
static void render_packing(struct buf *b, struct metrics *m)
{
    head(b, "zimbridge_call_recipients", "histogram",
         "Recipients per SendPeerMessage call (packed events share calls).");
    histogram(b, "zimbridge_call_recipients", "", buckets_rcpt, N_RCPT, 1,
              m->rcpt_bucket, (double)atomic_load(&m->rcpt_sum),
              atomic_load(&m->rcpt_count));
    single(b, "zimbridge_events_packed_total", "counter",
           "Events that shared a SendPeerMessage call with others.",
           atomic_load(&m->events_packed));
    single(b, "zimbridge_calls_saved_total", "counter",
           "ZIM calls (and quota) packing saved: events packed minus the "
           "calls that carried them.",
           atomic_load(&m->calls_saved));
}

static void render_outcomes(struct buf *b, struct metrics *m)
{
    head(b, "zimbridge_outcomes_total", "counter",
         "Outcomes by action, status and ZIM or project code.");
    size_t n = atomic_load(&m->n_outcomes);
    for (size_t i = 0; i < n; i++) {
        struct outcome_row *r = &m->outcomes[i];
        char code[24] = "other";
        if (r->code != ZIM_CODE_OTHER)
            snprintf(code, sizeof(code), "%" PRId64, r->code);
        buf_printf(b,
                   "zimbridge_outcomes_total{action=\"%s\",status=\"%s\","
                   "code=\"%s\"} %" PRIu64 "\n",
                   event_kind_action((enum event_kind)r->kind),
                   statuses[r->status], code, atomic_load(&r->n));
    }
}

int metrics_render(struct metrics *m, struct buf *b)
{
    head(b, "zimbridge_build_info", "gauge", "Build information.");
    buf_printf(b, "zimbridge_build_info{version=\"%s\"} 1\n", ZB_VERSION);
    head(b, "zimbridge_events_consumed_total", "counter",
         "Records consumed from the input topics.");
    for (int k = 0; k < KINDS; k++)
        buf_printf(
            b, "zimbridge_events_consumed_total{topic=\"%s\"} %" PRIu64 "\n",
            m->topics[k], atomic_load(&m->consumed[k]));
    render_outcomes(b, m);
    render_latency(b, m);
    render_packing(b, m);
    static const char *const secrets[] = {"zim_server_secret", "zim_ca",
                                          "kafka_sasl_password"};
    head(b, "zimbridge_secret_reloads_total", "counter",
         "Secret files read again after they changed.");
    for (int i = 0; i < 3; i++)
        buf_printf(
            b, "zimbridge_secret_reloads_total{secret=\"%s\"} %" PRIu64 "\n",
            secrets[i], atomic_load(&m->reloads[i]));
    head(b, "zimbridge_zim_requests_in_flight", "gauge",
         "ZIM calls in flight.");
    buf_printf(b, "zimbridge_zim_requests_in_flight %d\n",
               atomic_load(&m->inflight));
    per_kind(b, "zimbridge_retries_total", "Retries after transient failures.",
             m->retries);
    per_kind(b, "zimbridge_throttled_total",
             "Calls ZIM answered as over quota (rate lowered, AIMD).",
             m->throttled);
    per_kind(b, "zimbridge_quota_waits_total",
             "Times a ready event waited for its action's quota.",
             m->quota_waits);
    per_output(b, m, "zimbridge_records_produced_total",
               "Reply and dead-letter records acknowledged by Kafka.",
               m->produced);
    per_output(b, m, "zimbridge_produce_failures_total",
               "Reply and dead-letter deliveries that failed (retried).",
               m->produce_failed);
    single(b, "zimbridge_sign_failures_total", "counter",
           "ZIM requests that could not be signed (random source or OpenSSL "
           "failed); /readyz is 503 while it lasts.",
           atomic_load(&m->sign_failures));
    single(b, "zimbridge_memory_stalls_total", "counter",
           "Times a record could not be taken for want of memory: "
           "consumption held until it could, nothing skipped.",
           atomic_load(&m->memory_stalls));
    single(b, "zimbridge_assignment_recovered_total", "counter",
           "Records above a newly assigned partition's commit found with an "
           "outcome in the reply and DLQ topics on assignment (the ledger), "
           "and so not sent again.",
           atomic_load(&m->recovered));
    render_otel(b, m);
    head(b, "zimbridge_insecure_transport", "gauge",
         "1 when a setting weakens transport security (zim.allow_insecure_"
         "http to a non-loopback host, Kafka certificate verification off).");
    buf_printf(b, "zimbridge_insecure_transport %d\n",
               atomic_load(&m->insecure));
    head(b, "zimbridge_breaker_open", "gauge",
         "1 while the circuit breaker is open (consumption paused).");
    buf_printf(b, "zimbridge_breaker_open %d\n", atomic_load(&m->breaker_open));
    single(b, "zimbridge_breaker_opens_total", "counter",
           "Times the circuit breaker opened.", atomic_load(&m->breaker_opens));
    head(b, "zimbridge_broadcast_quota_remaining", "gauge",
         "Broadcasts this replica may still send in the quota window "
         "(-1: no limit).");
    buf_printf(b, "zimbridge_broadcast_quota_remaining %" PRId64 "\n",
               atomic_load(&m->broadcast_remaining));
    head(b, "zimbridge_topic_paused", "gauge",
         "1 while consumption of the input topic is paused.");
    unsigned p = atomic_load(&m->paused);
    for (int k = 0; k < KINDS; k++)
        buf_printf(b, "zimbridge_topic_paused{topic=\"%s\"} %u\n", m->topics[k],
                   (p >> k) & 1u);
    head(b, "zimbridge_assigned_partitions", "gauge",
         "Input partitions assigned to this replica.");
    buf_printf(b, "zimbridge_assigned_partitions %d\n",
               atomic_load(&m->assigned));
    head(b, "zimbridge_consumer_lag", "gauge",
         "Records not yet committed, per assigned input partition.");
    pthread_mutex_lock(&m->lag_mu);
    for (size_t i = 0; i < m->n_lags; i++)
        buf_printf(b,
                   "zimbridge_consumer_lag{topic=\"%s\",partition=\"%d\"} "
                   "%" PRId64 "\n",
                   m->topics[m->lags[i].role], (int)m->lags[i].partition,
                   m->lags[i].lag);
    pthread_mutex_unlock(&m->lag_mu);
    return 0;
}

bool metrics_live(struct metrics *m, int64_t now_mono_ms, int64_t timeout_ms)
{
    int64_t hb = atomic_load(&m->heartbeat_ms);
    return hb > 0 && now_mono_ms - hb <= timeout_ms;
}

bool metrics_ready(struct metrics *m, char *why, size_t n)
{
    if (atomic_load(&m->assigned) <= 0) {
        snprintf(why, n, "no partitions assigned");
        return false;
    }
    if (atomic_load(&m->breaker_open)) {
        snprintf(why, n,
                 "circuit breaker open: ZIM unreachable or our "
                 "credentials are refused");
        return false;
    }
    if (!atomic_load(&m->producer_ok)) {
        snprintf(why, n, "producer unhealthy");
        return false;
    }
    if (atomic_load(&m->sign_failing)) {
        snprintf(why, n, "cannot sign ZIM requests");
        return false;
    }
    snprintf(why, n, "ready");
    return true;
}
