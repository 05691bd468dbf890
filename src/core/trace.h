/* trace.h - W3C trace context and OTLP/JSON spans (issue "Trace each
 * event through its packed call"): the pure part, which the exporter and
 * the span building use. No clock, no random source: ids and times come
 * from the caller.
 *
 * traceparent (W3C Trace Context, level 1, section 3.2): version "-"
 * trace-id "-" parent-id "-" flags, lowercase hex only. Version ff is
 * invalid; version 00 is exactly 55 characters; a later version is at
 * least 55, with "-" after the flags if longer (its extra fields are not
 * read). An all-zero trace-id or parent-id is invalid.
 *
 * OTLP/JSON (opentelemetry-proto, docs/specification.md, "JSON Protobuf
 * Encoding"): ids as lowercase hex, enums as integers, lowerCamelCase
 * keys, 64-bit integers (times, intValue) as decimal strings. */
#ifndef ZB_TRACE_H
#define ZB_TRACE_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_ID_BYTES     16
#define SPAN_ID_BYTES      8
#define TRACEPARENT_LEN    55
#define TRACE_FLAG_SAMPLED 0x01

struct trace_ctx {
    uint8_t trace_id[TRACE_ID_BYTES];
    uint8_t span_id[SPAN_ID_BYTES]; /* the parent-id field */
    uint8_t flags;
};

/* Parses a traceparent value s[0..n). 0, or -1 when it is not a valid
 * one (then *out is zeroed). */
int trace_parse(const char *s, size_t n, struct trace_ctx *out);
/* The version-00 traceparent of c into out[TRACEPARENT_LEN + 1]. */
void trace_format(const struct trace_ctx *c, char *out);
/* TraceIdRatioBased for a root: sampled when the trace-id's last 8 bytes,
 * read big-endian, are below ratio * 2^64. ratio <= 0: never; >= 1:
 * always. The same trace-id always gets the same answer. */
bool trace_ratio_sampled(const uint8_t trace_id[TRACE_ID_BYTES], double ratio);

/* OTLP span kinds (opentelemetry.proto.trace.v1.Span.SpanKind). */
enum trace_kind {
    TRACE_KIND_INTERNAL = 1,
    TRACE_KIND_SERVER = 2,
    TRACE_KIND_CLIENT = 3,
    TRACE_KIND_PRODUCER = 4,
    TRACE_KIND_CONSUMER = 5,
};
/* OTLP status codes (Status.StatusCode). */
enum trace_status {
    TRACE_STATUS_UNSET = 0,
    TRACE_STATUS_OK = 1,
    TRACE_STATUS_ERROR = 2
};

enum trace_attr_type { TRACE_ATTR_STRING, TRACE_ATTR_INT, TRACE_ATTR_BOOL };
struct trace_attr {
    const char *key; /* an attribute name: [a-z0-9._], written unescaped */
    enum trace_attr_type type;
    const char *s; /* TRACE_ATTR_STRING: NUL-terminated, any bytes */
    int64_t i;     /* TRACE_ATTR_INT */
    bool b;        /* TRACE_ATTR_BOOL */
};

struct trace_link {
    uint8_t trace_id[TRACE_ID_BYTES];
    uint8_t span_id[SPAN_ID_BYTES];
};

struct trace_span {
    uint8_t trace_id[TRACE_ID_BYTES];
    uint8_t span_id[SPAN_ID_BYTES];
    uint8_t parent_id[SPAN_ID_BYTES]; /* all zero: a root */
    const char *name;
    enum trace_kind kind;
    int64_t start_ns, end_ns; /* Unix time, ns */
    /* Attributes already encoded (trace_attrs_json): the ones every span
     * of its kind shares, encoded once; put before attrs. */
    const char *attrs_pre;
    size_t attrs_pre_len;
    const struct trace_attr *attrs;
    size_t n_attrs;
    const struct trace_link *links;
    size_t n_links;
    enum trace_status status;
    const char *status_message; /* NULL: none */
};

/* One OTLP/JSON ExportTraceServiceRequest body into out: one resource
 * (its attributes), one scope (name, version), the n spans. Strings are
 * escaped as JSON, bytes that are not UTF-8 as U+FFFD. 0, or -1 (out is
 * then poisoned: over its limit). */
int trace_otlp_json(const struct trace_attr *resource, size_t n_resource,
                    const char *scope, const char *version,
                    const struct trace_span *spans, size_t n, struct buf *out);
/* The same in pieces, for a body put together from spans encoded apart
 * (the exporter): the head, then spans joined by ",", then the tail.
 * 0, or -1 (out poisoned). */
int trace_otlp_head(const struct trace_attr *resource, size_t n_resource,
                    const char *scope, const char *version, struct buf *out);
int trace_span_json(const struct trace_span *sp, struct buf *out);
int trace_otlp_tail(struct buf *out);
/* The n attributes as OTLP/JSON KeyValue objects joined by ",", no
 * brackets: what trace_span.attrs_pre holds. 0 or -1. */
int trace_attrs_json(const struct trace_attr *a, size_t n, struct buf *out);

/* A "key=value,key=value" list as OTEL_EXPORTER_OTLP_HEADERS and
 * OTEL_RESOURCE_ATTRIBUTES hold: spaces around items trimmed, values
 * percent-decoded. fn gets each pair (NUL-terminated, valid during the
 * call) and returns 0 or -1. An empty item is skipped; a decoded control
 * character (CR, LF: a header injection) is an error. 0, or -1 with err
 * (which never quotes the list: it may hold credentials). */
typedef int (*trace_kv_fn)(void *ctx, const char *key, const char *value);
int trace_kv_parse(const char *s, trace_kv_fn fn, void *ctx, char *err,
                   size_t errlen);

#endif
