/* test_kafka_smoke.c - the test broker is a real Kafka, usable from C.
 *
 * Produces 1,000 keyed records with two headers through the idempotent
 * producer (acks=all), consumes them in a consumer group with manual offset
 * store and commit, checks every key, value and header, commits after
 * record 600, and checks that a new consumer in the same group resumes at
 * offset 600. */
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define N_RECORDS 1000
#define COMMIT_AT 600

static char topic[128];
static char group[128];

static void produce_all(void)
{
    char err[512];
    rd_kafka_conf_t *conf = testenv_kafka_conf();
    testenv_conf_set(conf, "enable.idempotence", "true");
    testenv_conf_set(conf, "acks", "all");
    testenv_conf_set(conf, "linger.ms", "5");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    assert_non_null(rk);
    for (int i = 0; i < N_RECORDS; i++) {
        char key[32], val[64], h1[32];
        snprintf(key, sizeof(key), "key-%d", i % 37);
        snprintf(val, sizeof(val), "{\"seq\":%d}", i);
        snprintf(h1, sizeof(h1), "corr-%d", i);
        rd_kafka_resp_err_t e;
        do {
            e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                RD_KAFKA_V_KEY(key, strlen(key)),
                RD_KAFKA_V_VALUE(val, strlen(val)),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_HEADER("correlation-id", h1, -1),
                RD_KAFKA_V_HEADER("event-id", key, -1), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 10);
        } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
        assert_int_equal(e, RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    assert_int_equal(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(rd_kafka_outq_len(rk), 0);
    rd_kafka_destroy(rk);
}

static rd_kafka_t *consumer_new(void)
{
    char err[512];
    rd_kafka_conf_t *conf = testenv_kafka_conf();
    testenv_conf_set(conf, "group.id", group);
    testenv_conf_set(conf, "auto.offset.reset", "earliest");
    testenv_conf_set(conf, "enable.auto.offset.store", "false");
    testenv_conf_set(conf, "enable.auto.commit", "false");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    assert_non_null(rk);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    assert_int_equal(rd_kafka_subscribe(rk, sub), 0);
    rd_kafka_topic_partition_list_destroy(sub);
    return rk;
}

static const char *header(rd_kafka_message_t *rkm, const char *name,
                          size_t *len)
{
    rd_kafka_headers_t *hdrs = NULL;
    const void *v = NULL;
    if (rd_kafka_message_headers(rkm, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(hdrs, name, &v, len) !=
            RD_KAFKA_RESP_ERR_NO_ERROR)
        return NULL;
    return v;
}

/* Consumes records from offset `first` until `stop_after` of them were seen,
 * checking each. Returns the next expected offset. */
static int64_t consume_check(rd_kafka_t *rk, int64_t first, int stop_after,
                             int commit_at)
{
    int64_t next = first;
    int idle = 0;
    while (next < first + stop_after && idle < 300) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
        if (rkm == NULL) {
            idle++;
            continue;
        }
        if (rkm->err) {
            /* Partition EOF and transient errors are not fatal here. */
            rd_kafka_message_destroy(rkm);
            continue;
        }
        idle = 0;
        assert_int_equal(rkm->offset, next);
        char want_key[32], want_val[64], want_corr[32];
        int i = (int)rkm->offset;
        snprintf(want_key, sizeof(want_key), "key-%d", i % 37);
        snprintf(want_val, sizeof(want_val), "{\"seq\":%d}", i);
        snprintf(want_corr, sizeof(want_corr), "corr-%d", i);
        assert_int_equal(rkm->key_len, strlen(want_key));
        assert_memory_equal(rkm->key, want_key, rkm->key_len);
        assert_int_equal(rkm->len, strlen(want_val));
        assert_memory_equal(rkm->payload, want_val, rkm->len);
        size_t hl = 0;
        const char *h = header(rkm, "correlation-id", &hl);
        assert_non_null(h);
        assert_int_equal(hl, strlen(want_corr));
        assert_memory_equal(h, want_corr, hl);
        h = header(rkm, "event-id", &hl);
        assert_non_null(h);
        assert_memory_equal(h, want_key, hl);
        if (rkm->offset < commit_at) {
            /* Store offset+1: the next record to read. */
            rd_kafka_topic_partition_list_t *st =
                rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(st, topic, rkm->partition)
                ->offset = rkm->offset + 1;
            assert_int_equal(rd_kafka_offsets_store(rk, st), 0);
            rd_kafka_topic_partition_list_destroy(st);
        }
        if (rkm->offset == commit_at - 1)
            assert_int_equal(rd_kafka_commit(rk, NULL, 0), 0);
        next++;
        rd_kafka_message_destroy(rkm);
    }
    return next;
}

static void test_produce_consume_commit_resume(void **state)
{
    (void)state;
    testenv_unique("smoke", topic, sizeof(topic));
    testenv_unique("smoke-group", group, sizeof(group));
    testenv_create_topic(topic, 1);
    produce_all();

    rd_kafka_t *rk = consumer_new();
    /* Reads everything, commits only the first 600. */
    assert_int_equal(consume_check(rk, 0, N_RECORDS, COMMIT_AT), N_RECORDS);
    assert_int_equal(rd_kafka_consumer_close(rk), 0);
    rd_kafka_destroy(rk);

    rk = consumer_new();
    /* A new member of the group starts at the committed offset. */
    assert_int_equal(consume_check(rk, COMMIT_AT, N_RECORDS - COMMIT_AT, 0),
                     N_RECORDS);
    rd_kafka_topic_partition_list_t *parts =
        rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0);
    assert_int_equal(rd_kafka_committed(rk, parts, 10000), 0);
    assert_int_equal(parts->elems[0].offset, COMMIT_AT);
    rd_kafka_topic_partition_list_destroy(parts);
    assert_int_equal(rd_kafka_consumer_close(rk), 0);
    rd_kafka_destroy(rk);
    printf("kafka smoke: broker %s, topic %s: %d records produced, "
           "consumed, resumed at %d\n",
           testenv_bootstrap(), topic, N_RECORDS, COMMIT_AT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_produce_consume_commit_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
