/* test_packing.c - recipient packing end to end, on the real broker with
 * zimsim at ZIM's peer quota (20 calls/s): a fan-out of 2,000 identical
 * notices (one per user, keyed by the user) with 20 unregistered users
 * mixed in, 10 keys x 10 ordered events whose bodies match across keys,
 * one event with 250 recipients, and 50 unique messages. Every event gets
 * one reply listing exactly its own recipients, within 30 s; the 20
 * fail and go to the DLQ alone; key order holds; no call names more than
 * 100 recipients or one twice; zimsim never sees more than 20 calls/s;
 * about 90 calls carry it all. */
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FANOUT  2000
#define GHOSTS  20
#define KEYS    10
#define PER_KEY 10
#define BIG     250
#define UNIQUE  50
#define EVENTS  (FANOUT + GHOSTS + KEYS * PER_KEY + 1 + UNIQUE)

#define NOTICE                                                                 \
    "\"MessageType\":1,\"Priority\":2,\"MessageBody\":{\"Message\":"           \
    "\"Maintenance tonight at 02:00 UTC\",\"ExtendedData\":\"n-42\"}}"

static void produce_all(rd_kafka_t *p, const char *topic)
{
    char key[32], val[8192];
    for (int i = 0, g = 0; i < FANOUT; i++) {
        snprintf(key, sizeof(key), "user_%d", i);
        snprintf(
            val, sizeof(val),
            "{\"FromUserId\":\"notice-bot\",\"ToUserId\":[\"user_%d\"]," NOTICE,
            i);
        testenv_produce(p, topic, key, val, NULL);
        if (i % (FANOUT / GHOSTS) == 50 && g < GHOSTS) {
            snprintf(key, sizeof(key), "ghost_%d", g);
            snprintf(val, sizeof(val),
                     "{\"FromUserId\":\"notice-bot\",\"ToUserId\":[\"ghost_%"
                     "d\"]," NOTICE,
                     g++);
            testenv_produce(p, topic, key, val, NULL);
        }
    }
    for (int j = 0; j < PER_KEY; j++) {
        for (int k = 0; k < KEYS; k++) {
            snprintf(key, sizeof(key), "ord-%d", k);
            snprintf(val, sizeof(val),
                     "{\"FromUserId\":\"orderer\",\"ToUserId\":[\"ord_%d\"],"
                     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"order-%d.\"}}",
                     k, j);
            testenv_produce(p, topic, key, val, NULL);
        }
    }
    size_t n = (size_t)snprintf(val, sizeof(val),
                                "{\"FromUserId\":\"bigsender\",\"ToUserId\":[");
    for (int i = 0; i < BIG; i++)
        n += (size_t)snprintf(val + n, sizeof(val) - n, "%s\"big_%d\"",
                              i ? "," : "", i);
    snprintf(val + n, sizeof(val) - n,
             "],\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
             "{\"Message\":\"to many\"}}");
    testenv_produce(p, topic, "big", val, NULL);
    for (int i = 0; i < UNIQUE; i++) {
        snprintf(key, sizeof(key), "uniq-%d", i);
        snprintf(val, sizeof(val),
                 "{\"FromUserId\":\"uniq\",\"ToUserId\":[\"uniq_%d\"],"
                 "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                 "{\"Message\":\"unique-%d\"}}",
                 i, i);
        testenv_produce(p, topic, key, val, NULL);
    }
}

/* Every registered user: the senders, and all recipients but the
 * ghosts. */
static char *registered(void)
{
    size_t cap = 64 * (FANOUT + KEYS + BIG + UNIQUE), n = 0;
    char *u = malloc(cap);
    n += (size_t)snprintf(u, cap, "notice-bot orderer bigsender uniq ");
    for (int i = 0; i < FANOUT; i++)
        n += (size_t)snprintf(u + n, cap - n, "user_%d ", i);
    for (int i = 0; i < KEYS; i++)
        n += (size_t)snprintf(u + n, cap - n, "ord_%d ", i);
    for (int i = 0; i < BIG; i++)
        n += (size_t)snprintf(u + n, cap - n, "big_%d ", i);
    for (int i = 0; i < UNIQUE; i++)
        n += (size_t)snprintf(u + n, cap - n, "uniq_%d ", i);
    u[n - 1] = '\0';
    return u;
}

static struct json_object *get(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    json_object_object_get_ex(o, k, &v);
    return v;
}

static bool has(struct json_object *set, const char *k)
{
    return json_object_object_get_ex(set, k, NULL);
}

/* The UserIds of a list, as a set (a JSON object). */
static struct json_object *ids(struct json_object *list)
{
    struct json_object *set = json_object_new_object();
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        const char *u = json_object_get_string(
            get(json_object_array_get_idx(list, i), "UserId"));
        if (u == NULL || has(set, u))
            fail_msg("list with a missing or repeated UserId: %s",
                     json_object_to_json_string(list));
        json_object_object_add(set, u, NULL);
    }
    return set;
}

/* Each reply lists exactly its event's recipients, each once. Returns how
 * many failed (the ghosts) and checks the big event's calls. */
static int check_replies(const struct recs *in, const struct recs *replies)
{
    int failed = 0;
    for (size_t i = 0; i < replies->n; i++) {
        struct json_object *r = json_tokener_parse(replies->v[i].value);
        struct json_object *src = get(r, "source");
        int32_t part = json_object_get_int(get(src, "partition"));
        int64_t off = json_object_get_int64(get(src, "offset"));
        const struct rec *ev = NULL;
        for (size_t k = 0; k < in->n && !ev; k++)
            if (in->v[k].partition == part && in->v[k].offset == off)
                ev = &in->v[k];
        assert_non_null(ev);
        struct json_object *e = json_tokener_parse(ev->value);
        struct json_object *to = get(e, "ToUserId");
        struct json_object *succ = ids(get(r, "succ_list"));
        struct json_object *errs = ids(get(r, "error_list"));
        size_t n = json_object_array_length(to);
        assert_int_equal(json_object_object_length(succ) +
                             json_object_object_length(errs),
                         n);
        for (size_t k = 0; k < n; k++) {
            const char *u =
                json_object_get_string(json_object_array_get_idx(to, k));
            if (!has(succ, u) && !has(errs, u))
                fail_msg("reply of %s lacks its recipient %s", ev->key, u);
        }
        const char *status = json_object_get_string(get(r, "status"));
        if (strncmp(ev->key, "ghost_", 6) == 0) {
            assert_string_equal(status, "failed");
            failed++;
        } else {
            assert_string_equal(status, "sent");
        }
        if (strcmp(ev->key, "big") == 0)
            assert_int_equal(json_object_get_int(get(r, "calls")), 3);
        assert_true(json_object_get_int(get(r, "calls")) >= 1);
        json_object_put(succ);
        json_object_put(errs);
        json_object_put(e);
        json_object_put(r);
    }
    return failed;
}

/* zimsim's deliveries: no call (request) names more than 100 recipients
 * or one twice; the ordered keys arrive in order. Returns the calls that
 * delivered something. */
static int check_deliveries(const struct zimsim *zs)
{
    struct buf log;
    buf_init(&log, (size_t)1 << 26);
    testenv_zimsim_get(zs, "/_sim/messages", &log);
    struct json_object *calls = json_object_new_object();
    int next[KEYS] = {0};
    for (char *l = log.data, *nl; l && *l; l = nl ? nl + 1 : NULL) {
        nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        struct json_object *m = json_tokener_parse(l);
        const char *req = json_object_get_string(get(m, "request_id"));
        const char *to = json_object_get_string(get(m, "to"));
        struct json_object *set = get(calls, req);
        if (set == NULL) {
            set = json_object_new_object();
            json_object_object_add(calls, req, set);
        }
        if (has(set, to))
            fail_msg("call %s names %s twice", req, to);
        json_object_object_add(set, to, NULL);
        assert_true(json_object_object_length(set) <= 100);
        if (strncmp(to, "ord_", 4) == 0) {
            int k = atoi(to + 4), j = -1;
            const char *txt = strstr(l, "order-");
            assert_non_null(txt);
            j = atoi(txt + 6);
            if (j != next[k])
                fail_msg("key ord-%d: order-%d arrived where %d was due", k, j,
                         next[k]);
            next[k]++;
        }
        json_object_put(m);
    }
    for (int k = 0; k < KEYS; k++)
        assert_int_equal(next[k], PER_KEY);
    int n = json_object_object_length(calls);
    json_object_put(calls);
    buf_free(&log);
    return n;
}

static void test_fanout_packs(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    char *users = registered();
    testenv_zimsim_start(&zs, users, NULL, NULL); /* ZIM's quotas */
    free(users);
    testenv_topics(&t, 6);
    rd_kafka_t *p = testenv_producer();
    produce_all(p, t.peer);
    testenv_flush(p);
    rd_kafka_destroy(p);
    struct recs in, replies, dlq;
    testenv_read_topic(t.peer, EVENTS, 0, 60000, &in);
    assert_int_equal(in.n, EVENTS);

    double t0 = testenv_now();
    testenv_bridge_start(&b, &zs, &t, "peer.max_recipients = 300\n");
    testenv_read_topic(t.reply, EVENTS, 0, 30000, &replies);
    double took = testenv_now() - t0;
    assert_int_equal(replies.n, EVENTS);
    assert_int_equal(check_replies(&in, &replies), GHOSTS);
    /* The unregistered: each alone in the DLQ, narrowed to itself. */
    testenv_read_topic(t.dlq, GHOSTS, 2000, 20000, &dlq);
    assert_int_equal(dlq.n, GHOSTS);
    for (size_t i = 0; i < dlq.n; i++) {
        char want[64];
        snprintf(want, sizeof(want), "\"ToUserId\":[\"%s\"]", dlq.v[i].key);
        assert_non_null(strstr(dlq.v[i].value, want));
        assert_string_equal(testenv_header(&dlq.v[i], "zim.failure.class"),
                            "api");
    }
    int calls = check_deliveries(&zs);
    struct buf stats;
    buf_init(&stats, 1 << 20);
    testenv_zimsim_get(&zs, "/_sim/stats", &stats);
    struct json_object *st = json_tokener_parse(stats.data);
    struct json_object *peer = get(get(st, "actions"), "SendPeerMessage");
    int requests = json_object_get_int(get(peer, "requests"));
    int peak = json_object_get_int(get(peer, "peak_per_s"));
    printf("packing: %d events (%d messages) in %d calls (%d delivered "
           "something), %.1f s; peak %d calls/s at zimsim\n",
           EVENTS, FANOUT + GHOSTS + KEYS * PER_KEY + BIG + UNIQUE, requests,
           calls, took, peak);
    assert_true(peak <= 20);
    assert_null(get(get(peer, "codes"), "7")); /* never over the quota */
    assert_true(requests <= 100); /* about 90: 2,171 events, 2,420 messages */
    assert_true(took <= 30);
    /* The metrics say the same: calls saved, recipients per call. */
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics",
             testenv_bridge_port(&b));
    assert_int_equal(testenv_http("GET", url, NULL, NULL, &stats), 200);
    static const char k_saved[] = "\nzimbridge_calls_saved_total ",
                      k_count[] = "\nzimbridge_call_recipients_count ";
    const char *saved = strstr(stats.data, k_saved);
    const char *count = strstr(stats.data, k_count);
    assert_non_null(saved);
    assert_non_null(count);
    long n_saved = strtol(saved + strlen(k_saved), NULL, 10);
    long n_calls = strtol(count + strlen(k_count), NULL, 10);
    printf("metrics: %ld calls saved, %ld SendPeerMessage calls\n", n_saved,
           n_calls);
    assert_int_equal(n_calls, requests);
    assert_true(n_saved >= 2000); /* the fan-out: 2,020 events, ~21 calls */
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    json_object_put(st);
    buf_free(&stats);
    testenv_recs_free(&in);
    testenv_recs_free(&replies);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
}

/* pack.enabled = false: the same identical events, one call each. */
static void test_pack_off(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    const char *const args[] = {"--qps-peer", "0", NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 3);
    rd_kafka_t *p = testenv_producer();
    char key[32], val[512];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "user_%d", i);
        snprintf(
            val, sizeof(val),
            "{\"FromUserId\":\"notice-bot\",\"ToUserId\":[\"user_%d\"]," NOTICE,
            i);
        testenv_produce(p, t.peer, key, val, NULL);
    }
    testenv_flush(p);
    rd_kafka_destroy(p);
    testenv_bridge_start(&b, &zs, &t,
                         "quota.peer_per_s = 0\npack.enabled = false\n");
    struct recs replies;
    testenv_read_topic(t.reply, 200, 0, 60000, &replies);
    assert_int_equal(replies.n, 200);
    for (size_t i = 0; i < replies.n; i++)
        assert_non_null(strstr(replies.v[i].value, "\"calls\":1,\"packed\":1"));
    struct buf stats;
    buf_init(&stats, 1 << 20);
    testenv_zimsim_get(&zs, "/_sim/stats", &stats);
    assert_non_null(
        strstr(stats.data, "\"SendPeerMessage\":{\"requests\":200,"));
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    buf_free(&stats);
    testenv_recs_free(&replies);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fanout_packs, testenv_teardown),
        cmocka_unit_test_teardown(test_pack_off, testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
