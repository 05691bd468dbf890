/* test_hostile.c - hostile input (issue 10): records that are not JSON,
 * binary, 10 MB, nested 100,000 deep, invalid UTF-8, with a repeated key,
 * or IDs with NUL or CR/LF each get a DLQ record with a precise error; an
 * ID with a %-escape is sent literally, never decoded; the good records
 * around them still flow and the bridge exits cleanly afterwards. */
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOOD(n)                                                                \
    "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],\"MessageType\":1,"          \
    "\"Priority\":1,\"MessageBody\":{\"Message\":\"good " n "\"}}"

static const struct {
    const char *key;
    const char *field; /* expected error field ("" = whole record) */
    const char *code;
} bad[] = {
    {"not-json", "", "900000001"},
    {"binary", "", "900000001"},
    {"too-large", "", "900000001"},
    /* Where it is 16 deep, and the field holding the invalid UTF-8. */
    {"too-deep", "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]",
     "900000001"},
    {"bad-utf8", "MessageBody.Message", "900000001"},
    {"dup-key", "ToUserId", "900000001"},
    {"nul-id", "FromUserId", "660000002"},
    {"crlf-id", "ToUserId[0]", "660000002"},
};

static void test_hostile_records(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    const char *const args[] = {"--qps-peer", "0", NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 1); /* one partition: the order below is kept */
    /* The input topic takes 11 MB records, as a producer could be allowed
     * to send; the DLQ topic keeps Kafka's default limit (1 MB). */
    testenv_delete_topic(t.peer);
    testenv_create_topic_config(t.peer, 1, "max.message.bytes", "11534336");
    /* A record limit above 200 KB, so that the 100,000-deep record is
     * refused for its depth, not its size. */
    testenv_bridge_start(&b, &zs, &t,
                         "quota.peer_per_s = 0\n"
                         "event.max_record_bytes = 262144\n");
    rd_kafka_t *p = testenv_producer_max(11534336);
    testenv_produce(p, t.peer, "good-1", GOOD("1"), NULL);
    testenv_produce(p, t.peer, "not-json", "this is not JSON {", NULL);
    /* Binary: bytes that are not text at all (NUL-free so it can be
     * passed as a C string; json-c fails on the first byte either way). */
    testenv_produce(p, t.peer, "binary", "\x01\x02\xff\xfe\x80\x81\x7f", NULL);
    size_t big = 10 * 1024 * 1024, deep = 100000;
    char *s = malloc(big + 64);
    memset(s, 'x', big);
    memcpy(s, "{\"a\":\"", 6);
    strcpy(s + big - 3, "\"}");
    testenv_produce(p, t.peer, "too-large", s, NULL);
    memset(s, '[', deep);
    memset(s + deep, ']', deep);
    s[2 * deep] = '\0';
    testenv_produce(p, t.peer, "too-deep", s, NULL);
    free(s);
    testenv_produce(p, t.peer, "bad-utf8",
                    "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"\xc3\x28\"}}",
                    NULL);
    testenv_produce(p, t.peer, "dup-key",
                    "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"x\"},\"ToUserId\":[\"u3\"]}",
                    NULL);
    testenv_produce(p, t.peer, "nul-id",
                    "{\"FromUserId\":\"u\\u00001\",\"ToUserId\":[\"u2\"],"
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"x\"}}",
                    NULL);
    testenv_produce(p, t.peer, "crlf-id",
                    "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\\r\\nX: y\"],"
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"x\"}}",
                    NULL);
    testenv_produce(p, t.peer, "pct-id",
                    "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u%0A2%2F\"],"
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"percent\"}}",
                    NULL);
    testenv_produce(p, t.peer, "good-2", GOOD("2"), NULL);
    testenv_flush(p);
    rd_kafka_destroy(p);

    struct recs replies, dlq;
    testenv_read_topic(t.reply, 11, 0, 60000, &replies);
    assert_int_equal(replies.n, 11);
    testenv_read_topic(t.dlq, 8, 0, 30000, &dlq);
    assert_int_equal(dlq.n, 8);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct rec *d = NULL;
        for (size_t k = 0; k < dlq.n; k++)
            if (strcmp(dlq.v[k].key, bad[i].key) == 0)
                d = &dlq.v[k];
        if (d == NULL)
            fail_msg("no DLQ record for %s", bad[i].key);
        assert_string_equal(testenv_header(d, "zim.failure.class"),
                            "validation");
        assert_string_equal(testenv_header(d, "zim.error.code"), bad[i].code);
        const char *msg = testenv_header(d, "zim.error.message");
        assert_non_null(msg);
        assert_true(strlen(msg) > 10);
        printf("%-10s -> %s %s\n", bad[i].key, bad[i].code, msg);
        if (strcmp(bad[i].key, "too-deep") == 0)
            assert_non_null(strstr(msg, "nested deeper"));
        if (strcmp(bad[i].key, "too-large") == 0) {
            /* Cut to 64 KiB, its size in a header. */
            assert_string_equal(testenv_header(d, "zim.value.truncated"),
                                "10485759"); /* 10 MiB - 1 */
            assert_int_equal(strlen(d->value), 65536);
        }
        /* The reply names the field. */
        for (size_t k = 0; k < replies.n; k++) {
            if (strcmp(replies.v[k].key, bad[i].key) != 0)
                continue;
            char want[128];
            snprintf(want, sizeof(want), "\"field\":\"%s\"", bad[i].field);
            assert_non_null(strstr(replies.v[k].value, want));
        }
    }
    struct buf log;
    buf_init(&log, 1 << 20);
    testenv_zimsim_get(&zs, "/_sim/messages", &log);
    assert_int_equal(testenv_count_lines(log.data, "\"action\""), 3);
    assert_int_equal(testenv_count_lines(log.data, "good 1"), 1);
    assert_int_equal(testenv_count_lines(log.data, "good 2"), 1);
    /* The %-escape reached ZIM literally. */
    assert_int_equal(testenv_count_lines(log.data, "\"to\":\"u%0A2%2F\""), 1);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    buf_free(&log);
    testenv_recs_free(&replies);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
}

/* zimsim without a peer quota, one-partition topics (a DLQ topic taking
 * at most dlq_max_bytes, unless NULL) and a bridge with conf. */
static void start(struct zimsim *zs, struct topics *t, struct bridge *b,
                  const char *dlq_max_bytes, const char *conf)
{
    const char *const args[] = {"--qps-peer", "0", NULL};
    testenv_zimsim_start(zs, NULL, NULL, args);
    testenv_topics(t, 1);
    if (dlq_max_bytes) {
        testenv_unique("t.dlq.small", t->dlq, sizeof(t->dlq));
        testenv_create_topic_config(t->dlq, 1, "max.message.bytes",
                                    dlq_max_bytes);
    }
    testenv_bridge_start(b, zs, t, conf);
}

/* Over a small event.max_record_bytes but under 64 KiB: dead-lettered
 * whole (only what exceeds 64 KiB is cut). */
static void test_small_limit_dead_letters_whole(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    start(&zs, &t, &b, NULL,
          "quota.peer_per_s = 0\nevent.max_record_bytes = 1024\n");
    char rec[2001];
    memset(rec, 'x', sizeof(rec) - 1);
    rec[sizeof(rec) - 1] = '\0';
    rd_kafka_t *p = testenv_producer();
    testenv_produce(p, t.peer, "over-1k", rec, NULL);
    testenv_flush(p);
    rd_kafka_destroy(p);
    struct recs dlq;
    testenv_read_topic(t.dlq, 1, 0, 30000, &dlq);
    assert_int_equal(dlq.n, 1);
    assert_string_equal(dlq.v[0].value, rec);
    assert_null(testenv_header(&dlq.v[0], "zim.value.truncated"));
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
}

/* Sender policies: a producer that may write to the input topics still
 * cannot send as a user outside *.allowed_from, nor above *.max_priority.
 * Each refusal is dead-lettered with its own code, nothing reaches ZIM,
 * and the allowed events around them are sent. */
static void test_sender_policy(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    start(&zs, &t, &b, NULL,
          "quota.peer_per_s = 0\nquota.broadcast_per_s = 0\n"
          "peer.allowed_from = svc-*\npeer.max_priority = 2\n"
          "broadcast.allowed_from = announcer\n");
#define FROM(from, prio)                                                       \
    "{\"FromUserId\":\"" from "\",\"ToUserId\":[\"u2\"],\"MessageType\":1,"    \
    "\"Priority\":" prio ",\"MessageBody\":{\"Message\":\"私信 رسالة 🔒\"}}"
#define BCAST(from)                                                            \
    "{\"FromUserId\":\"" from "\",\"MessageType\":1,\"MessageBody\":"          \
    "{\"Message\":\"全员通知：系统维护 📣\"}}"
    rd_kafka_t *p = testenv_producer();
    testenv_produce(p, t.peer, "ok", FROM("svc-billing", "2"), NULL);
    testenv_produce(p, t.peer, "as-user", FROM("mallory", "1"), NULL);
    testenv_produce(p, t.peer, "urgent", FROM("svc-billing", "3"), NULL);
    testenv_produce(p, t.broadcast, "all", BCAST("mallory"), NULL);
    testenv_produce(p, t.broadcast, "all", BCAST("announcer"), NULL);
    testenv_flush(p);
    rd_kafka_destroy(p);
    struct recs dlq, reply;
    testenv_read_topic(t.reply, 5, 0, 30000, &reply);
    assert_int_equal(reply.n, 5);
    testenv_read_topic(t.dlq, 3, 1000, 30000, &dlq);
    assert_int_equal(dlq.n, 3);
    static const struct {
        const char *value, *code, *setting;
    } want[] = {
        {FROM("mallory", "1"), "900000003", "(peer.allowed_from)"},
        {FROM("svc-billing", "3"), "900000004", "peer.max_priority (2)"},
        {BCAST("mallory"), "900000003", "(broadcast.allowed_from)"},
    };
    for (size_t i = 0; i < 3; i++) {
        size_t k = 0;
        while (k < dlq.n && strcmp(dlq.v[k].value, want[i].value) != 0)
            k++;
        assert_true(k < dlq.n);
        assert_string_equal(testenv_header(&dlq.v[k], "zim.error.code"),
                            want[i].code);
        assert_string_equal(testenv_header(&dlq.v[k], "zim.failure.class"),
                            "validation");
        assert_non_null(strstr(testenv_header(&dlq.v[k], "zim.error.message"),
                               want[i].setting));
    }
    /* Only the two allowed events reached ZIM. */
    struct buf stats;
    buf_init(&stats, 1 << 16);
    testenv_zimsim_get(&zs, "/_sim/stats", &stats);
    assert_int_equal(
        testenv_sim_stat(stats.data, "\"SendPeerMessage\"", "\"accepted\":"),
        1);
    assert_int_equal(testenv_sim_stat(stats.data, "\"SendMessageToAllUsers\"",
                                      "\"accepted\":"),
                     1);
    buf_free(&stats);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&dlq);
    testenv_recs_free(&reply);
    testenv_zimsim_stop(&zs);
}

/* A DLQ topic that takes less than the bridge lets in: the DLQ record is
 * cut until the topic takes it, instead of holding the partition for
 * ever, and says so (zim.value.truncated). */
static void test_dlq_topic_too_small(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    start(&zs, &t, &b, "2000", "quota.peer_per_s = 0\n");
    static char rec[10001];
    int n = snprintf(rec, sizeof(rec),
                     "{\"FromUserId\":\"u1\",\"ToUserID\":[\"u2\"],"
                     "\"MessageType\":1,\"Priority\":1,"
                     "\"MessageBody\":{\"Message\":\"");
    memset(rec + n, 'x', sizeof(rec) - 1 - (size_t)n - 3);
    memcpy(rec + sizeof(rec) - 4, "\"}}", 4);
    rd_kafka_t *p = testenv_producer();
    testenv_produce(p, t.peer, "big", rec, NULL);
    testenv_produce(p, t.peer, "ok",
                    "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                    "\"MessageType\":1,\"Priority\":1,"
                    "\"MessageBody\":{\"Message\":\"after-big\"}}",
                    NULL);
    testenv_flush(p);
    rd_kafka_destroy(p);
    testenv_wait_committed(t.group_id, t.peer, 60);
    struct recs dlq;
    testenv_read_topic(t.dlq, 1, 0, 30000, &dlq);
    assert_int_equal(dlq.n, 1);
    size_t len = strlen(dlq.v[0].value);
    printf("DLQ topic max.message.bytes 2000: a %zu-byte record "
           "dead-lettered as its first %zu bytes\n",
           strlen(rec), len);
    assert_true(len > 0 && len < 2000);
    assert_memory_equal(dlq.v[0].value, rec, len);
    assert_string_equal(testenv_header(&dlq.v[0], "zim.value.truncated"),
                        "10000");
    assert_string_equal(testenv_header(&dlq.v[0], "zim.failure.class"),
                        "validation");
    assert_true(testenv_file_count(b.log, "too large for Kafka") >= 1);
    struct buf log;
    buf_init(&log, 1 << 20);
    testenv_zimsim_get(&zs, "/_sim/messages", &log);
    assert_int_equal(testenv_count_lines(log.data, "after-big"), 1);
    buf_free(&log);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hostile_records, testenv_teardown),
        cmocka_unit_test_teardown(test_small_limit_dead_letters_whole,
                                  testenv_teardown),
        cmocka_unit_test_teardown(test_dlq_topic_too_small, testenv_teardown),
        cmocka_unit_test_teardown(test_sender_policy, testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
