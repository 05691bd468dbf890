/* test_flow_broadcast.c - the broadcast quota window, made short by
 * configuration (5 per 15 s): broadcasts past the quota wait and are sent
 * once the window frees, none is dead-lettered, and a restarted bridge
 * remembers the window by reading the reply topic back, counting only the
 * records this bridge wrote (zim.record.mac): forged "sent" records in the
 * reply topic do not pause broadcasts. */
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

#define WINDOW_MS 15000
#define CONF                                                                   \
    "quota.broadcast_per_s = 0\nquota.broadcast_daily = 5\n"                   \
    "quota.broadcast_window_ms = 15000\nlog.level = info\n"

static void produce(const struct topics *t, int from, int to)
{
    rd_kafka_t *p = testenv_producer();
    char val[1024];
    for (int i = from; i < to; i++) {
        snprintf(val, sizeof(val),
                 "{\"FromUserId\":\"u1\",\"MessageType\":1,\"MessageBody\":"
                 "{\"Message\":\"b%d. %s\"}}",
                 i, testenv_chat_text(i));
        testenv_produce(p, t->broadcast, "all", val, NULL);
    }
    testenv_flush(p);
    rd_kafka_destroy(p);
}

/* Arrival times (µs) of broadcasts at zimsim, in arrival order. */
static int arrivals(const struct zimsim *zs, long long *us, int max)
{
    struct buf log;
    buf_init(&log, 1 << 20);
    testenv_zimsim_get(zs, "/_sim/messages", &log);
    int n = 0;
    for (const char *l = strstr(log.data ? log.data : "", "\"arrival_us\":");
         l && n < max; l = strstr(l + 1, "\"arrival_us\":"))
        us[n++] = strtoll(l + 13, NULL, 10);
    buf_free(&log);
    return n;
}

/* zimsim with a day of 5 broadcasts in window_ms, fresh topics, and a
 * bridge configured with conf. */
static void start(struct zimsim *zs, struct topics *t, struct bridge *b,
                  const char *window_ms, const char *conf)
{
    const char *const args[] = {"--qps-broadcast",
                                "0",
                                "--broadcast-daily",
                                "5",
                                "--broadcast-window-ms",
                                window_ms,
                                NULL};
    testenv_zimsim_start(zs, NULL, NULL, args);
    testenv_topics(t, 3);
    testenv_bridge_start(b, zs, t, conf);
}

static void test_window_waits_and_survives_restart(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    start(&zs, &t, &b, "15000", CONF);
    produce(&t, 0, 5);
    struct recs replies;
    testenv_read_topic(t.reply, 5, 0, 60000, &replies);
    assert_int_equal(replies.n, 5);
    testenv_recs_free(&replies);
    /* Restart: the new process must know 5 went out in this window. */
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_bridge_start(&b, &zs, &t, CONF);
    produce(&t, 5, 8);
    testenv_read_topic(t.reply, 8, 0, 90000, &replies);
    assert_int_equal(replies.n, 8);
    for (size_t i = 0; i < replies.n; i++)
        assert_non_null(strstr(replies.v[i].value, "\"status\":\"sent\""));
    long long us[16];
    assert_int_equal(arrivals(&zs, us, 16), 8);
    /* The 6th went out only when the 1st left the window. */
    double waited = (double)(us[5] - us[0]) / 1e6;
    printf("broadcast window: 6th broadcast %.1f s after the 1st "
           "(window %d s)\n",
           waited, WINDOW_MS / 1000);
    assert_true(us[5] - us[0] >= (long long)WINDOW_MS * 1000);
    struct buf stats;
    buf_init(&stats, 1 << 16);
    testenv_zimsim_get(&zs, "/_sim/stats", &stats);
    assert_null(strstr(stats.data, "660500003")); /* never over quota */
    buf_free(&stats);
    struct recs dlq;
    testenv_read_topic(t.dlq, 0, 1000, 3000, &dlq);
    assert_int_equal(dlq.n, 0);
    int rebuilt = testenv_file_count(b.log, "5 sent in the last");
    int resumed = testenv_file_count(b.log, "resuming broadcasts");
    assert_int_equal(rebuilt, 1);
    assert_true(resumed >= 1);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&replies);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
}

/* Writes value to topic with the zim.record.mac header mac (NULL: none). */
static void forge(rd_kafka_t *p, const char *topic, const char *value,
                  const char *mac)
{
    const char *const h[] = {"zim.record.mac", mac, NULL};
    testenv_produce(p, topic, "all", value, mac ? h : NULL);
}

#define LONG_CONF                                                              \
    "quota.broadcast_per_s = 0\nquota.broadcast_daily = 5\n"                   \
    "quota.broadcast_window_ms = 600000\nlog.level = info\n"

static void test_forged_sent_records_ignored(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    start(&zs, &t, &b, "600000", LONG_CONF);
    produce(&t, 0, 3);
    struct recs genuine;
    testenv_read_topic(t.reply, 3, 0, 60000, &genuine);
    assert_int_equal(genuine.n, 3);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    /* testenv_header's value lives until its next call: keep copies */
    char mac0[128], mac1[128];
    assert_non_null(testenv_header(&genuine.v[0], "zim.record.mac"));
    snprintf(mac0, sizeof(mac0), "%s",
             testenv_header(&genuine.v[0], "zim.record.mac"));
    assert_non_null(testenv_header(&genuine.v[1], "zim.record.mac"));
    snprintf(mac1, sizeof(mac1), "%s",
             testenv_header(&genuine.v[1], "zim.record.mac"));
    assert_string_not_equal(mac0, mac1);
    assert_non_null(strstr(genuine.v[0].value, "\"status\":\"sent\""));
    /* Someone with write access to the reply topic: 4 "sent" broadcasts
     * without a MAC, one with a genuine MAC of another record, one with a
     * MAC made up, one with a genuine MAC but another time, and 2 exact
     * copies of a genuine record (counted once). Before the MAC, these 10
     * records filled the day's 5 and paused broadcasting. */
    rd_kafka_t *p = testenv_producer();
    for (int i = 0; i < 4; i++)
        forge(p, t.reply, genuine.v[2].value, NULL);
    forge(p, t.reply, genuine.v[0].value, mac1);
    forge(p, t.reply, genuine.v[0].value,
          "v1 1700000000000 00112233445566778899aabbccddeeff00112233445566778"
          "899aabbccddeeff");
    char moved[128];
    snprintf(moved, sizeof(moved), "v1 %lld%s", strtoll(mac0 + 3, NULL, 10) + 1,
             strchr(mac0 + 3, ' '));
    forge(p, t.reply, genuine.v[0].value, moved);
    forge(p, t.reply, genuine.v[0].value, mac0);
    forge(p, t.reply, genuine.v[1].value, mac1);
    testenv_flush(p);
    rd_kafka_destroy(p);
    testenv_bridge_start(&b, &zs, &t, LONG_CONF);
    /* 3 genuine in the window: 2 more go out at once, the 6th waits. */
    produce(&t, 3, 6);
    struct recs all;
    testenv_read_topic(t.reply, 3 + 9 + 2, 0, 60000, &all);
    assert_int_equal(all.n, 3 + 9 + 2);
    struct recs more;
    testenv_read_topic(t.reply, 3 + 9 + 3, 3000, 6000, &more);
    assert_int_equal(more.n, 3 + 9 + 2); /* the 6th is held: day full */
    long long us[16];
    assert_int_equal(arrivals(&zs, us, 16), 5);
    assert_int_equal(testenv_file_count(b.log, "3 sent in the last"), 1);
    assert_int_equal(
        testenv_file_count(b.log, "ignored 7 sent-broadcast records of"), 1);
    assert_int_equal(testenv_file_count(b.log, "and 2 copies of genuine"), 1);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&genuine);
    testenv_recs_free(&all);
    testenv_recs_free(&more);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_forged_sent_records_ignored,
                                  testenv_teardown),
        cmocka_unit_test_teardown(test_window_waits_and_survives_restart,
                                  testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
