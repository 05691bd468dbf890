/* job.h - one input record on its way through the bridge: received ->
 * (invalid) | scheduled -> in flight -> (waiting to retry -> scheduled)*
 * -> done (its records produced, waiting for delivery reports) -> freed
 * once every record is acknowledged and its offset stored. Where a job is
 * says where it stands: held by the scheduler, or in one of the service's
 * lists (waiting, inflight, done). Its memory is bounded by the record's
 * size. */
#ifndef ZB_JOB_H
#define ZB_JOB_H

#include "buf.h"
#include "event.h"
#include "jobsched.h"
#include "kafka_in.h"
#include "outcome.h"
#include "zim_proto.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A record we produce: kept until Kafka acknowledges it, so a failed
 * delivery can be retried with the same bytes. */
struct job_record {
    struct job *job;
    int topic; /* TOPIC_REPLY or TOPIC_DLQ */
    struct buf value;
    rd_kafka_headers_t *hdrs; /* template, copied for each attempt */
    bool acked;
    int64_t retry_at_ms; /* > 0 while waiting to be produced again */
};

struct job {
    rd_kafka_message_t *rkm; /* owned; freed with the job */
    struct kafka_in_ticket ticket;
    enum event_kind kind;
    bool valid;
    struct event ev;
    struct event_error verr;
    int attempts;
    int64_t received_ms, first_send_ms, sent_ms, due_ms;
    int64_t breaker_open_at_first; /* breaker open time at first send */
    double latency_ms;             /* the last attempt's round trip */
    bool stale;                    /* its partition was revoked */
    /* the outcome */
    enum outcome outcome;
    enum failure_class failure;
    int64_t code;
    char message[512];
    struct zim_result res;    /* the last ZIM answer (owns its JSON) */
    struct job_record out[2]; /* reply, dlq */
    int n_out;
    struct job *next, *prev; /* in one of the service's lists */
    struct jobsched_node sn; /* the scheduler's bookkeeping */
};

/* Takes ownership of rkm. NULL on out-of-memory (rkm is then freed). */
struct job *job_new(rd_kafka_message_t *rkm, enum event_kind kind,
                    int64_t now_ms);
void job_destroy(struct job *job); /* NULL: no-op */
/* The job a scheduler node is embedded in (NULL: NULL). */
struct job *job_of(struct jobsched_node *n);
/* What the scheduler orders the job by: its topic, partition and key. */
struct jobsched_key job_key(const struct job *job);

#endif
