/* test_multilingual.c - chat text as users write it, end to end on the real
 * broker and zimsim: every text of the multilingual corpus (CJK, Arabic,
 * Hebrew, Thai, Devanagari, Cyrillic, emoji sequences, combining marks,
 * 4-byte characters) as a peer, group and broadcast message, with ZIM
 * answering in Chinese. The bytes zimsim receives equal the input's, every
 * valid event takes exactly one call and gets a "sent" reply carrying
 * ZIM's words, no valid event is dead-lettered, and every invalid UTF-8
 * sequence is dead-lettered with the field named. Then the ambiguous
 * outcomes: a 200 that is not JSON, and a broadcast whose answer never
 * comes, are each delivered once and never sent again. */
#include "corpus.h"
#include "json_strict.h"
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

#define NO_QUOTA_CONF                                                          \
    "quota.peer_per_s = 0\nquota.group_per_s = 0\n"                            \
    "quota.broadcast_per_s = 0\nquota.broadcast_daily = 0\n"

static const char *const no_quota[] = {
    "--qps-peer",        "0", "--qps-group", "0", "--qps-broadcast", "0",
    "--broadcast-daily", "0", NULL};

static struct json_object *parse_strict(const char *s, size_t n)
{
    struct json_strict_error err;
    if (json_strict_check(s, n, 32, NULL, NULL, &err) != 0)
        fail_msg("not strict JSON (%s): %.*s", err.why, (int)n, s);
    struct json_object *o = json_tokener_parse(s);
    assert_non_null(o);
    return o;
}

static struct json_object *get(struct json_object *o, const char *path)
{
    char part[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        snprintf(part, sizeof(part), "%.*s", (int)n, path);
        struct json_object *v = NULL;
        o = json_object_object_get_ex(o, part, &v) ? v : NULL;
        path += n + (path[n] == '.');
    }
    return o;
}

static void assert_bytes(struct json_object *o, const char *path,
                         const struct corpus_text *t, const char *where)
{
    struct json_object *v = get(o, path);
    if (v == NULL || (size_t)json_object_get_string_len(v) != t->len ||
        memcmp(json_object_get_string(v), t->bytes, t->len) != 0)
        fail_msg("%s: %s of %s is not the input's bytes: %s", t->name, path,
                 where, v ? json_object_get_string(v) : "(missing)");
}

/* The line of /_sim/messages whose field k is v. */
static struct json_object *delivery(const struct buf *log, const char *k,
                                    const char *v)
{
    struct json_object *found = NULL;
    char *copy = strdup(log->data ? log->data : "");
    for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = parse_strict(l, strlen(l));
        struct json_object *f = get(o, k);
        if (f && strcmp(json_object_get_string(f), v) == 0) {
            if (found)
                fail_msg("%s=%s delivered twice", k, v);
            found = o;
        } else {
            json_object_put(o);
        }
    }
    free(copy);
    if (found == NULL)
        fail_msg("%s=%s was not delivered", k, v);
    return found;
}

static int64_t stat_requests(const struct zimsim *zs, const char *action)
{
    struct buf st;
    buf_init(&st, 1 << 20);
    testenv_zimsim_get(zs, "/_sim/stats", &st);
    struct json_object *o = parse_strict(st.data, st.len), *a = NULL;
    char path[96];
    snprintf(path, sizeof(path), "actions.%s.requests", action);
    a = get(o, path);
    int64_t n = a ? json_object_get_int64(a) : -1;
    json_object_put(o);
    buf_free(&st);
    return n;
}

static void produce_corpus(rd_kafka_t *p, const struct topics *t,
                           const struct corpus *c, int *n_valid, int *n_invalid)
{
    char val[8192], esc[1024], key[96];
    for (size_t i = 0; i < c->n; i++) {
        const struct corpus_text *x = &c->v[i];
        if (!x->valid) {
            snprintf(key, sizeof(key), "bad-%s", x->name);
            snprintf(val, sizeof(val),
                     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"r-bad\"],"
                     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                     "{\"Message\":\"%s\"}}",
                     x->bytes);
            testenv_produce(p, t->peer, key, val, NULL);
            (*n_invalid)++;
            continue;
        }
        corpus_json_escape(x, esc, sizeof(esc));
        snprintf(key, sizeof(key), "peer-%s", x->name);
        snprintf(val, sizeof(val),
                 "{\"FromUserId\":\"u1\",\"ToUserId\":[\"r-%zu\"],"
                 "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                 "{\"Message\":\"%s\",\"ExtendedData\":\"%s\","
                 "\"OfflinePush\":{\"Enable\":1,\"Title\":\"%s\","
                 "\"Content\":\"%s\"}}}",
                 i, esc, esc, esc, esc);
        testenv_produce(p, t->peer, key, val, NULL);
        snprintf(key, sizeof(key), "group-%s", x->name);
        snprintf(val, sizeof(val),
                 "{\"FromUserId\":\"u1\",\"GroupId\":\"g-%zu\","
                 "\"MessageType\":1,\"Priority\":2,\"MessageBody\":"
                 "{\"Message\":\"%s\"}}",
                 i, esc);
        testenv_produce(p, t->group, key, val, NULL);
        snprintf(key, sizeof(key), "bcast-%s", x->name);
        snprintf(val, sizeof(val),
                 "{\"FromUserId\":\"b-%zu\",\"MessageType\":1,"
                 "\"MessageBody\":{\"Message\":\"%s\"}}",
                 i, esc);
        testenv_produce(p, t->broadcast, key, val, NULL);
        *n_valid += 1;
    }
}

/* Every reply is strict JSON; valid events were sent with ZIM's Chinese
 * words; invalid ones failed validation at MessageBody.Message. */
static void check_replies(const struct recs *replies, const struct recs *dlq,
                          const struct corpus *c)
{
    size_t sent = 0, invalid = 0;
    for (size_t i = 0; i < replies->n; i++) {
        struct json_object *o =
            parse_strict(replies->v[i].value, strlen(replies->v[i].value));
        const char *status = json_object_get_string(get(o, "status"));
        if (strncmp(replies->v[i].key, "bad-", 4) == 0) {
            assert_string_equal(status, "failed");
            assert_string_equal(json_object_get_string(get(o, "field")),
                                "MessageBody.Message");
            const struct corpus_text *x = corpus_get(c, replies->v[i].key + 4);
            if (strstr(json_object_get_string(get(o, "error")), x->why) == NULL)
                fail_msg("%s: error %s", x->name,
                         json_object_get_string(get(o, "error")));
            invalid++;
        } else {
            if (strcmp(status, "sent") != 0 ||
                strcmp(json_object_get_string(get(o, "message")), "成功") != 0)
                fail_msg("%s: %s", replies->v[i].key, replies->v[i].value);
            assert_int_equal(json_object_get_int64(get(o, "attempts")), 1);
            sent++;
        }
        json_object_put(o);
    }
    assert_int_equal(invalid, dlq->n); /* and only those in the DLQ */
    for (size_t i = 0; i < dlq->n; i++) {
        assert_int_equal(strncmp(dlq->v[i].key, "bad-", 4), 0);
        assert_string_equal(testenv_header(&dlq->v[i], "zim.failure.class"),
                            "validation");
    }
    assert_true(sent >= 60);
}

static void test_corpus_end_to_end(void **state)
{
    (void)state;
    struct corpus c;
    corpus_load(&c);
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    testenv_zimsim_start(&zs, NULL, NULL, no_quota);
    /* ZIM answers in Chinese: json-c 0.18's strict mode took that for
     * "not JSON", and each message was sent 8 times. */
    testenv_zimsim_control(&zs, "{\"success_message\":\"成功\"}");
    testenv_topics(&t, 3);
    testenv_bridge_start(&b, &zs, &t, NO_QUOTA_CONF);
    rd_kafka_t *p = testenv_producer();
    int n_valid = 0, n_invalid = 0;
    produce_corpus(p, &t, &c, &n_valid, &n_invalid);
    testenv_flush(p);
    rd_kafka_destroy(p);

    size_t want = (size_t)(3 * n_valid + n_invalid);
    struct recs replies, dlq;
    testenv_read_topic(t.reply, want, 0, 60000, &replies);
    assert_int_equal(replies.n, want);
    testenv_read_topic(t.dlq, 0, 2000, 30000, &dlq);
    check_replies(&replies, &dlq, &c);

    /* N events, N calls: none was sent again. */
    assert_int_equal(stat_requests(&zs, "SendPeerMessage"), n_valid);
    assert_int_equal(stat_requests(&zs, "SendGroupMessage"), n_valid);
    assert_int_equal(stat_requests(&zs, "SendMessageToAllUsers"), n_valid);

    /* The bytes ZIM received are the input's, in every field. */
    struct buf log;
    buf_init(&log, 1 << 26);
    testenv_zimsim_get(&zs, "/_sim/messages", &log);
    char id[32];
    for (size_t i = 0; i < c.n; i++) {
        const struct corpus_text *x = &c.v[i];
        if (!x->valid)
            continue;
        snprintf(id, sizeof(id), "r-%zu", i);
        struct json_object *d = delivery(&log, "to", id);
        assert_bytes(d, "body.Message", x, "the peer call");
        assert_bytes(d, "body.ExtendedData", x, "the peer call");
        assert_bytes(d, "body.OfflinePush.Title", x, "the peer call");
        assert_bytes(d, "body.OfflinePush.Content", x, "the peer call");
        json_object_put(d);
        snprintf(id, sizeof(id), "g-%zu", i);
        d = delivery(&log, "group", id);
        assert_bytes(d, "body.Message", x, "the group call");
        json_object_put(d);
        snprintf(id, sizeof(id), "b-%zu", i);
        d = delivery(&log, "from", id);
        assert_bytes(d, "body.Message", x, "the broadcast");
        json_object_put(d);
    }
    testenv_wait_committed(t.group_id, t.peer, 30);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    buf_free(&log);
    testenv_recs_free(&replies);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
    corpus_free(&c);
}

/* Moderation reasons in Chinese reach the reply as they were. */
static void test_rejected_in_chinese(void **state)
{
    (void)state;
    char banned[128];
    snprintf(banned, sizeof(banned), "/tmp/zbbanned-zh.%ld", (long)getpid());
    FILE *f = fopen(banned, "w");
    assert_non_null(f);
    fputs("违禁词\n", f);
    fclose(f);
    const char *const args[] = {"--qps-peer", "0", "--banned-words", banned,
                                NULL};
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_zimsim_control(&zs, "{\"audit_reason\":\"内容包含违禁词\"}");
    testenv_topics(&t, 1);
    testenv_bridge_start(&b, &zs, &t, NO_QUOTA_CONF);
    rd_kafka_t *p = testenv_producer();
    testenv_produce(p, t.peer, "zh-banned",
                    "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"这里有违禁词 🚫\"}}",
                    NULL);
    testenv_flush(p);
    rd_kafka_destroy(p);
    struct recs replies;
    testenv_read_topic(t.reply, 1, 0, 30000, &replies);
    assert_int_equal(replies.n, 1);
    struct json_object *o =
        parse_strict(replies.v[0].value, strlen(replies.v[0].value));
    assert_string_equal(json_object_get_string(get(o, "status")), "rejected");
    struct json_object *ai = get(o, "audit_infos");
    assert_int_equal(json_object_array_length(ai), 1);
    assert_string_equal(
        json_object_get_string(get(json_object_array_get_idx(ai, 0), "Reason")),
        "内容包含违禁词: 违禁词");
    json_object_put(o);
    assert_int_equal(stat_requests(&zs, "SendPeerMessage"), 1);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&replies);
    testenv_zimsim_stop(&zs);
    unlink(banned);
}

/* Ambiguous outcomes: the request went, the answer does not say what
 * happened. A 200 that is not JSON is never sent again, whatever the
 * action; a broadcast whose answer never comes is never sent again; both
 * are dead-lettered as "may have been sent". */
static void test_ambiguous(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    testenv_zimsim_start(&zs, NULL, NULL, no_quota);
    testenv_zimsim_control(
        &zs, "{\"garble_next\":{\"count\":1,\"match\":\"garbled-peer\"}}");
    testenv_topics(&t, 1);
    testenv_bridge_start(&b, &zs, &t,
                         NO_QUOTA_CONF "http.timeout_ms = 1000\n"
                                       "retry.base_ms = 50\n");
    rd_kafka_t *p = testenv_producer();
    testenv_produce(p, t.peer, "garbled",
                    "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"garbled-peer: 你好\"}}",
                    NULL);
    testenv_flush(p);
    struct recs replies;
    testenv_read_topic(t.reply, 1, 0, 30000, &replies);
    assert_int_equal(replies.n, 1);
    /* Now every answer comes after the bridge stopped waiting. */
    testenv_zimsim_control(&zs, "{\"latency_ms\":2500}");
    testenv_produce(p, t.broadcast, "late",
                    "{\"FromUserId\":\"u1\",\"MessageType\":1,"
                    "\"MessageBody\":{\"Message\":\"全员通知 📢\"}}",
                    NULL);
    testenv_flush(p);
    rd_kafka_destroy(p);
    testenv_recs_free(&replies);
    testenv_read_topic(t.reply, 2, 0, 30000, &replies);
    assert_int_equal(replies.n, 2);
    struct recs dlq;
    testenv_read_topic(t.dlq, 2, 0, 30000, &dlq);
    assert_int_equal(dlq.n, 2);
    for (size_t i = 0; i < replies.n; i++) {
        struct json_object *o =
            parse_strict(replies.v[i].value, strlen(replies.v[i].value));
        assert_string_equal(json_object_get_string(get(o, "status")),
                            "unknown");
        assert_string_equal(json_object_get_string(get(o, "failure_class")),
                            "ambiguous");
        assert_non_null(strstr(json_object_get_string(get(o, "error")),
                               "may have been sent"));
        assert_int_equal(json_object_get_int64(get(o, "attempts")), 1);
        json_object_put(o);
        assert_string_equal(testenv_header(&dlq.v[i], "zim.failure.class"),
                            "ambiguous");
    }
    /* Each went to ZIM once, and ZIM delivered each once. */
    sleep(3); /* the broadcast's late answer, and any resend, would show */
    assert_int_equal(stat_requests(&zs, "SendPeerMessage"), 1);
    assert_int_equal(stat_requests(&zs, "SendMessageToAllUsers"), 1);
    struct buf log;
    buf_init(&log, 1 << 20);
    testenv_zimsim_get(&zs, "/_sim/messages", &log);
    assert_int_equal(testenv_count_lines(log.data, "\"action\""), 2);
    buf_free(&log);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&replies);
    testenv_recs_free(&dlq);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_corpus_end_to_end, testenv_teardown),
        cmocka_unit_test_teardown(test_rejected_in_chinese, testenv_teardown),
        cmocka_unit_test_teardown(test_ambiguous, testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
