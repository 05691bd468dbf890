/* dlq.c - reply and dead-letter records. */
#define _GNU_SOURCE /* strptime, timegm */
#include "dlq.h"

#include "clock.h"
#include "utf8.h"

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
                                              RECORD_MAC_HEADER,
                                              RECORD_CLAIM_HEADER,
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
    int64_t sub = job->failure == FAILURE_PARTIAL
                      ? outcome_recipients_code(job->res.error_list)
                      : 0;
    return sub ? sub : job->code;
}

/* Appends ,"name":[...] (the array as ZIM sent it, or [] without one). */
static int json_array_or_empty(struct buf *b, const char *name,
                               struct json_object *arr)
{
    buf_puts(b, ",\"");
    buf_puts(b, name);
    buf_puts(b, "\":");
    return buf_puts(
        b, arr ? json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN)
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

/* The reply value. lists: ZIM's SuccList, ErrorList and AuditInfos as
 * they came; without them, the reply says they were left out. The buffer
 * is poisoned if it does not fit. */
static void reply_value(const struct job *job, struct buf *b, bool lists)
{
    const rd_kafka_message_t *rkm = job->rkm;
    rd_kafka_timestamp_type_t tst;
    int64_t ts = rd_kafka_message_timestamp(rkm, &tst);
    const char *topic = rd_kafka_topic_name(rkm->rkt);
    buf_puts(b, "{\"source\":{\"topic\":");
    buf_json_str(b, topic, strlen(topic));
    /* Appends, not printf: this runs for every event. */
    buf_put_field(b, ",\"partition\":", rkm->partition);
    buf_put_field(b, ",\"offset\":", rkm->offset);
    buf_put_field(b, ",\"timestamp\":", ts);
    buf_puts(b, "},\"action\":\"");
    buf_puts(b, event_kind_action(job->kind));
    buf_puts(b, "\",\"status\":\"");
    buf_puts(b, outcome_status(job->outcome, job->failure));
    buf_put_field(b, "\",\"code\":", job->code);
    buf_puts(b, ",\"message\":");
    buf_json_str(b, job->message, strlen(job->message));
    buf_puts(b, ",\"request_id\":");
    buf_json_str(b, job->res.request_id, strlen(job->res.request_id));
    json_array_or_empty(b, "succ_list", lists ? job->res.succ_list : NULL);
    json_array_or_empty(b, "error_list", lists ? job->res.error_list : NULL);
    json_array_or_empty(b, "audit_infos", lists ? job->res.audit_infos : NULL);
    if (!lists)
        buf_puts(b, ",\"lists_omitted\":true");
    if (job->res.msg_id[0]) { /* digits only (zim_proto) */
        buf_puts(b, ",\"msg_id\":\"");
        buf_puts(b, job->res.msg_id);
        buf_puts(b, "\"");
    }
    if (job->res.msg_seq >= 0)
        buf_put_field(b, ",\"msg_seq\":", job->res.msg_seq);
    if (job->res.http && job->res.http != 200)
        buf_put_field(b, ",\"http_status\":", job->res.http);
    buf_put_field(b, ",\"attempts\":", job->attempts);
    buf_printf(b, ",\"latency_ms\":%.1f", job->latency_ms);
    if (job->calls) { /* how it travelled: its calls, and who shared them */
        buf_put_field(b, ",\"calls\":", job->calls);
        buf_put_field(b, ",\"packed\":", job->packed);
    }
    if (job->failure != FAILURE_NONE) {
        buf_printf(b, ",\"failure_class\":\"%s\",\"error\":",
                   outcome_failure_name(job->failure));
        const char *e = error_text(job);
        buf_json_str(b, e, strlen(e));
    }
    if (job->failure == FAILURE_VALIDATION) {
        buf_puts(b, ",\"field\":");
        buf_json_str(b, job->verr.field, strlen(job->verr.field));
    }
    buf_puts(b, "}");
}

/* The input headers named in reply.copy_headers (comma-separated). */
static int copy_headers(const rd_kafka_message_t *rkm, const char *names,
                        rd_kafka_headers_t *out)
{
    rd_kafka_headers_t *in = NULL;
    if (rd_kafka_message_headers(rkm, &in) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    for (const char *p = names; p && *p;) {
        size_t n = strcspn(p, ",");
        char name[128];
        const void *v = NULL;
        size_t vl = 0;
        if (n > 0 && n < sizeof(name)) {
            memcpy(name, p, n);
            name[n] = '\0';
            if (rd_kafka_header_get_last(in, name, &v, &vl) ==
                    RD_KAFKA_RESP_ERR_NO_ERROR &&
                rd_kafka_header_add(out, name, -1, v, (ssize_t)vl))
                return -1;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

void dlq_describe(struct job *j)
{
    if (j->failure == FAILURE_VALIDATION) {
        j->code = j->verr.code;
        snprintf(j->message, sizeof(j->message), "invalid event: %s%s%s",
                 j->verr.field, j->verr.field[0] ? ": " : "", j->verr.message);
        utf8_trim_tail(j->message); /* chat text: cut between characters */
        return;
    }
    if (j->res.parsed) {
        j->code = j->res.code;
        utf8_copy(j->message, sizeof(j->message), j->res.message);
        if (j->failure == FAILURE_PARTIAL)
            snprintf(j->res.error, sizeof(j->res.error),
                     "%zu of %zu recipients failed", j->res.n_failed,
                     json_object_array_length(j->ev.to));
        return;
    }
    j->code = outcome_code(&j->res);
    /* curl's words may quote the peer (a certificate's names): as text
     * for humans, in a header that must be UTF-8, bad bytes are \xNN. */
    char raw[sizeof(j->res.error)];
    memcpy(raw, j->res.error, sizeof(raw));
    raw[sizeof(raw) - 1] = '\0';
    utf8_terminal(j->res.error, sizeof(j->res.error), raw, strlen(raw));
    if (j->failure == FAILURE_AMBIGUOUS) {
        /* Said where operators look before they replay it. */
        static const char pre[] = "may have been sent, so not sent again "
                                  "(ZIM has no idempotency key): ";
        char was[sizeof(j->res.error)];
        memcpy(was, j->res.error, sizeof(was));
        size_t pl = sizeof(pre) - 1;
        size_t wl = utf8_cut(was, strlen(was), sizeof(was) - 1 - pl);
        memcpy(j->res.error, pre, pl);
        memcpy(j->res.error + pl, was, wl);
        j->res.error[pl + wl] = '\0';
    }
    utf8_copy(j->message, sizeof(j->message), j->res.error);
}

int dlq_reply(const struct job *job, const struct config *cfg, struct buf *b,
              rd_kafka_headers_t **hdrs)
{
    reply_value(job, b, true);
    if (buf_failed(b)) {
        /* Only ZIM's lists can be that large (a hostile answer): the
         * outcome still gets its reply, without them. */
        buf_reset(b);
        reply_value(job, b, false);
    }
    *hdrs = rd_kafka_headers_new(4);
    if (buf_failed(b) || *hdrs == NULL ||
        copy_headers(job->rkm, cfg->copy_headers, *hdrs) == -1)
        return -1;
    /* Even if reply.copy_headers names them: only the bridge's own. */
    rd_kafka_header_remove(*hdrs, RECORD_MAC_HEADER);
    rd_kafka_header_remove(*hdrs, RECORD_CLAIM_HEADER);
    return 0;
}

int dlq_stamp(rd_kafka_headers_t *hdrs, const struct record_mac_key *key,
              int topic, int64_t now_wall_ms, const struct buf *value)
{
    char mac[RECORD_MAC_MAX];
    /* Whatever the input (copied headers) said is not ours. */
    rd_kafka_header_remove(hdrs, RECORD_MAC_HEADER);
    if (record_mac_sign(key, dlq_mac_kind(topic), now_wall_ms, value->data,
                        value->len, mac) == -1)
        return -1;
    return rd_kafka_header_add(hdrs, RECORD_MAC_HEADER, -1, mac, -1) ==
                   RD_KAFKA_RESP_ERR_NO_ERROR
               ? 0
               : -1;
}

const char *dlq_mac_kind(int topic)
{
    return topic == TOPIC_REPLY ? "reply" : "dlq";
}

long dlq_replay_count(const char *v)
{
    if (v == NULL)
        return 0;
    size_t n = strlen(v);
    if (n == 0 || n > 6 || strspn(v, "0123456789") != n)
        return -1;
    return strtol(v, NULL, 10);
}

int dlq_narrow(struct json_object *event, struct json_object *error_list,
               struct buf *out)
{
    struct json_object *copy = NULL, *to = NULL, *kept = NULL;
    if (!json_object_object_get_ex(event, "ToUserId", &to) ||
        json_object_deep_copy(event, &copy, NULL) != 0)
        return -1;
    if ((kept = json_object_new_array()) == NULL) {
        json_object_put(copy);
        return -1;
    }
    /* Our recipients that ZIM names as failed, in our order: what ZIM
     * names besides them is not ours to replay. */
    for (size_t i = 0; i < json_object_array_length(to); i++) {
        struct json_object *u = json_object_array_get_idx(to, i);
        const char *id = json_object_get_string(u);
        for (size_t k = 0; id && k < json_object_array_length(error_list);
             k++) {
            struct json_object *e = json_object_array_get_idx(error_list, k);
            struct json_object *eu = NULL;
            if (json_object_object_get_ex(e, "UserId", &eu) &&
                json_object_is_type(eu, json_type_string) &&
                strcmp(json_object_get_string(eu), id) == 0) {
                json_object_array_add(kept, json_object_get(u));
                break;
            }
        }
    }
    json_object_object_add(copy, "ToUserId", kept);
    buf_puts(out, json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN));
    json_object_put(copy);
    return buf_failed(out) ? -1 : 0;
}

/* Adds a string header; a failure is remembered in *bad. */
static void add_str(rd_kafka_headers_t *h, const char *k, const char *v,
                    int *bad)
{
    if (rd_kafka_header_add(h, k, -1, v, -1) != RD_KAFKA_RESP_ERR_NO_ERROR)
        *bad = 1;
}

/* The failure context: zim.* and Spring Kafka's kafka_dlt-* headers.
 * 0 or -1. */
static int failure_context(const struct job *job, int64_t now_wall_ms,
                           rd_kafka_headers_t *h)
{
    const rd_kafka_message_t *rkm = job->rkm;
    const char *topic = rd_kafka_topic_name(rkm->rkt);
    char num[32], at[40], exc[640];
    int bad = 0;
    snprintf(num, sizeof(num), "%" PRId64, dlq_code(job));
    add_str(h, "zim.error.code", num, &bad);
    add_str(h, "zim.error.message", error_text(job), &bad);
    add_str(h, "zim.failure.class", outcome_failure_name(job->failure), &bad);
    snprintf(num, sizeof(num), "%d", job->attempts);
    add_str(h, "zim.attempts", num, &bad);
    add_str(h, "zim.action", event_kind_action(job->kind), &bad);
    add_str(h, "zim.source.topic", topic, &bad);
    snprintf(num, sizeof(num), "%" PRId32, rkm->partition);
    add_str(h, "zim.source.partition", num, &bad);
    snprintf(num, sizeof(num), "%" PRId64, rkm->offset);
    add_str(h, "zim.source.offset", num, &bad);
    clock_rfc3339(now_wall_ms, at, sizeof(at));
    add_str(h, "zim.failed.at", at, &bad);
    /* Spring Kafka's DLT headers, in its binary encoding: partition as a
     * 4-byte and offset as an 8-byte big-endian integer. */
    add_str(h, "kafka_dlt-original-topic", topic, &bad);
    unsigned char be[8];
    uint32_t p = (uint32_t)rkm->partition;
    for (int i = 0; i < 4; i++)
        be[i] = (unsigned char)(p >> (24 - 8 * i));
    bad |= rd_kafka_header_add(h, "kafka_dlt-original-partition", -1, be, 4) !=
           RD_KAFKA_RESP_ERR_NO_ERROR;
    uint64_t o = (uint64_t)rkm->offset;
    for (int i = 0; i < 8; i++)
        be[i] = (unsigned char)(o >> (56 - 8 * i));
    bad |= rd_kafka_header_add(h, "kafka_dlt-original-offset", -1, be, 8) !=
           RD_KAFKA_RESP_ERR_NO_ERROR;
    snprintf(exc, sizeof(exc), "%s %" PRId64 ": %s",
             outcome_failure_name(job->failure), dlq_code(job),
             error_text(job));
    utf8_trim_tail(exc);
    add_str(h, "kafka_dlt-exception-message", exc, &bad);
    return bad ? -1 : 0;
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
    if (*hdrs == NULL)
        return -1;
    for (int i = 0; failure_headers[i]; i++)
        rd_kafka_header_remove(*hdrs, failure_headers[i]);
    if (failure_context(job, now_wall_ms, *hdrs) == -1)
        return -1;
    if (job->failure == FAILURE_PARTIAL) {
        /* The request narrowed to the failed recipients, in the envelope
         * the record came in: what a replay publishes. */
        struct buf body;
        buf_init(&body, value->limit);
        int rc = dlq_narrow(job->ev.root, job->res.error_list, &body) == 0
                     ? envelope_encode(job->envelope, rkm->payload, rkm->len,
                                       body.data, body.len, value)
                     : -1;
        buf_free(&body);
        return rc;
    }
    size_t len = rkm->len;
    if (len > (size_t)cfg->max_record_bytes && len > DLQ_TRUNCATED_BYTES) {
        /* Refused unread for its size: keep its first 64 KiB only, so the
         * DLQ record fits where a 10 MB original would be refused by the
         * producer or the DLQ topic, and retried forever. The whole record
         * stays at zim.source.* in the input topic. */
        char num[32];
        int bad = 0;
        snprintf(num, sizeof(num), "%zu", rkm->len);
        add_str(*hdrs, "zim.value.truncated", num, &bad);
        if (bad)
            return -1;
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
    int bad = 0;
    rd_kafka_header_remove(hdrs, "zim.value.truncated");
    add_str(hdrs, "zim.value.truncated", num, &bad);
    return bad ? -1 : 0;
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
        /* Exactly +hh:mm (RFC 3339): "+5:3" must not move p past its
         * end. */
        const char *d = p + 1;
        for (int k = 0; k < 5; k++)
            if (k == 2 ? d[k] != ':' : !(d[k] >= '0' && d[k] <= '9'))
                return -1;
        int hh = (d[0] - '0') * 10 + (d[1] - '0');
        int mm = (d[3] - '0') * 10 + (d[4] - '0');
        if (hh > 23 || mm > 59)
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
