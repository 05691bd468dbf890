/* test_flow_broadcast.c - the broadcast quota window, made short by
 * configuration (5 per 15 s): broadcasts past the quota wait and are sent
 * once the window frees, none is dead-lettered, and a restarted bridge
 * remembers the window by reading the reply topic back. */
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
    char val[256];
    for (int i = from; i < to; i++) {
        snprintf(val, sizeof(val),
                 "{\"FromUserId\":\"u1\",\"MessageType\":1,\"MessageBody\":"
                 "{\"Message\":\"b%d.\"}}",
                 i);
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

static void test_window_waits_and_survives_restart(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    const char *const args[] = {"--qps-broadcast",
                                "0",
                                "--broadcast-daily",
                                "5",
                                "--broadcast-window-ms",
                                "15000",
                                NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 3);
    testenv_bridge_start(&b, &zs, &t, CONF);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_window_waits_and_survives_restart,
                                  testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
