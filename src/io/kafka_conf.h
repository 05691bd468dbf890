/* kafka_conf.h - the one way a librdkafka configuration is made from
 * zimbridge's settings: every kafka.* key applied as is, and a refused one
 * (a mistyped name, a bad value) is an error for every command alike. */
#ifndef ZB_KAFKA_CONF_H
#define ZB_KAFKA_CONF_H

#include "config.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

enum kafka_conf_role { KAFKA_CONF_CONSUMER = 0, KAFKA_CONF_PRODUCER };

/* A new conf with cfg's kafka.* settings (and sasl.password_file's
 * password as sasl.password); for a producer without the
 * consumer-only ones (group.id, fetch.*, ...), which would only draw
 * warnings. NULL with err filled when librdkafka refuses one. The caller
 * owns the conf (rd_kafka_new() consumes it). */
rd_kafka_conf_t *kafka_conf_new(const struct config *cfg,
                                enum kafka_conf_role role, char *err,
                                size_t errlen);
/* For an error callback: logs librdkafka's error (who: "consumer",
 * "producer"), and returns true if it is fatal (the client is unusable). */
bool kafka_conf_error(rd_kafka_t *rk, int err, const char *reason,
                      const char *who);
/* The SASL username (kafka.sasl.username) and a new password, for rk's
 * next authentication. 0, or -1 with err filled. */
int kafka_conf_credentials(rd_kafka_t *rk, const struct config *cfg,
                           const char *password, char *err, size_t errlen);
/* Sets one property. 0, or -1 with err filled. */
int kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
                   char *err, size_t errlen);

#endif
