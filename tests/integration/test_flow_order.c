/* test_flow_order.c - per-key order with concurrency: 20 keys x 200
 * events, zimsim adding 0-20 ms of latency and failing 5 % with Code 1.
 * zimsim's arrival order per key must equal the produce order, and more
 * than one request must have been in flight at once.
 *
 * Run again with a commit window of 8: with many events of mixed
 * priority held and retries queued behind events the window holds back,
 * every partition must still get through (a retry stuck behind them once
 * stalled the bridge for good). */
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS    20
#define PER_KEY 200

static void key_order(const char *window)
{
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    const char *const args[] = {"--qps-peer", "0",           "--jitter-ms",
                                "20",         "--fail-rate", "0.05",
                                "--seed",     "7",           NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 6);
    rd_kafka_t *p = testenv_producer();
    char key[16], val[256];
    for (int i = 0; i < PER_KEY; i++) {
        for (int k = 0; k < KEYS; k++) {
            snprintf(key, sizeof(key), "conv-%d", k);
            snprintf(val, sizeof(val),
                     "{\"FromUserId\":\"u%d\",\"ToUserId\":[\"v\"],"
                     "\"MessageType\":1,\"Priority\":%d,\"MessageBody\":"
                     "{\"Message\":\"k%d-n%d.\"}}",
                     k, 1 + (i % 3), k, i);
            testenv_produce(p, t.peer, key, val, NULL);
        }
    }
    testenv_flush(p);
    rd_kafka_destroy(p);
    char conf[512];
    snprintf(conf, sizeof(conf),
             "quota.peer_per_s = 0\nretry.base_ms = 5\n"
             "retry.max_ms = 50\nretry.max_attempts = 20\n"
             "log.level = info\ncommit.window = %s\n",
             window);
    testenv_bridge_start(&b, &zs, &t, conf);
    struct recs replies;
    testenv_read_topic(t.reply, KEYS * PER_KEY, 0, 240000, &replies);
    assert_int_equal(replies.n, KEYS * PER_KEY);
    for (size_t i = 0; i < replies.n; i++)
        assert_non_null(strstr(replies.v[i].value, "\"status\":\"sent\""));

    struct buf log;
    buf_init(&log, (size_t)1 << 26);
    testenv_zimsim_get(&zs, "/_sim/messages", &log);
    int next[KEYS] = {0};
    size_t lines = 0;
    for (const char *l = log.data; l && *l; lines++) {
        const char *m = strstr(l, "\"Message\":\"k");
        assert_non_null(m);
        int k = -1, n = -1;
        assert_int_equal(sscanf(m + 12, "%d-n%d.", &k, &n), 2);
        if (n != next[k])
            fail_msg("key %d: arrival %d where %d was due", k, n, next[k]);
        next[k]++;
        l = strchr(l, '\n');
        l = l ? l + 1 : NULL;
    }
    assert_int_equal(lines, KEYS * PER_KEY);
    /* Concurrency was used: zimsim saw overlapping requests. */
    testenv_zimsim_get(&zs, "/_sim/stats", &log);
    const char *mi = strstr(log.data, "\"max_inflight\":");
    assert_non_null(mi);
    long max_inflight = strtol(mi + 15, NULL, 10);
    const char *c1 = strstr(log.data, "\"1\":");
    printf("key order, commit.window %s: %d events, max %ld requests in "
           "flight at zimsim, Code 1 answers: %ld\n",
           window, KEYS * PER_KEY, max_inflight,
           c1 ? strtol(c1 + 4, NULL, 10) : 0);
    assert_true(max_inflight > 1);
    assert_true(max_inflight <= KEYS); /* never two of one key */
    assert_non_null(c1);               /* the 5 % were injected */
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    buf_free(&log);
    testenv_recs_free(&replies);
    testenv_zimsim_stop(&zs);
}

static void test_key_order(void **state)
{
    (void)state;
    key_order("64");
}

static void test_key_order_small_window(void **state)
{
    (void)state;
    key_order("8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_key_order, testenv_teardown),
        cmocka_unit_test_teardown(test_key_order_small_window,
                                  testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
