/* kafka_out.c - reply/DLQ producer. */
#define LOG_COMPONENT "kafka_out"
#include "kafka_out.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct kafka_out {
    rd_kafka_t *rk;
    kafka_out_dr_fn dr;
    int fatal;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque)
{
    (void)rk;
    struct kafka_out *ko = opaque;
    ko->dr(rkm->_private, rkm->err, rkm->err ? rd_kafka_err2str(rkm->err) : "");
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct kafka_out *ko = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_fatal_error(rk, buf, sizeof(buf));
        log_error("fatal producer error: %s", buf);
        ko->fatal = 1;
        return;
    }
    log_warnx("producer: %s", reason);
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err,
               size_t errlen)
{
    return rd_kafka_conf_set(conf, k, v, err, errlen) == RD_KAFKA_CONF_OK ? 0
                                                                          : -1;
}

/* librdkafka before 2.6.1 fails SCRAM authentication against Apache Kafka
 * 4.x brokers ("invalid credentials", while a Java client with the same
 * credentials succeeds): seen here with Debian's 2.0.2 and Kafka 4.1.1.
 * Said once at start-up, since the failure itself looks like a wrong
 * password. */
static void warn_scram(const char *key, const char *value)
{
    if ((strcmp(key, "sasl.mechanisms") == 0 ||
         strcmp(key, "sasl.mechanism") == 0) &&
        strncasecmp(value, "SCRAM", 5) == 0 && rd_kafka_version() < 0x02060100)
        log_warnx("librdkafka %s: SCRAM authentication fails against Apache "
                  "Kafka 4.0 and later brokers with librdkafka before 2.6.1; "
                  "use a newer librdkafka, or PLAIN over TLS, with such "
                  "brokers",
                  rd_kafka_version_str());
}

struct kafka_out *kafka_out_new(const struct config *cfg, kafka_out_dr_fn dr,
                                int wake_fd, char *err, size_t errlen)
{
    struct kafka_out *ko = calloc(1, sizeof(*ko));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (ko == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    ko->dr = dr;
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        /* Consumer-only properties would only draw warnings here. */
        if (strcmp(cfg->kafka[i].key, "group.id") == 0 ||
            strncmp(cfg->kafka[i].key, "auto.", 5) == 0 ||
            strncmp(cfg->kafka[i].key, "enable.auto.", 12) == 0 ||
            strcmp(cfg->kafka[i].key, "partition.assignment.strategy") == 0 ||
            strncmp(cfg->kafka[i].key, "session.", 8) == 0 ||
            strncmp(cfg->kafka[i].key, "max.poll.", 9) == 0 ||
            strncmp(cfg->kafka[i].key, "fetch.", 6) == 0 ||
            strncmp(cfg->kafka[i].key, "queued.", 7) == 0 ||
            strncmp(cfg->kafka[i].key, "group.", 6) == 0 ||
            strcmp(cfg->kafka[i].key, "heartbeat.interval.ms") == 0 ||
            strcmp(cfg->kafka[i].key, "isolation.level") == 0)
            continue;
        if (set(conf, cfg->kafka[i].key, cfg->kafka[i].value, err, errlen))
            goto fail;
        warn_scram(cfg->kafka[i].key, cfg->kafka[i].value);
    }
    /* Our guarantees need these; they override kafka.* on purpose. */
    if (set(conf, "enable.idempotence", "true", err, errlen) ||
        set(conf, "acks", "all", err, errlen) ||
        set(conf, "linger.ms", "1", err, errlen))
        goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, ko);
    if ((ko->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen)) == NULL)
        goto fail;
    conf = NULL; /* now owned by ko->rk */
    if (wake_fd >= 0) {
        rd_kafka_queue_t *q = rd_kafka_queue_get_main(ko->rk);
        rd_kafka_queue_io_event_enable(q, wake_fd, "p", 1);
        rd_kafka_queue_destroy(q);
    }
    return ko;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    kafka_out_destroy(ko);
    return NULL;
}

void kafka_out_destroy(struct kafka_out *ko)
{
    if (ko == NULL)
        return;
    if (ko->rk)
        rd_kafka_destroy(ko->rk);
    free(ko);
}

rd_kafka_resp_err_t kafka_out_produce(struct kafka_out *ko, const char *topic,
                                      const void *key, size_t keylen,
                                      const void *value, size_t len,
                                      rd_kafka_headers_t *hdrs, void *opaque,
                                      char *errstr, size_t errlen)
{
    rd_kafka_resp_err_t e = rd_kafka_producev(
        ko->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, keylen),
        RD_KAFKA_V_VALUE((void *)value, len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (hdrs)
            rd_kafka_headers_destroy(hdrs); /* not consumed on failure */
        snprintf(errstr, errlen, "%s", rd_kafka_err2str(e));
    }
    return e;
}

void kafka_out_poll(struct kafka_out *ko)
{
    rd_kafka_poll(ko->rk, 0);
}

int kafka_out_flush(struct kafka_out *ko, int timeout_ms)
{
    return rd_kafka_flush(ko->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR
               ? 0
               : -1;
}

int kafka_out_fatal(const struct kafka_out *ko)
{
    return ko->fatal;
}
