/* test_room.c - SendRoomMessage end to end on the real broker and zimsim:
 * room events (text, pop-up, command, custom) are sent, with replies as
 * for the other actions; a room that does not exist is dead-lettered with
 * 660300001 and sent once; HasReceipt (660300013), pop-up on the peer
 * topic and a peer event on the room topic are refused before ZIM; each
 * room's messages reach it in order. Then ZIM's 10 calls/s for rooms:
 * used to at least 95 %, never exceeded (no code 7). */
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
#include <unistd.h>

#define ROOM_EV(room, type, msg)                                               \
    "{\"FromUserId\":\"host-1\",\"RoomId\":\"" room "\",\"MessageType\":" type \
    ",\"Priority\":2,\"MessageBody\":{" msg "}}"

static const char *jstr(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v)
                                               : NULL;
}

/* The reply for key: its status and code. */
static void expect(const struct recs *r, const char *key, const char *status,
                   const char *code)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].key, key) != 0)
            continue;
        struct json_object *o = json_tokener_parse(r->v[i].value);
        assert_non_null(o);
        if (strcmp(jstr(o, "status"), status) != 0 ||
            strcmp(jstr(o, "code"), code) != 0 ||
            strcmp(jstr(o, "action"), "SendRoomMessage") != 0)
            fail_msg("%s: %s", key, r->v[i].value);
        json_object_put(o);
        return;
    }
    fail_msg("no reply for %s", key);
}

static const struct rec *dlq_for(const struct recs *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].key, key) == 0)
            return &r->v[i];
    return NULL;
}

/* zimsim's rooms: live-1 with three users online, class-7. */
static void write_rooms(char *path, size_t n)
{
    snprintf(path, n, "/tmp/zbrooms.%ld", (long)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("live-1: host-1,viewer-1,viewer-2\nclass-7\n", f);
    fclose(f);
}

static void test_room_outcomes(void **state)
{
    (void)state;
    char rooms[64];
    write_rooms(rooms, sizeof(rooms));
    const char *const args[] = {"--rooms", rooms, "--qps-room", "0", NULL};
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 3);
    testenv_bridge_start(&b, &zs, &t, "quota.room_per_s = 0\n");
    rd_kafka_t *p = testenv_producer();
    /* In order per room: the key is the room. */
    for (int i = 0; i < 20; i++) {
        char val[512];
        snprintf(val, sizeof(val),
                 ROOM_EV("live-1", "1", "\"Message\":\"#%d %s\""), i,
                 testenv_chat_text(i));
        testenv_produce(p, t.room, "live-1", val, NULL);
    }
    testenv_produce(p, t.room, "popup",
                    ROOM_EV("live-1", "20", "\"Message\":\"弹幕 🎉\""), NULL);
    testenv_produce(p, t.room, "cmd",
                    ROOM_EV("class-7", "2",
                            "\"Message\":\"eyJ0eXBlIjoiaGFuZCJ9\","
                            "\"IsBase64\":1"),
                    NULL);
    testenv_produce(p, t.room, "custom",
                    "{\"FromUserId\":\"host-1\",\"RoomId\":\"class-7\","
                    "\"MessageType\":200,\"SubMsgType\":4,\"Priority\":1,"
                    "\"SenderUnaware\":0,\"MessageBody\":{\"Message\":\"{}\"}}",
                    NULL);
    testenv_produce(p, t.room, "gone",
                    ROOM_EV("gone-room", "1", "\"Message\":\"anyone?\""), NULL);
    testenv_produce(
        p, t.room, "receipt",
        ROOM_EV("live-1", "1", "\"Message\":\"x\",\"HasReceipt\":1"), NULL);
    testenv_produce(p, t.room, "peer-on-room",
                    "{\"FromUserId\":\"host-1\",\"ToUserId\":[\"viewer-1\"],"
                    "\"RoomId\":\"live-1\",\"MessageType\":1,\"Priority\":1,"
                    "\"MessageBody\":{\"Message\":\"private\"}}",
                    NULL);
    testenv_produce(p, t.peer, "popup-on-peer",
                    "{\"FromUserId\":\"host-1\",\"ToUserId\":[\"viewer-1\"],"
                    "\"MessageType\":20,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"pop\"}}",
                    NULL);
    testenv_flush(p);
    rd_kafka_destroy(p);

    struct recs replies, dlq;
    testenv_read_topic(t.reply, 27, 0, 60000, &replies);
    assert_int_equal(replies.n, 27);
    testenv_read_topic(t.dlq, 4, 0, 30000, &dlq);
    assert_int_equal(dlq.n, 4);
    expect(&replies, "popup", "sent", "0");
    expect(&replies, "cmd", "sent", "0");
    expect(&replies, "custom", "sent", "0");
    expect(&replies, "gone", "failed", "660300001");
    expect(&replies, "receipt", "failed", "660300013");
    expect(&replies, "peer-on-room", "failed", "660000002");
    const struct rec *d = dlq_for(&dlq, "gone");
    assert_non_null(d);
    assert_string_equal(testenv_header(d, "zim.failure.class"), "api");
    assert_string_equal(testenv_header(d, "zim.action"), "SendRoomMessage");
    assert_string_equal(testenv_header(d, "zim.error.code"), "660300001");
    assert_string_equal(
        testenv_header(dlq_for(&dlq, "receipt"), "zim.failure.class"),
        "validation");
    d = dlq_for(&dlq, "popup-on-peer");
    assert_non_null(d);
    assert_string_equal(testenv_header(d, "zim.action"), "SendPeerMessage");
    assert_string_equal(testenv_header(d, "zim.error.code"), "660000002");

    /* zimsim: 24 room calls accepted, the missing room once, nothing
     * refused before it was sent; each delivered line names the room,
     * and live-1's messages came in order. */
    struct buf log;
    buf_init(&log, 1 << 22);
    testenv_zimsim_get(&zs, "/_sim/stats", &log);
    assert_non_null(strstr(log.data, "\"SendRoomMessage\":{\"requests\":24,"
                                     "\"accepted\":23"));
    testenv_zimsim_get(&zs, "/_sim/messages", &log);
    assert_int_equal(
        testenv_count_lines(log.data, "\"action\":\"SendRoomMessage\""), 23);
    assert_int_equal(testenv_count_lines(log.data, "\"room\":\"live-1\""), 21);
    int next = 0;
    for (char *l = strtok(log.data, "\n"); l; l = strtok(NULL, "\n")) {
        const char *m = strstr(l, "\"Message\":\"#");
        if (m == NULL)
            continue;
        int seq = atoi(m + 12);
        if (seq != next)
            fail_msg("live-1: #%d came when #%d was next", seq, next);
        next++;
    }
    assert_int_equal(next, 20);
    testenv_wait_committed(t.group_id, t.room, 30);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    buf_free(&log);
    testenv_recs_free(&replies);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
    unlink(rooms);
}

/* ZIM's 10 room calls/s, with zimsim enforcing it as a strict sliding
 * second: a backlog of 200 room events goes at >= 95 % of it, and no
 * call is refused. */
static void test_room_quota(void **state)
{
    (void)state;
    enum { N = 200 };
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    testenv_zimsim_start(&zs, NULL, NULL, NULL); /* documented quotas */
    testenv_topics(&t, 6);
    testenv_bridge_start(&b, &zs, &t, "log.level = info\n");
    for (int i = 0; i < 600 && testenv_file_count(b.log, "quota share room: "
                                                         "1.000") == 0;
         i++)
        usleep(100000);
    sleep(1);
    rd_kafka_t *p = testenv_producer();
    for (int i = 0; i < N; i++) {
        char key[16], val[512];
        snprintf(key, sizeof(key), "room-%d", i % 37);
        snprintf(val, sizeof(val),
                 "{\"FromUserId\":\"host\",\"RoomId\":\"room-%d\","
                 "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                 "{\"Message\":\"q%d %s\"}}",
                 i % 37, i, testenv_chat_text(i));
        testenv_produce(p, t.room, key, val, NULL);
    }
    testenv_flush(p);
    rd_kafka_destroy(p);
    struct recs replies;
    testenv_read_topic(t.reply, N, 0, 120000, &replies);
    assert_int_equal(replies.n, N);
    struct buf log;
    buf_init(&log, 1 << 22);
    testenv_zimsim_get(&zs, "/_sim/stats", &log);
    long peak =
        testenv_sim_stat(log.data, "\"SendRoomMessage\"", "\"peak_per_s\":");
    long accepted =
        testenv_sim_stat(log.data, "\"SendRoomMessage\"", "\"accepted\":");
    long requests =
        testenv_sim_stat(log.data, "\"SendRoomMessage\"", "\"requests\":");
    testenv_zimsim_get(&zs, "/_sim/messages", &log);
    double secs = testenv_arrival_span_s(log.data);
    double rate = (double)(accepted - 1) / secs;
    printf("room quota: %ld calls, %ld accepted, %ld refused with code 7, "
           "peak %ld/s, achieved %.2f/s = %.3f of 10/s\n",
           requests, accepted, requests - accepted, peak, rate, rate / 10.0);
    assert_int_equal(accepted, N);
    assert_int_equal(requests, N);
    assert_true(peak <= 10);
    assert_true(rate / 10.0 >= 0.95);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    buf_free(&log);
    testenv_recs_free(&replies);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_room_outcomes, testenv_teardown),
        cmocka_unit_test_teardown(test_room_quota, testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
