/* test_rotate.c - the ZIM ServerSecret rotated under a running bridge:
 * the secret file is replaced the way Kubernetes updates a mounted Secret
 * (a new file renamed over it) while zimsim switches to the new secret.
 * No event is lost or dead-lettered; only calls made before the bridge
 * noticed (within a second) fail with the signature code, and those are
 * sent again, signed with the new secret. The reload is logged without
 * the secret and counted. */
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
#include <unistd.h>

#define N 600

static long metric(const char *text, const char *series)
{
    const char *p = strstr(text, series);
    if (p == NULL)
        fail_msg("no series %s in /metrics", series);
    return strtol(p + strlen(series), NULL, 10);
}

static void test_zim_secret_rotation(void **state)
{
    (void)state;
    static const char fresh[] = "7c1a9e5d3b2f48e6a0d1c9b8e7f6a5d4";
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    const char *const args[] = {"--qps-peer", "0", "--latency-ms", "5", NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 3);
    testenv_bridge_start(&b, &zs, &t,
                         "quota.peer_per_s = 0\nlog.level = info\n"
                         "breaker.probe_ms = 200\n");
    testenv_produce_peers(t.peer, 0, N / 2, 40, "rot-");
    struct recs r;
    testenv_read_topic(t.reply, N / 4, 0, 60000, &r);
    testenv_recs_free(&r);

    /* The rotation: a new file renamed over the old one, and ZIM's side. */
    char path[600], tmp[600], body[128];
    snprintf(path, sizeof(path), "%s/secret", zs.dir);
    snprintf(tmp, sizeof(tmp), "%s/secret.new", zs.dir);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", fresh);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0);
    snprintf(body, sizeof(body), "{\"secret\":\"%s\"}", fresh);
    testenv_zimsim_control(&zs, body);
    testenv_produce_peers(t.peer, N / 2, N, 40, "rot-");

    testenv_read_topic(t.reply, N, 0, 120000, &r);
    assert_int_equal(r.n, N);
    size_t sent = 0;
    for (size_t i = 0; i < r.n; i++)
        sent += strstr(r.v[i].value, "\"status\":\"sent\"") != NULL;
    struct recs dlq;
    testenv_read_topic(t.dlq, 0, 1000, 3000, &dlq);
    struct buf log;
    buf_init(&log, (size_t)1 << 24);
    testenv_zimsim_get(&zs, "/_sim/messages", &log);
    static int counts[N];
    testenv_count_markers(log.data, "rot-", counts, N);
    int lost = 0;
    for (int i = 0; i < N; i++)
        lost += counts[i] == 0;
    testenv_zimsim_get(&zs, "/_sim/stats", &log);
    const char *c = strstr(log.data, "\"100000005\":");
    long refused = c ? strtol(c + 12, NULL, 10) : 0;
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics",
             testenv_bridge_port(&b));
    assert_int_equal(testenv_http("GET", url, NULL, NULL, &log), 200);
    long reloads =
        metric(log.data,
               "zimbridge_secret_reloads_total{secret=\"zim_server_secret\"} ");
    /* No copy of the old secret is left in the bridge's memory (the
     * config's, the client's, a file buffer's), while the new one is
     * there: the scan can find what it looks for. */
    long old_copies = testenv_mem_count(b.pid, TESTENV_SECRET);
    long new_copies = testenv_mem_count(b.pid, fresh);
    printf("secret rotation: the old secret %ld times in the bridge's "
           "memory, the new one %ld times\n",
           old_copies, new_copies);
    assert_int_equal(old_copies, 0);
    assert_true(new_copies >= 1);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    printf("secret rotation: %d events, %zu sent, %d lost, %zu dead-lettered, "
           "%ld calls refused with the old signature (then sent again), %ld "
           "reload\n",
           N, sent, lost, dlq.n, refused, reloads);
    assert_int_equal(sent, N);
    assert_int_equal(lost, 0);
    assert_int_equal(dlq.n, 0);
    assert_int_equal(reloads, 1);
    assert_true(refused <= 64 + 10); /* in flight, then probes */
    assert_true(testenv_file_count(b.log,
                                   "changed: the next calls are "
                                   "signed with the new ServerSecret") == 1);
    assert_int_equal(testenv_file_count(b.log, fresh), 0);
    assert_int_equal(testenv_file_count(b.log, TESTENV_SECRET), 0);
    buf_free(&log);
    testenv_recs_free(&r);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_zim_secret_rotation, testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
