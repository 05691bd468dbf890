/* test_replay.c - `zimbridge replay` against the real broker, zimsim and a
 * running bridge: an unregistered user's events land in the DLQ, a dry
 * run lists exactly them, the user is registered, the replay delivers
 * every failed recipient exactly once (and no successful one twice), a
 * second run sends nothing; plus loop protection, the filters, an
 * interrupted replay resumed without duplicates, and --rate. */
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
#include <sys/wait.h>
#include <unistd.h>

static char out[1 << 16];

/* Runs `zimbridge replay --config conf ARGS`; stdout into out. */
static int replay(const char *conf, const char *args)
{
    char cmd[2048];
    const char *bd = getenv("ZB_BUILD_DIR");
    snprintf(cmd, sizeof(cmd), "%s/zimbridge replay --config %s %s",
             bd ? bd : ".", conf, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static size_t lines_with(const char *text, const char *needle)
{
    return testenv_count_lines(text, needle);
}

static size_t deliveries(const struct zimsim *zs, const char *needle)
{
    struct buf b;
    buf_init(&b, 1 << 24);
    testenv_zimsim_get(zs, "/_sim/messages", &b);
    size_t n = testenv_count_lines(b.data, needle);
    buf_free(&b);
    return n;
}

#define NOQ                                                                    \
    "quota.peer_per_s = 0\nquota.group_per_s = 0\n"                            \
    "quota.broadcast_per_s = 0\nquota.broadcast_daily = 0\nlog.level = info\n"

static void test_replay_workflow(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    const char *const args[] = {"--qps-peer", "0", NULL};
    testenv_zimsim_start(&zs, "u1 u2", NULL, args);
    testenv_topics(&t, 3);
    testenv_bridge_start(&b, &zs, &t, NOQ);
    rd_kafka_t *p = testenv_producer();
    testenv_produce(p, t.peer, "to-u9",
                    "{\"FromUserId\":\"u2\",\"ToUserId\":[\"u9\"],"
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"m-api\"}}",
                    NULL);
    testenv_produce(p, t.peer, "to-u1-u9",
                    "{\"FromUserId\":\"u2\",\"ToUserId\":[\"u1\",\"u9\"],"
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"m-partial\"}}",
                    NULL);
    testenv_produce(p, t.peer, "bad",
                    "{\"FromUserId\":\"u2\",\"ToUserId\":[\"u1\"],"
                    "\"MessageType\":99,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"m-invalid\"}}",
                    NULL);
    testenv_flush(p);
    struct recs r;
    testenv_read_topic(t.dlq, 3, 0, 60000, &r);
    assert_int_equal(r.n, 3);
    testenv_recs_free(&r);
    assert_int_equal(deliveries(&zs, "\"to\":\"u1\""), 1); /* partial's u1 */

    /* Dry run: exactly the api and partial records, nothing changes. */
    assert_int_equal(replay(b.conf, "--failure-class partial,api --dry-run "
                                    "--format json"),
                     0);
    assert_int_equal(lines_with(out, "\"partition\""), 2);
    assert_int_equal(lines_with(out, "\"failure_class\":\"api\""), 1);
    assert_int_equal(lines_with(out, "\"failure_class\":\"partial\""), 1);
    assert_int_equal(lines_with(out, "\"key\":\"bad\""), 0);
    assert_int_equal(replay(b.conf, "--failure-class partial,api --dry-run"),
                     0);
    assert_non_null(strstr(out, "would replay 2"));
    /* Without a selection it refuses, unless --all. */
    assert_int_equal(replay(b.conf, ""), 2);

    /* Register u9, replay: each failed recipient gets it once. */
    testenv_zimsim_control(&zs, "{\"users_add\":[\"u9\"]}");
    assert_int_equal(replay(b.conf, "--failure-class partial,api"), 0);
    testenv_read_topic(t.reply, 5, 0, 60000, &r);
    assert_int_equal(r.n, 5);
    testenv_recs_free(&r);
    assert_int_equal(deliveries(&zs, "\"to\":\"u9\""), 2);
    assert_int_equal(deliveries(&zs, "m-api"), 1);
    assert_int_equal(deliveries(&zs, "m-partial"), 2);     /* u1 then u9 */
    assert_int_equal(deliveries(&zs, "\"to\":\"u1\""), 1); /* not again */
    /* The replayed records carry the replay headers, not the failure. */
    testenv_read_topic(t.peer, 5, 0, 30000, &r);
    int replayed = 0;
    for (size_t i = 0; i < r.n; i++) {
        const char *c = testenv_header(&r.v[i], "zim.replay.count");
        if (c == NULL)
            continue;
        replayed++;
        assert_string_equal(c, "1");
        assert_non_null(testenv_header(&r.v[i], "zim.replayed.from"));
        assert_null(testenv_header(&r.v[i], "zim.failure.class"));
        assert_null(testenv_header(&r.v[i], "kafka_dlt-original-topic"));
    }
    assert_int_equal(replayed, 2);
    testenv_recs_free(&r);
    /* The same replay again: nothing new. */
    assert_int_equal(replay(b.conf, "--failure-class partial,api"), 0);
    usleep(1500000);
    assert_int_equal(deliveries(&zs, "\"to\":\"u9\""), 2);

    /* Loop protection: a record replayed 3 times already is skipped. */
    const char *const tired[] = {"zim.failure.class",
                                 "api",
                                 "zim.error.code",
                                 "660500002",
                                 "zim.action",
                                 "SendPeerMessage",
                                 "zim.source.topic",
                                 t.peer,
                                 "zim.replay.count",
                                 "3",
                                 NULL};
    testenv_produce(p, t.dlq, "tired",
                    "{\"FromUserId\":\"u2\",\"ToUserId\":[\"u1\"],"
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"m-tired\"}}",
                    tired);
    testenv_flush(p);
    assert_int_equal(replay(b.conf, "--key tired"), 1);
    assert_non_null(strstr(out, "--max-replays"));
    assert_int_equal(replay(b.conf, "--key tired --max-replays 4 --group "
                                    "g-tired"),
                     0);
    testenv_read_topic(t.reply, 6, 0, 30000, &r);
    assert_int_equal(r.n, 6);
    testenv_recs_free(&r);
    assert_int_equal(deliveries(&zs, "m-tired"), 1);

    /* Anyone who can write to the DLQ can forge its headers: a count
     * that is not a count does not turn the loop guard off, and header
     * text reaches the operator's terminal escaped, not obeyed. */
    const char *const hostile[] = {"zim.failure.class",
                                   "api\x1b[2J",
                                   "zim.error.code",
                                   "660500002",
                                   "zim.error.message",
                                   "\x1b]0;pwned\x07 用户不存在",
                                   "zim.action",
                                   "SendPeerMessage",
                                   "zim.source.topic",
                                   t.peer,
                                   "zim.replay.count",
                                   "-1",
                                   NULL};
    testenv_produce(p, t.dlq, "hostile",
                    "{\"FromUserId\":\"u2\",\"ToUserId\":[\"u1\"],"
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"m-hostile\"}}",
                    hostile);
    testenv_flush(p);
    assert_int_equal(replay(b.conf, "--dry-run --key hostile"), 1);
    assert_null(strchr(out, 0x1b));
    assert_non_null(strstr(out, "\\x1b]0;pwned\\x07 用户不存在"));
    assert_non_null(strstr(out, "api\\x1b[2J"));
    assert_non_null(strstr(out, "zim.replay.count is not a count"));
    assert_int_equal(replay(b.conf, "--key hostile"), 1);
    usleep(1500000);
    assert_int_equal(deliveries(&zs, "m-hostile"), 0);

    /* A DLQ record whose value was cut to its first bytes is not
     * published: it would arrive as a broken event. */
    const char *const cut[] = {
        "zim.failure.class", "validation", "zim.error.code",
        "900000001",         "zim.action", "SendPeerMessage",
        "zim.source.topic",  t.peer,       "zim.value.truncated",
        "10485760",          NULL};
    testenv_produce(p, t.dlq, "cut", "{\"FromUserId\":\"u2\",\"m-cut", cut);
    testenv_flush(p);
    assert_int_equal(replay(b.conf, "--dry-run --key cut"), 1);
    assert_non_null(strstr(out, "value cut 1"));
    assert_int_equal(replay(b.conf, "--key cut"), 1);
    assert_non_null(strstr(out, "value cut in the DLQ"));
    struct recs src;
    testenv_read_topic(t.peer, 0, 1000, 5000, &src);
    for (size_t i = 0; i < src.n; i++)
        assert_null(strstr(src.v[i].value, "m-cut"));
    testenv_recs_free(&src);

    /* A record in the DLQ cannot steer a replay: it goes back to the
     * input topic of its action (zim.action), whatever zim.source.topic
     * says, and --to takes only input topics. */
    const char *const forged[] = {
        "zim.failure.class", "api",   "zim.action", "SendPeerMessage",
        "zim.source.topic",  t.reply, NULL};
    testenv_produce(p, t.dlq, "forged",
                    "{\"FromUserId\":\"u2\",\"ToUserId\":[\"u1\"],"
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"m-forged 伪造\"}}",
                    forged);
    testenv_flush(p);
    char a3[512];
    snprintf(a3, sizeof(a3), "--key forged --to %s", t.reply);
    assert_int_equal(replay(b.conf, a3), 2);
    assert_int_equal(replay(b.conf, "--key forged"), 0);
    testenv_read_topic(t.reply, 7, 0, 30000, &r);
    assert_int_equal(r.n, 7); /* one more reply, no event in it */
    for (size_t i = 0; i < r.n; i++)
        assert_null(strstr(r.v[i].value, "m-forged"));
    testenv_recs_free(&r);
    assert_int_equal(deliveries(&zs, "m-forged"), 1);

    /* Filters, through dry runs. */
    assert_int_equal(replay(b.conf, "--dry-run --format json --code 51102"), 0);
    assert_int_equal(lines_with(out, "\"partition\""), 1); /* the partial */
    /* Exit 1: the cut record is selected too, and would be skipped. */
    assert_int_equal(
        replay(b.conf, "--dry-run --format json --failure-class validation"),
        1);
    assert_int_equal(lines_with(out, "\"key\":\"bad\""), 1);
    assert_int_equal(lines_with(out, "\"key\":\"cut\",\"skip\":"), 1);
    char args2[512];
    snprintf(args2, sizeof(args2), "--dry-run --format json --source-topic %s",
             t.group);
    assert_int_equal(replay(b.conf, args2), 0);
    assert_int_equal(lines_with(out, "\"partition\""), 0);
    assert_int_equal(replay(b.conf, "--dry-run --format json --since "
                                    "2000-01-01T00:00:00Z --until 4102444800"),
                     0);
    /* 3: the hand-made "tired" record has no zim.failed.at. */
    assert_int_equal(lines_with(out, "\"partition\""), 3);
    assert_int_equal(replay(b.conf, "--dry-run --format json --until "
                                    "2000-01-01T00:00:00+02:00"),
                     0);
    assert_int_equal(lines_with(out, "\"partition\""), 0);
    assert_int_equal(replay(b.conf, "--dry-run --since yesterday"), 2);
    rd_kafka_destroy(p);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_zimsim_stop(&zs);
}

/* Interrupted mid-way and run again: every selected record is published
 * exactly once. --rate paces it. */
static void test_interrupted_and_rate(void **state)
{
    (void)state;
    struct topics t;
    testenv_topics(&t, 3);
    char target[96], conf[256];
    testenv_unique("t.target", target, sizeof(target));
    testenv_create_topic(target, 3);
    snprintf(conf, sizeof(conf), "/tmp/zbreplay.%ld.conf", (long)getpid());
    FILE *cf = fopen(conf, "w");
    assert_non_null(cf);
    fprintf(cf, "kafka.bootstrap.servers = %s\ntopics.dlq = %s\n",
            testenv_bootstrap(), t.dlq);
    fclose(cf);
    rd_kafka_t *p = testenv_producer();
    const char *const h[] = {"zim.failure.class", "exhausted",
                             "zim.source.topic", t.peer, NULL};
    char key[16];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof(key), "r%d", i);
        testenv_produce(p, t.dlq, key, "{}", h);
    }
    testenv_flush(p);
    rd_kafka_destroy(p);

    char cmd[2048];
    const char *bd = getenv("ZB_BUILD_DIR");
    snprintf(cmd, sizeof(cmd),
             "exec %s/zimbridge replay --config %s --all --to %s "
             "--to-any-topic --rate 10 --group g-int >/dev/null 2>&1",
             bd, conf, target);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    sleep(2);
    kill(pid, SIGINT);
    int st = 0;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3); /* interrupted */
    struct recs r;
    testenv_read_topic(target, 0, 2000, 8000, &r);
    size_t first = r.n;
    testenv_recs_free(&r);
    assert_true(first > 0 && first < 40);

    double t0 = testenv_now();
    char args[512];
    snprintf(args, sizeof(args),
             "--all --to %s --to-any-topic --rate 20 --group g-int", target);
    assert_int_equal(replay(conf, args), 0);
    double took = testenv_now() - t0;
    testenv_read_topic(target, 0, 2000, 15000, &r);
    printf("replay: %zu of 40 committed before the interrupt; the rerun "
           "sent the other %zu in %.1f s at --rate 20; %zu in the target\n",
           first, 40 - first, took, r.n);
    assert_int_equal(r.n, 40); /* no duplicates, none missing */
    struct {
        char k[16];
    } seen[40];
    memset(seen, 0, sizeof(seen));
    for (size_t i = 0; i < r.n; i++) {
        int k = atoi(r.v[i].key + 1);
        assert_true(k >= 0 && k < 40);
        assert_int_equal(seen[k].k[0], 0);
        seen[k].k[0] = 1;
    }
    testenv_recs_free(&r);
    /* --rate 20: the rest took at least (40 - first - 1) / 20 s. */
    assert_true(took >= (double)(40 - first - 1) / 20.0 - 0.1);
    unlink(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_replay_workflow, testenv_teardown),
        cmocka_unit_test_teardown(test_interrupted_and_rate, testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
