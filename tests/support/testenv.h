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

/* ---- zimsim ---- */
#include "buf.h"

#include <stdint.h>
#include <sys/types.h>

#define TESTENV_APP_ID 3000000001u /* above 2^31 on purpose */
#define TESTENV_SECRET "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

struct zimsim {
    pid_t pid;
    char url[128];
    char dir[256]; /* its files: secret, users, groups */
};

/* Starts build/zimsim with the test AppId and secret, a users file with
 * users (space-separated; NULL: every user exists), a groups file with
 * groups ("g1: u1 u2;g2: u3"; NULL: every group exists), and the extra
 * argv (NULL-terminated, may be NULL). Fails the test on error. */
void testenv_zimsim_start(struct zimsim *zs, const char *users,
                          const char *groups, const char *const *extra);
void testenv_zimsim_stop(struct zimsim *zs); /* SIGTERM, waits */

/* One HTTP request through libcurl. body NULL: GET. out gets the response
 * body. Returns the HTTP status, or -CURLcode on transport failure.
 * ca_file: trust this CA (HTTPS), NULL for the defaults. */
long testenv_http(const char *method, const char *url, const char *body,
                  const char *ca_file, struct buf *out);
/* A signed ZIM call to zs: action, JSON body. Returns as testenv_http. */
long testenv_zim_call(const struct zimsim *zs, const char *action,
                      const char *body, struct buf *out);
/* The integer after "\"Code\":" in a response, or INT64_MIN. */
int64_t testenv_code(const struct buf *resp);
/* POST /_sim/control with json; fails the test unless it answers 200. */
void testenv_zimsim_control(const struct zimsim *zs, const char *json);
