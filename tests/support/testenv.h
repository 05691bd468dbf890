/* testenv.h - what integration tests share: where the test broker is,
 * fresh topics, and small helpers. Failures abort the test with a message
 * (these run under cmocka, which reports them). */
#ifndef ZB_TESTENV_H
#define ZB_TESTENV_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* The broker started by scripts/kafka-local for this build tree
 * ($KAFKA_LOCAL_DIR/bootstrap). Never NULL: fails the test instead. */
const char *testenv_bootstrap(void);
/* A topic name unique to this process and call: "<prefix>.<pid>.<n>". */
void testenv_unique(const char *prefix, char *out, size_t n);
/* Creates a topic (replication 1) through librdkafka's admin API. */
void testenv_create_topic(const char *name, int partitions);
/* A librdkafka conf with bootstrap.servers set. Caller owns it. */
rd_kafka_conf_t *testenv_kafka_conf(void);
/* Sets a librdkafka property or fails the test. */
void testenv_conf_set(rd_kafka_conf_t *conf, const char *k, const char *v);

#endif
