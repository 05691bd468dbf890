/* otlp.h - the OTLP/HTTP span exporter (issue "Trace each event through
 * its packed call"): a thread of its own with a bounded queue, so that
 * the main loop never waits for a tracing backend.
 *
 * otlp_submit() encodes a span as OTLP/JSON (core/trace.h) and queues it;
 * a full queue drops it, counted. The thread posts batches of at most
 * batch_max spans, once batch_max are queued or flush_ms after the last
 * export, as application/json to the traces URL. It sends a batch again
 * only on 429, 502, 503 and 504 (OTLP/HTTP's retryable codes), after the
 * Retry-After the answer gives or an exponential backoff, at most
 * OTLP_MAX_ATTEMPTS times; any other answer drops the batch, counted
 * (400 and 413 as rejected). A partial success counts its rejected spans.
 * A transport failure drops the batch and backs off before the next
 * export (1 s, doubling, at most 30 s), so a backend that is down costs
 * one connection attempt per backoff, not one per batch. TLS as the ZIM
 * client: verification always on, a CA file only adds trust. */
#ifndef ZB_OTLP_H
#define ZB_OTLP_H

#include "metrics.h"
#include "trace.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTLP_MAX_ATTEMPTS 5

struct otlp_conf {
    const char *url;     /* the traces URL (config_otel_url) */
    const char *headers; /* key=value,... (otel.headers), NULL: none */
    const char *ca_file; /* NULL: the system's */
    const struct trace_attr *resource;
    size_t n_resource;
    const char *scope, *version; /* the instrumentation scope */
    int64_t queue_max, batch_max, flush_ms, timeout_ms;
};

struct otlp;

/* Starts the thread. NULL with err when a setting is wrong (the headers)
 * or on out-of-memory. m may be NULL (counters not kept). */
struct otlp *otlp_new(const struct otlp_conf *c, struct metrics *m, char *err,
                      size_t errlen);
/* Queues sp (encoded now: its pointers need not outlive the call). Never
 * blocks. 0, or -1 when it was dropped (the queue is full, or it could
 * not be encoded). */
int otlp_submit(struct otlp *x, const struct trace_span *sp);
/* True when the queue is full: the n spans the caller was about to build
 * are counted as dropped (queue_full), and it need not build them. */
bool otlp_full(struct otlp *x, uint64_t n);
/* Exports what is queued, until deadline_ms (clock_mono_ms()): an export
 * in progress at the deadline is cut short, and what is left is dropped,
 * counted as failed. Then stops the thread and frees x. NULL: no-op. */
void otlp_close(struct otlp *x, int64_t deadline_ms);

#endif
