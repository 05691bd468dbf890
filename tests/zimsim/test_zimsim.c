/* test_zimsim.c - zimsim conformance: every code it claims to implement,
 * partial success, quotas, the broadcast window, moderation, HTTPS with a
 * test CA and each fault mode, driven over real sockets with libcurl and
 * the bridge's signing code. */
#include "testenv.h"
#include "zim_sign.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PEER_OK                                                                \
    "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],\"MessageType\":1,"          \
    "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}"
#define GROUP_OK                                                               \
    "{\"FromUserId\":\"u1\",\"GroupId\":\"g1\",\"MessageType\":1,"             \
    "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}"
#define BCAST_OK                                                               \
    "{\"FromUserId\":\"u1\",\"MessageType\":1,\"MessageBody\":"                \
    "{\"Message\":\"hi\"},\"PushType\":0}"
#define ROOM_OK                                                                \
    "{\"FromUserId\":\"u1\",\"RoomId\":\"r1\",\"MessageType\":20,"             \
    "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}"

static const char *const no_quota[] = {
    "--qps-peer", "0", "--qps-group", "0", "--qps-broadcast", "0", NULL};

/* A request with hand-made common parameters. */
static int64_t raw(const struct zimsim *zs, const char *query, const char *body,
                   struct buf *out)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s/?%s", zs->url, query);
    assert_int_equal(testenv_http("POST", url, body, NULL, out), 200);
    return testenv_code(out);
}

static void signed_query(char *q, size_t n, const char *action, uint32_t app,
                         int64_t ts, const char *version)
{
    char sig[ZIM_SIG_LEN + 1];
    zim_sign(app, "00112233aabbccdd", TESTENV_SECRET, ts, sig);
    snprintf(
        q, n,
        "Action=%s&AppId=%u&SignatureNonce=00112233aabbccdd&Timestamp=%" PRId64
        "&SignatureVersion=%s&Signature=%s",
        action, app, ts, version, sig);
}

static void test_common_parameter_codes(void **state)
{
    (void)state;
    struct zimsim zs;
    struct buf out;
    char q[512];
    buf_init(&out, 1 << 20);
    testenv_zimsim_start(&zs, NULL, NULL, no_quota);
    int64_t now = (int64_t)time(NULL);
    static const struct {
        const char *query;
        int64_t code;
    } t[] = {
        {"AppId=3000000001&SignatureNonce=ab&Timestamp=1&SignatureVersion=2.0"
         "&Signature=x",
         100000006},
        {"Action=SendPeerMessage&AppId=3x&SignatureNonce=ab&Timestamp=1"
         "&SignatureVersion=2.0&Signature=x",
         100000001},
        {"Action=SendPeerMessage&AppId=3000000001&SignatureNonce=ab"
         "&SignatureVersion=2.0&Signature=x",
         100000002},
        {"Action=SendPeerMessage&AppId=3000000001&SignatureNonce=ab"
         "&Timestamp=17e8&SignatureVersion=2.0&Signature=x",
         100000003},
        {"Action=SendPeerMessage&AppId=3000000001&Timestamp=1"
         "&SignatureVersion=2.0&Signature=x",
         100000008},
        {"Action=SendPeerMessage&AppId=3000000001&SignatureNonce=ab"
         "&Timestamp=1&SignatureVersion=2.0",
         100000009},
        {"Action=SendPeerMessage&AppId=3000000001&SignatureNonce=ab"
         "&Timestamp=1&Signature=x",
         100000013},
        {"Action=SendPeerMessage&AppId=3000000001&SignatureNonce=ab"
         "&Timestamp=1&SignatureVersion=1.0&Signature=x",
         100000014},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int64_t code = raw(&zs, t[i].query, PEER_OK, &out);
        if (code != t[i].code)
            fail_msg("%s: want %" PRId64 " got %" PRId64 " (%s)", t[i].query,
                     t[i].code, code, out.data);
        assert_non_null(strstr(out.data, "\"RequestId\":\""));
    }
    signed_query(q, sizeof(q), "RevokeRoomMessage", TESTENV_APP_ID, now, "2.0");
    assert_int_equal(raw(&zs, q, PEER_OK, &out), 100000007);
    signed_query(q, sizeof(q), "SendPeerMessage", 12345, now, "2.0");
    assert_int_equal(raw(&zs, q, PEER_OK, &out), 100000010); /* wrong AppId */
    signed_query(q, sizeof(q), "SendPeerMessage", TESTENV_APP_ID, now, "2.0");
    char *bad = strstr(q, "Signature=") + 10;
    bad[0] = bad[0] == 'a' ? 'b' : 'a';
    assert_int_equal(raw(&zs, q, PEER_OK, &out), 100000005);
    /* The 600 s window, both ways. */
    signed_query(q, sizeof(q), "SendPeerMessage", TESTENV_APP_ID, now - 590,
                 "2.0");
    assert_int_equal(raw(&zs, q, PEER_OK, &out), 0);
    signed_query(q, sizeof(q), "SendPeerMessage", TESTENV_APP_ID, now + 590,
                 "2.0");
    assert_int_equal(raw(&zs, q, PEER_OK, &out), 0);
    signed_query(q, sizeof(q), "SendPeerMessage", TESTENV_APP_ID, now - 610,
                 "2.0");
    assert_int_equal(raw(&zs, q, PEER_OK, &out), 100000004);
    signed_query(q, sizeof(q), "SendPeerMessage", TESTENV_APP_ID, now + 610,
                 "2.0");
    assert_int_equal(raw(&zs, q, PEER_OK, &out), 100000004);
    testenv_zimsim_stop(&zs);
    buf_free(&out);
}

static void test_users_groups_partial(void **state)
{
    (void)state;
    struct zimsim zs;
    struct buf out;
    buf_init(&out, 1 << 20);
    testenv_zimsim_start(&zs, "u1 u2 u3", "g1: u1 u2", no_quota);
    /* Partial success: Code 0, the unknown one in ErrorList. */
    assert_int_equal(
        testenv_zim_call(&zs, "SendPeerMessage",
                         "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\","
                         "\"ghost\",\"u3\"],\"MessageType\":1,\"Priority\":1,"
                         "\"MessageBody\":{\"Message\":\"p\"}}",
                         &out),
        200);
    assert_int_equal(testenv_code(&out), 0);
    assert_non_null(strstr(out.data,
                           "\"ErrorList\":[{\"UserId\":\"ghost\",\"SubCode\":"
                           "51102}]"));
    assert_non_null(strstr(out.data, "{\"UserId\":\"u2\",\"MsgId\":\""));
    assert_non_null(strstr(out.data, "{\"UserId\":\"u3\",\"MsgId\":\""));
    /* All recipients unknown: non-zero Code, every one in ErrorList. */
    testenv_zim_call(&zs, "SendPeerMessage",
                     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"x\",\"y\"],"
                     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"p\"}}",
                     &out);
    assert_int_not_equal(testenv_code(&out), 0);
    assert_non_null(strstr(out.data, "{\"UserId\":\"x\",\"SubCode\":51102}"));
    assert_non_null(strstr(out.data, "{\"UserId\":\"y\",\"SubCode\":51102}"));
    assert_non_null(strstr(out.data, "\"SuccList\":[]"));
    /* Unknown sender, for each action. */
    const char *unk_peer = "{\"FromUserId\":\"nobody\",\"ToUserId\":[\"u2\"],"
                           "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                           "{\"Message\":\"p\"}}";
    const char *unk_group = "{\"FromUserId\":\"nobody\",\"GroupId\":\"g1\","
                            "\"MessageType\":1,\"Priority\":1,"
                            "\"MessageBody\":{\"Message\":\"p\"}}";
    const char *unk_b = "{\"FromUserId\":\"nobody\",\"MessageType\":1,"
                        "\"MessageBody\":{\"Message\":\"p\"}}";
    testenv_zim_call(&zs, "SendPeerMessage", unk_peer, &out);
    assert_int_equal(testenv_code(&out), 660500002);
    testenv_zim_call(&zs, "SendGroupMessage", unk_group, &out);
    assert_int_equal(testenv_code(&out), 660500002);
    testenv_zim_call(&zs, "SendMessageToAllUsers", unk_b, &out);
    assert_int_equal(testenv_code(&out), 660500002);
    /* Unknown group. */
    testenv_zim_call(&zs, "SendGroupMessage",
                     "{\"FromUserId\":\"u1\",\"GroupId\":\"g404\","
                     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"p\"}}",
                     &out);
    assert_int_equal(testenv_code(&out), 660600001);
    /* Registering at run time (what an operator does before a replay). */
    testenv_zimsim_control(&zs, "{\"users_add\":[\"ghost\"],"
                                "\"groups_add\":{\"g404\":[\"u1\"]}}");
    testenv_zim_call(&zs, "SendPeerMessage",
                     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"ghost\"],"
                     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"p\"}}",
                     &out);
    assert_int_equal(testenv_code(&out), 0);
    assert_non_null(strstr(out.data, "\"ErrorList\":[]"));
    testenv_zim_call(&zs, "SendGroupMessage",
                     "{\"FromUserId\":\"u1\",\"GroupId\":\"g404\","
                     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"p\"}}",
                     &out);
    assert_int_equal(testenv_code(&out), 0);
    testenv_zimsim_stop(&zs);
    buf_free(&out);
}

static void test_server_side_rules(void **state)
{
    (void)state;
    struct zimsim zs;
    struct buf out, body;
    buf_init(&out, 1 << 20);
    buf_init(&body, 1 << 20);
    testenv_zimsim_start(&zs, NULL, NULL, no_quota);
    buf_puts(&body, "{\"FromUserId\":\"u1\",\"ToUserId\":[");
    for (int i = 0; i < 101; i++)
        buf_printf(&body, "%s\"r%d\"", i ? "," : "", i);
    buf_puts(&body, "],\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"p\"}}");
    testenv_zim_call(&zs, "SendPeerMessage", body.data, &out);
    assert_int_equal(testenv_code(&out), 660000011);

    buf_reset(&body);
    buf_puts(&body, "{\"FromUserId\":\"u1\",\"GroupId\":\"g\","
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"");
    for (int i = 0; i < 2049; i++)
        buf_puts(&body, "m");
    buf_puts(&body, "\"}}");
    testenv_zim_call(&zs, "SendGroupMessage", body.data, &out);
    assert_int_equal(testenv_code(&out), 660400001);
    body.len -= 4; /* now exactly 2048 bytes */
    body.data[body.len] = '\0';
    buf_puts(&body, "\"}}");
    testenv_zim_call(&zs, "SendGroupMessage", body.data, &out);
    assert_int_equal(testenv_code(&out), 0);

    testenv_zim_call(&zs, "SendPeerMessage",
                     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                     "\"MessageType\":2,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"not*base64\",\"IsBase64\":1}}",
                     &out);
    assert_int_equal(testenv_code(&out), 660000025);
    testenv_zim_call(&zs, "SendPeerMessage", "{\"FromUserId\":", &out);
    assert_int_equal(testenv_code(&out), 660000002);
    testenv_zim_call(&zs, "SendPeerMessage",
                     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u1\"],"
                     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"p\"}}",
                     &out);
    assert_int_equal(testenv_code(&out), 660600030);
    testenv_zim_call(&zs, "SendPeerMessage",
                     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                     "\"MessageType\":1,\"Priority\":9,\"MessageBody\":"
                     "{\"Message\":\"p\"}}",
                     &out);
    assert_int_equal(testenv_code(&out), 660000002);
    testenv_zim_call(&zs, "SendMessageToAllUsers",
                     "{\"FromUserId\":\"u1\",\"MessageType\":2,"
                     "\"MessageBody\":{\"Message\":\"p\"}}",
                     &out);
    assert_int_equal(testenv_code(&out), 660000002);
    testenv_zimsim_stop(&zs);
    buf_free(&out);
    buf_free(&body);
}

static void test_responses_ids_and_seqs(void **state)
{
    (void)state;
    struct zimsim zs;
    struct buf out;
    buf_init(&out, 1 << 20);
    testenv_zimsim_start(&zs, NULL, NULL, no_quota);
    int64_t want[] = {1, 2, 3};
    const char *bodies[] = {
        PEER_OK, PEER_OK,
        ("{\"FromUserId\":\"u2\",\"ToUserId\":[\"u1\"],\"MessageType\":1,"
         "\"Priority\":1,\"MessageBody\":{\"Message\":\"back\"}}")};
    for (int i = 0; i < 3; i++) {
        testenv_zim_call(&zs, "SendPeerMessage", bodies[i], &out);
        const char *p = strstr(out.data, "\"MsgSeq\":");
        assert_non_null(p);
        assert_int_equal(strtoll(p + 9, NULL, 10), want[i]);
        p = strstr(out.data, "\"MsgId\":\"");
        assert_non_null(p); /* a string for peer */
    }
    /* Another conversation starts at 1; a command message has no MsgSeq. */
    testenv_zim_call(&zs, "SendPeerMessage",
                     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u3\"],"
                     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"p\"}}",
                     &out);
    assert_non_null(strstr(out.data, "\"MsgSeq\":1}"));
    testenv_zim_call(&zs, "SendPeerMessage",
                     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u3\"],"
                     "\"MessageType\":2,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"cmd\"}}",
                     &out);
    assert_int_equal(testenv_code(&out), 0);
    assert_null(strstr(out.data, "MsgSeq"));
    /* Group: MsgId a JSON number above 2^53, 18 digits. */
    testenv_zim_call(&zs, "SendGroupMessage", GROUP_OK, &out);
    const char *p = strstr(out.data, "\"MsgId\":");
    assert_non_null(p);
    p += 8;
    assert_true(*p >= '1' && *p <= '9'); /* a number, not a string */
    size_t digits = strspn(p, "0123456789");
    assert_int_equal(digits, 18);
    assert_true(strtoull(p, NULL, 10) > (1ULL << 53));
    assert_non_null(strstr(out.data, "\"MsgSeq\":1,"));
    assert_non_null(strstr(out.data, "\"AuditInfos\":[]"));
    /* Broadcast: only Code, Message, RequestId. */
    testenv_zim_call(&zs, "SendMessageToAllUsers", BCAST_OK, &out);
    assert_int_equal(testenv_code(&out), 0);
    assert_null(strstr(out.data, "MsgId"));

    /* The delivery log: one line per delivery, with the fields tests use. */
    char url[256];
    snprintf(url, sizeof(url), "%s/_sim/messages", zs.url);
    assert_int_equal(testenv_http("GET", url, NULL, NULL, &out), 200);
    int lines = 0;
    for (char *c = out.data; c && *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 7);
    assert_non_null(strstr(out.data, "\"action\":\"SendPeerMessage\""));
    assert_non_null(strstr(out.data, "\"from\":\"u2\",\"to\":\"u1\",\"type\":"
                                     "1,\"body\":{\"Message\":\"back\"}"));
    assert_non_null(strstr(out.data, "\"group\":\"g1\""));
    assert_non_null(strstr(out.data, "\"arrival_us\":"));
    snprintf(url, sizeof(url), "%s/_sim/stats", zs.url);
    testenv_http("GET", url, NULL, NULL, &out);
    assert_non_null(strstr(out.data, "\"SendPeerMessage\":{\"requests\":5,"
                                     "\"accepted\":5,"));
    snprintf(url, sizeof(url), "%s/_sim/reset", zs.url);
    assert_int_equal(testenv_http("POST", url, "", NULL, &out), 200);
    snprintf(url, sizeof(url), "%s/_sim/messages", zs.url);
    testenv_http("GET", url, NULL, NULL, &out);
    assert_int_equal(out.len, 0);
    testenv_zimsim_stop(&zs);
    buf_free(&out);
}

/* Sends n calls back to back; returns how many got Code 0 and counts the
 * others by code. */
static int burst(const struct zimsim *zs, const char *action, const char *body,
                 int n, int64_t reject_code, int *rejected)
{
    struct buf out;
    buf_init(&out, 1 << 16);
    int ok = 0;
    *rejected = 0;
    for (int i = 0; i < n; i++) {
        testenv_zim_call(zs, action, body, &out);
        int64_t c = testenv_code(&out);
        if (c == 0)
            ok++;
        else if (c == reject_code)
            (*rejected)++;
        else
            fail_msg("unexpected code %" PRId64, c);
    }
    buf_free(&out);
    return ok;
}

/* Sleeps until 20 ms into the next wall-clock second; returns when that
 * second began. */
static double wall_second_start(void)
{
    double now = testenv_now();
    double next = (double)(long)now + 1.0;
    usleep((useconds_t)((next - now + 0.02) * 1e6));
    return next;
}

/* SendRoomMessage (reference §2.5): rooms and who is online in them from
 * --rooms, rooms_add at run time, 660300001 for a room that does not
 * exist, 660300013 for HasReceipt, pop-up (20) for rooms only, no MsgId
 * in the answer, and the log line naming the room. */
static void test_rooms(void **state)
{
    (void)state;
    struct zimsim zs;
    struct buf out;
    buf_init(&out, 1 << 20);
    char rooms[64];
    snprintf(rooms, sizeof(rooms), "/tmp/zbrooms.%ld", (long)getpid());
    FILE *f = fopen(rooms, "w");
    assert_non_null(f);
    fputs("# rooms and who is online\nlive-1: u1, u2,u3\nempty\n", f);
    fclose(f);
    const char *const args[] = {"--rooms", rooms, "--qps-room", "0", NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
#define ROOM(room, type, body)                                                 \
    "{\"FromUserId\":\"u1\",\"RoomId\":\"" room "\",\"MessageType\":" type     \
    ",\"Priority\":2,\"MessageBody\":{" body "}}"
    static const struct {
        const char *action, *body;
        int64_t code;
    } t[] = {
        {"SendRoomMessage", ROOM("live-1", "1", "\"Message\":\"大家好 👋\""), 0},
        {"SendRoomMessage", ROOM("live-1", "20", "\"Message\":\"弹幕 🎉\""), 0},
        {"SendRoomMessage", ROOM("empty", "1", "\"Message\":\"hi\""), 0},
        {"SendRoomMessage", ROOM("nowhere", "1", "\"Message\":\"hi\""),
         660300001},
        {"SendRoomMessage",
         ROOM("live-1", "1", "\"Message\":\"hi\",\"HasReceipt\":1"), 660300013},
        {"SendRoomMessage",
         "{\"FromUserId\":\"u1\",\"MessageType\":1,"
         "\"Priority\":1,\"MessageBody\":{\"Message\":"
         "\"hi\"}}",
         660000002},
        /* Pop-up is for rooms only. */
        {"SendPeerMessage",
         "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],\"MessageType\":20,"
         "\"Priority\":1,\"MessageBody\":{\"Message\":\"x\"}}",
         660000002},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(testenv_zim_call(&zs, t[i].action, t[i].body, &out),
                         200);
        if (testenv_code(&out) != t[i].code)
            fail_msg("case %zu: %s", i, out.data);
        if (t[i].code == 0) {
            assert_null(strstr(out.data, "MsgId"));
            assert_null(strstr(out.data, "MsgSeq"));
        }
    }
    /* A room created at run time (CreateRoom, in ZIM's console). */
    testenv_zimsim_control(&zs, "{\"rooms_add\":{\"nowhere\":[\"u9\"]}}");
    testenv_zim_call(&zs, "SendRoomMessage",
                     ROOM("nowhere", "1", "\"Message\":\"now it exists\""),
                     &out);
    assert_int_equal(testenv_code(&out), 0);
    testenv_zimsim_get(&zs, "/_sim/messages", &out);
    assert_int_equal(
        testenv_count_lines(out.data, "\"action\":\"SendRoomMessage\""), 4);
    assert_int_equal(
        testenv_count_lines(out.data, "\"room\":\"live-1\",\"online\":3"), 2);
    assert_int_equal(
        testenv_count_lines(out.data, "\"room\":\"nowhere\",\"online\":1"), 1);
    testenv_zimsim_get(&zs, "/_sim/stats", &out);
    assert_non_null(strstr(out.data, "\"SendRoomMessage\":{\"requests\":7,"
                                     "\"accepted\":4"));
#undef ROOM
    testenv_zimsim_stop(&zs);
    unlink(rooms);
    buf_free(&out);
}

static void test_quotas(void **state)
{
    (void)state;
    struct zimsim zs;
    int rej = 0;
    testenv_zimsim_start(&zs, NULL, NULL, NULL); /* documented defaults */
    /* zimsim's peak_per_s counts per wall-clock second, while its quota is
     * a sliding second. Start the burst just after a wall-clock second
     * begins, so that a burst which ends within that same second puts all
     * its accepted calls in one count. */
    double t0 = wall_second_start();
    int ok = burst(&zs, "SendPeerMessage", PEER_OK, 30, 7, &rej);
    /* On a loaded machine the burst may spread over more than a second:
     * then the exact split is not known, only the bound. */
    bool fast = testenv_now() - t0 < 0.95;
    if (fast) { /* all 30 within one wall-clock second */
        assert_int_equal(ok, 20);
        assert_int_equal(rej, 10);
    }
    t0 = testenv_now();
    ok = burst(&zs, "SendGroupMessage", GROUP_OK, 15, 7, &rej);
    if (testenv_now() - t0 < 0.9) {
        assert_int_equal(ok, 10);
        assert_int_equal(rej, 5);
    }
    t0 = testenv_now();
    ok = burst(&zs, "SendRoomMessage", ROOM_OK, 15, 7, &rej);
    if (testenv_now() - t0 < 0.9) {
        assert_int_equal(ok, 10);
        assert_int_equal(rej, 5);
    }
    ok = burst(&zs, "SendMessageToAllUsers", BCAST_OK, 3, 660500003, &rej);
    assert_int_equal(ok, 1);
    assert_int_equal(rej, 2);
    /* After the second has passed, the quota is back. */
    usleep(1100000);
    ok = burst(&zs, "SendPeerMessage", PEER_OK, 1, 7, &rej);
    assert_int_equal(ok, 1);
    struct buf out;
    buf_init(&out, 1 << 16);
    char url[256];
    snprintf(url, sizeof(url), "%s/_sim/stats", zs.url);
    testenv_http("GET", url, NULL, NULL, &out);
    const char *peak = strstr(out.data, "\"peak_per_s\":");
    assert_non_null(peak);
    long pk = strtol(peak + 13, NULL, 10);
    assert_true(pk <= 20);
    if (fast) {
        assert_int_equal(pk, 20);
        assert_non_null(strstr(out.data, "\"7\":10"));
    }
    buf_free(&out);
    testenv_zimsim_stop(&zs);
}

/* The rolling broadcast window, made short so the test is fast. */
static void test_broadcast_window(void **state)
{
    (void)state;
    struct zimsim zs;
    const char *const args[] = {"--qps-broadcast",
                                "0",
                                "--broadcast-daily",
                                "3",
                                "--broadcast-window-ms",
                                "1500",
                                NULL};
    int rej = 0;
    testenv_zimsim_start(&zs, NULL, NULL, args);
    assert_int_equal(
        burst(&zs, "SendMessageToAllUsers", BCAST_OK, 5, 660500003, &rej), 3);
    assert_int_equal(rej, 2);
    usleep(1600000);
    assert_int_equal(
        burst(&zs, "SendMessageToAllUsers", BCAST_OK, 4, 660500003, &rej), 3);
    assert_int_equal(rej, 1);
    testenv_zimsim_stop(&zs);
}

static void test_moderation(void **state)
{
    (void)state;
    struct zimsim zs;
    char path[512];
    struct buf out;
    buf_init(&out, 1 << 16);
    snprintf(path, sizeof(path), "/tmp/zbbanned.%ld", (long)getpid());
    FILE *f = fopen(path, "w");
    fputs("forbidden\n", f);
    fclose(f);
    const char *const args[] = {"--banned-words", path, NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_zim_call(&zs, "SendPeerMessage",
                     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"a forbidden word\"}}",
                     &out);
    assert_int_equal(testenv_code(&out), 660500005);
    assert_non_null(strstr(out.data, "\"AuditInfos\":[{\"Index\":0,"
                                     "\"Reason\":"));
    assert_non_null(strstr(out.data, "forbidden"));
    testenv_zim_call(&zs, "SendPeerMessage", PEER_OK, &out);
    assert_int_equal(testenv_code(&out), 0);
    testenv_zimsim_stop(&zs);
    unlink(path);
    buf_free(&out);
}

static void test_faults(void **state)
{
    (void)state;
    struct zimsim zs;
    struct buf out;
    buf_init(&out, 1 << 16);
    testenv_zimsim_start(&zs, NULL, NULL, no_quota);
    testenv_zimsim_control(&zs, "{\"busy_rate\":1}");
    testenv_zim_call(&zs, "SendPeerMessage", PEER_OK, &out);
    assert_int_equal(testenv_code(&out), 1);
    testenv_zimsim_control(&zs, "{\"busy_rate\":0,\"http_error_rate\":1}");
    assert_int_equal(testenv_zim_call(&zs, "SendPeerMessage", PEER_OK, &out),
                     503);
    testenv_zimsim_control(&zs, "{\"http_error_rate\":1,"
                                "\"http_error_status\":500}");
    assert_int_equal(testenv_zim_call(&zs, "SendPeerMessage", PEER_OK, &out),
                     500);
    testenv_zimsim_control(&zs, "{\"http_error_rate\":0,\"drop_rate\":1}");
    assert_int_equal(testenv_zim_call(&zs, "SendPeerMessage", PEER_OK, &out),
                     -52); /* CURLE_GOT_NOTHING */
    testenv_zimsim_control(&zs, "{\"drop_rate\":0,\"latency_ms\":300}");
    double t0 = testenv_now();
    testenv_zim_call(&zs, "SendPeerMessage", PEER_OK, &out);
    assert_int_equal(testenv_code(&out), 0);
    assert_true(testenv_now() - t0 >= 0.29);
    testenv_zimsim_control(&zs, "{\"latency_ms\":0,\"force_code\":100000005,"
                                "\"force_ms\":400}");
    testenv_zim_call(&zs, "SendPeerMessage", PEER_OK, &out);
    assert_int_equal(testenv_code(&out), 100000005);
    usleep(450000);
    testenv_zim_call(&zs, "SendPeerMessage", PEER_OK, &out);
    assert_int_equal(testenv_code(&out), 0);
    testenv_zimsim_control(&zs, "{\"fail_next\":{\"code\":1,\"count\":1,"
                                "\"match\":\"flaky\"}}");
    testenv_zim_call(&zs, "SendPeerMessage", PEER_OK, &out);
    assert_int_equal(testenv_code(&out), 0); /* does not match */
    const char *flaky = "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                        "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                        "{\"Message\":\"flaky one\"}}";
    testenv_zim_call(&zs, "SendPeerMessage", flaky, &out);
    assert_int_equal(testenv_code(&out), 1);
    testenv_zim_call(&zs, "SendPeerMessage", flaky, &out);
    assert_int_equal(testenv_code(&out), 0); /* only once */

    /* Down, hanging: the answer comes when it is back up. */
    testenv_zimsim_control(&zs, "{\"down\":\"hang\",\"down_ms\":500}");
    t0 = testenv_now();
    testenv_zim_call(&zs, "SendPeerMessage", PEER_OK, &out);
    assert_int_equal(testenv_code(&out), 0);
    assert_true(testenv_now() - t0 >= 0.4);
    /* Down, refusing: connections are refused until down_ms passes. */
    testenv_zimsim_control(&zs, "{\"down\":\"refuse\",\"down_ms\":800}");
    usleep(100000);
    assert_int_equal(testenv_zim_call(&zs, "SendPeerMessage", PEER_OK, &out),
                     -7); /* CURLE_COULDNT_CONNECT */
    usleep(900000);
    assert_int_equal(testenv_zim_call(&zs, "SendPeerMessage", PEER_OK, &out),
                     200);
    assert_int_equal(testenv_code(&out), 0);
    char url[256];
    snprintf(url, sizeof(url), "%s/_sim/control", zs.url);
    assert_int_equal(testenv_http("POST", url, "{\"busy_rate\":2}", NULL, &out),
                     400);
    testenv_zimsim_stop(&zs);
    buf_free(&out);
}

/* HTTPS with a CA made for the test: trusted with the CA, refused
 * without it. */
static void test_https(void **state)
{
    (void)state;
    char dir[64], ca[600], crt[600], key[600];
    testenv_make_certs(dir, sizeof(dir));
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    snprintf(crt, sizeof(crt), "%s/srv.crt", dir);
    snprintf(key, sizeof(key), "%s/srv.key", dir);
    const char *const args[] = {"--tls-cert", crt, "--tls-key", key, NULL};
    struct zimsim zs;
    testenv_zimsim_start(&zs, NULL, NULL, args);
    assert_memory_equal(zs.url, "https://", 8);
    char url[1024], sig[ZIM_SIG_LEN + 1];
    int64_t ts = (int64_t)time(NULL);
    zim_sign(TESTENV_APP_ID, "0011223344556677", TESTENV_SECRET, ts, sig);
    snprintf(url, sizeof(url),
             "%s/?Action=SendPeerMessage&AppId=%u&SignatureNonce="
             "0011223344556677&Timestamp=%" PRId64
             "&SignatureVersion=2.0&Signature=%s",
             zs.url, TESTENV_APP_ID, ts, sig);
    struct buf out;
    buf_init(&out, 1 << 16);
    assert_int_equal(testenv_http("POST", url, PEER_OK, ca, &out), 200);
    assert_int_equal(testenv_code(&out), 0);
    /* Without the CA, verification fails: CURLE_PEER_FAILED_VERIFICATION. */
    assert_int_equal(testenv_http("POST", url, PEER_OK, NULL, &out), -60);
    testenv_zimsim_stop(&zs);
    buf_free(&out);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_common_parameter_codes,
                                  testenv_teardown),
        cmocka_unit_test_teardown(test_users_groups_partial, testenv_teardown),
        cmocka_unit_test_teardown(test_server_side_rules, testenv_teardown),
        cmocka_unit_test_teardown(test_responses_ids_and_seqs,
                                  testenv_teardown),
        cmocka_unit_test_teardown(test_rooms, testenv_teardown),
        cmocka_unit_test_teardown(test_quotas, testenv_teardown),
        cmocka_unit_test_teardown(test_broadcast_window, testenv_teardown),
        cmocka_unit_test_teardown(test_moderation, testenv_teardown),
        cmocka_unit_test_teardown(test_faults, testenv_teardown),
        cmocka_unit_test_teardown(test_https, testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
