/* config.c - the settings table and its sources (file, environment). */
#define _GNU_SOURCE /* memmem */
#include "config.h"

#include "fileio.h"
#include "utf8.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum stype { S_STR = 0, S_INT, S_U32, S_ENUM };

#define S_REQUIRED  1u
#define S_SENSITIVE 2u
#define S_URL       4u /* shown with its userinfo (user:pass@) redacted */

struct setting {
    const char *key;
    enum stype type;
    const char *def;     /* default, as text; NULL: unset */
    int64_t min, max;    /* S_INT / S_U32 range */
    const char *choices; /* S_ENUM: "a|b|c", stored as the index */
    unsigned flags;
    size_t off;
    const char *help;
};

#define F(m) offsetof(struct config, m)

static const struct setting settings[] = {
    {"zim.endpoint", S_STR, "https://zim-api.zego.im", 0, 0, NULL, S_URL,
     F(endpoint),
     "ZIM server API base URL: https://, or http:// to a loopback host "
     "(127.0.0.0/8, localhost, [::1]) unless zim.allow_insecure_http"},
    {"zim.allow_insecure_http", S_ENUM, "false", 0, 0, "false|true", 0,
     F(allow_insecure_http),
     "allow http:// to a host that is not loopback: anyone on the path "
     "reads each signed URL, good for every server API of the AppID for "
     "about 10 minutes. Logs a warning and sets "
     "zimbridge_insecure_transport 1"},
    {"zim.app_id", S_U32, NULL, 1, UINT32_MAX, NULL, S_REQUIRED, F(app_id),
     "AppID from the ZEGOCLOUD console (uint32)"},
    {"zim.server_secret", S_STR, NULL, 0, 0, NULL, S_SENSITIVE, F(secret),
     "ServerSecret; prefer zim.server_secret_file or the environment"},
    {"zim.server_secret_file", S_STR, NULL, 0, 0, NULL, 0, F(secret_file),
     "file holding the ServerSecret (first line; surrounding space "
     "ignored); read again when it changes, for the next call"},
    {"kafka.allow_plaintext_sasl", S_ENUM, "false", 0, 0, "false|true", 0,
     F(allow_plaintext_sasl),
     "allow kafka.security.protocol = SASL_PLAINTEXT, which sends the SASL "
     "password (PLAIN) and every record in the clear. Logs a warning and "
     "sets zimbridge_insecure_transport 1"},
    {"sasl.password_file", S_STR, NULL, 0, 0, NULL, 0, F(sasl_password_file),
     "file holding the Kafka SASL password (kafka.sasl.password; first "
     "line); read again when it changes, for the next authentication"},
    {"zim.tls.ca_file", S_STR, NULL, 0, 0, NULL, 0, F(ca_file),
     "extra CA bundle (PEM) to trust for zim.endpoint; verification is "
     "always on. Read for each new connection, so a change applies to the "
     "next one"},
    /* An input topic and a quota per action (core/action.h: the
     * defaults are its row's; test_config checks they agree). */
    {"topics.peer", S_STR, "zim.peer", 0, 0, NULL, 0, F(topic[EVENT_PEER]),
     "input topic for SendPeerMessage events"},
    {"topics.group", S_STR, "zim.group", 0, 0, NULL, 0, F(topic[EVENT_GROUP]),
     "input topic for SendGroupMessage events"},
    {"topics.broadcast", S_STR, "zim.broadcast", 0, 0, NULL, 0,
     F(topic[EVENT_BROADCAST]), "input topic for SendMessageToAllUsers events"},
    {"topics.room", S_STR, "zim.room", 0, 0, NULL, 0, F(topic[EVENT_ROOM]),
     "input topic for SendRoomMessage events"},
    {"topics.reply", S_STR, "zim.reply", 0, 0, NULL, 0, F(topic[TOPIC_REPLY]),
     "output topic: one outcome record per input record"},
    {"topics.dlq", S_STR, "zim.dlq", 0, 0, NULL, 0, F(topic[TOPIC_DLQ]),
     "output topic: one replayable record per failed or partial event"},
    {"http.max_inflight", S_INT, "64", 1, 1024, NULL, 0, F(max_inflight),
     "most ZIM requests in flight at once; also bounds buffered records"},
    {"commit.window", S_INT, "1024", 1, 1000000, NULL, 0, F(commit_window),
     "most records sent to ZIM that no commit records as finished yet "
     "(its offset, or the finished offsets in its metadata): a crash sends "
     "at most this many again. It also caps throughput at about window / "
     "(ZIM latency + one commit's round trip)"},
    {"http.timeout_ms", S_INT, "10000", 100, 300000, NULL, 0, F(timeout_ms),
     "whole-request timeout for one ZIM call"},
    {"http.connect_timeout_ms", S_INT, "3000", 100, 60000, NULL, 0,
     F(connect_timeout_ms), "TCP+TLS connect timeout for ZIM"},
    {"http.listen", S_STR, "0.0.0.0:9464", 0, 0, NULL, 0, F(listen),
     "address of the /metrics, /healthz and /readyz listener (port 0: any)"},
    {"http.stall_ms", S_INT, "30000", 1000, 600000, NULL, 0, F(stall_ms),
     "/healthz fails when the main loop has not turned for this long"},
    {"retry.max_attempts", S_INT, "8", 1, 100, NULL, 0, F(retry_max_attempts),
     "attempts per event before it is 'exhausted'"},
    {"retry.base_ms", S_INT, "100", 1, 60000, NULL, 0, F(retry_base_ms),
     "first backoff; doubles per attempt, with full jitter"},
    {"retry.max_ms", S_INT, "10000", 1, 600000, NULL, 0, F(retry_max_ms),
     "longest single backoff"},
    {"retry.max_elapsed_ms", S_INT, "120000", 1, 86400000, NULL, 0,
     F(retry_max_elapsed_ms), "longest time one event keeps retrying"},
    {"ordering", S_ENUM, "key", 0, 0, "key|partition|none", 0, F(ordering),
     "key: one record per Kafka key in flight, in partition order; "
     "partition: per partition; none: no order"},
    {"queue.max_records", S_INT, "1000", 1, 1000000, NULL, 0, F(max_records),
     "records held in memory; at this bound consumption pauses"},
    {"quota.peer_per_s", S_INT, "20", 0, 100000, NULL, 0, F(quota[EVENT_PEER]),
     "SendPeerMessage calls/s per AppID (ZIM: 20; 0: "
     "no limit)"},
    {"quota.group_per_s", S_INT, "10", 0, 100000, NULL, 0,
     F(quota[EVENT_GROUP]), "SendGroupMessage calls/s per AppID (ZIM: 10)"},
    {"quota.broadcast_per_s", S_INT, "1", 0, 100000, NULL, 0,
     F(quota[EVENT_BROADCAST]),
     "SendMessageToAllUsers calls/s per AppID (ZIM: 1)"},
    {"quota.room_per_s", S_INT, "10", 0, 100000, NULL, 0, F(quota[EVENT_ROOM]),
     "SendRoomMessage calls/s per AppID (ZIM: 10)"},
    {"quota.broadcast_daily", S_INT, "100", 0, 1000000, NULL, 0,
     F(broadcast_daily),
     "SendMessageToAllUsers calls per window (ZIM: 100 per 24 h; 0: no "
     "limit)"},
    {"quota.broadcast_window_ms", S_INT, "86400000", 1000, 604800000, NULL, 0,
     F(broadcast_window_ms), "the rolling window of the broadcast quota"},
    {"quota.headroom_pct", S_INT, "3", 0, 50, NULL, 0, F(headroom_pct),
     "percent kept below each per-second quota, for network jitter: a "
     "full second of calls tolerates headroom x 10 ms of it (3: 30 ms)"},
    {"breaker.failures", S_INT, "5", 1, 1000, NULL, 0, F(breaker_failures),
     "transport errors or HTTP 5xx in a row that open the breaker"},
    {"breaker.probe_ms", S_INT, "1000", 10, 600000, NULL, 0,
     F(breaker_probe_ms), "first wait before a probe while open"},
    {"breaker.probe_max_ms", S_INT, "30000", 10, 3600000, NULL, 0,
     F(breaker_probe_max_ms), "longest wait between probes"},
    {"recovery.scan", S_ENUM, "true", 0, 0, "false|true", 0, F(recovery_scan),
     "on assignment, read the reply and DLQ topics from the partition's "
     "last commit and skip the records that already have an outcome there "
     "(this bridge's own, zim.record.claim): a crash or a lost assignment "
     "then sends again only what was in flight"},
    {"recovery.margin_ms", S_INT, "2000", 0, 3600000, NULL, 0,
     F(recovery_margin_ms),
     "how far before the commit's time the scan starts, for clock steps "
     "and topics with LogAppendTime"},
    {"recovery.max_records", S_INT, "2000000", 1, 100000000, NULL, 0,
     F(recovery_max_records),
     "most records one scan reads; past it, what was found is used and "
     "the rest may be sent again (logged)"},
    {"recovery.timeout_ms", S_INT, "20000", 100, 600000, NULL, 0,
     F(recovery_timeout_ms),
     "longest one scan may take (the partitions wait for it); past it, "
     "what was found is used and the rest may be sent again (logged)"},
    {"shutdown.drain_ms", S_INT, "10000", 0, 600000, NULL, 0, F(drain_ms),
     "how long in-flight calls may finish on SIGTERM or a rebalance"},
    {"log.level", S_ENUM, "info", 0, 0, "error|warn|info|debug", 0,
     F(log_level), "least severe level logged"},
    {"log.format", S_ENUM, "text", 0, 0, "text|json", 0, F(log_format),
     "text: logfmt lines; json: one JSON object per line"},
    {"log.slow_ms", S_INT, "0", 0, 3600000, NULL, 0, F(slow_ms),
     "log each record that took longer than this from its produce time to "
     "its outcome in Kafka, with where the time went (0: off)"},
    {"reply.copy_headers", S_STR, "correlation-id,event-id,traceparent", 0, 0,
     NULL, 0, F(copy_headers),
     "input headers copied to reply records (comma-separated)"},
    {"event.max_record_bytes", S_INT, "65536", 1024, 1048576, NULL, 0,
     F(max_record_bytes),
     "largest input record accepted; a larger one is dead-lettered, cut "
     "to its first 64 KiB if it is longer. Failed records up to this size "
     "are dead-lettered whole if the DLQ topic's max.message.bytes allows "
     "it (plus about 1 KB of headers); if not, they are cut until it "
     "does"},
    {"event.max_message_bytes", S_INT, "2048", 1, 32768, NULL, 0,
     F(max_message_bytes),
     "MessageBody.Message limit (ZIM: 2 KB, up to 32 KB via support)"},
    {"event.max_multi_message_bytes", S_INT, "5120", 1, 32768, NULL, 0,
     F(max_multi_message_bytes),
     "MessageBody.Message limit for multi-item messages (ZIM: 5 KB)"},
    {"event.max_extended_data_bytes", S_INT, "1024", 1, 32768, NULL, 0,
     F(max_extended_bytes), "MessageBody.ExtendedData limit (ZIM: 1 KB)"},
    {"event.max_searched_content_bytes", S_INT, "64", 1, 1024, NULL, 0,
     F(max_searched_bytes), "SearchedContent limit (ZIM: 64 bytes)"},
    {"event.max_json_depth", S_INT, "16", 4, 64, NULL, 0, F(max_json_depth),
     "deepest JSON nesting accepted"},
    {"peer.max_recipients", S_INT, "100", 1, 10000, NULL, 0, F(max_recipients),
     "most recipients one SendPeerMessage event may name (ZIM takes 100 per "
     "call: an event with more goes out as several calls, and gets one "
     "reply)"},
    /* Sender policies (README, "Security"): Kafka ACLs on the input
     * topics say who may produce; these say what a producer may ask. */
    {"peer.allowed_from", S_STR, NULL, 0, 0, NULL, 0,
     F(allowed_from[EVENT_PEER]),
     "FromUserIds allowed to send peer messages, comma-separated; an entry "
     "ending in * is a prefix (bot-*). Unset: any"},
    {"group.allowed_from", S_STR, NULL, 0, 0, NULL, 0,
     F(allowed_from[EVENT_GROUP]),
     "FromUserIds allowed to send group messages, as peer.allowed_from"},
    {"room.allowed_from", S_STR, NULL, 0, 0, NULL, 0,
     F(allowed_from[EVENT_ROOM]),
     "FromUserIds allowed to send room messages, as peer.allowed_from"},
    {"broadcast.allowed_from", S_STR, NULL, 0, 0, NULL, 0,
     F(allowed_from[EVENT_BROADCAST]),
     "the FromUserIds allowed to broadcast to every user, comma-separated, "
     "exact (no prefixes). Unset: any"},
    {"peer.max_priority", S_INT, "3", 1, 3, NULL, 0,
     F(max_priority[EVENT_PEER]),
     "highest Priority a peer event may ask for (ZIM: 1 low .. 3 high)"},
    {"group.max_priority", S_INT, "3", 1, 3, NULL, 0,
     F(max_priority[EVENT_GROUP]),
     "highest Priority a group event may ask for"},
    {"room.max_priority", S_INT, "3", 1, 3, NULL, 0,
     F(max_priority[EVENT_ROOM]), "highest Priority a room event may ask for"},
    {"pack.enabled", S_ENUM, "true", 0, 0, "false|true", 0, F(pack_enabled),
     "SendPeerMessage events identical but for ToUserId share calls of up "
     "to 100 recipients while they wait for the quota"},
    {"pack.linger_ms", S_INT, "0", 0, 10000, NULL, 0, F(pack_linger_ms),
     "how long a call that could go may wait to fill up with identical "
     "events (0: it goes at once)"},
    /* OpenTelemetry (README, "Tracing"): off unless an endpoint is set.
     * The standard OTEL_* variables set these too (config_load_env). */
    {"otel.endpoint", S_STR, NULL, 0, 0, NULL, S_URL, F(otel_endpoint),
     "OTLP/HTTP base URL; traces go to <it>/v1/traces "
     "(OTEL_EXPORTER_OTLP_ENDPOINT). Unset: no tracing"},
    {"otel.traces_endpoint", S_STR, NULL, 0, 0, NULL, S_URL,
     F(otel_traces_endpoint),
     "OTLP/HTTP traces URL, used as it is "
     "(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); wins over otel.endpoint"},
    {"otel.headers", S_STR, NULL, 0, 0, NULL, S_SENSITIVE, F(otel_headers),
     "headers of each export, key=value,... with values percent-encoded "
     "(OTEL_EXPORTER_OTLP_HEADERS); prefer otel.headers_file"},
    {"otel.headers_file", S_STR, NULL, 0, 0, NULL, 0, F(otel_headers_file),
     "file holding otel.headers (first line), read at start"},
    {"otel.tls.ca_file", S_STR, NULL, 0, 0, NULL, 0, F(otel_ca_file),
     "extra CA bundle (PEM) to trust for the OTLP endpoint "
     "(OTEL_EXPORTER_OTLP_CERTIFICATE); verification is always on"},
    {"otel.allow_insecure_http", S_ENUM, "false", 0, 0, "false|true", 0,
     F(otel_allow_insecure_http),
     "allow http:// to an OTLP endpoint that is not loopback (a collector "
     "in the cluster): spans, and otel.headers, go in the clear. Logs a "
     "warning and sets zimbridge_insecure_transport 1"},
    {"otel.service_name", S_STR, "zimbridge", 0, 0, NULL, 0,
     F(otel_service_name), "service.name of the spans (OTEL_SERVICE_NAME)"},
    {"otel.resource_attributes", S_STR, NULL, 0, 0, NULL, 0,
     F(otel_resource_attributes),
     "more resource attributes, key=value,... percent-encoded "
     "(OTEL_RESOURCE_ATTRIBUTES)"},
    {"otel.sampler", S_ENUM, "parentbased_always_on", 0, 0,
     "always_on|always_off|traceidratio|parentbased_always_on|"
     "parentbased_always_off|parentbased_traceidratio",
     0, F(otel_sampler),
     "which records are traced (OTEL_TRACES_SAMPLER); parentbased_*: a "
     "record with a valid traceparent follows its sampled flag"},
    {"otel.sampler_arg", S_STR, "1.0", 0, 0, NULL, 0, F(otel_sampler_arg),
     "the ratio of the *traceidratio samplers, 0..1 "
     "(OTEL_TRACES_SAMPLER_ARG)"},
    {"otel.record_key", S_ENUM, "false", 0, 0, "false|true", 0,
     F(otel_record_key),
     "put the record key (a conversation id) in the process span"},
    {"otel.reply_context", S_ENUM, "new", 0, 0, "new|copy", 0,
     F(otel_reply_context),
     "traceparent of reply and DLQ records: new: the send span's; copy: "
     "the input's, as without tracing"},
    {"otel.queue_size", S_INT, "2048", 16, 1000000, NULL, 0, F(otel_queue_size),
     "spans waiting for export; when full, new ones are dropped and "
     "counted (OTEL_BSP_MAX_QUEUE_SIZE)"},
    {"otel.batch_size", S_INT, "512", 1, 100000, NULL, 0, F(otel_batch_size),
     "most spans per export (OTEL_BSP_MAX_EXPORT_BATCH_SIZE)"},
    {"otel.flush_ms", S_INT, "1000", 10, 600000, NULL, 0, F(otel_flush_ms),
     "longest a span waits before an export (OTEL_BSP_SCHEDULE_DELAY)"},
    {"otel.timeout_ms", S_INT, "10000", 100, 600000, NULL, 0,
     F(otel_timeout_ms),
     "whole-request timeout of one export (OTEL_EXPORTER_OTLP_TIMEOUT)"},
    {"event.unknown_fields", S_ENUM, "reject", 0, 0, "reject|pass", 0,
     F(unknown_fields),
     "reject: fields ZIM does not define are errors; pass: send them on"},
};
#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

static const struct setting *find(const char *key)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (strcmp(settings[i].key, key) == 0)
            return &settings[i];
    return NULL;
}

/* ZIMBRIDGE_ZIM_APP_ID for zim.app_id. */
static void env_name(const char *key, char *out, size_t n)
{
    size_t j = (size_t)snprintf(out, n, "ZIMBRIDGE_");
    for (size_t i = 0; key[i] && j + 1 < n; i++)
        out[j++] = key[i] == '.' ? '_' : (char)toupper((unsigned char)key[i]);
    out[j] = '\0';
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static bool is_proto(const char *s, size_t n)
{
    return (n == 3 && (memcmp(s, "TCP", 3) == 0 || memcmp(s, "UDP", 3) == 0)) ||
           (n == 4 && memcmp(s, "SCTP", 4) == 0);
}

static bool is_addr(const char *v, size_t vl)
{
    return vl > 0 && strspn(v, "0123456789abcdefABCDEF.:[]") == vl;
}

static bool is_url(const char *v)
{
    return strncmp(v, "tcp://", 6) == 0 || strncmp(v, "udp://", 6) == 0 ||
           strncmp(v, "sctp://", 7) == 0;
}

/* The variables Kubernetes gives a pod for each Service of its namespace
 * (enableServiceLinks, on by default): for a Service "zimbridge-metrics",
 * ZIMBRIDGE_METRICS_SERVICE_HOST=10.0.0.7, ..._SERVICE_PORT=9464,
 * ..._SERVICE_PORT_<NAME>=9464, ..._PORT=tcp://10.0.0.7:9464,
 * ..._PORT_9464_TCP=tcp://10.0.0.7:9464 and its _PROTO, _PORT and _ADDR.
 * Name and value must both have the shape, so a setting is never taken
 * for one. */
bool config_is_service_link(const char *name, size_t nl, const char *value)
{
    size_t vl = strlen(value);
    if (ends_with(name, nl, "_SERVICE_HOST"))
        return is_addr(value, vl);
    if (ends_with(name, nl, "_SERVICE_PORT") ||
        memmem(name, nl, "_SERVICE_PORT_", 14))
        return all_digits(value, vl);
    /* ..._PORT_<n>_<PROTO>, then nothing, _PROTO, _PORT or _ADDR. */
    const char *p = NULL, *end = name + nl;
    for (const char *q = name; (q = memmem(q, (size_t)(end - q), "_PORT_", 6));
         q++)
        p = q;
    const char *num = p ? p + 6 : end;
    const char *us = memchr(num, '_', (size_t)(end - num));
    const char *proto = us ? us + 1 : end;
    const char *us2 = memchr(proto, '_', (size_t)(end - proto));
    if (p == NULL || us == NULL || !all_digits(num, (size_t)(us - num)) ||
        !is_proto(proto, (size_t)((us2 ? us2 : end) - proto)))
        return ends_with(name, nl, "_PORT") && is_url(value);
    if (us2 == NULL)
        return is_url(value);
    const char *what = us2 + 1;
    size_t wl = (size_t)(end - what);
    if (wl == 5 && memcmp(what, "PROTO", 5) == 0)
        return strcmp(value, "tcp") == 0 || strcmp(value, "udp") == 0 ||
               strcmp(value, "sctp") == 0;
    if (wl == 4 && memcmp(what, "PORT", 4) == 0)
        return all_digits(value, vl);
    if (wl == 4 && memcmp(what, "ADDR", 4) == 0)
        return is_addr(value, vl);
    return false;
}

/* Levenshtein distance of a[0..an) and b, for "did you mean". */
static size_t distance(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b), row[160];
    if (bn + 1 > sizeof(row) / sizeof(row[0]))
        return SIZE_MAX;
    for (size_t j = 0; j <= bn; j++)
        row[j] = j;
    for (size_t i = 1; i <= an; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= bn; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[bn];
}

/* The setting whose key (env: its variable name) is nearest to name, if
 * it is near enough to be a typo of it; NULL otherwise. */
static const struct setting *nearest(const char *name, size_t nl, bool env)
{
    const struct setting *best = NULL;
    size_t best_d = SIZE_MAX;
    char buf[128];
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const char *k = settings[i].key;
        if (env) {
            env_name(k, buf, sizeof(buf));
            k = buf;
        }
        size_t d = distance(name, nl, k);
        if (d < best_d) {
            best_d = d;
            best = &settings[i];
        }
    }
    return best_d <= 2 + nl / 8 ? best : NULL;
}

static void *field(struct config *cfg, const struct setting *s)
{
    return (char *)cfg + s->off;
}

static int enum_index(const char *choices, const char *v)
{
    size_t vl = strlen(v);
    int i = 0;
    for (const char *p = choices; *p; i++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == vl && strncmp(p, v, n) == 0)
            return i;
        if (!bar)
            break;
        p = bar + 1;
    }
    return -1;
}

static int set_one(struct config *cfg, const struct setting *s, const char *v,
                   char *err, size_t errlen)
{
    switch (s->type) {
    case S_STR: {
        char *dup = strdup(v);
        if (dup == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        char **dst = field(cfg, s);
        if (s->flags & S_SENSITIVE)
            file_free_secret(*dst); /* replaced: no copy left */
        else
            free(*dst);
        *dst = dup;
        return 0;
    }
    case S_INT:
    case S_U32: {
        char *end = NULL;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (errno || end == v || *end != '\0') {
            snprintf(err, errlen, "%s: '%s' is not an integer", s->key,
                     (s->flags & S_SENSITIVE) ? "[redacted]" : v);
            return -1;
        }
        if (n < s->min || n > s->max) {
            snprintf(err, errlen,
                     "%s: %lld is out of range [%" PRId64 ", %" PRId64 "]",
                     s->key, n, s->min, s->max);
            return -1;
        }
        if (s->type == S_U32)
            *(uint32_t *)field(cfg, s) = (uint32_t)n;
        else
            *(int64_t *)field(cfg, s) = (int64_t)n;
        return 0;
    }
    case S_ENUM: {
        int i = enum_index(s->choices, v);
        if (i < 0) {
            snprintf(err, errlen, "%s: '%s' is not one of %s", s->key, v,
                     s->choices);
            return -1;
        }
        *(int64_t *)field(cfg, s) = i;
        return 0;
    }
    }
    return -1;
}

static int kafka_set(struct config *cfg, const char *key, const char *v,
                     char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        if (strcmp(cfg->kafka[i].key, key) == 0) {
            char *dup = strdup(v);
            if (dup == NULL)
                goto oom;
            file_free_secret(cfg->kafka[i].value); /* may be a password */
            cfg->kafka[i].value = dup;
            return 0;
        }
    }
    struct config_kv *kv =
        realloc(cfg->kafka, (cfg->n_kafka + 1) * sizeof(*kv));
    if (kv == NULL)
        goto oom;
    cfg->kafka = kv;
    kv[cfg->n_kafka].key = strdup(key);
    kv[cfg->n_kafka].value = strdup(v);
    cfg->n_kafka++;
    if (kv[cfg->n_kafka - 1].key && kv[cfg->n_kafka - 1].value)
        return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

void config_init(struct config *cfg)
{
    char err[256];
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (settings[i].def)
            set_one(cfg, &settings[i], settings[i].def, err, sizeof(err));
    kafka_set(cfg, "group.id", "zimbridge", err, sizeof(err));
    /* A new group starts at the beginning: a backlog is work to do. */
    kafka_set(cfg, "auto.offset.reset", "earliest", err, sizeof(err));
    /* librdkafka prefetches up to 64 MB per consumer by default, and its
     * per-message bookkeeping about doubles that in memory: with 1,000,000
     * events waiting, 16 MB held 81 MiB of RSS, 4 MB and smaller fetches
     * 35 MiB, at the same throughput (README, "Performance"). 4 MB is
     * still half a second of events at 30,000 events/s. */
    kafka_set(cfg, "queued.max.messages.kbytes", "4096", err, sizeof(err));
    kafka_set(cfg, "fetch.max.bytes", "4194304", err, sizeof(err));
    kafka_set(cfg, "max.partition.fetch.bytes", "262144", err, sizeof(err));
    /* A fetch the broker holds for idle partitions (an empty room topic)
     * holds back the partitions that became fetchable after it was sent:
     * at librdkafka's 500 ms, the first records after an assignment
     * waited ~0.5 s (first reply 0.67 s after start, 0.29 s at 100). An
     * idle consumer then sends up to 10 fetches/s per broker, not 2. */
    kafka_set(cfg, "fetch.wait.max.ms", "100", err, sizeof(err));
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (settings[i].type == S_STR) {
            char **p = field(cfg, &settings[i]);
            if (settings[i].flags & S_SENSITIVE)
                file_free_secret(*p);
            else
                free(*p);
            *p = NULL;
        }
    }
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        /* kafka.* may hold SASL passwords: wiped, then freed. */
        file_free_secret(cfg->kafka[i].value);
        free(cfg->kafka[i].key);
    }
    free(cfg->kafka);
    cfg->kafka = NULL;
    cfg->n_kafka = 0;
}

static int set_checked(struct config *cfg, const char *key, const char *value,
                       char *err, size_t errlen)
{
    const struct setting *s = find(key); /* kafka.allow_plaintext_sasl */
    if (s == NULL && strncmp(key, "kafka.", 6) == 0 && key[6] != '\0')
        return kafka_set(cfg, key + 6, value, err, errlen);
    if (s == NULL) {
        const struct setting *near = nearest(key, strlen(key), false);
        if (near)
            snprintf(err, errlen, "unknown setting '%s'; did you mean '%s'?",
                     key, near->key);
        else
            snprintf(err, errlen, "unknown setting '%s'", key);
        return -1;
    }
    return set_one(cfg, s, value, err, errlen);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int config_load_file(struct config *cfg, const char *path, char *err,
                     size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = config_load_stream(cfg, f, path, err, errlen);
    fclose(f);
    return rc;
}

static int load_stream(struct config *cfg, FILE *f, const char *path, char *err,
                       size_t errlen)
{
    char line[4096], why[512];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", path,
                     lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        if (set_checked(cfg, key, val, why, sizeof(why)) == -1) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            rc = -1;
            break;
        }
    }
    memset(line, 0, sizeof(line)); /* may have held a secret */
    return rc;
}

/* The OpenTelemetry SDK's standard variables, as otel.* settings. */
static const struct {
    const char *var, *key;
} otel_vars[] = {
    {"OTEL_EXPORTER_OTLP_ENDPOINT", "otel.endpoint"},
    {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "otel.traces_endpoint"},
    {"OTEL_EXPORTER_OTLP_HEADERS", "otel.headers"},
    {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "otel.headers"},
    {"OTEL_EXPORTER_OTLP_CERTIFICATE", "otel.tls.ca_file"},
    {"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "otel.tls.ca_file"},
    {"OTEL_EXPORTER_OTLP_TIMEOUT", "otel.timeout_ms"},
    {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "otel.timeout_ms"},
    {"OTEL_SERVICE_NAME", "otel.service_name"},
    {"OTEL_RESOURCE_ATTRIBUTES", "otel.resource_attributes"},
    {"OTEL_TRACES_SAMPLER", "otel.sampler"},
    {"OTEL_TRACES_SAMPLER_ARG", "otel.sampler_arg"},
    {"OTEL_BSP_MAX_QUEUE_SIZE", "otel.queue_size"},
    {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "otel.batch_size"},
    {"OTEL_BSP_SCHEDULE_DELAY", "otel.flush_ms"},
};

/* The OTEL_* variables of env, in otel_vars' order (a signal's own
 * variable after the general one, so it wins). Only http/json is
 * spoken: another OTEL_EXPORTER_OTLP_PROTOCOL is an error. */
static int load_otel_env(struct config *cfg, char *const *env, char *err,
                         size_t errlen)
{
    char why[512];
    for (size_t v = 0; v < ZB_LEN(otel_vars); v++) {
        size_t nl = strlen(otel_vars[v].var);
        for (char *const *e = env; e && *e; e++) {
            if (strncmp(*e, otel_vars[v].var, nl) != 0 || (*e)[nl] != '=')
                continue;
            if (set_checked(cfg, otel_vars[v].key, *e + nl + 1, why,
                            sizeof(why)) == -1) {
                snprintf(err, errlen, "environment %s: %s", otel_vars[v].var,
                         why);
                return -1;
            }
        }
    }
    for (char *const *e = env; e && *e; e++) {
        const char *p = NULL;
        if (strncmp(*e, "OTEL_EXPORTER_OTLP_PROTOCOL=", 28) == 0)
            p = *e + 28;
        else if (strncmp(*e, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=", 35) == 0)
            p = *e + 35;
        if (p && strcmp(p, "http/json") != 0) {
            snprintf(err, errlen,
                     "environment: OTLP protocol '%s': zimbridge exports "
                     "http/json only",
                     p);
            return -1;
        }
    }
    return 0;
}

static int load_env(struct config *cfg, char *const *env, char *err,
                    size_t errlen)
{
    char name[128], why[512];
    for (; env && *env; env++) {
        const char *e = *env, *eq = strchr(e, '=');
        if (strncmp(e, "ZIMBRIDGE_", 10) != 0 || eq == NULL)
            continue;
        size_t nl = (size_t)(eq - e);
        const char *key = NULL;
        char kafka_key[128];
        for (size_t i = 0; i < N_SETTINGS && !key; i++) {
            env_name(settings[i].key, name, sizeof(name));
            if (strlen(name) == nl && strncmp(name, e, nl) == 0)
                key = settings[i].key;
        }
        if (!key && config_is_service_link(e, nl, eq + 1))
            continue; /* Kubernetes' doing, not the operator's */
        if (!key && nl > 16 && nl - 10 < sizeof(kafka_key) &&
            strncmp(e, "ZIMBRIDGE_KAFKA_", 16) == 0) {
            /* librdkafka property names use '.', never '_'. */
            size_t j = (size_t)snprintf(kafka_key, sizeof(kafka_key), "kafka.");
            for (size_t i = 16; i < nl; i++)
                kafka_key[j++] =
                    e[i] == '_' ? '.' : (char)tolower((unsigned char)e[i]);
            kafka_key[j] = '\0';
            key = kafka_key;
        }
        if (!key) {
            const struct setting *near = nearest(e, nl, true);
            if (near) {
                env_name(near->key, name, sizeof(name));
                snprintf(err, errlen,
                         "environment: %.*s is not a setting; did you mean "
                         "%s (%s)?",
                         (int)nl, e, name, near->key);
            } else {
                snprintf(err, errlen, "environment: %.*s is not a setting",
                         (int)nl, e);
            }
            return -1;
        }
        if (set_checked(cfg, key, eq + 1, why, sizeof(why)) == -1) {
            snprintf(err, errlen, "environment %.*s: %s", (int)nl, e, why);
            return -1;
        }
    }
    return 0;
}

void config_forget_secret(struct config *cfg)
{
    file_free_secret(cfg->secret);
    cfg->secret = NULL;
}

static int read_secret_file(struct config *cfg, char *err, size_t errlen)
{
    char *secret = NULL, why[512];
    if (file_read_secret(cfg->secret_file, &secret, why, sizeof(why)) == -1) {
        snprintf(err, errlen, "zim.server_secret_file %s", why);
        return -1;
    }
    file_free_secret(cfg->secret);
    cfg->secret = secret;
    return 0;
}

int config_otel_url(const struct config *cfg, char *out, size_t n)
{
    out[0] = '\0';
    if (cfg->otel_traces_endpoint && cfg->otel_traces_endpoint[0])
        return snprintf(out, n, "%s", cfg->otel_traces_endpoint) < (int)n ? 0
                                                                          : -1;
    if (cfg->otel_endpoint == NULL || cfg->otel_endpoint[0] == '\0')
        return 0;
    size_t l = strlen(cfg->otel_endpoint);
    bool slash = cfg->otel_endpoint[l - 1] == '/';
    return snprintf(out, n, "%s%s", cfg->otel_endpoint,
                    slash ? "v1/traces" : "/v1/traces") < (int)n
               ? 0
               : -1;
}

/* The otel.* settings, when tracing is on: the URL's scheme and the
 * loopback rule of zim.endpoint, the ratio, the headers file. */
static int otel_check(struct config *cfg, char *err, size_t errlen)
{
    char url[2048], shown[2048];
    if (config_otel_url(cfg, url, sizeof(url)) == -1) {
        snprintf(err, errlen, "otel.endpoint: too long");
        return -1;
    }
    if (url[0] == '\0')
        return 0;
    config_url_redact(url, shown, sizeof(shown));
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "OTLP endpoint '%s' must start with https://",
                 shown);
        return -1;
    }
    if (strncmp(url, "http://", 7) == 0 && !config_endpoint_loopback(url) &&
        !cfg->otel_allow_insecure_http) {
        snprintf(err, errlen,
                 "OTLP endpoint '%s': http:// is only for a loopback host; "
                 "use https://, or set otel.allow_insecure_http = true",
                 shown);
        return -1;
    }
    char *end = NULL;
    errno = 0;
    double r = strtod(cfg->otel_sampler_arg, &end);
    if (errno || end == cfg->otel_sampler_arg || *end != '\0' || !(r >= 0) ||
        r > 1) {
        snprintf(err, errlen, "otel.sampler_arg: '%s' is not a ratio in [0, 1]",
                 cfg->otel_sampler_arg);
        return -1;
    }
    if (cfg->otel_headers_file) {
        char *h = NULL, why[512];
        if (file_read_secret(cfg->otel_headers_file, &h, why, sizeof(why)) ==
            -1) {
            snprintf(err, errlen, "otel.headers_file %s", why);
            return -1;
        }
        file_free_secret(cfg->otel_headers);
        cfg->otel_headers = h;
    }
    return 0;
}

static int finish(struct config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (!(settings[i].flags & S_REQUIRED))
            continue;
        /* The only required non-string is zim.app_id, 0 until set. */
        if (settings[i].type == S_U32 &&
            *(uint32_t *)field(cfg, &settings[i]) == 0) {
            snprintf(err, errlen, "%s is required", settings[i].key);
            return -1;
        }
    }
    if (config_kafka_get(cfg, "bootstrap.servers") == NULL) {
        snprintf(err, errlen, "kafka.bootstrap.servers is required");
        return -1;
    }
    if (cfg->secret_file && read_secret_file(cfg, err, errlen) == -1)
        return -1;
    if (cfg->secret == NULL || cfg->secret[0] == '\0') {
        snprintf(err, errlen,
                 "zim.server_secret or zim.server_secret_file "
                 "is required");
        return -1;
    }
    char shown[512];
    config_url_redact(cfg->endpoint, shown, sizeof(shown));
    if (strncmp(cfg->endpoint, "https://", 8) != 0 &&
        strncmp(cfg->endpoint, "http://", 7) != 0) {
        snprintf(err, errlen, "zim.endpoint '%s' must start with https://",
                 shown);
        return -1;
    }
    const char *host = strstr(cfg->endpoint, "://") + 3;
    if (*host == '\0' || *host == '/' || strchr(cfg->endpoint, '?') ||
        strchr(cfg->endpoint, '#') || strchr(cfg->endpoint, ' ')) {
        snprintf(err, errlen, "zim.endpoint '%s' is not a base URL", shown);
        return -1;
    }
    const char *bf = cfg->allowed_from[EVENT_BROADCAST];
    if (bf && strchr(bf, '*')) {
        snprintf(err, errlen,
                 "broadcast.allowed_from takes exact FromUserIds, not "
                 "prefixes: a broadcast reaches every user");
        return -1;
    }
    const char *proto = config_kafka_get(cfg, "security.protocol");
    if (proto && strcasecmp(proto, "sasl_plaintext") == 0 &&
        !cfg->allow_plaintext_sasl) {
        snprintf(err, errlen,
                 "kafka.security.protocol = %s sends the SASL credentials "
                 "in the clear; use SASL_SSL, or set "
                 "kafka.allow_plaintext_sasl = true",
                 proto);
        return -1;
    }
    if (strncmp(cfg->endpoint, "http://", 7) == 0 &&
        !config_endpoint_loopback(cfg->endpoint) && !cfg->allow_insecure_http) {
        snprintf(err, errlen,
                 "zim.endpoint '%s': http:// is only for a loopback host "
                 "(127.0.0.0/8, localhost, [::1]); use https://, or set "
                 "zim.allow_insecure_http = true to send signed URLs in "
                 "the clear",
                 shown);
        return -1;
    }
    if (otel_check(cfg, err, errlen) == -1)
        return -1;
    for (int i = 0; i < TOPIC_ROLE_COUNT; i++) {
        if (cfg->topic[i][0] == '\0') {
            snprintf(err, errlen, "topic names must not be empty");
            return -1;
        }
    }
    if (cfg->retry_base_ms > cfg->retry_max_ms) {
        snprintf(err, errlen, "retry.base_ms must not exceed retry.max_ms");
        return -1;
    }
    return 0;
}

/* An error quotes what it refuses (a name, a value, a line), which may
 * be any bytes: it is logged, so invalid UTF-8 and control characters
 * become \xNN. -1, for the callers' returns. */
static int said(int rc, char *err, size_t errlen)
{
    if (rc == 0 || errlen == 0)
        return rc;
    char raw[1024];
    snprintf(raw, sizeof(raw), "%s", err);
    utf8_terminal(err, errlen, raw, strlen(raw));
    return rc;
}

int config_set(struct config *cfg, const char *key, const char *value,
               char *err, size_t errlen)
{
    return said(set_checked(cfg, key, value, err, errlen), err, errlen);
}

int config_load_stream(struct config *cfg, FILE *f, const char *path, char *err,
                       size_t errlen)
{
    return said(load_stream(cfg, f, path, err, errlen), err, errlen);
}

int config_load_env(struct config *cfg, char *const *env, char *err,
                    size_t errlen)
{
    if (load_otel_env(cfg, env, err, errlen) == -1)
        return said(-1, err, errlen);
    return said(load_env(cfg, env, err, errlen), err, errlen);
}

int config_finish(struct config *cfg, char *err, size_t errlen)
{
    return said(finish(cfg, err, errlen), err, errlen);
}

void config_url_redact(const char *url, char *out, size_t n)
{
    const char *h = strstr(url, "://");
    const char *auth = h ? h + 3 : url;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@')
            at = p; /* the last one: a password may hold an '@' */
    if (at == NULL)
        snprintf(out, n, "%s", url);
    else
        snprintf(out, n, "%.*s[redacted]%s", (int)(auth - url), url, at);
}

bool config_endpoint_loopback(const char *url)
{
    const char *h = strstr(url, "://");
    if (h == NULL)
        return false;
    h += 3;
    size_t n = strcspn(h, "/");
    const char *at = memrchr(h, '@', n); /* user:pass@host, as curl reads */
    if (at) {
        n -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    char host[256];
    if (h[0] == '[') { /* [v6]:port */
        const char *e = memchr(h, ']', n);
        if (e == NULL || (size_t)(e - h - 1) >= sizeof(host))
            return false;
        memcpy(host, h + 1, (size_t)(e - h - 1));
        host[e - h - 1] = '\0';
        struct in6_addr a6;
        return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    size_t hl = strcspn(h, ":/");
    if (hl > n)
        hl = n;
    if (hl == 0 || hl >= sizeof(host))
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (strcasecmp(host, "localhost") == 0)
        return true;
    struct in_addr a4; /* dotted quad only: inet_pton refuses 127.1 */
    return inet_pton(AF_INET, host, &a4) == 1 &&
           (ntohl(a4.s_addr) >> 24) == 127;
}

static bool kafka_sensitive(const char *key)
{
    return strstr(key, "password") || strstr(key, "secret") ||
           strstr(key, "key") || strstr(key, "jaas") || strstr(key, "token") ||
           strstr(key, "sasl.oauthbearer.config");
}

void config_dump(const struct config *cfg, FILE *out)
{
    struct config *c = (struct config *)cfg; /* field() reads only */
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        fprintf(out, "%s = ", s->key);
        if (s->flags & S_SENSITIVE) {
            const char *v = *(char **)field(c, s);
            fprintf(out, "%s\n", v ? "[redacted]" : "");
            continue;
        }
        switch (s->type) {
        case S_STR: {
            const char *v = *(char **)field(c, s);
            char shown[512];
            if (v && (s->flags & S_URL)) {
                config_url_redact(v, shown, sizeof(shown));
                v = shown;
            }
            fprintf(out, "%s\n", v ? v : "");
            break;
        }
        case S_INT:
            fprintf(out, "%" PRId64 "\n", *(int64_t *)field(c, s));
            break;
        case S_U32:
            fprintf(out, "%" PRIu32 "\n", *(uint32_t *)field(c, s));
            break;
        case S_ENUM: {
            int64_t idx = *(int64_t *)field(c, s);
            const char *p = s->choices;
            for (int64_t k = 0; k < idx; k++)
                p = strchr(p, '|') + 1;
            fprintf(out, "%.*s\n", (int)strcspn(p, "|"), p);
            break;
        }
        }
    }
    for (size_t i = 0; i < cfg->n_kafka; i++)
        fprintf(out, "kafka.%s = %s\n", cfg->kafka[i].key,
                kafka_sensitive(cfg->kafka[i].key) ? "[redacted]"
                                                   : cfg->kafka[i].value);
}

void config_write_example(FILE *out)
{
    char name[128];
    fprintf(out,
            "# zimbridge configuration: `key = value`, `#` starts a comment.\n"
            "# Every key can also be set by the environment variable shown\n"
            "# (the environment wins). Keys starting with kafka. go to\n"
            "# librdkafka unchanged (CONFIGURATION.md of librdkafka), e.g.\n"
            "# kafka.security.protocol, kafka.sasl.*, kafka.ssl.*.\n\n"
            "# Required. Env: ZIMBRIDGE_KAFKA_BOOTSTRAP_SERVERS\n"
            "kafka.bootstrap.servers = 127.0.0.1:9092\n"
            "# Consumer group shared by all replicas. Env: "
            "ZIMBRIDGE_KAFKA_GROUP_ID\n"
            "# kafka.group.id = zimbridge\n"
            "# Where a new group starts. Env: "
            "ZIMBRIDGE_KAFKA_AUTO_OFFSET_RESET\n"
            "# kafka.auto.offset.reset = earliest\n"
            "# Consumer prefetch bound (librdkafka default 65536). Env: "
            "ZIMBRIDGE_KAFKA_QUEUED_MAX_MESSAGES_KBYTES\n"
            "# kafka.queued.max.messages.kbytes = 4096\n"
            "# One fetch's bytes, all partitions and one partition's "
            "(librdkafka\n# defaults 52428800 and 1048576; a larger record "
            "still comes whole).\n"
            "# Env: ZIMBRIDGE_KAFKA_FETCH_MAX_BYTES, "
            "ZIMBRIDGE_KAFKA_MAX_PARTITION_FETCH_BYTES\n"
            "# kafka.fetch.max.bytes = 4194304\n"
            "# kafka.max.partition.fetch.bytes = 262144\n"
            "# How long the broker may hold a fetch for idle partitions "
            "(librdkafka\n# default 500): new partitions wait for it. Env: "
            "ZIMBRIDGE_KAFKA_FETCH_WAIT_MAX_MS\n"
            "# kafka.fetch.wait.max.ms = 100\n");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        env_name(s->key, name, sizeof(name));
        fprintf(out, "\n# %s.", s->help);
        if (s->type == S_INT || s->type == S_U32)
            fprintf(out, " Range %" PRId64 "..%" PRId64 ".", s->min, s->max);
        if (s->type == S_ENUM)
            fprintf(out, " One of %s.", s->choices);
        if (s->flags & S_REQUIRED)
            fprintf(out, " Required.");
        if (s->flags & S_SENSITIVE)
            fprintf(out, " Sensitive: never printed.");
        fprintf(out, "\n# Env: %s\n", name);
        if (strcmp(s->key, "zim.app_id") == 0)
            fprintf(out, "%s = 1234567890\n", s->key);
        else if (strcmp(s->key, "zim.server_secret_file") == 0)
            fprintf(out, "%s = /run/secrets/zim-server-secret\n", s->key);
        else
            fprintf(out, "# %s = %s\n", s->key, s->def ? s->def : "");
    }
}

const char *config_kafka_get(const struct config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n_kafka; i++)
        if (strcmp(cfg->kafka[i].key, key) == 0)
            return cfg->kafka[i].value;
    return NULL;
}
