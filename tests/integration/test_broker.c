/* test_broker.c - the bridge against a broker of its own (issue 10):
 * the broker restarted mid-run with scripts/kafka-local, Kafka over TLS
 * through the kafka.* pass-through, and ZIM over HTTPS with a CA of its
 * own: refused unless zim.tls.ca_file names the CA.
 *
 * This test starts and stops its own broker (with a TLS listener), so the
 * restart does not disturb other tests sharing the fixture broker. */
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
#include <unistd.h>

#define NO_QUOTA "quota.peer_per_s = 0\nlog.level = info\n"
#define WINDOW   64 /* commit.window, default */

static char certs[64], kdir[512], tls_boot[128];

static void kafka_local(const char *args)
{
    char cmd[2048];
    const char *src = getenv("ZB_SOURCE_DIR");
    snprintf(cmd, sizeof(cmd),
             "KAFKA_LOCAL_DIR='%s' KAFKA_TOPICS= KAFKA_TLS_DIR='%s' "
             "'%s/scripts/kafka-local' %s >/dev/null",
             kdir, certs, src ? src : ".", args);
    if (system(cmd) != 0)
        fail_msg("kafka-local %s failed", args);
}

static int count(const struct zimsim *zs, const char *marker)
{
    struct buf b;
    char url[256], ca[128];
    buf_init(&b, (size_t)1 << 26);
    snprintf(url, sizeof(url), "%s/_sim/messages", zs->url);
    snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
    if (testenv_http("GET", url, NULL, ca, &b) != 200)
        fail_msg("GET %s failed", url);
    int n = (int)testenv_count_lines(b.data, marker);
    buf_free(&b);
    return n;
}

/* The broker goes away for 3 s mid-run and comes back on the same port. */
static void test_broker_restart(void **state)
{
    (void)state;
    enum { N = 2000 };
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    const char *const args[] = {"--qps-peer", "0", "--latency-ms", "10", NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 6);
    testenv_bridge_start(&b, &zs, &t, NO_QUOTA);
    testenv_produce_peers(t.peer, 0, N / 2, 50, "brk-");
    for (int i = 0; i < 300 && count(&zs, "brk-") < N / 8; i++)
        usleep(20000);
    int before = count(&zs, "brk-");
    double t0 = testenv_now();
    kafka_local("restart 3");
    double down = testenv_now() - t0;
    assert_int_equal(kill(b.pid, 0), 0); /* still running */
    testenv_produce_peers(t.peer, N / 2, N, 50, "brk-");
    testenv_wait_committed(t.group_id, t.peer, 120);
    struct buf log;
    buf_init(&log, (size_t)1 << 26);
    testenv_zimsim_get(&zs, "/_sim/messages", &log);
    static int counts[N];
    testenv_count_markers(log.data, "brk-", counts, N);
    int missing = 0, dups = 0;
    for (int i = 0; i < N; i++) {
        missing += counts[i] == 0;
        dups += counts[i] > 1 ? counts[i] - 1 : 0;
    }
    long rss = testenv_rss_kb(b.pid);
    printf("scenario broker restart: %d events, broker away %.1f s after "
           "%d deliveries, lost %d, duplicated %d, RSS %ld KiB\n",
           N, down, before, missing, dups, rss);
    assert_true(before < N / 2);
    assert_int_equal(missing, 0);
    assert_true(dups <= WINDOW);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    buf_free(&log);
    testenv_zimsim_stop(&zs);
}

/* Kafka over TLS: the broker's certificate is checked against
 * kafka.ssl.ca.location; without it the bridge connects to nothing. */
static void test_kafka_tls(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    char conf[1024];
    const char *const args[] = {"--qps-peer", "0", NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 3);
    testenv_produce_peers(t.peer, 0, 100, 10, "tls-");

    /* No CA: the handshake fails on verification, nothing is consumed. */
    snprintf(conf, sizeof(conf),
             NO_QUOTA "kafka.bootstrap.servers = %s\n"
                      "kafka.security.protocol = ssl\n",
             tls_boot);
    testenv_bridge_start(&b, &zs, &t, conf);
    sleep(6);
    assert_int_equal(count(&zs, "tls-"), 0);
    assert_true(testenv_file_count(b.log, "certificate verify failed") > 0);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);

    snprintf(conf, sizeof(conf),
             NO_QUOTA "kafka.bootstrap.servers = %s\n"
                      "kafka.security.protocol = ssl\n"
                      "kafka.ssl.ca.location = %s/ca.crt\n",
             tls_boot, certs);
    testenv_bridge_start(&b, &zs, &t, conf);
    struct recs r;
    testenv_read_topic(t.reply, 100, 0, 60000, &r);
    printf("kafka TLS listener %s: %zu replies, %d delivered\n", tls_boot, r.n,
           count(&zs, "tls-"));
    assert_int_equal(r.n, 100);
    assert_int_equal(count(&zs, "tls-"), 100);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&r);
    testenv_zimsim_stop(&zs);
}

/* ZIM over HTTPS with a certificate from a CA of the test's own. */
static void test_zim_tls(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    char crt[600], key[600], conf[1024];
    snprintf(crt, sizeof(crt), "%s/srv.crt", certs);
    snprintf(key, sizeof(key), "%s/srv.key", certs);
    const char *const args[] = {"--qps-peer", "0", "--tls-cert", crt,
                                "--tls-key",  key, NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    assert_memory_equal(zs.url, "https://", 8);
    testenv_topics(&t, 3);
    testenv_produce_peers(t.peer, 0, 50, 5, "zt-");

    /* Not trusted: every call fails verification; the breaker holds the
     * events (nothing is dead-lettered) and ZIM receives nothing. */
    testenv_bridge_start(&b, &zs, &t, NO_QUOTA);
    for (int i = 0; i < 100 && !testenv_file_count(b.log, "breaker open"); i++)
        usleep(100000);
    assert_true(testenv_file_count(b.log, "breaker open") >= 1);
    assert_true(testenv_file_count(b.log, "certificate") > 0);
    assert_int_equal(count(&zs, "zt-"), 0);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);

    snprintf(conf, sizeof(conf), NO_QUOTA "zim.tls.ca_file = %s/ca.crt\n",
             certs);
    testenv_bridge_start(&b, &zs, &t, conf);
    struct recs r;
    testenv_read_topic(t.reply, 50, 0, 60000, &r);
    assert_int_equal(r.n, 50);
    for (size_t i = 0; i < r.n; i++)
        assert_non_null(strstr(r.v[i].value, "\"status\":\"sent\""));
    assert_int_equal(count(&zs, "zt-"), 50);
    struct recs dlq;
    testenv_read_topic(t.dlq, 0, 1000, 3000, &dlq);
    assert_int_equal(dlq.n, 0);
    printf("ZIM over HTTPS: refused without zim.tls.ca_file (breaker "
           "open, 0 delivered), 50 of 50 delivered with it\n");
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&r);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
}

static void stop_broker(void)
{
    char cmd[1024];
    if (kdir[0])
        kafka_local("stop");
    if (certs[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certs);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", certs);
    }
    kdir[0] = certs[0] = '\0';
}

int main(void)
{
    const char *bd = getenv("ZB_BUILD_DIR");
    char path[600], addr[128];
    testenv_make_certs(certs, sizeof(certs));
    snprintf(kdir, sizeof(kdir), "%s/kafka-broker-test", bd ? bd : ".");
    atexit(stop_broker);
    kafka_local("start");
    snprintf(path, sizeof(path), "%s/bootstrap", kdir);
    FILE *f = fopen(path, "r");
    if (f == NULL || fgets(addr, sizeof(addr), f) == NULL)
        return 1;
    fclose(f);
    addr[strcspn(addr, "\r\n")] = '\0';
    setenv("ZB_KAFKA_BOOTSTRAP", addr, 1);
    snprintf(path, sizeof(path), "%s/bootstrap_tls", kdir);
    f = fopen(path, "r");
    if (f == NULL || fgets(tls_boot, sizeof(tls_boot), f) == NULL)
        return 1;
    fclose(f);
    tls_boot[strcspn(tls_boot, "\r\n")] = '\0';

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_zim_tls, testenv_teardown),
        cmocka_unit_test_teardown(test_kafka_tls, testenv_teardown),
        cmocka_unit_test_teardown(test_broker_restart, testenv_teardown),
    };
    if (getenv("ZB_TEST_FILTER"))
        cmocka_set_test_filter(getenv("ZB_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
