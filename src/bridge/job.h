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
#include "envelope.h"
#include "event.h"
#include "jobsched.h"
#include "kafka_in.h"
#include "outcome.h"
#include "spans.h"
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
    /* Its send span (bridge/tracing.h), when tracing is on. */
    uint8_t span_id[SPAN_ID_BYTES];
    int64_t span_start_ns; /* 0: not produced yet */
};

struct job {
    rd_kafka_message_t *rkm; /* owned; freed with the job */
    enum envelope envelope;  /* how rkm's value holds the request */
    const char *body;        /* the request body, in rkm's value */
    size_t body_len;
    struct kafka_in_ticket ticket;
    enum event_kind kind;
    bool valid;
    struct event ev;
    struct event_error verr;
    int attempts;
    int64_t received_ms, first_send_ms, sent_ms, due_ms;
    int64_t answered_ms, finished_ms; /* the last answer; outcome produced */
    int64_t breaker_open_at_first;    /* breaker open time at first send */
    double latency_ms;                /* the last attempt's round trip */
    bool stale;                       /* its partition was revoked */
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
    /* Peer events: their recipients and how calls carry them (call.h). */
    const char **to; /* ToUserId, borrowed from ev.root */
    size_t n_to;
    size_t chunk_off; /* the next call carries to[chunk_off..+chunk_n) */
    size_t chunk_n;
    char *rest; /* the request but ToUserId, when it may share a call
                   or is split; NULL otherwise */
    size_t rest_len;
    struct json_object *kept_succ,
        *kept_err;    /* a split event's earlier parts */
    int calls;        /* ZIM calls that carried it */
    int packed;       /* events that shared its last call (1: alone) */
    int attempts_max; /* a split event's most attempts of one part */
    /* Its process span (bridge/tracing.h), when tracing is on. */
    bool traced;
    struct spans_ref tr;
    int64_t tr_start_ns;
};

/* A list of jobs (the loop's waiting and done lists, the calls in flight);
 * a job is in at most one. */
struct jlist {
    struct job *head, *tail;
    int n;
};
void jl_push(struct jlist *l, struct job *j);
void jl_remove(struct jlist *l, struct job *j);

/* Freed jobs kept for the next records. A job is a few KB: allocating
 * one per record made malloc consolidate its fast bins each time (3 % of
 * the bridge's CPU in a throughput profile). At most max are kept. */
struct job_pool {
    struct job *head;
    int n, max;
};
void job_pool_free(struct job_pool *pool);

/* Takes ownership of rkm. NULL on out-of-memory: rkm is then still the
 * caller's (to try again: a record is never dropped for want of memory).
 * pool may be NULL. */
struct job *job_new(struct job_pool *pool, rd_kafka_message_t *rkm,
                    enum event_kind kind, int64_t now_ms);
/* Frees what the job holds; the job itself goes back to pool if it has
 * room (pool may be NULL). job NULL: no-op. */
void job_destroy(struct job_pool *pool, struct job *job);
/* job_prepare_peer()'s failures: memory (try again later) or this event
 * (it can never be sent: its request but ToUserId, written again by
 * json-c, is over the record's size plus 64 bytes, and it names more
 * recipients than one call takes). */
#define JOB_PREP_NO_MEMORY (-1)
#define JOB_PREP_TOO_LARGE (-2)
/* For a valid peer event: its recipients, its first part, and (when pack
 * is true, or it names more than one call's worth) its request but
 * ToUserId. 0, JOB_PREP_NO_MEMORY or JOB_PREP_TOO_LARGE; on failure the
 * job may be prepared again. */
int job_prepare_peer(struct job *job, bool pack);
/* True if the event names more recipients than one call carries. */
bool job_split(const struct job *job);
/* A split event's part was answered per recipient (job->res): keeps its
 * lists and moves on to the next part. True if parts remain. */
bool job_next_part(struct job *job);
/* A split event is over: job->res becomes its whole answer, the parts
 * kept by job_next_part(), and, when fail_rest, the recipients from the
 * current part on in ErrorList with the last answer's code. Returns the
 * outcome of it all. */
enum outcome job_settle(struct job *job, enum outcome last, bool fail_rest);
/* The job a scheduler node is embedded in (NULL: NULL). */
struct job *job_of(struct jobsched_node *n);
/* What the scheduler orders the job by: its topic, partition and key. */
struct jobsched_key job_key(const struct job *job);

#endif
