/* test_gopeer.c - the Go peer (bench/peers/go) keeps the contract it is
 * benchmarked on: against the real broker and zimsim, 1,000 events give
 * exactly 1,000 replies, each valid event reaches ZIM once, the invalid
 * ones reach the DLQ with their original bytes, per-key order holds, and
 * everything is committed. */
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS 1000
#define KEYS   40

/* Every 20th event is invalid, in one of four ways. */
static bool invalid(int i)
{
    return i % 20 == 7;
}

static void event(int i, char *val, size_t n)
{
    static const char *const bad[] = {
        "{\"FromUserId\":\"u*1\",\"ToUserId\":[\"u2\"],\"MessageType\":1,"
        "\"Priority\":1,\"MessageBody\":{\"Message\":\"x\"}}",
        "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],\"MessageType\":1,"
        "\"Priority\":5,\"MessageBody\":{\"Message\":\"x\"}}",
        "{\"FromUserId\":\"u1\",\"ToUserId\":[],\"MessageType\":1,"
        "\"Priority\":1,\"MessageBody\":{\"Message\":\"x\"}}",
        "not json",
    };
    if (invalid(i))
        snprintf(val, n, "%s", bad[(i / 20) % 4]);
    else
        snprintf(val, n,
                 "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                 "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                 "{\"Message\":\"k%d-n%d.\"}}",
                 i % KEYS, i);
}

/* zimsim's arrival order per key equals the produce order; each valid
 * event arrived once. */
static void check_arrivals(const struct zimsim *zs, int valid)
{
    struct buf log;
    buf_init(&log, (size_t)1 << 24);
    testenv_zimsim_get(zs, "/_sim/messages", &log);
    int last[KEYS];
    for (int k = 0; k < KEYS; k++)
        last[k] = -1;
    int lines = 0;
    for (const char *l = log.data; l && *l; lines++) {
        const char *m = strstr(l, "\"Message\":\"k");
        assert_non_null(m);
        int k = -1, n = -1;
        assert_int_equal(sscanf(m + 12, "%d-n%d.", &k, &n), 2);
        if (n <= last[k])
            fail_msg("key %d: event %d arrived after %d", k, n, last[k]);
        last[k] = n;
        l = strchr(l, '\n');
        l = l ? l + 1 : NULL;
    }
    assert_int_equal(lines, valid);
    buf_free(&log);
}

static void test_contract(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge peer;
    const char *const args[] = {"--qps-peer", "0", NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 3);
    rd_kafka_t *p = testenv_producer();
    char key[16], val[256], bin[512], log[512], secret[512];
    int n_invalid = 0;
    for (int i = 0; i < EVENTS; i++) {
        snprintf(key, sizeof(key), "k%d", i % KEYS);
        event(i, val, sizeof(val));
        testenv_produce(p, t.peer, key, val, NULL);
        n_invalid += invalid(i);
    }
    testenv_flush(p);
    rd_kafka_destroy(p);

    snprintf(bin, sizeof(bin), "%s/gopeer", getenv("ZB_BUILD_DIR"));
    snprintf(log, sizeof(log), "%s/gopeer.log", zs.dir);
    snprintf(secret, sizeof(secret), "%s/secret", zs.dir);
    char app[16];
    snprintf(app, sizeof(app), "%u", TESTENV_APP_ID);
    setenv("ZB_BOOTSTRAP", testenv_bootstrap(), 1);
    setenv("ZB_ENDPOINT", zs.url, 1);
    setenv("ZB_APP_ID", app, 1);
    setenv("ZB_SECRET_FILE", secret, 1);
    setenv("ZB_TOPIC", t.peer, 1);
    setenv("ZB_REPLY", t.reply, 1);
    setenv("ZB_DLQ", t.dlq, 1);
    setenv("ZB_GROUP", t.group_id, 1);
    char *const argv[] = {bin, NULL};
    testenv_spawn(&peer, argv, log);

    struct recs replies, dlq;
    testenv_read_topic(t.reply, EVENTS, 0, 120000, &replies);
    assert_int_equal(replies.n, EVENTS);
    /* One reply per input record, and nothing else. */
    static char seen[3][EVENTS];
    int sent = 0, failed = 0;
    for (size_t i = 0; i < replies.n; i++) {
        const char *src = strstr(replies.v[i].value, "\"partition\":");
        const char *off = strstr(replies.v[i].value, "\"offset\":");
        assert_non_null(src);
        assert_non_null(off);
        long part = strtol(src + 12, NULL, 10), o = strtol(off + 9, NULL, 10);
        assert_true(part >= 0 && part < 3 && o >= 0 && o < EVENTS);
        assert_int_equal(seen[part][o]++, 0);
        sent += strstr(replies.v[i].value, "\"status\":\"sent\"") != NULL;
        failed += strstr(replies.v[i].value, "\"status\":\"failed\"") != NULL;
    }
    assert_int_equal(sent, EVENTS - n_invalid);
    assert_int_equal(failed, n_invalid);
    /* The invalid ones, and only they, in the DLQ, byte for byte. */
    testenv_read_topic(t.dlq, (size_t)n_invalid, 2000, 60000, &dlq);
    assert_int_equal(dlq.n, (size_t)n_invalid);
    for (size_t i = 0; i < dlq.n; i++) {
        int k = atoi(dlq.v[i].key + 1), found = 0;
        for (int e = k; e < EVENTS && !found; e += KEYS) {
            event(e, val, sizeof(val));
            found = invalid(e) && strcmp(val, dlq.v[i].value) == 0;
        }
        if (!found)
            fail_msg("DLQ record %zu is no invalid input of its key", i);
        assert_string_equal(testenv_header(&dlq.v[i], "zim.failure.class"),
                            "validation");
    }
    check_arrivals(&zs, EVENTS - n_invalid);
    testenv_wait_committed(t.group_id, t.peer, 60);
    assert_int_equal(testenv_bridge_stop(&peer, SIGTERM), 0);
    printf("go peer: %d events, %d sent, %d dead-lettered, all committed\n",
           EVENTS, sent, n_invalid);
    testenv_recs_free(&replies);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_contract, testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
