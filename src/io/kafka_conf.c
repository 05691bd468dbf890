/* kafka_conf.c - librdkafka configurations from kafka.* settings. */
#define LOG_COMPONENT "kafka"
#include "kafka_conf.h"

#include "fileio.h"
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
                   char *err, size_t errlen)
{
    char why[512];
    if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) ==
        RD_KAFKA_CONF_OK)
        return 0;
    snprintf(err, errlen, "kafka.%s: %s", key, why);
    return -1;
}

bool kafka_conf_error(rd_kafka_t *rk, int err, const char *reason,
                      const char *who)
{
    if (err != RD_KAFKA_RESP_ERR__FATAL) {
        log_warnx("%s: %s", who, reason);
        return false;
    }
    char buf[512];
    rd_kafka_fatal_error(rk, buf, sizeof(buf));
    log_error("fatal %s error: %s", who, buf);
    return true;
}

/* Properties only a consumer reads. */
static bool consumer_only(const char *key)
{
    static const char *const prefixes[] = {
        "auto.",  "enable.auto.", "session.", "max.poll.",
        "fetch.", "queued.",      "group.",   NULL};
    static const char *const names[] = {
        "partition.assignment.strategy", "max.partition.fetch.bytes",
        "heartbeat.interval.ms", "isolation.level", NULL};
    for (int i = 0; prefixes[i]; i++)
        if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    for (int i = 0; names[i]; i++)
        if (strcmp(key, names[i]) == 0)
            return true;
    return false;
}

/* librdkafka before 2.6.1 fails SCRAM authentication against Apache Kafka
 * 4.x brokers ("invalid credentials", while a Java client with the same
 * credentials succeeds): seen here with Debian's 2.0.2 and Kafka 4.1.1.
 * Said at start-up, since the failure itself looks like a wrong
 * password. */
static void warn_scram(const char *key, const char *value)
{
    static bool warned; /* once per process: the check and the producer */
    if ((strcmp(key, "sasl.mechanisms") == 0 ||
         strcmp(key, "sasl.mechanism") == 0) &&
        strncasecmp(value, "SCRAM", 5) == 0 &&
        rd_kafka_version() < 0x02060100 && !warned) {
        warned = true;
        log_warnx("librdkafka %s: SCRAM authentication fails against Apache "
                  "Kafka 4.0 and later brokers with librdkafka before 2.6.1; "
                  "use a newer librdkafka, or PLAIN over TLS, with such "
                  "brokers",
                  rd_kafka_version_str());
    }
}

/* The librdkafka properties that hold a secret and may come from a file
 * instead: kafka.<property>_file = PATH (in the environment,
 * ZIMBRIDGE_KAFKA_<PROPERTY>_FILE, which arrives as "<property>.file"),
 * read at start. kafka.sasl.password has sasl.password_file, read again
 * when it changes. */
static const char *const secret_props[] = {
    "ssl.key.password", "ssl.keystore.password",
    "sasl.oauthbearer.client.secret", "sasl.oauthbearer.config", NULL};

/* If key is <secret property>_file or .file, the property; else NULL. */
static const char *secret_file_prop(const char *key)
{
    size_t n = strlen(key);
    if (n < 6 || (strcmp(key + n - 5, "_file") != 0 &&
                  strcmp(key + n - 5, ".file") != 0))
        return NULL;
    for (int i = 0; secret_props[i]; i++)
        if (strlen(secret_props[i]) == n - 5 &&
            strncmp(key, secret_props[i], n - 5) == 0)
            return secret_props[i];
    return NULL;
}

/* The first line of the file at path (named by setting) as prop. */
static int secret_from_file(rd_kafka_conf_t *conf, const char *prop,
                            const char *path, const char *setting, char *err,
                            size_t errlen)
{
    char *v = NULL, why[512];
    if (file_read_secret(path, &v, why, sizeof(why)) == -1) {
        snprintf(err, errlen, "%s %s", setting, why);
        return -1;
    }
    int rc = kafka_conf_set(conf, prop, v, err, errlen);
    file_free_secret(v);
    return rc;
}

/* librdkafka's own lines (syslog levels) go through our logger: its
 * format (JSON or logfmt), its level and its per-line-site rate limit
 * (an unreachable broker logs every second), not raw to stderr. Errors and
 * the rest are two sites, so a flood of one does not hide the other. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
    (void)rk;
    if (level <= 3)
        log_emit(LOG_ERROR, "rdkafka", 0, "librdkafka %s: %s", fac, buf);
    else if (level == 4)
        log_emit(LOG_WARN, "rdkafka", 0, "librdkafka %s: %s", fac, buf);
    else
        log_emit(level == 7 ? LOG_DEBUG : LOG_INFO, "rdkafka", 0, "%s: %s", fac,
                 buf);
}

rd_kafka_conf_t *kafka_conf_new(const struct config *cfg,
                                enum kafka_conf_role role, char *err,
                                size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, on_log);
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        const char *k = cfg->kafka[i].key, *v = cfg->kafka[i].value;
        if (role == KAFKA_CONF_PRODUCER && consumer_only(k))
            continue;
        const char *prop = secret_file_prop(k);
        char setting[256];
        snprintf(setting, sizeof(setting), "kafka.%s", k);
        if (prop ? secret_from_file(conf, prop, v, setting, err, errlen) == -1
                 : kafka_conf_set(conf, k, v, err, errlen) == -1) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
        if (role == KAFKA_CONF_PRODUCER)
            warn_scram(k, v);
    }
    if (cfg->sasl_password_file &&
        secret_from_file(conf, "sasl.password", cfg->sasl_password_file,
                         "sasl.password_file", err, errlen) == -1) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

int kafka_conf_credentials(rd_kafka_t *rk, const struct config *cfg,
                           const char *password, char *err, size_t errlen)
{
    const char *user = config_kafka_get(cfg, "sasl.username");
    rd_kafka_error_t *e =
        rd_kafka_sasl_set_credentials(rk, user ? user : "", password);
    if (e == NULL)
        return 0;
    snprintf(err, errlen, "%s", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return -1;
}
