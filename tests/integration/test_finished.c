/* test_finished.c - the finished-offsets record in the commit's metadata,
 * against the real broker: one record held back by ZIM (Code 1, retried
 * slowly) keeps its partition's committed offset down while the records
 * after it finish; after a kill -9, the restarted bridge skips exactly
 * those (each reached ZIM once), redoes the held one (it had not
 * finished), and every event has its reply. The metadata is bounded. */
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

#define EVENTS 300

/* The committed offset and metadata of group's partition 0 of topic. */
static int64_t committed(const char *group, const char *topic, char *meta,
                         size_t n)
{
    rd_kafka_conf_t *conf = testenv_kafka_conf();
    testenv_conf_set(conf, "group.id", group);
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    assert_non_null(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, 0);
    assert_int_equal(rd_kafka_committed(rk, l, 10000), 0);
    int64_t off = l->elems[0].offset;
    size_t ml =
        l->elems[0].metadata_size < n - 1 ? l->elems[0].metadata_size : n - 1;
    if (l->elems[0].metadata)
        memcpy(meta, l->elems[0].metadata, ml);
    meta[l->elems[0].metadata ? ml : 0] = '\0';
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return off;
}

/* The runs of a "zb2:<ms>:<runs>" metadata ("" when none), and its time
 * in *ms (-1: not zb2). */
static const char *runs_of(const char *meta, int64_t *ms)
{
    *ms = -1;
    if (strncmp(meta, "zb2:", 4) != 0)
        return "?";
    char *end = NULL;
    *ms = strtoll(meta + 4, &end, 10);
    return *end == ':' ? end + 1 : end;
}

static void test_finished_survive_a_restart(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    const char *const args[] = {"--qps-peer", "0", NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 1);
    /* Offset 10 (its own key) is answered Code 1 until told otherwise:
     * it holds the committed offset at 10 while the 289 records after it
     * finish. */
    testenv_zimsim_control(&zs, "{\"fail_next\":{\"code\":1,\"count\":"
                                "1000000,\"match\":\"fin10.\"}}");
    testenv_produce_peers(t.peer, 0, EVENTS, EVENTS, "fin");
    const char *conf = "quota.peer_per_s = 0\nretry.base_ms = 500\n"
                       "retry.max_ms = 1000\nretry.max_attempts = 100\n";
    testenv_bridge_start(&b, &zs, &t, conf);
    struct recs replies;
    testenv_read_topic(t.reply, EVENTS - 1, 0, 60000, &replies);
    assert_int_equal(replies.n, EVENTS - 1);
    testenv_recs_free(&replies);
    /* The finished records above 10 are recorded in the metadata. */
    char meta[8192] = "";
    int64_t off = -1, ms = -1, started = (int64_t)(testenv_now() * 1000);
    for (int i = 0;
         i < 50 && (off != 10 || strcmp(runs_of(meta, &ms), "1,289")); i++) {
        usleep(100000);
        off = committed(t.group_id, t.peer, meta, sizeof(meta));
    }
    assert_int_equal(off, 10);
    assert_string_equal(runs_of(meta, &ms), "1,289");
    /* Its time: when offset 10 was polled, in this run. */
    assert_true(ms >= started - 60000 && ms <= (int64_t)(testenv_now() * 1000));
    assert_int_equal(testenv_bridge_stop(&b, SIGKILL), 128 + SIGKILL);

    testenv_zimsim_control(&zs, "{\"fail_clear\":true}");
    testenv_bridge_start(&b, &zs, &t, conf);
    testenv_read_topic(t.reply, EVENTS, 0, 60000, &replies);
    assert_int_equal(replies.n, EVENTS);
    testenv_wait_committed(t.group_id, t.peer, 30);
    off = committed(t.group_id, t.peer, meta, sizeof(meta));
    assert_int_equal(off, EVENTS);
    /* Nothing finished above the end: the time alone. */
    assert_string_equal(runs_of(meta, &ms), "");
    assert_true(ms > started - 60000);
    /* Idle, the partition's commit is made again every 10 s for its time
     * (a crash after a pause then reads the ledger from there, not from
     * the last busy moment). */
    int64_t first_ms = ms;
    for (int i = 0; i < 150 && ms == first_ms; i++) {
        usleep(100000);
        off = committed(t.group_id, t.peer, meta, sizeof(meta));
        runs_of(meta, &ms);
    }
    assert_int_equal(off, EVENTS);
    assert_string_equal(runs_of(meta, &ms), "");
    assert_true(ms >= first_ms + 9000);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    assert_true(testenv_file_count(b.log, "are skipped") >= 1);

    struct buf log;
    buf_init(&log, (size_t)1 << 24);
    testenv_zimsim_get(&zs, "/_sim/messages", &log);
    int counts[EVENTS];
    testenv_count_markers(log.data, "fin", counts, EVENTS);
    /* Each reached ZIM once: the finished ones were skipped after the
     * kill, and the held one (refused until then, not finished) was sent
     * again and accepted once. */
    int again = 0;
    for (int i = 0; i < EVENTS; i++)
        again += counts[i] > 1;
    for (int i = 0; i < EVENTS; i++)
        if (counts[i] != 1)
            fail_msg("event %d reached ZIM %d times", i, counts[i]);
    printf("finished offsets: %d events, committed offset held at 10 with "
           "289 finished above it (metadata zb2:<ms>:1,289); after kill -9 "
           "%d "
           "of them reached ZIM again\n",
           EVENTS, again);
    buf_free(&log);
    testenv_recs_free(&replies);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_finished_survive_a_restart,
                                  testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
