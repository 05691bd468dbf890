/* job.h - one input record on its way through the bridge:
 * RECEIVED -> (INVALID) | QUEUED -> IN_FLIGHT -> (RETRY_WAIT -> QUEUED)*
 * -> DONE (records produced, waiting for delivery reports) -> freed once
 * every record is acknowledged and its offset stored. Its memory is
 * bounded by the record's size. */
#ifndef ZB_JOB_H
#define ZB_JOB_H

#include "buf.h"
#include "event.h"
#include "kafka_in.h"
#include "outcome.h"
#include "zim_proto.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

enum job_state {
    JOB_QUEUED = 0,
    JOB_IN_FLIGHT,
    JOB_RETRY_WAIT,
    JOB_DONE,
};

/* Why a failed event failed (the DLQ's zim.failure.class). */
enum failure_class {
    FAILURE_NONE = 0,
    FAILURE_VALIDATION,
    FAILURE_API,
    FAILURE_EXHAUSTED,
    FAILURE_PARTIAL,
};

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
    enum job_state state;
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
    /* jobsched.c's bookkeeping */
    struct keyq *kq; /* the key's FIFO, NULL when unordered */
    struct job *kq_next, *kq_prev;
    int heap_idx; /* in the ready heap, or -1 */
    uint64_t seq; /* arrival order */
};

/* Takes ownership of rkm. NULL on out-of-memory (rkm is then freed). */
struct job *job_new(rd_kafka_message_t *rkm, enum event_kind kind,
                    int64_t now_ms);
void job_destroy(struct job *job); /* NULL: no-op */
const char *job_failure_name(enum failure_class f);

#endif
