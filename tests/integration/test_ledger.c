/* test_ledger.c - the reply topic as the ledger (issue 25), against the
 * real broker: after kill -9 at a steady rate, and after a replica's
 * assignment is lost, nothing whose reply was already in Kafka at the
 * kill is sent to ZIM again; what is sent again is at most what was in
 * flight (delivered to ZIM, no reply in Kafka) at each kill.
 *
 * Each kill: SIGSTOP the bridge, wait for what it had on the wire to
 * land (ZIM's answers, produce requests already sent), then note how far
 * zimsim's delivery log and each reply partition reach; then SIGKILL.
 * At the end every delivery is attributed: an event delivered again
 * after kill k counts against kill k; if its reply sat below kill k's
 * reply watermarks, it should not have been sent again. */
#define _GNU_SOURCE /* memmem */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEYS      97
#define PARTS     6 /* input partitions at most */
#define MAX_KILLS 8

static const char *const sim_args[] = {"--qps-peer", "0", NULL};

/* The child's producer, with no cmocka in it: a failed assertion in a
 * forked child would jump back into the test runner and run the rest of
 * the tests there. Any failure exits the child with status 1. */
static void child_produce(const char *topic, int n, int rate)
{
    char err[512], key[32], val[2048];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", testenv_bootstrap(), err,
                          sizeof(err)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", err,
                          sizeof(err)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err)) !=
            RD_KAFKA_CONF_OK)
        _exit(1);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (p == NULL)
        _exit(1);
    double t0 = testenv_now();
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "k%d", i % KEYS);
        snprintf(val, sizeof(val),
                 "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                 "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                 "{\"Message\":\"evt-%d. %s\"}}",
                 i, testenv_chat_text(i));
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic),
                                      RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_VALUE(val, strlen(val)),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 10);
        if (e) {
            fprintf(stderr, "producer child: %s\n", rd_kafka_err2str(e));
            _exit(1);
        }
        rd_kafka_poll(p, 0);
        /* On the clock, in steps of 1/50 s. */
        double due = t0 + (double)(i + 1) / rate, now = testenv_now();
        if (due > now + 0.02)
            usleep((useconds_t)((due - now) * 1e6));
    }
    if (rd_kafka_flush(p, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_outq_len(p) != 0) {
        fprintf(stderr, "producer child: %d records not delivered\n",
                rd_kafka_outq_len(p));
        _exit(1);
    }
    rd_kafka_destroy(p);
    _exit(0);
}

/* Produces [0, n) to topic at rate/s in a child process; returns its pid. */
static pid_t produce_in_child(const char *topic, int n, int rate)
{
    /* No Kafka client may be alive here: librdkafka's threads do not
     * survive a fork, and a child forked beside a live one never
     * delivered (70,000 records left after 120 s). */
    /* What may fail a test is done here, in the parent: the bootstrap
     * address and the chat texts (read once, from the corpus). */
    assert_non_null(testenv_bootstrap());
    assert_non_null(testenv_chat_text(0));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child_produce(topic, n, rate);
    return pid;
}

/* zimsim's delivery log, one line per message, as event indexes in
 * arrival order (-1: a line naming none). */
static int *deliveries(const struct zimsim *zs, int n, size_t *len)
{
    struct buf log;
    buf_init(&log, (size_t)1 << 28);
    testenv_zimsim_get(zs, "/_sim/messages", &log);
    size_t cap = 1024, k = 0;
    int *v = malloc(cap * sizeof(*v));
    /* Lengths, not strstr: ASan's strstr measures the whole rest of the
     * log at each call, which is quadratic in a log of 70,000 lines. */
    const char *p = log.data, *end = log.data + log.len;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = (size_t)((nl ? nl : end) - p);
        const char *e = memmem(p, ll, "evt-", 4);
        long i = -1;
        if (e) {
            char *stop = NULL;
            i = strtol(e + 4, &stop, 10);
            if (!stop || *stop != '.' || i < 0 || i >= n)
                i = -1;
        }
        if (k == cap)
            v = realloc(v, (cap *= 2) * sizeof(*v));
        v[k++] = (int)i;
        p = nl ? nl + 1 : NULL;
    }
    buf_free(&log);
    *len = k;
    return v;
}

/* How many messages zimsim has logged (its stats: cheap to ask often). */
static size_t delivered(const struct zimsim *zs)
{
    struct buf st;
    buf_init(&st, 1 << 20);
    testenv_zimsim_get(zs, "/_sim/stats", &st);
    const char *m = strstr(st.data, "\"messages\":");
    assert_non_null(m);
    size_t n = (size_t)strtoull(m + 11, NULL, 10);
    buf_free(&st);
    return n;
}

/* What a kill left: the delivery log's length and each reply partition's
 * end, once the stopped bridge's last bytes have landed. */
struct kill_mark {
    size_t delivered;
    int64_t reply_end[3];
};

/* The reply partitions' ends. */
static void reply_ends(rd_kafka_t *rk, const struct topics *t, int64_t end[3])
{
    for (int p = 0; p < 3; p++) {
        int64_t lo = 0;
        assert_int_equal(rd_kafka_query_watermark_offsets(rk, t->reply, p, &lo,
                                                          &end[p], 10000),
                         0);
    }
}

/* Stops b, notes the mark, kills b. other (0: none), a replica that goes
 * on, is held too while the mark is taken (a second or so, well inside
 * its session), so that only b's last work is in the mark. */
static void mark_and_kill(struct bridge *b, pid_t other,
                          const struct zimsim *zs, const struct topics *t,
                          rd_kafka_t *rk, struct kill_mark *m)
{
    assert_int_equal(kill(b->pid, SIGSTOP), 0);
    if (other)
        assert_int_equal(kill(other, SIGSTOP), 0);
    /* What the stopped bridge had on the wire lands: calls reach zimsim,
     * produce requests are appended. Wait until neither moves for 300 ms
     * (a loaded machine may take longer than any fixed sleep). */
    int64_t end[3], again[3];
    size_t d = delivered(zs), d2 = 0;
    reply_ends(rk, t, end);
    for (int i = 0; i < 100; i++) {
        usleep(300000);
        d2 = delivered(zs);
        reply_ends(rk, t, again);
        if (d2 == d && memcmp(end, again, sizeof(end)) == 0)
            break;
        d = d2;
        memcpy(end, again, sizeof(end));
    }
    assert_true(d2 == d && memcmp(end, again, sizeof(end)) == 0);
    m->delivered = d;
    memcpy(m->reply_end, end, sizeof(end));
    assert_int_equal(testenv_bridge_stop(b, SIGKILL), 128 + SIGKILL);
    if (other)
        assert_int_equal(kill(other, SIGCONT), 0);
}

/* Source (partition, offset) of each event, from the input topic. */
static void event_sources(const struct topics *t, int n, int32_t *part,
                          int64_t *off)
{
    struct recs r;
    testenv_read_topic(t->peer, (size_t)n, 3000, 120000, &r);
    assert_int_equal(r.n, n);
    for (size_t i = 0; i < r.n; i++) {
        const char *e = strstr(r.v[i].value, "evt-");
        assert_non_null(e);
        int k = atoi(e + 4);
        assert_true(k >= 0 && k < n);
        part[k] = r.v[i].partition;
        off[k] = r.v[i].offset;
    }
    testenv_recs_free(&r);
}

/* The reply records: for each event, the lowest (partition, offset) of a
 * reply naming its source, and how many source offsets have two. */
struct replies {
    int32_t *rpart;
    int64_t *roff; /* -1: none */
    int *count;
};

static void read_replies(const struct topics *t, int n, const int32_t *part,
                         const int64_t *off, struct replies *out)
{
    out->rpart = calloc((size_t)n, sizeof(int32_t));
    out->roff = malloc((size_t)n * sizeof(int64_t));
    out->count = calloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++)
        out->roff[i] = -1;
    /* Index events by source to keep this linear. */
    int64_t maxoff = 0;
    for (int i = 0; i < n; i++)
        maxoff = off[i] > maxoff ? off[i] : maxoff;
    int *by = malloc((size_t)(maxoff + 1) * PARTS * sizeof(int));
    for (int64_t i = 0; i < (maxoff + 1) * PARTS; i++)
        by[i] = -1;
    for (int i = 0; i < n; i++)
        by[off[i] * PARTS + part[i]] = i;
    struct recs r;
    testenv_read_topic(t->reply, 0, 3000, 120000, &r);
    for (size_t i = 0; i < r.n; i++) {
        const char *s = strstr(r.v[i].value, "\"partition\":");
        const char *o = strstr(r.v[i].value, "\"offset\":");
        assert_true(s && o);
        int32_t p = (int32_t)strtol(s + 12, NULL, 10);
        int64_t so = strtoll(o + 9, NULL, 10);
        int e = p >= 0 && p < PARTS && so >= 0 && so <= maxoff
                    ? by[so * PARTS + p]
                    : -1;
        assert_true(e >= 0);
        /* The claim names the same source. */
        const char *c = testenv_header(&r.v[i], "zim.record.claim");
        assert_non_null(c);
        char want[64];
        snprintf(want, sizeof(want), " o %d %lld ", (int)p, (long long)so);
        assert_non_null(strstr(c, want));
        out->count[e]++;
        if (out->roff[e] < 0) {
            out->rpart[e] = r.v[i].partition;
            out->roff[e] = r.v[i].offset;
        }
    }
    free(by);
    testenv_recs_free(&r);
}

static int log_sum(const struct zimsim *zs, const char *needle)
{
    /* "ledger" lines: "<n> records above the committed offset" */
    char cmd[1024], out[64] = "";
    snprintf(cmd, sizeof(cmd),
             "cat %s/bridge*.log | grep -o '[0-9]* %s' | "
             "awk '{s += $1} END {print s + 0}'",
             zs->dir, needle);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    if (fgets(out, sizeof(out), f) == NULL)
        out[0] = '\0';
    pclose(f);
    return atoi(out);
}

struct run {
    int rate, secs, kills, inflight;
    const char *extra; /* bridge settings */
};

/* Attributes each delivery after an event's first to the last kill
 * marked at or before it, and asserts what the ledger promises: nothing
 * with a reply in Kafka at a kill is sent again, each kill re-sends at most
 * what was open (delivered, no reply in Kafka) then; nothing lost, nothing
 * out of order. */
static void check_resends(const struct zimsim *zs, const struct topics *t,
                          int n, const struct kill_mark *marks, int kills,
                          int rate, const char *what)
{
    int32_t *part = malloc((size_t)n * sizeof(int32_t));
    int64_t *off = malloc((size_t)n * sizeof(int64_t));
    event_sources(t, n, part, off);
    struct replies rep;
    read_replies(t, n, part, off, &rep);
    size_t nd = 0;
    int *d = deliveries(zs, n, &nd);
    int *count = calloc((size_t)n, sizeof(int));
    int *first = malloc((size_t)n * sizeof(int));
    int dups[MAX_KILLS] = {0}, bad[MAX_KILLS] = {0}, open_[MAX_KILLS] = {0};
    int missing = 0, two_replies = 0, out_of_order = 0;
    int last[KEYS];
    for (int k = 0; k < KEYS; k++)
        last[k] = -1;
    for (size_t i = 0; i < nd; i++) {
        int e = d[i];
        assert_true(e >= 0);
        if (count[e]++ == 0) {
            first[e] = (int)i;
            int key = e % KEYS;
            if (last[key] != e - KEYS && !(last[key] == -1 && e < KEYS))
                out_of_order++;
            last[key] = e;
            continue;
        }
        int k = -1;
        for (int j = 0; j < kills; j++)
            if (marks[j].delivered <= i)
                k = j;
        assert_true(k >= 0); /* a re-send without a kill before it */
        dups[k]++;
        /* Its reply was in Kafka at kill k: it should have been skipped. */
        if (rep.roff[e] >= 0 && rep.roff[e] < marks[k].reply_end[rep.rpart[e]])
            bad[k]++;
    }
    /* In flight or unacknowledged at kill k: delivered before it, with
     * no reply in Kafka then. */
    for (int k = 0; k < kills; k++)
        for (int e = 0; e < n; e++)
            if (count[e] && (size_t)first[e] < marks[k].delivered &&
                !(rep.roff[e] >= 0 &&
                  rep.roff[e] < marks[k].reply_end[rep.rpart[e]]))
                open_[k]++;
    for (int e = 0; e < n; e++) {
        missing += count[e] == 0 || rep.count[e] == 0;
        two_replies += rep.count[e] > 1;
    }
    int recovered = log_sum(zs, "records above the committed offset");
    char per[512] = "";
    int all_dups = 0, all_bad = 0;
    for (int k = 0; k < kills; k++) {
        snprintf(per + strlen(per), sizeof(per) - strlen(per), "%s%d/%d",
                 k ? ", " : "", dups[k], open_[k]);
        all_dups += dups[k];
        all_bad += bad[k];
    }
    printf("scenario ledger %s at %d events/s: %d events, %d kills, "
           "re-sent/in flight or unacknowledged at each kill: %s; re-sent "
           "with a reply in Kafka: %d; source offsets with two replies: %d; "
           "found by the ledger: %d; lost %d, out of order %d\n",
           what, rate, n, kills, per, all_bad, two_replies, recovered, missing,
           out_of_order);
    assert_int_equal(missing, 0);
    assert_int_equal(out_of_order, 0);
    assert_int_equal(all_bad, 0);
    for (int k = 0; k < kills; k++)
        assert_true(dups[k] <= open_[k]);
    /* Two replies only where a reply was appended and its bridge killed
     * before the ack: at most what was open at the kills. */
    assert_true(two_replies <= all_dups);
    /* The ledger did the work (over 5 kills; one kill may find none). */
    if (kills >= 5)
        assert_true(recovered > 0);
    free(part);
    free(off);
    free(rep.rpart);
    free(rep.roff);
    free(rep.count);
    free(d);
    free(count);
    free(first);
}

/* kill -9 at a steady rate, restarts at once (static membership: the
 * restarted bridge gets its partitions back without waiting for a
 * session timeout), then checks each kill's re-sends. */
static void kill_at_rate(const struct run *run)
{
    const int n = run->rate * run->secs;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    struct kill_mark marks[MAX_KILLS];
    char conf[1024];
    srand((unsigned)time(NULL));
    testenv_zimsim_start(&zs, NULL, NULL, sim_args);
    testenv_zimsim_control(&zs, "{\"latency_ms\":5}");
    testenv_topics(&t, 3);
    snprintf(conf, sizeof(conf),
             "quota.peer_per_s = 0\nlog.level = info\n"
             "http.max_inflight = %d\nkafka.group.instance.id = ledger-%d\n%s",
             run->inflight, run->rate, run->extra ? run->extra : "");
    testenv_bridge_start(&b, &zs, &t, conf);
    pid_t prod = produce_in_child(t.peer, n, run->rate);
    rd_kafka_t *rk = testenv_producer(); /* after the fork: see there */
    for (int k = 0; k < run->kills; k++) {
        /* Going again (it delivers), then a random moment. */
        size_t base = delivered(&zs), now = base;
        for (int i = 0; i < 500 && now <= base; i++) {
            usleep(20000);
            now = delivered(&zs);
        }
        usleep((useconds_t)(800000 + rand() % 1200000));
        mark_and_kill(&b, 0, &zs, &t, rk, &marks[k]);
        assert_true(k > 0 || marks[k].delivered < (size_t)n);
        testenv_bridge_start(&b, &zs, &t, conf);
    }
    int status = 0;
    assert_int_equal(waitpid(prod, &status, 0), prod);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    testenv_wait_committed(t.group_id, t.peer, 240);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);

    check_resends(&zs, &t, n, marks, run->kills, run->rate, "kill -9");
    rd_kafka_destroy(rk);
    testenv_zimsim_stop(&zs);
}

static void test_kill9_1500(void **state)
{
    (void)state;
    const struct run r = {.rate = 1500, .secs = 14, .kills = 5, .inflight = 8};
    kill_at_rate(&r);
}

static void test_kill9_5000(void **state)
{
    (void)state;
    const struct run r = {.rate = 5000, .secs = 14, .kills = 5, .inflight = 64};
    kill_at_rate(&r);
}

/* Two replicas; one stops dead (SIGSTOP: a frozen node) and its
 * session times out, so the other is handed its partitions as lost, not
 * revoked: nothing was committed for them at the hand-over. The new owner
 * reads the ledger: only what the frozen one had in flight is sent again.
 * The frozen one is then killed, never resumed. */
static void test_lost_assignment(void **state)
{
    (void)state;
    const int rate = 1500, n = rate * 16;
    struct zimsim zs;
    struct topics t;
    struct bridge a, b;
    struct kill_mark mark;
    const char *conf = "quota.peer_per_s = 0\nlog.level = info\n"
                       "http.max_inflight = 8\n";
    testenv_zimsim_start(&zs, NULL, NULL, sim_args);
    testenv_zimsim_control(&zs, "{\"latency_ms\":5}");
    testenv_topics(&t, 6);
    testenv_bridge_start(&a, &zs, &t, conf);
    testenv_bridge_start(&b, &zs, &t, conf);
    pid_t prod = produce_in_child(t.peer, n, rate);
    rd_kafka_t *rk = testenv_producer(); /* after the fork: see there */
    /* Both at work: each has been assigned its share and delivers. */
    for (int i = 0; i < 600 && (testenv_file_count(a.log, "assigned") == 0 ||
                                testenv_file_count(b.log, "assigned") == 0);
         i++)
        usleep(50000);
    usleep(3000000);
    int before = testenv_file_count(b.log, "records above the committed");
    mark_and_kill(&a, b.pid, &zs, &t, rk, &mark);
    assert_true(mark.delivered < (size_t)n); /* work was left to hand over */
    /* b takes a's partitions once a's session (6 s) times out. */
    for (int i = 0;
         i < 600 &&
         testenv_file_count(b.log, "records above the committed") == before;
         i++)
        usleep(50000);
    assert_true(testenv_file_count(b.log, "records above the committed") >
                before);
    int status = 0;
    assert_int_equal(waitpid(prod, &status, 0), prod);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    testenv_wait_committed(t.group_id, t.peer, 240);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    check_resends(&zs, &t, n, &mark, 1, rate, "lost assignment");
    rd_kafka_destroy(rk);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_kill9_1500, testenv_teardown),
        cmocka_unit_test_teardown(test_kill9_5000, testenv_teardown),
        cmocka_unit_test_teardown(test_lost_assignment, testenv_teardown),
    };
    if (getenv("ZB_TEST_FILTER"))
        cmocka_set_test_filter(getenv("ZB_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
