/* test_faults.c - fault injection against the real broker and zimsim
 * (issue 10): kill -9 in a loop, ZIM slow and flaky, a ZIM outage, a
 * rebalance storm, and the reply or dead-letter topic deleted under the
 * running bridge. Each asserts on zimsim's delivery log and on the reply
 * and DLQ topics: nothing lost, duplicates bounded by the calls in flight
 * (and, where an assignment is lost, by commit.window), order per key.
 *
 * ZB_SOAK=1 runs the long versions (ctest -L soak); the default run uses
 * short ones. Each scenario prints one line: events, lost, duplicated,
 * max RSS. */
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NO_QUOTA                                                               \
    "quota.peer_per_s = 0\nquota.group_per_s = 0\n"                            \
    "quota.broadcast_per_s = 0\nquota.broadcast_daily = 0\nlog.level = info\n"
#define KEYS     97
#define INFLIGHT 64   /* http.max_inflight, default */
#define WINDOW   1024 /* commit.window, default */

static const char *const sim_args[] = {"--qps-peer", "0", NULL};

static bool soak(void)
{
    const char *s = getenv("ZB_SOAK");
    return s && strcmp(s, "1") == 0;
}

static void produce(const struct topics *t, int from, int to)
{
    testenv_produce_peers(t->peer, from, to, KEYS, "evt-");
}

/* What zimsim delivered, per event. */
struct tally {
    int n, missing, dups, out_of_order;
    int *counts;
};

/* Reads zimsim's delivery log: counts per event, and whether each key's
 * first deliveries came in production order (event i's key is i % KEYS). */
static void tally(const struct zimsim *zs, int n, struct tally *t)
{
    struct buf log;
    buf_init(&log, (size_t)1 << 28);
    testenv_zimsim_get(zs, "/_sim/messages", &log);
    free(t->counts);
    *t = (struct tally){.n = n, .counts = calloc((size_t)n, sizeof(int))};
    int last[KEYS];
    for (int k = 0; k < KEYS; k++)
        last[k] = -1;
    for (const char *p = log.data; p && (p = strstr(p, "evt-")); p += 4) {
        char *end = NULL;
        long i = strtol(p + 4, &end, 10);
        if (!end || *end != '.' || i < 0 || i >= n)
            continue;
        if (t->counts[i]++ == 0) {
            /* First delivery: the key's previous event must be the one
             * produced just before it. */
            int k = (int)(i % KEYS);
            if (last[k] != (int)i - KEYS && !(last[k] == -1 && i < KEYS))
                t->out_of_order++;
            last[k] = (int)i;
        }
    }
    for (int i = 0; i < n; i++) {
        t->missing += t->counts[i] == 0;
        t->dups += t->counts[i] > 1 ? t->counts[i] - 1 : 0;
    }
    buf_free(&log);
}

static int delivered(const struct zimsim *zs)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 28);
    testenv_zimsim_get(zs, "/_sim/messages", &b);
    int n = (int)testenv_count_lines(b.data, "evt-");
    buf_free(&b);
    return n;
}

/* Every input record has a reply (distinct source partition and offset);
 * returns how many replies there are in all (redone records reply twice). */
static size_t check_replies(const struct topics *t, int n, int sent_at_least)
{
    struct recs r;
    testenv_read_topic(t->reply, 0, 3000, 120000, &r);
    int distinct = 0, sent = 0;
    int64_t *keys = calloc(r.n + 1, sizeof(int64_t));
    size_t nk = 0;
    for (size_t i = 0; i < r.n; i++) {
        const char *src = strstr(r.v[i].value, "\"offset\":");
        const char *part = strstr(r.v[i].value, "\"partition\":");
        if (src == NULL || part == NULL)
            fail_msg("reply without source: %s", r.v[i].value);
        int64_t k = strtoll(part + 12, NULL, 10) * 100000000 +
                    strtoll(src + 9, NULL, 10);
        bool dup = false;
        for (size_t j = 0; j < nk && !dup; j++)
            dup = keys[j] == k;
        if (!dup) {
            keys[nk++] = k;
            distinct++;
            sent += strstr(r.v[i].value, "\"status\":\"sent\"") != NULL;
        }
    }
    free(keys);
    assert_int_equal(distinct, n);
    assert_true(sent >= sent_at_least);
    size_t all = r.n;
    testenv_recs_free(&r);
    return all;
}

static double rand_between(double lo, double hi)
{
    return lo + (hi - lo) * ((double)rand() / RAND_MAX);
}

/* 1. SIGKILL at a random moment, restart, repeat. */
static void test_kill9_loop(void **state)
{
    (void)state;
    const int n = soak() ? 20000 : 4000, kills = soak() ? 5 : 2;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    struct tally ta = {0};
    srand((unsigned)time(NULL));
    testenv_zimsim_start(&zs, NULL, NULL, sim_args);
    testenv_zimsim_control(&zs, "{\"latency_ms\":20,\"jitter_ms\":20}");
    testenv_topics(&t, 6);
    produce(&t, 0, n);
    int prev_dups = 0;
    long rss = 0;
    char per[256] = "";
    for (int k = 0; k <= kills; k++) {
        testenv_bridge_start(&b, &zs, &t, NO_QUOTA);
        if (k == kills)
            break;
        /* Let it get going, then kill it at a random moment. */
        int base = delivered(&zs);
        for (int i = 0; i < 300 && delivered(&zs) == base; i++)
            usleep(20000);
        usleep((useconds_t)(rand_between(0.1, 0.8) * 1e6));
        long r = testenv_rss_kb(b.pid);
        rss = r > rss ? r : rss;
        assert_int_equal(testenv_bridge_stop(&b, SIGKILL), 128 + SIGKILL);
        tally(&zs, n, &ta);
        /* Duplicates seen so far belong to the crashes before this one. */
        if (k > 0) {
            int d = ta.dups - prev_dups;
            snprintf(per + strlen(per), sizeof(per) - strlen(per), "%s%d",
                     k > 1 ? "," : "", d);
            prev_dups = ta.dups;
        }
        if (ta.missing == 0)
            fail_msg("all %d delivered before kill %d: too fast to test", n,
                     k + 1);
    }
    for (int i = 0; i < 600; i++) {
        tally(&zs, n, &ta);
        if (ta.missing == 0)
            break;
        usleep(100000);
    }
    testenv_wait_committed(t.group_id, t.peer, 60);
    tally(&zs, n, &ta);
    int d = ta.dups - prev_dups;
    snprintf(per + strlen(per), sizeof(per) - strlen(per), "%s%d",
             kills > 1 ? "," : "", d);
    long r = testenv_rss_kb(b.pid);
    rss = r > rss ? r : rss;
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    check_replies(&t, n, n);
    printf("scenario kill9: %d events, %d kills, lost %d, duplicated %d "
           "(seen after each restart: %s; at most %d calls in flight), out "
           "of order %d, max RSS %ld KiB\n",
           n, kills, ta.missing, ta.dups, per, INFLIGHT, ta.out_of_order, rss);
    assert_int_equal(ta.missing, 0);
    /* A crash sends again only what was in flight (at most INFLIGHT calls)
     * and the outcomes Kafka had not acknowledged: the finished records
     * above the committed offset are in the commit's metadata or found in
     * the reply topic (the ledger) and skipped. test_ledger asserts that
     * bound kill by kill; this loose one only catches a window's worth. */
    assert_true(ta.dups <= kills * 2 * INFLIGHT);
    assert_int_equal(ta.out_of_order, 0);
    free(ta.counts);
    testenv_zimsim_stop(&zs);
}

/* Produces events [from, to) at about rate/s while sampling the bridge's
 * RSS; returns the largest sample. */
/* rate events/s in batches of 20 ms, through one producer: the traffic is
 * steady, so calls are in flight at any moment a fault or rebalance
 * comes (in 200 ms bursts, 100-150 ms calls left a third of the time with
 * none in flight). Returns the peak RSS of pid. */
static long produce_paced(const struct topics *t, int from, int to, int rate,
                          pid_t pid)
{
    long rss = 0;
    int step = rate / 50 > 0 ? rate / 50 : 1;
    rd_kafka_t *p = testenv_producer();
    double t0 = testenv_now();
    for (int i = from; i < to; i += step) {
        int j = i + step < to ? i + step : to;
        testenv_produce_peers_with(p, t->peer, i, j, KEYS, "evt-");
        long r = testenv_rss_kb(pid);
        rss = r > rss ? r : rss;
        /* On the clock, not after each batch: flushes take time. */
        double due = t0 + (double)(j - from) / rate, now = testenv_now();
        if (due > now)
            usleep((useconds_t)((due - now) * 1e6));
    }
    rd_kafka_destroy(p);
    return rss;
}

/* 3. ZIM slow and flaky: 2 s latency, 20 % Code 1, 5 % dropped. */
static void test_slow_flaky(void **state)
{
    (void)state;
    const int secs = soak() ? 60 : 15, rate = 25, n = secs * rate;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    struct tally ta = {0};
    testenv_zimsim_start(&zs, NULL, NULL, sim_args);
    testenv_zimsim_control(&zs, "{\"latency_ms\":2000,\"busy_rate\":0.2,"
                                "\"drop_rate\":0.05}");
    testenv_topics(&t, 6);
    testenv_bridge_start(&b, &zs, &t, NO_QUOTA);
    long rss0 = 0;
    for (int i = 0; i < 100 && rss0 <= 0; i++) {
        usleep(50000);
        rss0 = testenv_rss_kb(b.pid);
    }
    long rss = produce_paced(&t, 0, n, rate, b.pid);
    testenv_zimsim_control(&zs, "{\"latency_ms\":0,\"busy_rate\":0,"
                                "\"drop_rate\":0}");
    testenv_wait_committed(t.group_id, t.peer, 120);
    tally(&zs, n, &ta);
    struct recs dlq;
    testenv_read_topic(t.dlq, 0, 1000, 5000, &dlq);
    /* A dead-lettered event must be one ZIM never took, with the class
     * of a transient failure that ran out of attempts. */
    for (size_t i = 0; i < dlq.n; i++) {
        const char *c = testenv_header(&dlq.v[i], "zim.failure.class");
        assert_non_null(c);
        assert_string_equal(c, "exhausted");
    }
    check_replies(&t, n, n - (int)dlq.n);
    printf("scenario slow+flaky: %d events over %d s, lost %d, duplicated "
           "%d, dead-lettered %zu (exhausted), RSS %ld KiB at start, max "
           "%ld KiB\n",
           n, secs, ta.missing - (int)dlq.n, ta.dups, dlq.n, rss0, rss);
    assert_int_equal(ta.missing, (int)dlq.n);
    assert_int_equal(ta.out_of_order, 0);
    /* Flat: a backlog of 2 s calls must not grow the process. */
    assert_true(rss < rss0 + 64 * 1024);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&dlq);
    free(ta.counts);
    testenv_zimsim_stop(&zs);
}

/* 4. ZIM down (connections accepted, never answered) for a while. */
static void test_outage(void **state)
{
    (void)state;
    const int secs = soak() ? 60 : 10, rate = 50, n = (secs + 10) * rate;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    struct tally ta = {0};
    char ctl[96];
    testenv_zimsim_start(&zs, NULL, NULL, sim_args);
    testenv_topics(&t, 6);
    testenv_bridge_start(&b, &zs, &t,
                         NO_QUOTA "http.timeout_ms = 2000\n"
                                  "breaker.probe_max_ms = 4000\n");
    long rss = produce_paced(&t, 0, 5 * rate, rate, b.pid);
    snprintf(ctl, sizeof(ctl), "{\"down\":\"hang\",\"down_ms\":%d}",
             secs * 1000);
    testenv_zimsim_control(&zs, ctl);
    double t0 = testenv_now();
    long r = produce_paced(&t, 5 * rate, n, rate, b.pid);
    rss = r > rss ? r : rss;
    testenv_wait_committed(t.group_id, t.peer, secs + 60);
    double took = testenv_now() - t0;
    tally(&zs, n, &ta);
    struct recs dlq;
    testenv_read_topic(t.dlq, 0, 1000, 3000, &dlq);
    check_replies(&t, n, n);
    /* zimsim's "hang" takes each call and never answers: the calls in
     * flight when it went down, and every probe, are sent again. */
    int probes = testenv_file_count(b.log, "breaker: probing");
    printf("scenario outage: ZIM down %d s, %d events, lost %d, duplicated "
           "%d (bound %d in flight + %d probes), dead-lettered %zu, all "
           "committed %.1f s after the outage began, max RSS %ld KiB\n",
           secs, n, ta.missing, ta.dups, INFLIGHT, probes, dlq.n, took, rss);
    assert_true(ta.dups <= INFLIGHT + probes);
    assert_int_equal(ta.missing, 0);
    assert_int_equal(dlq.n, 0);
    assert_int_equal(ta.out_of_order, 0);
    assert_true(testenv_file_count(b.log, "breaker open") >= 1);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&dlq);
    free(ta.counts);
    testenv_zimsim_stop(&zs);
}

/* Lines containing needle in the logs of every bridge run with zs. */
static int bridge_logs_count(const struct zimsim *zs, const char *needle)
{
    char pat[600];
    glob_t g;
    int n = 0;
    snprintf(pat, sizeof(pat), "%s/bridge*.log", zs->dir);
    if (glob(pat, 0, NULL, &g) != 0)
        return 0;
    for (size_t i = 0; i < g.gl_pathc; i++)
        n += testenv_file_count(g.gl_pathv[i], needle);
    globfree(&g);
    return n;
}

/* 5. Two bridges in one group; one is restarted every 10 s, each time
 * with steady traffic to follow, so that every rebalance, whichever
 * partitions it moves, finds calls in flight (100-150 ms each, about 25
 * at a time over 6 partitions). */
static void test_rebalance_storm(void **state)
{
    (void)state;
    const int secs = soak() ? 120 : 30, rate = 200, n = secs * rate;
    struct zimsim zs;
    struct topics t;
    struct bridge a, b;
    struct tally ta = {0};
    testenv_zimsim_start(&zs, NULL, NULL, sim_args);
    testenv_zimsim_control(&zs, "{\"latency_ms\":100,\"jitter_ms\":50}");
    testenv_topics(&t, 6);
    testenv_bridge_start(&a, &zs, &t, NO_QUOTA);
    testenv_bridge_start(&b, &zs, &t, NO_QUOTA);
    long rss = 0;
    int restarts = 0;
    for (int s = 0; s < secs; s += 10) {
        if (s > 0) { /* a restart, then 10 s of traffic */
            long r = testenv_rss_kb(b.pid);
            rss = r > rss ? r : rss;
            assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
            testenv_bridge_start(&b, &zs, &t, NO_QUOTA);
            restarts++;
        }
        long r = produce_paced(&t, s * rate, (s + 10) * rate, rate, a.pid);
        rss = r > rss ? r : rss;
    }
    testenv_wait_committed(t.group_id, t.peer, 120);
    tally(&zs, n, &ta);
    check_replies(&t, n, n);
    printf("scenario rebalance storm: %d events over %d s, %d restarts, "
           "lost %d, duplicated %d, out of order %d, max RSS %ld KiB\n",
           n, secs, restarts, ta.missing, ta.dups, ta.out_of_order, rss);
    assert_int_equal(ta.missing, 0);
    assert_int_equal(ta.out_of_order, 0);
    /* Orderly rebalances finish the calls in flight for the partitions
     * given up before handing them over: nothing is sent twice. Only a
     * lost assignment (a session timeout on a loaded machine) may send
     * again, and then at most a window per loss. */
    int lost = bridge_logs_count(&zs, "assignment lost");
    int drains = bridge_logs_count(&zs, "rebalance: finished");
    printf("%d rebalances finished calls in flight before the hand-over, "
           "%d lost assignments\n",
           drains, lost);
    assert_true(drains > 0); /* the calls were slow enough to be caught */
    if (lost == 0)
        assert_int_equal(ta.dups, 0);
    assert_true(ta.dups <= (restarts + lost) * WINDOW);
    assert_int_equal(testenv_bridge_stop(&a, SIGTERM), 0);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    free(ta.counts);
    testenv_zimsim_stop(&zs);
}

/* 6. The reply topic, then the DLQ topic, is deleted under the running
 * bridge and comes back: nothing is committed past the undelivered
 * outcomes meanwhile, and they are written once it is back. */
static void test_output_topic_gone(void **state)
{
    (void)state;
    const int n = 200;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    struct tally ta = {0};
    testenv_zimsim_start(&zs, NULL, NULL, sim_args);
    testenv_topics(&t, 3);
    testenv_bridge_start(&b, &zs, &t, NO_QUOTA);
    produce(&t, 0, n / 2);
    testenv_wait_committed(t.group_id, t.peer, 60);
    testenv_delete_topic(t.reply);
    sleep(2);
    produce(&t, n / 2, n);
    /* ZIM takes them; their outcomes cannot be written: no commit. */
    for (int i = 0; i < 100 && delivered(&zs) < n; i++)
        usleep(100000);
    sleep(5);
    int64_t held = testenv_uncommitted(t.group_id, t.peer);
    assert_true(kill(b.pid, 0) == 0);
    testenv_create_topic(t.reply, 3);
    double t0 = testenv_now();
    testenv_wait_committed(t.group_id, t.peer, 120);
    double took = testenv_now() - t0;
    tally(&zs, n, &ta);
    struct recs r;
    testenv_read_topic(t.reply, (size_t)(n / 2), 0, 60000, &r);
    int fatal = testenv_file_count(b.log, "fatal");
    printf("scenario reply topic deleted: %d events, %lld held uncommitted "
           "while it was gone, recovered %.1f s after it came back, lost "
           "%d, duplicated %d, %zu replies in the new topic, %d fatal log "
           "lines\n",
           n, (long long)held, took, ta.missing, ta.dups, r.n, fatal);
    assert_int_equal(held, n / 2);
    assert_int_equal(ta.missing, 0);
    assert_int_equal(r.n, (size_t)(n / 2));

    /* The same for the dead-letter topic: 20 invalid records whose DLQ
     * records cannot be written are not committed, then are. */
    testenv_delete_topic(t.dlq);
    sleep(2);
    rd_kafka_t *p = testenv_producer();
    for (int i = 0; i < 20; i++)
        testenv_produce(p, t.peer, "bad",
                        "{\"FromUserId\":\"u1\",\"ToUserID\":[\"u2\"],"
                        "\"MessageType\":1,\"Priority\":1,"
                        "\"MessageBody\":{\"Message\":\"x\"}}",
                        NULL);
    testenv_flush(p);
    rd_kafka_destroy(p);
    sleep(5);
    int64_t held_dlq = testenv_uncommitted(t.group_id, t.peer);
    assert_true(kill(b.pid, 0) == 0);
    testenv_create_topic(t.dlq, 3);
    t0 = testenv_now();
    testenv_wait_committed(t.group_id, t.peer, 120);
    took = testenv_now() - t0;
    struct recs d;
    testenv_read_topic(t.dlq, 20, 0, 60000, &d);
    printf("scenario DLQ topic deleted: 20 invalid events, %lld held "
           "uncommitted while it was gone, recovered %.1f s after it came "
           "back, %zu DLQ records in the new topic\n",
           (long long)held_dlq, took, d.n);
    assert_int_equal(held_dlq, 20);
    assert_int_equal(d.n, 20);
    for (size_t i = 0; i < d.n; i++)
        assert_string_equal(testenv_header(&d.v[i], "zim.failure.class"),
                            "validation");
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&r);
    testenv_recs_free(&d);
    free(ta.counts);
    testenv_zimsim_stop(&zs);
}

/* 7. Records that cannot be scheduled, on one partition (one order for
 * all). Out of memory, injected (ZB_FAULTS, base/fault.h) at each place a
 * record allocates: consumption holds and the record is taken when memory
 * is back; nothing is skipped, sent twice or reordered, and every offset
 * commits. Before, a failed job_new() skipped the record and a failed
 * schedule dropped it while tracked: its partition never committed
 * again. A deterministic failure (a 150-recipient event whose request
 * cannot be rewritten for its split: injected, json-c never made one) is
 * dead-lettered with code 900000005 and the partition moves on. */
static void test_unschedulable(void **state)
{
    (void)state;
    const int n = 100;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    struct tally ta = {0};
    testenv_zimsim_start(&zs, NULL, NULL, sim_args);
    testenv_topics(&t, 1);
    /* pack off: only split events rewrite their request ("rest"). */
    setenv("ZB_FAULTS", "job:5:3,track:20:2,sched:40:3,prepare:70:2,rest:0:1",
           1);
    testenv_bridge_start(&b, &zs, &t,
                         NO_QUOTA "pack.enabled = false\n"
                                  "peer.max_recipients = 200\n");
    unsetenv("ZB_FAULTS");
    produce(&t, 0, n / 2);
    struct buf big;
    buf_init(&big, 1 << 16);
    buf_puts(&big, "{\"FromUserId\":\"u0\",\"ToUserId\":[");
    for (int i = 1; i <= 150; i++)
        buf_printf(&big, "%s\"u%d\"", i > 1 ? "," : "", i);
    buf_puts(&big, "],\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                   "{\"Message\":\"全员 150 人 — مرحبا بالجميع 🎉\"}}");
    rd_kafka_t *p = testenv_producer();
    testenv_produce(p, t.peer, "big", big.data, NULL);
    testenv_flush(p);
    rd_kafka_destroy(p);
    produce(&t, n / 2, n);
    testenv_wait_committed(t.group_id, t.peer, 90);
    tally(&zs, n, &ta);
    struct recs d;
    testenv_read_topic(t.dlq, 1, 2000, 30000, &d);
    size_t replies = check_replies(&t, n + 1, n);
    int stalls = testenv_file_count(b.log, "out of memory taking");
    int resumed = testenv_file_count(b.log, "memory again");
    printf("scenario unschedulable: %d events and 1 that cannot be split, "
           "%d memory stalls (%d resumed), lost %d, duplicated %d, out of "
           "order %d, %zu DLQ records, %zu replies\n",
           n, stalls, resumed, ta.missing, ta.dups, ta.out_of_order, d.n,
           replies);
    assert_int_equal(testenv_file_count(b.log, "allocation failures injected"),
                     1);
    assert_int_equal(stalls, 4);
    assert_int_equal(resumed, 4);
    assert_int_equal(ta.missing, 0);
    assert_int_equal(ta.dups, 0);
    assert_int_equal(ta.out_of_order, 0);
    assert_int_equal(replies, (size_t)n + 1);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].value, big.data);
    assert_string_equal(testenv_header(&d.v[0], "zim.error.code"), "900000005");
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    free(ta.counts);
    buf_free(&big);
    testenv_recs_free(&d);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_kill9_loop, testenv_teardown),
        cmocka_unit_test_teardown(test_output_topic_gone, testenv_teardown),
        cmocka_unit_test_teardown(test_slow_flaky, testenv_teardown),
        cmocka_unit_test_teardown(test_outage, testenv_teardown),
        cmocka_unit_test_teardown(test_rebalance_storm, testenv_teardown),
        cmocka_unit_test_teardown(test_unschedulable, testenv_teardown),
    };
    if (getenv("ZB_TEST_FILTER")) /* e.g. "test_kill9*" */
        cmocka_set_test_filter(getenv("ZB_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
