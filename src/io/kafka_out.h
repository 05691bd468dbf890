/* kafka_out.h - the one idempotent producer (acks=all) that writes reply
 * and dead-letter records. Delivery reports come back through
 * kafka_out_poll() with the opaque given to kafka_out_produce(); they
 * drive the offset store, so nothing is committed before its outcome is
 * in Kafka. */
#ifndef ZB_KAFKA_OUT_H
#define ZB_KAFKA_OUT_H

#include "config.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>

struct kafka_out;

/* Delivery report: ctx as given to kafka_out_new(), opaque as given to
 * kafka_out_produce(); err is RD_KAFKA_RESP_ERR_NO_ERROR when the record
 * is durably in Kafka. */
typedef void (*kafka_out_dr_fn)(void *ctx, void *opaque,
                                rd_kafka_resp_err_t err, const char *errstr);

/* wake_fd: written to when delivery reports are ready (-1: none). */
struct kafka_out *kafka_out_new(const struct config *cfg, kafka_out_dr_fn dr,
                                void *ctx, int wake_fd, char *err,
                                size_t errlen);
void kafka_out_destroy(struct kafka_out *ko); /* NULL: no-op */

/* Queues one record; hdrs (may be NULL) is consumed in every case.
 * RD_KAFKA_RESP_ERR_NO_ERROR, or why not (the local queue is full, the
 * topic is unknown, the record is over message.max.bytes; errstr says it
 * in words). */
rd_kafka_resp_err_t kafka_out_produce(struct kafka_out *ko, const char *topic,
                                      const void *key, size_t keylen,
                                      const void *value, size_t len,
                                      rd_kafka_headers_t *hdrs, void *opaque,
                                      char *errstr, size_t errlen);
/* Reads the reply and DLQ topics' metadata now (waiting up to timeout_ms
 * for each), so their first records go out at once; a failure is only
 * logged: librdkafka asks again on its own. */
void kafka_out_warm(struct kafka_out *ko, const char *reply, const char *dlq,
                    int timeout_ms);
/* Serves delivery reports (and errors), without waiting. */
void kafka_out_poll(struct kafka_out *ko);
/* Waits up to timeout_ms for all queued records. 0, or -1 if some remain. */
int kafka_out_flush(struct kafka_out *ko, int timeout_ms);
int kafka_out_fatal(const struct kafka_out *ko); /* 1 after a fatal error */

/* A new SASL password for the producer's next authentication. 0, or -1
 * with err filled. */
int kafka_out_credentials(struct kafka_out *ko, const struct config *cfg,
                          const char *password, char *err, size_t errlen);

#endif
