/* tracing.h - the bridge's spans (core/spans.h) for its jobs and calls,
 * exported by io/otlp.h. README, "Tracing".
 *
 * Per input record, a process span from when it was polled until its
 * outcome records are all in Kafka; per ZIM call, a client span linked to
 * each event it carried; per reply and DLQ record, a send span from its
 * first produce to Kafka's acknowledgement, whose context becomes the
 * record's traceparent (unless otel.reply_context = copy). Only sampled
 * spans are encoded and queued; ids are drawn from a PRNG seeded from
 * OpenSSL's.
 *
 * Every function runs on the main loop's thread; with tracing off, the
 * loop holds NULL and calls none of them. */
#ifndef ZB_TRACING_H
#define ZB_TRACING_H

#include "call.h"
#include "config.h"
#include "job.h"
#include "metrics.h"
#include "zim_proto.h"

#include <librdkafka/rdkafka.h>
#include <stdint.h>

struct tracing;

/* NULL with err[0] == '\0' when tracing is off (no OTLP endpoint); NULL
 * with err on a wrong setting or out of memory. */
struct tracing *tracing_new(const struct config *cfg, struct metrics *m,
                            char *err, size_t errlen);
/* Exports what is queued until deadline_ms (mono), then frees t. */
void tracing_close(struct tracing *t, int64_t deadline_ms);

/* A record was taken (j->rkm tracked): its process span starts. */
void tracing_received(struct tracing *t, struct job *j);
/* A call was answered (res), sent at start_us (wall). */
void tracing_call(struct tracing *t, const struct call *c,
                  const struct zim_result *res, int64_t start_us);
/* r is being produced with the headers h: its send span starts (the
 * first time) and, with otel.reply_context = new, its context replaces
 * the traceparent in h. */
void tracing_produce(struct tracing *t, struct job_record *r,
                     rd_kafka_headers_t *h);
/* Kafka acknowledged r: its send span ends. */
void tracing_acked(struct tracing *t, const struct job_record *r);
/* Every outcome record of j is in Kafka: its process span ends. */
void tracing_done(struct tracing *t, const struct job *j);

#endif
