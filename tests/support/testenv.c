/* testenv.c - shared integration-test helpers. */
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *testenv_bootstrap(void)
{
    static char addr[256];
    if (addr[0])
        return addr;
    const char *env = getenv("ZB_KAFKA_BOOTSTRAP");
    if (env && env[0]) {
        snprintf(addr, sizeof(addr), "%s", env);
        return addr;
    }
    const char *dir = getenv("KAFKA_LOCAL_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/bootstrap", dir ? dir : ".");
    FILE *f = fopen(path, "r");
    if (f == NULL || fgets(addr, sizeof(addr), f) == NULL)
        fail_msg("no test broker: %s unreadable (run under ctest, which "
                 "starts scripts/kafka-local)",
                 path);
    fclose(f);
    addr[strcspn(addr, "\r\n")] = '\0';
    return addr;
}

void testenv_unique(const char *prefix, char *out, size_t n)
{
    static int seq;
    snprintf(out, n, "%s.%ld.%d", prefix, (long)getpid(), ++seq);
}

void testenv_conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[512];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        fail_msg("conf %s=%s: %s", k, v, err);
}

rd_kafka_conf_t *testenv_kafka_conf(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    testenv_conf_set(conf, "bootstrap.servers", testenv_bootstrap());
    return conf;
}

void testenv_create_topic(const char *name, int partitions)
{
    char err[512];
    rd_kafka_t *rk =
        rd_kafka_new(RD_KAFKA_PRODUCER, testenv_kafka_conf(), err, sizeof(err));
    if (rk == NULL)
        fail_msg("admin client: %s", err);
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(name, partitions, 1, err, sizeof(err));
    if (nt == NULL)
        fail_msg("NewTopic %s: %s", name, err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 30000, err, sizeof(err));
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
    if (ev == NULL)
        fail_msg("CreateTopics %s: no answer in 60 s", name);
    if (rd_kafka_event_error(ev))
        fail_msg("CreateTopics %s: %s", name, rd_kafka_event_error_string(ev));
    const rd_kafka_CreateTopics_result_t *res =
        rd_kafka_event_CreateTopics_result(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; i++)
        if (rd_kafka_topic_result_error(tr[i]))
            fail_msg("CreateTopics %s: %s", name,
                     rd_kafka_topic_result_error_string(tr[i]));
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}
