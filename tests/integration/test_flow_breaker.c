/* test_flow_breaker.c - an outage pauses the bridge instead of filling
 * the dead-letter topic: zimsim answers 100000005 (signature wrong) for
 * 30 s, then refuses connections for 10 s. Each time the breaker opens,
 * nothing is dead-lettered, and every event is delivered once ZIM is back. */
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
#include <sys/time.h>
#include <unistd.h>

static void produce(const struct topics *t, int from, int to)
{
    testenv_produce_peers(t->peer, from, to, 13, "e");
}

static size_t count(const struct zimsim *zs, const char *path,
                    const char *needle)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 24);
    testenv_zimsim_get(zs, path, &b);
    size_t n = testenv_count_lines(b.data, needle);
    buf_free(&b);
    return n;
}

static void test_breaker(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    const char *const args[] = {"--qps-peer", "0", NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 6);

    /* 1. Credentials rejected for 30 s. */
    testenv_zimsim_control(&zs, "{\"force_code\":100000005,"
                                "\"force_ms\":30000}");
    double t0 = testenv_now();
    produce(&t, 0, 200);
    testenv_bridge_start(&b, &zs, &t,
                         "quota.peer_per_s = 0\nbreaker.probe_ms = 1000\n"
                         "breaker.probe_max_ms = 4000\nlog.level = info\n");
    struct recs replies;
    testenv_read_topic(t.reply, 200, 0, 120000, &replies);
    double took = testenv_now() - t0;
    assert_int_equal(replies.n, 200);
    for (size_t i = 0; i < replies.n; i++)
        assert_non_null(strstr(replies.v[i].value, "\"status\":\"sent\""));
    testenv_recs_free(&replies);
    size_t rejected = count(&zs, "/_sim/requests", "\"code\":100000005");
    printf("breaker, bad signature for 30 s: %zu calls answered 100000005 "
           "(the window in flight, then one probe at a time), all 200 "
           "delivered %.1f s after the start\n",
           rejected, took);
    assert_true(took >= 30);
    assert_true(rejected <= 64 + 20);
    assert_int_equal(testenv_file_count(b.log, "breaker open"), 1);
    assert_true(testenv_file_count(b.log, "breaker closed") >= 1);
    assert_int_equal(count(&zs, "/_sim/messages", "\"action\""), 200);

    /* 2. ZIM refusing connections for 10 s, mid-stream. */
    testenv_zimsim_control(&zs, "{\"down\":\"refuse\",\"down_ms\":10000}");
    usleep(200000);
    produce(&t, 200, 300);
    testenv_read_topic(t.reply, 300, 0, 120000, &replies);
    assert_int_equal(replies.n, 300);
    for (size_t i = 0; i < replies.n; i++)
        assert_non_null(strstr(replies.v[i].value, "\"status\":\"sent\""));
    assert_int_equal(testenv_file_count(b.log, "breaker open"), 2);
    assert_int_equal(count(&zs, "/_sim/messages", "\"action\""), 300);

    struct recs dlq;
    testenv_read_topic(t.dlq, 0, 1000, 3000, &dlq);
    assert_int_equal(dlq.n, 0);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&replies);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_breaker, testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
