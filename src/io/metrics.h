/* metrics.h - the bridge's counters, gauges and histograms, and its
 * liveness and readiness. The main thread writes them; the HTTP thread
 * (http_server.c) only reads: atomics, plus one mutex-guarded snapshot of
 * consumer lag refreshed every few seconds. Prometheus names and units. */
#ifndef ZB_METRICS_H
#define ZB_METRICS_H

#include "buf.h"
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct metrics;

struct metrics *metrics_new(const char *const topics[TOPIC_ROLE_COUNT]);
void metrics_destroy(struct metrics *m); /* NULL: no-op */

void metrics_consumed(struct metrics *m, int role);
/* status: "sent", "partial", "rejected", "failed" */
void metrics_outcome(struct metrics *m, int kind, const char *status,
                     int64_t code);
void metrics_latency(struct metrics *m, int kind, double ms);
/* A SendPeerMessage call went with this many recipients, carrying this
 * many events (more than one: packed). */
void metrics_call(struct metrics *m, size_t recipients, size_t events);
enum metrics_secret {
    METRICS_ZIM_SECRET = 0,
    METRICS_ZIM_CA,
    METRICS_KAFKA_SASL,
};
/* A secret file was read again after it changed. */
void metrics_reload(struct metrics *m, enum metrics_secret which);
void metrics_inflight(struct metrics *m, int n);
void metrics_retry(struct metrics *m, int kind);
void metrics_throttled(struct metrics *m, int kind); /* code 7 / AIMD */
void metrics_produced(struct metrics *m, int role);  /* TOPIC_REPLY/DLQ */
void metrics_produce_failed(struct metrics *m, int role);
void metrics_quota_wait(struct metrics *m, int kind);
void metrics_breaker(struct metrics *m, bool open);
/* Requests cannot be signed (true), or were signed again (false):
 * zimbridge_sign_failures_total, and /readyz 503 while failing. */
void metrics_sign_failed(struct metrics *m, bool failing);
/* A record could not be taken for want of memory: consumption holds
 * until it can (zimbridge_memory_stalls_total counts the times). */
void metrics_memory_stall(struct metrics *m);
/* A setting weakened transport security (zimbridge_insecure_transport). */
void metrics_insecure_transport(struct metrics *m);
/* n records found finished by the ledger on assignment. */
void metrics_recovered(struct metrics *m, uint64_t n);
/* Tracing's counters (io/otlp.h, bridge/tracing.h); any thread. */
enum metrics_otel {
    METRICS_OTEL_EXPORTED,
    METRICS_OTEL_DROPPED_FULL,
    METRICS_OTEL_DROPPED_REJECTED,
    METRICS_OTEL_DROPPED_FAILED,
    METRICS_OTEL_RETRIES,
    METRICS_OTEL_INVALID_PARENT,
    METRICS_OTEL_COUNT
};
void metrics_otel(struct metrics *m, enum metrics_otel what, uint64_t n);
void metrics_broadcast_remaining(struct metrics *m, int64_t n);
void metrics_paused(struct metrics *m, unsigned mask);
/* The main loop turned at mono_ms. */
void metrics_heartbeat(struct metrics *m, int64_t mono_ms);
void metrics_assigned(struct metrics *m, int partitions);
void metrics_producer_ok(struct metrics *m, bool ok);
/* Consumer lag: begin, one set per partition, commit (a snapshot). */
void metrics_lag_begin(struct metrics *m);
void metrics_lag_set(struct metrics *m, int role, int32_t partition,
                     int64_t lag);
void metrics_lag_commit(struct metrics *m);

/* The Prometheus text exposition format (version 0.0.4). */
int metrics_render(struct metrics *m, struct buf *out);
/* Liveness: the loop turned within timeout_ms. */
bool metrics_live(struct metrics *m, int64_t now_mono_ms, int64_t timeout_ms);
/* Readiness: partitions assigned, breaker closed, producer healthy; why
 * gets the first reason it is not. */
bool metrics_ready(struct metrics *m, char *why, size_t n);

#endif
