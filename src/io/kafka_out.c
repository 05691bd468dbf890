/* kafka_out.c - reply/DLQ producer. */
#define LOG_COMPONENT "kafka_out"
#include "kafka_out.h"

#include "kafka_conf.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

struct kafka_out {
    rd_kafka_t *rk;
    rd_kafka_topic_t *known[2]; /* the reply and DLQ topics, kept known */
    kafka_out_dr_fn dr;
    void *ctx;
    int fatal;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque)
{
    (void)rk;
    struct kafka_out *ko = opaque;
    ko->dr(ko->ctx, rkm->_private, rkm->err,
           rkm->err ? rd_kafka_err2str(rkm->err) : "");
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct kafka_out *ko = opaque;
    if (kafka_conf_error(rk, err, reason, "producer"))
        ko->fatal = 1;
}

struct kafka_out *kafka_out_new(const struct config *cfg, kafka_out_dr_fn dr,
                                void *ctx, int wake_fd, char *err,
                                size_t errlen)
{
    struct kafka_out *ko = calloc(1, sizeof(*ko));
    rd_kafka_conf_t *conf = NULL;
    if (ko == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    ko->dr = dr;
    ko->ctx = ctx;
    /* Our guarantees need these; they override kafka.* on purpose. */
    if ((conf = kafka_conf_new(cfg, KAFKA_CONF_PRODUCER, err, errlen)) ==
            NULL ||
        kafka_conf_set(conf, "enable.idempotence", "true", err, errlen) ||
        kafka_conf_set(conf, "acks", "all", err, errlen) ||
        kafka_conf_set(conf, "linger.ms", "1", err, errlen))
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
    for (size_t i = 0; i < sizeof(ko->known) / sizeof(ko->known[0]); i++)
        if (ko->known[i])
            rd_kafka_topic_destroy(ko->known[i]);
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

/* librdkafka (2.0.2 at least) asks for a new topic's metadata on its 1 s
 * timer, so the first record to each output topic waited up to a second
 * (and the commit window filled meanwhile). Asking now, once per topic,
 * has its partitions known before the first outcome. */
void kafka_out_warm(struct kafka_out *ko, const char *reply, const char *dlq,
                    int timeout_ms)
{
    const char *names[] = {reply, dlq};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (ko->known[i] == NULL &&
            (ko->known[i] = rd_kafka_topic_new(ko->rk, names[i], NULL)) == NULL)
            continue;
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e =
            rd_kafka_metadata(ko->rk, 0, ko->known[i], &md, timeout_ms);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
            log_debug("metadata of %s not read yet: %s", names[i],
                      rd_kafka_err2str(e));
        if (md)
            rd_kafka_metadata_destroy(md);
    }
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

int kafka_out_credentials(struct kafka_out *ko, const struct config *cfg,
                          const char *password, char *err, size_t errlen)
{
    return kafka_conf_credentials(ko->rk, cfg, password, err, errlen);
}
