/* dlq.c - reply and dead-letter records. */
#define _GNU_SOURCE /* strptime, timegm */
#include "dlq.h"

#include "clock.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DLQ_TRUNCATED_BYTES 65536

static const char *const failure_headers[] = {"zim.error.code",
                                              "zim.error.message",
                                              "zim.failure.class",
                                              "zim.attempts",
                                              "zim.action",
                                              "zim.source.topic",
                                              "zim.source.partition",
                                              "zim.source.offset",
                                              "zim.failed.at",
                                              "kafka_dlt-original-topic",
                                              "kafka_dlt-original-partition",
                                              "kafka_dlt-original-offset",
                                              "kafka_dlt-exception-message",
                                              "zim.value.truncated",
                                              NULL};

int dlq_is_failure_header(const char *name)
{
    for (int i = 0; failure_headers[i]; i++)
        if (strcmp(failure_headers[i], name) == 0)
            return 1;
    return 0;
}

/* The code a DLQ record files the failure under: for a partial, the first
 * failed recipient's SubCode (ZIM's Code is 0 there). */
static int64_t dlq_code(const struct job *job)
{
    struct json_object *e = NULL, *sub = NULL;
    if (job->failure == FAILURE_PARTIAL && job->res.error_list &&
        (e = json_object_array_get_idx(job->res.error_list, 0)) &&
        json_object_object_get_ex(e, "SubCode", &sub) &&
        json_object_is_type(sub, json_type_int))
        return json_object_get_int64(sub);
    return job->code;
}

static const char *status_name(const struct job *job)
{
    if (job->failure == FAILURE_PARTIAL)
        return "partial";
    if (job->failure != FAILURE_NONE)
        return "failed";
    return outcome_name(job->outcome);
}

static void json_array_or_empty(struct buf *b, const char *name,
                                struct json_object *arr)
{
    buf_printf(b, ",\"%s\":%s", name,
               arr ? json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN)
                   : "[]");
}

/* The human message for a failure: validation text, ZIM's Message, or the
 * transport error. */
static const char *error_text(const struct job *job)
{
    if (job->failure == FAILURE_VALIDATION)
        return job->verr.message;
    if (job->res.error[0])
        return job->res.error;
    return job->message;
}

int dlq_reply(const struct job *job, const struct config *cfg, struct buf *b,
              rd_kafka_headers_t **hdrs)
{
    const rd_kafka_message_t *rkm = job->rkm;
    rd_kafka_timestamp_type_t tst;
    int64_t ts = rd_kafka_message_timestamp(rkm, &tst);
    int rc = 0;
    rc |= buf_puts(b, "{\"source\":{\"topic\":");
    const char *topic = rd_kafka_topic_name(rkm->rkt);
    rc |= buf_json_str(b, topic, strlen(topic));
    rc |= buf_printf(b,
                     ",\"partition\":%" PRId32 ",\"offset\":%" PRId64
                     ",\"timestamp\":%" PRId64 "},\"action\":\"%s\","
                     "\"status\":\"%s\",\"code\":%" PRId64 ",\"message\":",
                     rkm->partition, rkm->offset, ts,
                     event_kind_action(job->kind), status_name(job), job->code);
    rc |= buf_json_str(b, job->message, strlen(job->message));
    rc |= buf_puts(b, ",\"request_id\":");
    rc |= buf_json_str(b, job->res.request_id, strlen(job->res.request_id));
    json_array_or_empty(b, "succ_list", job->res.succ_list);
    json_array_or_empty(b, "error_list", job->res.error_list);
    json_array_or_empty(b, "audit_infos", job->res.audit_infos);
    if (job->res.msg_id[0])
        rc |= buf_printf(b, ",\"msg_id\":\"%s\"", job->res.msg_id);
    if (job->res.msg_seq >= 0)
        rc |= buf_printf(b, ",\"msg_seq\":%" PRId64, job->res.msg_seq);
    if (job->res.http && job->res.http != 200)
        rc |= buf_printf(b, ",\"http_status\":%ld", job->res.http);
    rc |= buf_printf(b, ",\"attempts\":%d,\"latency_ms\":%.1f", job->attempts,
                     job->latency_ms);
    if (job->failure != FAILURE_NONE) {
        rc |= buf_printf(b, ",\"failure_class\":\"%s\",\"error\":",
                         job_failure_name(job->failure));
        const char *e = error_text(job);
        rc |= buf_json_str(b, e, strlen(e));
    }
    if (job->failure == FAILURE_VALIDATION) {
        rc |= buf_puts(b, ",\"field\":");
        rc |= buf_json_str(b, job->verr.field, strlen(job->verr.field));
    }
    rc |= buf_puts(b, "}");

    /* Copy the configured headers: comma-separated names. */
    *hdrs = rd_kafka_headers_new(4);
    rd_kafka_headers_t *in = NULL;
    if (rd_kafka_message_headers(rkm, &in) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *p = cfg->copy_headers;
        while (p && *p) {
            size_t n = strcspn(p, ",");
            char name[128];
            if (n > 0 && n < sizeof(name)) {
                memcpy(name, p, n);
                name[n] = '\0';
                const void *v = NULL;
                size_t vl = 0;
                if (rd_kafka_header_get_last(in, name, &v, &vl) ==
                    RD_KAFKA_RESP_ERR_NO_ERROR)
                    rd_kafka_header_add(*hdrs, name, -1, v, (ssize_t)vl);
            }
            p += n + (p[n] == ',');
        }
    }
    return rc ? -1 : 0;
}

/* The event with ToUserId narrowed to the recipients that failed. */
static int narrowed(const struct job *job, struct buf *b)
{
    struct json_object *copy = NULL;
    if (json_object_deep_copy(job->ev.root, &copy, NULL) != 0)
        return -1;
    struct json_object *to = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(job->res.error_list); i++) {
        struct json_object *u = NULL;
        if (json_object_object_get_ex(
                json_object_array_get_idx(job->res.error_list, i), "UserId",
                &u) &&
            json_object_is_type(u, json_type_string))
            json_object_array_add(to, json_object_get(u));
    }
    json_object_object_add(copy, "ToUserId", to);
    int rc = buf_puts(
        b, json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN));
    json_object_put(copy);
    return rc;
}

static void add_str(rd_kafka_headers_t *h, const char *k, const char *v)
{
    rd_kafka_header_add(h, k, -1, v, -1);
}

int dlq_record(const struct job *job, const struct config *cfg,
               int64_t now_wall_ms, struct buf *value,
               rd_kafka_headers_t **hdrs)
{
    const rd_kafka_message_t *rkm = job->rkm;
    rd_kafka_headers_t *in = NULL;
    if (rd_kafka_message_headers(rkm, &in) == RD_KAFKA_RESP_ERR_NO_ERROR)
        *hdrs = rd_kafka_headers_copy(in);
    else
        *hdrs = rd_kafka_headers_new(16);
    for (int i = 0; failure_headers[i]; i++)
        rd_kafka_header_remove(*hdrs, failure_headers[i]);
    char num[32], at[40];
    const char *topic = rd_kafka_topic_name(rkm->rkt);
    snprintf(num, sizeof(num), "%" PRId64, dlq_code(job));
    add_str(*hdrs, "zim.error.code", num);
    add_str(*hdrs, "zim.error.message", error_text(job));
    add_str(*hdrs, "zim.failure.class", job_failure_name(job->failure));
    snprintf(num, sizeof(num), "%d", job->attempts);
    add_str(*hdrs, "zim.attempts", num);
    add_str(*hdrs, "zim.action", event_kind_action(job->kind));
    add_str(*hdrs, "zim.source.topic", topic);
    snprintf(num, sizeof(num), "%" PRId32, rkm->partition);
    add_str(*hdrs, "zim.source.partition", num);
    snprintf(num, sizeof(num), "%" PRId64, rkm->offset);
    add_str(*hdrs, "zim.source.offset", num);
    clock_rfc3339(now_wall_ms, at, sizeof(at));
    add_str(*hdrs, "zim.failed.at", at);
    /* Spring Kafka's DLT headers, in its binary encoding: partition as a
     * 4-byte and offset as an 8-byte big-endian integer. */
    add_str(*hdrs, "kafka_dlt-original-topic", topic);
    unsigned char be[8];
    uint32_t p = (uint32_t)rkm->partition;
    for (int i = 0; i < 4; i++)
        be[i] = (unsigned char)(p >> (24 - 8 * i));
    rd_kafka_header_add(*hdrs, "kafka_dlt-original-partition", -1, be, 4);
    uint64_t o = (uint64_t)rkm->offset;
    for (int i = 0; i < 8; i++)
        be[i] = (unsigned char)(o >> (56 - 8 * i));
    rd_kafka_header_add(*hdrs, "kafka_dlt-original-offset", -1, be, 8);
    char exc[640];
    snprintf(exc, sizeof(exc), "%s %" PRId64 ": %s",
             job_failure_name(job->failure), dlq_code(job), error_text(job));
    add_str(*hdrs, "kafka_dlt-exception-message", exc);
    /* Headers first: even if the value could not be built, the record
     * says what failed. */
    if (job->failure == FAILURE_PARTIAL)
        return narrowed(job, value);
    size_t len = rkm->len;
    if (len > (size_t)cfg->max_record_bytes && len > DLQ_TRUNCATED_BYTES) {
        /* Refused unread for its size: keep its first 64 KiB only, so the
         * DLQ record fits where a 10 MB original would be refused by the
         * producer or the DLQ topic, and retried forever. The whole record
         * stays at zim.source.* in the input topic. */
        snprintf(num, sizeof(num), "%zu", rkm->len);
        add_str(*hdrs, "zim.value.truncated", num);
        len = DLQ_TRUNCATED_BYTES;
    }
    return buf_append(value, rkm->payload ? rkm->payload : "", len);
}

int dlq_cut(struct buf *value, rd_kafka_headers_t *hdrs, size_t input_len)
{
    if (value->len == 0)
        return -1;
    buf_truncate(value, value->len / 2);
    char num[32];
    snprintf(num, sizeof(num), "%zu", input_len);
    rd_kafka_header_remove(hdrs, "zim.value.truncated");
    add_str(hdrs, "zim.value.truncated", num);
    return 0;
}

/* ---- reading them back (the replay tool) ---- */

/* RFC 3339 (Z or +hh:mm, optional fraction) or Unix seconds, to ms. */
int dlq_parse_time(const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long secs = strtoll(s, &end, 10);
    if (!errno && end != s && *end == '\0') {
        /* Seconds that fit in ms: up to year 9999 either way is plenty. */
        if (secs < -253402300799LL || secs > 253402300799LL)
            return -1;
        *out = secs * 1000;
        return 0;
    }
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (p == NULL)
        return -1;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        for (; digits < 3; digits++)
            ms *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int hh = 0, mm = 0;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
            return -1;
        off = (hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    int64_t secs_utc = (int64_t)timegm(&tm) - off;
    if (secs_utc < -253402300799LL || secs_utc > 253402300799LL)
        return -1;
    *out = secs_utc * 1000 + ms;
    return 0;
}

const char *dlq_header(rd_kafka_headers_t *h, const char *name, char *buf,
                       size_t n)
{
    const void *v = NULL;
    size_t len = 0;
    if (h == NULL || rd_kafka_header_get_last(h, name, &v, &len) != 0 ||
        v == NULL)
        return NULL;
    if (len >= n)
        len = n - 1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return buf;
}
