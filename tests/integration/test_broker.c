/* test_broker.c - the bridge against a broker of its own (issue 10):
 * the broker restarted mid-run with scripts/kafka-local, Kafka over TLS
 * through the kafka.* pass-through, and ZIM over HTTPS with a CA of its
 * own: refused unless zim.tls.ca_file names the CA. The broker's SASL_SSL
 * listener enforces ACLs: the bridge as a SASL/PLAIN user that may not
 * write the dead-letter topic holds those outcomes, then writes them once
 * it may.
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
#define WINDOW   64 /* commit.window, as test_broker_restart sets it */

static char certs[64], kdir[512], tls_boot[128], sasl_boot[128], sasl_pw[64];

static void kafka_local(const char *args)
{
    char cmd[2048];
    const char *src = getenv("ZB_SOURCE_DIR");
    snprintf(cmd, sizeof(cmd),
             "KAFKA_LOCAL_DIR='%s' KAFKA_TOPICS= KAFKA_TLS_DIR='%s' "
             "KAFKA_SASL=1 KAFKA_SASL_USERS='%s/users' "
             "'%s/scripts/kafka-local' %s >/dev/null",
             kdir, certs, certs, src ? src : ".", args);
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
    /* ZIM at 100 ms: with 50 keys, one call in flight each, the first half
     * takes about 2 s, and the restart comes in the middle of it (at
     * 10 ms, librdkafka 2.8 delivered it all before the test looked). */
    const char *const args[] = {"--qps-peer", "0", "--latency-ms", "100", NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 6);
    /* While the broker is away nothing is recorded, so the window fills:
     * with a small one, the bound holds through the restart. */
    testenv_bridge_start(&b, &zs, &t, NO_QUOTA "commit.window = 64\n");
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

/* zimsim without a peer quota, and fresh topics. */
static void start_sim(struct zimsim *zs, struct topics *t, int partitions)
{
    const char *const args[] = {"--qps-peer", "0", NULL};
    testenv_zimsim_start(zs, NULL, NULL, args);
    testenv_topics(t, partitions);
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
    start_sim(&zs, &t, 3);
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

/* ACLs for user on t: READ on the inputs and the group, WRITE on the
 * reply topic and, if dlq, on the dead-letter topic. */
static void grant(const char *user, const struct topics *t, bool dlq)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "admin allow %s READ topic %s %s %s %s", user,
             t->peer, t->group, t->broadcast, t->room);
    kafka_local(cmd);
    snprintf(cmd, sizeof(cmd), "admin allow %s READ group %s", user,
             t->group_id);
    kafka_local(cmd);
    snprintf(cmd, sizeof(cmd), "admin allow %s WRITE topic %s %s", user,
             t->reply, dlq ? t->dlq : "");
    kafka_local(cmd);
}

/* Starts a bridge on the SASL_SSL listener as user with mechanism; the
 * password comes from the environment, as the README advises. */
static void sasl_bridge_start(struct bridge *b, const struct zimsim *zs,
                              const struct topics *t, const char *mechanism,
                              const char *user)
{
    char conf[1024];
    snprintf(conf, sizeof(conf),
             NO_QUOTA "kafka.bootstrap.servers = %s\n"
                      "kafka.security.protocol = sasl_ssl\n"
                      "kafka.ssl.ca.location = %s/ca.crt\n"
                      "kafka.sasl.mechanisms = %s\n"
                      "kafka.sasl.username = %s\n",
             sasl_boot, certs, mechanism, user);
    setenv("ZIMBRIDGE_KAFKA_SASL_PASSWORD", sasl_pw, 1);
    testenv_bridge_start(b, zs, t, conf);
    unsetenv("ZIMBRIDGE_KAFKA_SASL_PASSWORD");
}

/* The bridge as SASL/PLAIN user "zimbridge" over TLS (its password from
 * the environment), with ACLs that let it read its input and write
 * replies but not the dead-letter topic. Its DLQ records are refused
 * ("Topic authorization failed"): the invalid records stay uncommitted,
 * the bridge keeps running and the valid records keep flowing. Once the
 * ACL is granted, every DLQ record is written and everything commits. */
static void test_acl_denied(void **state)
{
    (void)state;
    enum { N = 20 };
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    char cmd[1024];
    start_sim(&zs, &t, 1);
    grant("zimbridge", &t, false);

    /* Even offsets valid, odd ones misspell ToUserId (a validation
     * failure, dead-lettered). */
    rd_kafka_t *p = testenv_producer();
    for (int i = 0; i < N; i++) {
        char v[256];
        snprintf(v, sizeof(v),
                 "{\"FromUserId\":\"u1\",\"%s\":[\"u2\"],"
                 "\"MessageType\":1,\"Priority\":1,"
                 "\"MessageBody\":{\"Message\":\"acl-%d.\"}}",
                 i % 2 ? "ToUserID" : "ToUserId", i);
        testenv_produce(p, t.peer, "k", v, NULL);
    }
    testenv_flush(p);
    rd_kafka_destroy(p);

    sasl_bridge_start(&b, &zs, &t, "PLAIN", "zimbridge");
    struct recs r;
    testenv_read_topic(t.reply, N, 0, 60000, &r);
    for (int i = 0; i < 100 && count(&zs, "acl-") < N / 2; i++)
        usleep(100000);
    for (int i = 0;
         i < 100 && !testenv_file_count(b.log, "Topic authorization failed");
         i++)
        usleep(100000);
    sleep(2);
    int64_t held = testenv_uncommitted(t.group_id, t.peer);
    int denied = testenv_file_count(b.log, "Topic authorization failed");
    struct recs d;
    testenv_read_topic(t.dlq, 0, 1000, 3000, &d);
    assert_int_equal(kill(b.pid, 0), 0); /* still running */
    assert_int_equal(r.n, N);            /* every outcome replied */
    assert_int_equal(count(&zs, "acl-"), N / 2);
    assert_int_equal(d.n, 0);
    assert_true(denied > 0);
    /* Offset 0 is committed; offset 1 (the first refused DLQ record) and
     * all after it are held. */
    assert_int_equal(held, N - 1);
    testenv_recs_free(&d);

    snprintf(cmd, sizeof(cmd), "admin allow zimbridge WRITE topic %s", t.dlq);
    kafka_local(cmd);
    double t0 = testenv_now();
    testenv_wait_committed(t.group_id, t.peer, 120);
    double took = testenv_now() - t0;
    testenv_read_topic(t.dlq, N / 2, 0, 60000, &d);
    assert_int_equal(d.n, N / 2);
    for (size_t i = 0; i < d.n; i++)
        assert_string_equal(testenv_header(&d.v[i], "zim.failure.class"),
                            "validation");
    testenv_recs_free(&r);
    testenv_read_topic(t.reply, 0, 1000, 10000, &r);
    assert_int_equal(r.n, N); /* none written twice */
    assert_int_equal(count(&zs, "acl-"), N / 2);
    assert_int_equal(testenv_file_count(b.log, sasl_pw), 0);
    printf("ACL denied on the DLQ topic (SASL/PLAIN over TLS): %d of %d "
           "offsets held, %d refusals logged, bridge running; %zu DLQ "
           "records written and all committed %.1f s after the grant\n",
           (int)held, N, denied, d.n, took);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&r);
    testenv_recs_free(&d);
    testenv_zimsim_stop(&zs);
}

/* The SASL password from sasl.password_file, rotated under the running
 * bridge: it starts with a wrong one (authentication fails, nothing is
 * consumed, it keeps running); the file is replaced with the right one
 * the way Kubernetes updates a Secret, and the next authentication uses
 * it: every event is delivered, and the password is in no log line. */
static void test_sasl_password_file(void **state)
{
    (void)state;
    enum { N = 10 };
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    char conf[1024], pwfile[600], tmp[600];
    start_sim(&zs, &t, 1);
    grant("zimbridge", &t, true);
    testenv_produce_peers(t.peer, 0, N, 5, "pwf-");
    snprintf(pwfile, sizeof(pwfile), "%s/kafka-password", zs.dir);
    snprintf(tmp, sizeof(tmp), "%s/kafka-password.new", zs.dir);
    FILE *f = fopen(pwfile, "w");
    assert_non_null(f);
    fprintf(f, "not-the-password\n");
    fclose(f);
    snprintf(conf, sizeof(conf),
             NO_QUOTA "kafka.bootstrap.servers = %s\n"
                      "kafka.security.protocol = sasl_ssl\n"
                      "kafka.ssl.ca.location = %s/ca.crt\n"
                      "kafka.sasl.mechanisms = PLAIN\n"
                      "kafka.sasl.username = zimbridge\n"
                      "sasl.password_file = %s\n",
             sasl_boot, certs, pwfile);
    testenv_bridge_start(&b, &zs, &t, conf);
    for (int i = 0; i < 100 && !testenv_file_count(b.log, "uthentication"); i++)
        usleep(100000);
    assert_true(testenv_file_count(b.log, "uthentication") > 0);
    assert_int_equal(count(&zs, "pwf-"), 0);
    assert_int_equal(kill(b.pid, 0), 0); /* still running */

    f = fopen(tmp, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", sasl_pw);
    fclose(f);
    assert_int_equal(rename(tmp, pwfile), 0);
    double t0 = testenv_now();
    struct recs r;
    testenv_read_topic(t.reply, N, 0, 60000, &r);
    double took = testenv_now() - t0;
    assert_int_equal(r.n, N);
    assert_int_equal(count(&zs, "pwf-"), N);
    assert_int_equal(testenv_file_count(b.log, "sasl.password_file"), 1);
    assert_int_equal(testenv_file_count(b.log, sasl_pw), 0);
    assert_int_equal(testenv_file_count(b.log, "not-the-password"), 0);
    printf("SASL password rotated in its file: refused before, %d events "
           "delivered %.1f s after the new password was written\n",
           N, took);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&r);
    testenv_zimsim_stop(&zs);
}

/* SASL/SCRAM-SHA-256 over TLS. librdkafka before 2.6.1 cannot
 * authenticate with SCRAM to a Kafka 4 broker: then the bridge must say so
 * at start-up, consume nothing and dead-letter nothing. With a newer
 * librdkafka every event must be delivered. */
static void test_kafka_scram(void **state)
{
    (void)state;
    enum { N = 20 };
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    char cmd[1024];
    start_sim(&zs, &t, 1);
    snprintf(cmd, sizeof(cmd), "admin scram zimscram <'%s/users.scram'", certs);
    kafka_local(cmd);
    grant("zimscram", &t, true);
    testenv_produce_peers(t.peer, 0, N, 5, "scram-");
    sasl_bridge_start(&b, &zs, &t, "SCRAM-SHA-256", "zimscram");
    struct recs r;
    if (rd_kafka_version() < 0x02060100) {
        for (int i = 0;
             i < 150 && !testenv_file_count(b.log, "Authentication failed");
             i++)
            usleep(100000);
        sleep(2);
        testenv_read_topic(t.reply, 0, 500, 2000, &r);
        printf("SCRAM with librdkafka %s: refused by the broker as "
               "expected, %d delivered, %zu replies\n",
               rd_kafka_version_str(), count(&zs, "scram-"), r.n);
        assert_int_equal(testenv_file_count(b.log, "SCRAM authentication "
                                                   "fails against Apache"),
                         1);
        assert_true(testenv_file_count(b.log, "Authentication failed") > 0);
        assert_int_equal(count(&zs, "scram-"), 0);
        assert_int_equal(r.n, 0);
        assert_int_equal(kill(b.pid, 0), 0);
    } else {
        testenv_read_topic(t.reply, N, 0, 60000, &r);
        assert_int_equal(r.n, N);
        assert_int_equal(count(&zs, "scram-"), N);
        assert_int_equal(testenv_file_count(b.log, "SCRAM authentication "
                                                   "fails against Apache"),
                         0);
    }
    assert_int_equal(testenv_file_count(b.log, sasl_pw), 0);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&r);
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
    /* A fresh password for the SASL/PLAIN user, in the broker's users
     * file only; the bridge gets it from its environment. */
    unsigned char rnd[12];
    FILE *u = fopen("/dev/urandom", "rb");
    if (u == NULL || fread(rnd, 1, sizeof(rnd), u) != sizeof(rnd))
        return 1;
    fclose(u);
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(sasl_pw + 2 * i, 3, "%02x", rnd[i]);
    snprintf(path, sizeof(path), "%s/users", certs);
    u = fopen(path, "w");
    if (u == NULL)
        return 1;
    fprintf(u, "zimbridge %s\n", sasl_pw);
    fclose(u);
    snprintf(path, sizeof(path), "%s/users.scram", certs);
    u = fopen(path, "w");
    if (u == NULL)
        return 1;
    fprintf(u, "%s\n", sasl_pw);
    fclose(u);
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
    snprintf(path, sizeof(path), "%s/bootstrap_sasl", kdir);
    f = fopen(path, "r");
    if (f == NULL || fgets(sasl_boot, sizeof(sasl_boot), f) == NULL)
        return 1;
    fclose(f);
    sasl_boot[strcspn(sasl_boot, "\r\n")] = '\0';

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_zim_tls, testenv_teardown),
        cmocka_unit_test_teardown(test_kafka_tls, testenv_teardown),
        cmocka_unit_test_teardown(test_acl_denied, testenv_teardown),
        cmocka_unit_test_teardown(test_kafka_scram, testenv_teardown),
        cmocka_unit_test_teardown(test_sasl_password_file, testenv_teardown),
        cmocka_unit_test_teardown(test_broker_restart, testenv_teardown),
    };
    if (getenv("ZB_TEST_FILTER"))
        cmocka_set_test_filter(getenv("ZB_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
