/* test_bridge.c - zimbridge run against the real Kafka broker and zimsim:
 * every outcome path on each topic, retries, exhaustion, re-signing,
 * exact MsgIds, header copying, a 5,000-event mixed run checked one for
 * one, and a graceful shutdown with restart. */
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
#include <time.h>
#include <unistd.h>

static const char *const no_quota[] = {
    "--qps-peer",        "0", "--qps-group", "0", "--qps-broadcast", "0",
    "--broadcast-daily", "0", NULL};

/* The bridge's own quotas off, to match zimsim's above. */
#define NO_QUOTA_CONF                                                          \
    "quota.peer_per_s = 0\nquota.group_per_s = 0\n"                            \
    "quota.broadcast_per_s = 0\nquota.broadcast_daily = 0\n"

static const char *jstr(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v)
                                               : NULL;
}

static int64_t jint(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v)
                                               : INT64_MIN;
}

/* The reply whose key is key; fails if there is not exactly one. */
static struct json_object *reply_for(const struct recs *r, const char *key)
{
    struct json_object *found = NULL;
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].key, key) != 0)
            continue;
        if (found)
            fail_msg("two replies for %s", key);
        found = json_tokener_parse(r->v[i].value);
        if (found == NULL)
            fail_msg("reply for %s is not JSON: %s", key, r->v[i].value);
    }
    if (found == NULL)
        fail_msg("no reply for %s", key);
    return found;
}

static const struct rec *dlq_for(const struct recs *r, const char *key)
{
    const struct rec *found = NULL;
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].key, key) != 0)
            continue;
        if (found)
            fail_msg("two DLQ records for %s", key);
        found = &r->v[i];
    }
    return found;
}

static void expect(const struct recs *replies, const struct recs *dlq,
                   const char *key, const char *status, int64_t code,
                   const char *failure_class)
{
    struct json_object *o = reply_for(replies, key);
    if (strcmp(jstr(o, "status"), status) != 0 || jint(o, "code") != code)
        fail_msg("%s: want %s/%lld, got %s", key, status, (long long)code,
                 json_object_to_json_string(o));
    const struct rec *d = dlq_for(dlq, key);
    if (failure_class) {
        assert_string_equal(jstr(o, "failure_class"), failure_class);
        if (d == NULL)
            fail_msg("%s: no DLQ record", key);
        assert_string_equal(testenv_header(d, "zim.failure.class"),
                            failure_class);
    } else if (d) {
        fail_msg("%s: unexpected DLQ record", key);
    }
    json_object_put(o);
}

static void wait_committed(const struct topics *t, const char *topic)
{
    int64_t left = -1;
    for (int i = 0; i < 100 && left != 0; i++) {
        left = testenv_uncommitted(t->group_id, topic);
        if (left)
            usleep(200000);
    }
    assert_int_equal(left, 0);
}

#define PEER(from, to, msg)                                                    \
    "{\"FromUserId\":\"" from "\",\"ToUserId\":[" to "],\"MessageType\":1,"    \
    "\"Priority\":1,\"MessageBody\":{\"Message\":\"" msg "\"}}"
#define GROUP(from, group, msg)                                                \
    "{\"FromUserId\":\"" from "\",\"GroupId\":\"" group "\",\"MessageType\""   \
    ":1,\"Priority\":2,\"MessageBody\":{\"Message\":\"" msg "\"}}"
#define BCAST(from, type, msg)                                                 \
    "{\"FromUserId\":\"" from "\",\"MessageType\":" type ",\"MessageBody\":"   \
    "{\"Message\":\"" msg "\"}}"

static void test_outcome_paths(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    char banned[256];
    snprintf(banned, sizeof(banned), "/tmp/zbbanned.%ld", (long)getpid());
    FILE *f = fopen(banned, "w");
    fputs("forbidden\n", f);
    fclose(f);
    const char *const args[] = {
        "--qps-peer",     "0",    "--qps-group", "0", "--qps-broadcast", "0",
        "--banned-words", banned, NULL};
    testenv_zimsim_start(&zs, "u1 u2 u3", "g1: u1 u2", args);
    testenv_zimsim_control(
        &zs, "{\"fail_next\":["
             "{\"code\":1,\"count\":1,\"match\":\"flaky-peer\"},"
             "{\"code\":7,\"count\":1,\"match\":\"flaky-group\"},"
             "{\"code\":1,\"count\":99,\"match\":\"doomed-peer\"}]}");
    testenv_topics(&t, 3);
    testenv_bridge_start(&b, &zs, &t,
                         NO_QUOTA_CONF
                         "retry.max_attempts = 3\n"
                         "retry.base_ms = 20\nretry.max_ms = 50\n");
    rd_kafka_t *p = testenv_producer();
    const char *const hdrs[] = {"correlation-id", "c-1", "event-id", "e-1",
                                "x-other",        "o-1", NULL};
    testenv_produce(p, t.peer, "p-sent", PEER("u1", "\"u2\"", "hello"), hdrs);
    testenv_produce(p, t.peer, "p-invalid",
                    "{\"FromUserId\":\"u1\",\"ToUserID\":[\"u2\"]}", hdrs);
    testenv_produce(p, t.peer, "p-api", PEER("nobody", "\"u2\"", "x"), NULL);
    testenv_produce(p, t.peer, "p-partial",
                    PEER("u1", "\"u2\",\"ghost\",\"u3\"", "part"), NULL);
    testenv_produce(p, t.peer, "p-rejected",
                    PEER("u1", "\"u2\"", "a forbidden word"), NULL);
    testenv_produce(p, t.peer, "p-retry", PEER("u1", "\"u3\"", "flaky-peer"),
                    NULL);
    testenv_produce(p, t.peer, "p-exhausted",
                    PEER("u1", "\"u3\"", "doomed-peer"), NULL);
    testenv_produce(p, t.group, "g-sent", GROUP("u1", "g1", "hi group"), NULL);
    testenv_produce(p, t.group, "g-invalid",
                    "{\"FromUserId\":\"u1\",\"GroupId\":\"g1\","
                    "\"MessageType\":1,\"MessageBody\":{\"Message\":\"x\"}}",
                    NULL);
    testenv_produce(p, t.group, "g-api", GROUP("u1", "g404", "x"), NULL);
    testenv_produce(p, t.group, "g-rejected", GROUP("u1", "g1", "forbidden!"),
                    NULL);
    testenv_produce(p, t.group, "g-retry", GROUP("u1", "g1", "flaky-group"),
                    NULL);
    testenv_produce(p, t.broadcast, "b-sent", BCAST("u1", "1", "all"), NULL);
    testenv_produce(p, t.broadcast, "b-invalid", BCAST("u1", "2", "cmd"), NULL);
    testenv_produce(p, t.broadcast, "b-api", BCAST("nobody", "1", "x"), NULL);
    testenv_produce(p, t.broadcast, "b-rejected", BCAST("u1", "1", "forbidden"),
                    NULL);
    testenv_flush(p);
    rd_kafka_destroy(p);

    struct recs replies, dlq;
    testenv_read_topic(t.reply, 16, 0, 60000, &replies);
    assert_int_equal(replies.n, 16);
    testenv_read_topic(t.dlq, 8, 0, 30000, &dlq);

    expect(&replies, &dlq, "p-sent", "sent", 0, NULL);
    expect(&replies, &dlq, "p-invalid", "failed", 900000002, "validation");
    expect(&replies, &dlq, "p-api", "failed", 660500002, "api");
    expect(&replies, &dlq, "p-partial", "partial", 0, "partial");
    expect(&replies, &dlq, "p-rejected", "rejected", 660500005, NULL);
    expect(&replies, &dlq, "p-retry", "sent", 0, NULL);
    expect(&replies, &dlq, "p-exhausted", "failed", 1, "exhausted");
    expect(&replies, &dlq, "g-sent", "sent", 0, NULL);
    expect(&replies, &dlq, "g-invalid", "failed", 660000002, "validation");
    expect(&replies, &dlq, "g-api", "failed", 660600001, "api");
    expect(&replies, &dlq, "g-rejected", "rejected", 660500005, NULL);
    expect(&replies, &dlq, "g-retry", "sent", 0, NULL);
    expect(&replies, &dlq, "b-sent", "sent", 0, NULL);
    expect(&replies, &dlq, "b-invalid", "failed", 660000002, "validation");
    expect(&replies, &dlq, "b-api", "failed", 660500002, "api");
    expect(&replies, &dlq, "b-rejected", "rejected", 660500005, NULL);
    assert_int_equal(dlq.n, 8);

    /* Validation: the field path and the original bytes in the DLQ. */
    struct json_object *o = reply_for(&replies, "p-invalid");
    assert_string_equal(jstr(o, "field"), "ToUserID");
    assert_int_equal(jint(o, "attempts"), 0);
    json_object_put(o);
    const struct rec *d = dlq_for(&dlq, "p-invalid");
    assert_string_equal(d->value, "{\"FromUserId\":\"u1\",\"ToUserID\":"
                                  "[\"u2\"]}");
    assert_string_equal(testenv_header(d, "zim.error.code"), "900000002");
    assert_string_equal(testenv_header(d, "x-other"), "o-1");
    assert_string_equal(testenv_header(d, "correlation-id"), "c-1");
    assert_string_equal(testenv_header(d, "zim.source.topic"), t.peer);
    assert_string_equal(testenv_header(d, "kafka_dlt-original-topic"), t.peer);
    assert_non_null(testenv_header(d, "zim.failed.at"));
    assert_string_equal(testenv_header(d, "zim.action"), "SendPeerMessage");

    /* Partial: one DLQ record narrowed to the failed recipient. */
    d = dlq_for(&dlq, "p-partial");
    struct json_object *ev = json_tokener_parse(d->value);
    struct json_object *to = NULL;
    json_object_object_get_ex(ev, "ToUserId", &to);
    assert_int_equal(json_object_array_length(to), 1);
    assert_string_equal(
        json_object_get_string(json_object_array_get_idx(to, 0)), "ghost");
    json_object_put(ev);
    assert_string_equal(testenv_header(d, "zim.error.code"), "51102");
    o = reply_for(&replies, "p-partial");
    struct json_object *sl = NULL, *el = NULL;
    json_object_object_get_ex(o, "succ_list", &sl);
    json_object_object_get_ex(o, "error_list", &el);
    assert_int_equal(json_object_array_length(sl), 2);
    assert_int_equal(json_object_array_length(el), 1);
    json_object_put(o);

    /* Rejected: the reasons are in the reply. */
    o = reply_for(&replies, "p-rejected");
    struct json_object *ai = NULL;
    json_object_object_get_ex(o, "audit_infos", &ai);
    assert_int_equal(json_object_array_length(ai), 1);
    json_object_put(o);

    /* Retry then success; exhaustion after retry.max_attempts. */
    o = reply_for(&replies, "p-retry");
    assert_int_equal(jint(o, "attempts"), 2);
    json_object_put(o);
    /* Code 7 (over the quota) is retried after slowing down, and does not
     * count as an attempt of the message. */
    o = reply_for(&replies, "g-retry");
    assert_int_equal(jint(o, "attempts"), 1);
    json_object_put(o);
    o = reply_for(&replies, "p-exhausted");
    assert_int_equal(jint(o, "attempts"), 3);
    json_object_put(o);
    assert_string_equal(
        testenv_header(dlq_for(&dlq, "p-exhausted"), "zim.attempts"), "3");

    /* Headers listed in reply.copy_headers, and only those. */
    for (size_t i = 0; i < replies.n; i++) {
        if (strcmp(replies.v[i].key, "p-sent") != 0)
            continue;
        assert_string_equal(testenv_header(&replies.v[i], "correlation-id"),
                            "c-1");
        assert_string_equal(testenv_header(&replies.v[i], "event-id"), "e-1");
        assert_null(testenv_header(&replies.v[i], "x-other"));
    }

    /* Each attempt is signed afresh: the failed and the successful
     * attempts of the flaky message carried different nonces, and every
     * request's nonce is unique. */
    struct buf log;
    buf_init(&log, 1 << 24);
    testenv_zimsim_get(&zs, "/_sim/requests", &log);
    size_t n_req = testenv_count_lines(log.data, "\"request_id\"");
    struct json_object *seen = json_object_new_object();
    for (char *line = strtok(log.data, "\n"); line; line = strtok(NULL, "\n")) {
        struct json_object *r = json_tokener_parse(line);
        const char *nonce = jstr(r, "nonce");
        assert_false(json_object_object_get_ex(seen, nonce, NULL));
        json_object_object_add(seen, nonce, NULL);
        json_object_put(r);
    }
    assert_int_equal(json_object_object_length(seen), n_req);
    json_object_put(seen);
    /* 13 valid events + 1 retry each for p-retry/g-retry + 2 more tries
     * for p-exhausted = 17 requests; invalid events never reach ZIM. */
    assert_int_equal(n_req, 17);

    /* Large MsgIds are kept exact: the group reply's msg_id equals the
     * 18-digit id zimsim issued. */
    testenv_zimsim_get(&zs, "/_sim/messages", &log);
    o = reply_for(&replies, "g-sent");
    const char *mid = jstr(o, "msg_id");
    assert_non_null(mid);
    assert_int_equal(strlen(mid), 18);
    char needle[64];
    snprintf(needle, sizeof(needle), "\"msg_id\":\"%s\"", mid);
    assert_int_equal(testenv_count_lines(log.data, needle), 1);
    assert_true(jint(o, "msg_seq") >= 1);
    json_object_put(o);

    wait_committed(&t, t.peer);
    wait_committed(&t, t.group);
    wait_committed(&t, t.broadcast);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    buf_free(&log);
    testenv_recs_free(&replies);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
    unlink(banned);
}

/* 5,000 mixed events: one reply per input offset, one DLQ record per
 * failed or partial event, zimsim's log matches the valid events one for
 * one, and everything is committed. */
static void test_mixed_5000(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    enum { N = 5000 };
    testenv_zimsim_start(&zs, "u1 u2 u3", NULL, no_quota);
    testenv_topics(&t, 6);
    rd_kafka_t *p = testenv_producer();
    char key[32], val[2048];
    int want_dlq = 0, want_deliveries = 0;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "k%d", i % 500);
        const char *topic = t.peer;
        switch (i % 10) {
        case 7: /* invalid */
            snprintf(val, sizeof(val),
                     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                     "\"MessageType\":1,\"Priority\":7,\"MessageBody\":"
                     "{\"Message\":\"evt-%d. %s\"}}",
                     i, testenv_chat_text(i));
            want_dlq++;
            break;
        case 8: /* partial */
            snprintf(val, sizeof(val),
                     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\",\"ghost\"],"
                     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"evt-%d. %s\"}}",
                     i, testenv_chat_text(i));
            want_dlq++;
            want_deliveries++;
            break;
        case 6:
            topic = t.group;
            snprintf(val, sizeof(val),
                     "{\"FromUserId\":\"u1\",\"GroupId\":\"g%d\","
                     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"evt-%d. %s\"}}",
                     i % 7, i, testenv_chat_text(i));
            want_deliveries++;
            break;
        case 9:
            topic = t.broadcast;
            snprintf(val, sizeof(val),
                     "{\"FromUserId\":\"u1\",\"MessageType\":1,"
                     "\"MessageBody\":{\"Message\":\"evt-%d. %s\"}}",
                     i, testenv_chat_text(i));
            want_deliveries++;
            break;
        default:
            snprintf(val, sizeof(val),
                     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u%d\"],"
                     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"evt-%d. %s\"}}",
                     2 + i % 2, i, testenv_chat_text(i));
            want_deliveries++;
        }
        testenv_produce(p, topic, key, val, NULL);
    }
    testenv_flush(p);
    rd_kafka_destroy(p);
    testenv_bridge_start(&b, &zs, &t, NO_QUOTA_CONF "log.level = info\n");

    struct recs replies, dlq;
    testenv_read_topic(t.reply, N, 0, 180000, &replies);
    assert_int_equal(replies.n, N);
    testenv_read_topic(t.dlq, (size_t)want_dlq, 0, 60000, &dlq);
    assert_int_equal(dlq.n, want_dlq);
    /* Exactly one reply per input (topic, partition, offset). */
    struct json_object *sources = json_object_new_object();
    for (size_t i = 0; i < replies.n; i++) {
        struct json_object *o = json_tokener_parse(replies.v[i].value);
        struct json_object *src = NULL;
        json_object_object_get_ex(o, "source", &src);
        char id[160];
        const char *tp = jstr(src, "topic");
        assert_non_null(tp);
        snprintf(id, sizeof(id), "%s/%lld/%lld", tp,
                 (long long)jint(src, "partition"),
                 (long long)jint(src, "offset"));
        assert_false(json_object_object_get_ex(sources, id, NULL));
        json_object_object_add(sources, id, NULL);
        json_object_put(o);
    }
    assert_int_equal(json_object_object_length(sources), N);
    json_object_put(sources);

    /* zimsim delivered each valid event exactly once. */
    struct buf log;
    buf_init(&log, (size_t)1 << 28);
    testenv_zimsim_get(&zs, "/_sim/messages", &log);
    assert_int_equal(testenv_count_lines(log.data, "\"action\""),
                     want_deliveries);
    static int counts[N];
    testenv_count_markers(log.data, "evt-", counts, N);
    for (int i = 0; i < N; i++)
        if (counts[i] != (i % 10 == 7 ? 0 : 1))
            fail_msg("evt-%d delivered %d times", i, counts[i]);
    wait_committed(&t, t.peer);
    wait_committed(&t, t.group);
    wait_committed(&t, t.broadcast);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    buf_free(&log);
    testenv_recs_free(&replies);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
}

/* SIGTERM mid-run, then a restart: nothing lost; duplicates counted. */
static void test_graceful_restart(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    enum { N = 3000 };
    const char *const args[] = {"--qps-peer", "0", "--latency-ms", "2", NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 6);
    rd_kafka_t *p = testenv_producer();
    char key[32], val[256];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "c%d", i % 300);
        snprintf(val, sizeof(val),
                 "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                 "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                 "{\"Message\":\"evt-%d.\"}}",
                 i);
        testenv_produce(p, t.peer, key, val, NULL);
    }
    testenv_flush(p);
    rd_kafka_destroy(p);
    testenv_bridge_start(&b, &zs, &t, NO_QUOTA_CONF "log.level = info\n");
    /* Stop once a good part, not all, is through. */
    struct buf log;
    buf_init(&log, (size_t)1 << 26);
    size_t seen = 0;
    for (int i = 0; i < 300 && seen < N / 3; i++) {
        usleep(50000);
        testenv_zimsim_get(&zs, "/_sim/messages", &log);
        seen = testenv_count_lines(log.data, "\"action\"");
    }
    assert_true(seen < N);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_bridge_start(&b, &zs, &t, NO_QUOTA_CONF "log.level = info\n");
    struct recs replies;
    testenv_read_topic(t.reply, 0, 5000, 180000, &replies);
    testenv_zimsim_get(&zs, "/_sim/messages", &log);
    int missing = 0, dups = 0;
    static int counts[N];
    testenv_count_markers(log.data, "evt-", counts, N);
    for (int i = 0; i < N; i++) {
        missing += counts[i] == 0;
        dups += counts[i] > 1 ? counts[i] - 1 : 0;
    }
    printf("graceful restart: stopped after %zu of %d deliveries; "
           "%d missing, %d duplicate deliveries, %zu replies\n",
           seen, N, missing, dups, replies.n);
    assert_int_equal(missing, 0);
    assert_true(replies.n >= N);
    wait_committed(&t, t.peer);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    buf_free(&log);
    testenv_recs_free(&replies);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_outcome_paths, testenv_teardown),
        cmocka_unit_test_teardown(test_mixed_5000, testenv_teardown),
        cmocka_unit_test_teardown(test_graceful_restart, testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
