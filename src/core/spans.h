/* spans.h - the spans of an event's path through the bridge (issue "Trace
 * each event through its packed call"), built from plain values: pure, no
 * clock, no random source (ids and times come from the caller), nothing
 * allocated. core/trace encodes them.
 *
 * Following the OpenTelemetry semantic conventions for messaging (Kafka)
 * and HTTP clients:
 * - one CONSUMER span per input record, "process <topic>": its parent is
 *   the record's traceparent when that is valid; otherwise it starts a
 *   trace (and an invalid header is reported, to be counted);
 * - one CLIENT span per ZIM call, with one link per event it carries
 *   (each link's trace id is that event's). A span lives in one trace: the
 *   call's is the first sampled event's, as a child of that event's
 *   process span; the others reach it through their links;
 * - one PRODUCER span per reply or DLQ record, "send <topic>", a child of
 *   the event's process span; its context becomes the record's
 *   traceparent.
 *
 * Sampling: parent-based on the input's flag; a root is sampled by
 * TraceIdRatioBased (root_ratio). The specification has no rule for a
 * span with many links: a call is sampled when any of its events is, so
 * that every sampled event's trace reaches its call. */
#ifndef ZB_SPANS_H
#define ZB_SPANS_H

#include "trace.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPANS_NAME_MAX  272 /* "process " + a topic (249) */
#define SPANS_ATTRS_MAX 10

/* The attributes every span of one kind shares (spans_*_consts(),
 * encoded once by the caller): with them, a span carries them encoded
 * (trace_span.attrs_pre) instead of one by one. NULL: one by one. The
 * encoded span is the same either way. */
struct spans_consts {
    const char *json;
    size_t len;
};

/* An input record as the consumer saw it. */
struct spans_record {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const char *group;
    const char *traceparent; /* NULL: no header */
    size_t traceparent_len;
    const char *key; /* NUL-terminated; put in only with record_key */
    int64_t start_ns, end_ns;
    const char *error_type;            /* NULL: valid; else why (validation) */
    const struct spans_consts *consts; /* spans_process_consts(), or NULL */
};

struct spans_policy {
    double root_ratio; /* TraceIdRatioBased for records with no parent */
    bool record_key;   /* otel.record_key: the key is a conversation id */
    /* false (the samplers always_on, always_off, traceidratio): the
     * ratio decides for every record, a parent's flag is not read; its
     * ids are still the span's parent. */
    bool ignore_parent_flag;
};

/* What the other spans need of an event's process span. */
struct spans_ref {
    uint8_t trace_id[TRACE_ID_BYTES];
    uint8_t span_id[SPAN_ID_BYTES];
    bool sampled;
};

/* A built span: the trace_span and the storage its pointers use. */
struct spans_span {
    struct trace_span span;
    struct trace_attr attrs[SPANS_ATTRS_MAX];
    char name[SPANS_NAME_MAX];
    char partition[16];
    bool sampled;
};

struct spans_process {
    struct spans_span s;
    bool invalid_parent; /* a traceparent was there and was not valid */
};

/* The process span of r. new_trace and new_span are fresh random ids:
 * new_span is always the span's id, new_trace its trace's when r has no
 * valid parent. */
void spans_process(const struct spans_record *r, const struct spans_policy *p,
                   const uint8_t new_trace[TRACE_ID_BYTES],
                   const uint8_t new_span[SPAN_ID_BYTES],
                   struct spans_process *out);

/* Only the ids and flag of r's process span (what spans_process() would
 * give), and its parent's span id (zero: none). True when r's
 * traceparent is there and is not valid. */
bool spans_start(const struct spans_record *r, const struct spans_policy *p,
                 const uint8_t new_trace[TRACE_ID_BYTES],
                 const uint8_t new_span[SPAN_ID_BYTES], struct spans_ref *out,
                 uint8_t parent_id[SPAN_ID_BYTES]);

/* The ids and flag of a process span. */
void spans_ref_of(const struct spans_process *p, struct spans_ref *out);

/* One ZIM call. */
struct spans_call {
    const char *action;     /* zim.action */
    const char *method;     /* "POST" */
    const char *server;     /* server.address */
    const char *url;        /* the signed URL: redacted before use */
    long http_status;       /* 0: no answer */
    int resend_count;       /* 0: the first attempt */
    int64_t zim_code;       /* -1: none */
    const char *request_id; /* NULL: none */
    const char *error_type; /* NULL: it succeeded */
    int64_t start_ns, end_ns;
    const struct spans_ref *events; /* the events it carried */
    size_t n_events;
    const struct spans_consts *consts; /* spans_client_consts(), or NULL */
};

#define SPANS_URL_MAX 2048
struct spans_client {
    struct spans_span s;
    struct trace_link links[100]; /* ZIM's most recipients per call */
    char url[SPANS_URL_MAX];
};

/* The call's span, or false when no event it carries is sampled (then
 * out is not filled). At most 100 links: the events past that are not
 * linked. */
bool spans_client(const struct spans_call *c,
                  const uint8_t new_span[SPAN_ID_BYTES],
                  struct spans_client *out);

/* The send span of an outcome record written to topic for the event ev,
 * and in tp the record's traceparent (TRACEPARENT_LEN + 1). */
void spans_producer(const struct spans_ref *ev, const char *topic,
                    int64_t start_ns, int64_t end_ns,
                    const uint8_t new_span[SPAN_ID_BYTES],
                    const struct spans_consts *consts, struct spans_span *out,
                    char *tp);

/* The shared attributes, encoded into out: of the process spans of topic
 * in group, of the send spans to topic, of the calls of action. 0 or -1
 * (out poisoned). */
int spans_process_consts(const char *topic, const char *group, struct buf *out);
int spans_producer_consts(const char *topic, struct buf *out);
int spans_client_consts(const char *action, const char *method,
                        const char *server, struct buf *out);

/* url with the values of Signature and SignatureNonce replaced by
 * REDACTED, into out (cut to n). */
void spans_redact_url(const char *url, char *out, size_t n);

#endif
