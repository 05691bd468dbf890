/* config.h - every setting of zimbridge, in one table (style.md §10).
 *
 * Sources, later ones winning: built-in defaults, the config file
 * (`key = value`, `#` comments), then ZIMBRIDGE_<KEY> environment variables
 * (key upper-cased, '.' -> '_'). `kafka.*` keys go to librdkafka unchanged.
 * Unknown keys are errors. Sensitive values are never printed. */
#ifndef ZB_CONFIG_H
#define ZB_CONFIG_H

#include "event_kind.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The topics: one input topic per action, at the action's index (enum
 * event_kind), then the two output topics. */
enum topic_role {
    TOPIC_REPLY = ZB_ACTION_COUNT,
    TOPIC_DLQ,
};
#define TOPIC_ROLE_COUNT (ZB_ACTION_COUNT + 2)

/* otel.sampler, in its choices' order. */
enum config_sampler {
    SAMPLER_ALWAYS_ON,
    SAMPLER_ALWAYS_OFF,
    SAMPLER_RATIO,
    SAMPLER_PARENT_ALWAYS_ON,
    SAMPLER_PARENT_ALWAYS_OFF,
    SAMPLER_PARENT_RATIO,
};

struct config_kv {
    char *key; /* without the "kafka." prefix */
    char *value;
};

struct config {
    /* zim.* */
    char *endpoint;
    uint32_t app_id;
    char *secret; /* from zim.server_secret or the file */
    char *secret_file;
    char *ca_file;
    char *sasl_password_file; /* kafka.sasl.password, from a file */
    /* topics.* */
    char *topic[TOPIC_ROLE_COUNT];
    /* http.* (calls to ZIM) and the metrics listener */
    int64_t max_inflight;
    int64_t commit_window;
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    char *listen;
    int64_t stall_ms; /* /healthz fails after this long without a turn */
    /* retry.* */
    int64_t retry_max_attempts;
    int64_t retry_base_ms;
    int64_t retry_max_ms;
    int64_t retry_max_elapsed_ms;
    /* recovery.*: the ledger read on assignment (bridge/ledger.h) */
    int64_t recovery_scan; /* 0 false, 1 true */
    int64_t recovery_margin_ms;
    int64_t recovery_max_records;
    int64_t recovery_timeout_ms;
    /* the rest */
    int64_t drain_ms;
    int64_t log_level;  /* enum log_level */
    int64_t log_format; /* enum log_format */
    int64_t slow_ms;    /* log records slower than this end to end, 0: off */
    char *copy_headers; /* comma-separated header names */
    /* event.* */
    int64_t max_record_bytes;
    int64_t max_message_bytes;
    int64_t max_multi_message_bytes;
    int64_t max_extended_bytes;
    int64_t max_searched_bytes;
    int64_t max_json_depth;
    int64_t unknown_fields; /* 0 reject, 1 pass */
    int64_t max_recipients; /* peer.max_recipients */
    /* <kind>.allowed_from and <kind>.max_priority: sender policies */
    char *allowed_from[ZB_ACTION_COUNT];   /* comma-separated, NULL: anyone */
    int64_t max_priority[ZB_ACTION_COUNT]; /* 3: any */
    /* pack.* */
    int64_t pack_enabled;         /* 0 false, 1 true */
    int64_t allow_insecure_http;  /* zim.endpoint http:// to any host */
    int64_t allow_plaintext_sasl; /* kafka SASL_PLAINTEXT */
    int64_t pack_linger_ms;
    /* flow control */
    int64_t ordering;               /* enum ordering */
    int64_t max_records;            /* records held in memory */
    int64_t quota[ZB_ACTION_COUNT]; /* calls/s per action, 0 = unlimited */
    int64_t broadcast_daily;
    int64_t broadcast_window_ms;
    int64_t headroom_pct;
    int64_t breaker_failures;
    int64_t breaker_probe_ms;
    int64_t breaker_probe_max_ms;
    /* otel.*: tracing (io/otlp.h, bridge/tracing.h) */
    char *otel_endpoint, *otel_traces_endpoint;
    char *otel_headers, *otel_headers_file, *otel_ca_file;
    int64_t otel_allow_insecure_http;
    char *otel_service_name, *otel_resource_attributes;
    int64_t otel_sampler; /* enum config_sampler */
    char *otel_sampler_arg;
    int64_t otel_record_key;    /* 0 false, 1 true */
    int64_t otel_reply_context; /* 0 new, 1 copy */
    int64_t otel_queue_size, otel_batch_size, otel_flush_ms, otel_timeout_ms;
    /* kafka.*, in the order set; later duplicates override earlier ones */
    struct config_kv *kafka;
    size_t n_kafka;
};

/* Wipes and frees the ServerSecret (cfg->secret becomes NULL), once what
 * needs it holds its own copy. */
void config_forget_secret(struct config *cfg);
/* Fills cfg with the defaults. Free with config_free(). */
void config_init(struct config *cfg);
void config_free(struct config *cfg);

/* Sets one key from its text form, checking type and range. 0 or -1. */
int config_set(struct config *cfg, const char *key, const char *value,
               char *err, size_t errlen);
/* Reads `key = value` lines. Errors name the file and line. 0 or -1. */
int config_load_file(struct config *cfg, const char *path, char *err,
                     size_t errlen);
/* The same from an open stream; path names it in errors. */
int config_load_stream(struct config *cfg, FILE *f, const char *path, char *err,
                       size_t errlen);
/* Applies the OpenTelemetry SDK's OTEL_* variables that zimbridge reads
 * (as otel.* settings; README, "Tracing"), then every ZIMBRIDGE_*
 * variable of env (NULL-terminated), but the
 * service links Kubernetes adds (config_is_service_link). An unknown name
 * fails, naming the nearest setting when it looks like a typo of one.
 * 0 or -1. */
int config_load_env(struct config *cfg, char *const *env, char *err,
                    size_t errlen);
/* url with its userinfo (user:pass@) replaced by "[redacted]@", into out
 * (cut to n): how an endpoint is shown in logs, errors and dumps. */
void config_url_redact(const char *url, char *out, size_t n);
/* Whether a URL's host is loopback: 127.0.0.0/8 (dotted), localhost or
 * [::1]. */
bool config_endpoint_loopback(const char *url);
/* True if the variable name[0..nl) = value is one Kubernetes injects for
 * a Service (<SVC>_SERVICE_HOST, <SVC>_SERVICE_PORT[_<NAME>], <SVC>_PORT,
 * <SVC>_PORT_<n>_<PROTO>[_PROTO|_PORT|_ADDR]), by name and value shape. */
bool config_is_service_link(const char *name, size_t nl, const char *value);
/* Checks what the bridge needs to run (required keys, the secret, the
 * endpoint's scheme) and reads zim.server_secret_file. 0 or -1. */
int config_finish(struct config *cfg, char *err, size_t errlen);

/* The OTLP/HTTP traces URL into out: otel.traces_endpoint, else
 * otel.endpoint + "/v1/traces", else "" (tracing is off). 0, or -1 when
 * it does not fit. */
int config_otel_url(const struct config *cfg, char *out, size_t n);

/* Writes every effective setting as `key = value`, secrets [redacted]. */
void config_dump(const struct config *cfg, FILE *out);
/* Writes the documented example file (every key, its default and help). */
void config_write_example(FILE *out);

const char *config_kafka_get(const struct config *cfg, const char *key);

#endif
