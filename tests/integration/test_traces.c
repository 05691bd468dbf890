/* test_traces.c - tracing end to end: the bridge on the real broker and
 * zimsim exports its spans over OTLP/HTTP to a real Jaeger (v1.75.0,
 * scripts/jaeger-local, a ctest fixture), and the test reads them back
 * through Jaeger's query API.
 *
 * Traffic: 24 peer events identical but for ToUserId, each with its own
 * traceparent, at a quota of 2 calls/s, so that they share calls; one
 * that zimsim fails once (Code 1) and the bridge sends again; one that is
 * invalid; one whose traceparent is not valid (uppercase). Asserted:
 * - each event's trace has its process span, a child of the input's span,
 *   with the messaging attributes (and not the key), and a send span for
 *   its reply whose id is the reply record's traceparent;
 * - each sent event is linked from exactly one call span (two for the one
 *   sent again, the second with http.request.resend_count 1), whose
 *   attributes are right and whose url.full has the signature redacted;
 *   some call carries several events, with one link each;
 * - the invalid event's process span has status error and error.type;
 * - the invalid traceparent is counted;
 * - with otel.reply_context = copy, the reply carries the input's own. */
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
#include <time.h>
#include <unistd.h>

#define PACKED 24
#define TOTAL  (PACKED + 3)

#define TEXT "会议改到三点 📅 الاجتماع"

static char query[256], otlp[256];

static void jaeger_urls(void)
{
    const char *dir = getenv("JAEGER_LOCAL_DIR");
    if (dir == NULL)
        fail_msg("JAEGER_LOCAL_DIR is not set (the jaeger fixture)");
    const char *files[] = {"query_url", "otlp_url"};
    char *out[] = {query, otlp};
    for (int i = 0; i < 2; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        FILE *f = fopen(path, "r");
        if (f == NULL || fgets(out[i], 256, f) == NULL)
            fail_msg("no %s: is scripts/jaeger-local running?", path);
        out[i][strcspn(out[i], "\n")] = '\0';
        fclose(f);
    }
}

/* The ids of event i of this run. */
static void ids(int i, char trace[33], char span[17])
{
    snprintf(trace, 33, "%08x%08x%016x", (unsigned)getpid(),
             (unsigned)time(NULL) & 0xffff0000u, (unsigned)(0x1000 + i));
    snprintf(span, 17, "%016x", (unsigned)(0xabc00000u + (unsigned)i));
}

static struct json_object *get_json(const char *url)
{
    struct buf b;
    buf_init(&b, 64 << 20);
    long st = testenv_http("GET", url, NULL, NULL, &b);
    struct json_object *o = st == 200 ? json_tokener_parse(b.data) : NULL;
    buf_free(&b);
    return o;
}

static struct json_object *member(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *str(struct json_object *o, const char *k)
{
    struct json_object *v = member(o, k);
    return v ? json_object_get_string(v) : NULL;
}

/* A span's tag, as Jaeger shows it. */
static struct json_object *tag(struct json_object *span, const char *key)
{
    struct json_object *tags = member(span, "tags");
    for (size_t i = 0; tags && i < json_object_array_length(tags); i++) {
        struct json_object *t = json_object_array_get_idx(tags, i);
        if (strcmp(str(t, "key"), key) == 0)
            return member(t, "value");
    }
    return NULL;
}

static const char *tag_s(struct json_object *span, const char *key)
{
    struct json_object *v = tag(span, key);
    return v ? json_object_get_string(v) : NULL;
}

static int64_t tag_i(struct json_object *span, const char *key)
{
    struct json_object *v = tag(span, key);
    return v ? json_object_get_int64(v) : -1;
}

/* Whether span refers to (trace, span_id). */
static bool refers(struct json_object *span, const char *trace,
                   const char *span_id)
{
    struct json_object *refs = member(span, "references");
    for (size_t i = 0; refs && i < json_object_array_length(refs); i++) {
        struct json_object *r = json_object_array_get_idx(refs, i);
        if (strcmp(str(r, "traceID"), trace) == 0 &&
            strcmp(str(r, "spanID"), span_id) == 0)
            return true;
    }
    return false;
}

/* The span named name in the trace, or NULL. */
static struct json_object *span_named(struct json_object *trace,
                                      const char *name)
{
    struct json_object *spans = member(trace, "spans");
    for (size_t i = 0; spans && i < json_object_array_length(spans); i++) {
        struct json_object *s = json_object_array_get_idx(spans, i);
        if (strcmp(str(s, "operationName"), name) == 0)
            return s;
    }
    return NULL;
}

/* Trace id's trace once it holds want spans named want_name (20 s). The
 * caller puts the root. */
static struct json_object *trace_with(const char *id, const char *name,
                                      struct json_object **root)
{
    char url[512];
    snprintf(url, sizeof(url), "%s/api/traces/%s", query, id);
    for (int k = 0; k < 200; k++) {
        struct json_object *r = get_json(url);
        struct json_object *data = member(r, "data");
        if (data && json_object_array_length(data) == 1) {
            struct json_object *t = json_object_array_get_idx(data, 0);
            if (span_named(t, name)) {
                *root = r;
                return t;
            }
        }
        json_object_put(r);
        usleep(100000);
    }
    fail_msg("Jaeger has no span '%s' in trace %s after 20 s", name, id);
    return NULL;
}

static void produce_events(const struct topics *t, const struct zimsim *zs)
{
    rd_kafka_t *p = testenv_producer();
    char key[32], val[1024], tp[64], trace[33], span[17];
    for (int i = 0; i < PACKED; i++) {
        ids(i, trace, span);
        snprintf(tp, sizeof(tp), "00-%s-%s-01", trace, span);
        snprintf(key, sizeof(key), "user_%d", i);
        snprintf(val, sizeof(val),
                 "{\"FromUserId\":\"notice-bot\",\"ToUserId\":[\"user_%d\"],"
                 "\"MessageType\":1,\"Priority\":2,\"MessageBody\":"
                 "{\"Message\":\"" TEXT "\"}}",
                 i);
        const char *h[] = {"traceparent", tp, NULL};
        testenv_produce(p, t->peer, key, val, h);
    }
    /* Sent again once: its own message, so it goes alone. */
    testenv_zimsim_control(zs, "{\"fail_next\":{\"code\":1,\"count\":1,"
                               "\"match\":\"retry-me\"}}");
    ids(PACKED, trace, span);
    snprintf(tp, sizeof(tp), "00-%s-%s-01", trace, span);
    const char *h1[] = {"traceparent", tp, NULL};
    testenv_produce(p, t->peer, "again",
                    "{\"FromUserId\":\"alice\",\"ToUserId\":[\"bob\"],"
                    "\"MessageType\":1,\"Priority\":2,\"MessageBody\":"
                    "{\"Message\":\"retry-me 再试一次\"}}",
                    h1);
    /* Invalid: no Priority. */
    ids(PACKED + 1, trace, span);
    snprintf(tp, sizeof(tp), "00-%s-%s-01", trace, span);
    const char *h2[] = {"traceparent", tp, NULL};
    testenv_produce(p, t->peer, "bad",
                    "{\"FromUserId\":\"alice\",\"ToUserId\":[\"bob\"],"
                    "\"MessageType\":1,\"MessageBody\":{\"Message\":\"坏\"}}",
                    h2);
    /* A traceparent that is not valid: uppercase hex. */
    const char *h3[] = {
        "traceparent",
        "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01", NULL};
    testenv_produce(p, t->peer, "upper",
                    "{\"FromUserId\":\"alice\",\"ToUserId\":[\"carol\"],"
                    "\"MessageType\":1,\"Priority\":2,\"MessageBody\":"
                    "{\"Message\":\"大写 🔠\"}}",
                    h3);
    testenv_flush(p);
    rd_kafka_destroy(p);
}

/* The reply of the event with key. */
static const struct rec *reply_of(const struct recs *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->v[i].key && strcmp(r->v[i].key, key) == 0)
            return &r->v[i];
    }
    fail_msg("no reply for key %s", key);
    return NULL;
}

/* The POST spans of this run's service, from Jaeger's search. */
static struct json_object *call_spans(const char *service, int want_links,
                                      struct json_object **root)
{
    char url[512];
    snprintf(url, sizeof(url),
             "%s/api/traces?service=%s&operation=POST&limit=1000&lookback=1h",
             query, service);
    for (int k = 0; k < 200; k++) {
        struct json_object *r = get_json(url);
        struct json_object *out = json_object_new_array();
        struct json_object *data = member(r, "data");
        int links = 0;
        for (size_t i = 0; data && i < json_object_array_length(data); i++) {
            struct json_object *spans =
                member(json_object_array_get_idx(data, i), "spans");
            for (size_t j = 0; j < json_object_array_length(spans); j++) {
                struct json_object *s = json_object_array_get_idx(spans, j);
                if (strcmp(str(s, "operationName"), "POST") != 0)
                    continue;
                json_object_array_add(out, json_object_get(s));
                links += (int)tag_i(s, "zim.call.events");
            }
        }
        json_object_put(r);
        if (links >= want_links) {
            *root = out;
            return out;
        }
        json_object_put(out);
        usleep(100000);
    }
    fail_msg("Jaeger has fewer than %d call links after 20 s", want_links);
    return NULL;
}

static void check_process(struct json_object *trace, const char *tid,
                          const char *input_span, const struct topics *t,
                          char *proc_id)
{
    char name[160];
    snprintf(name, sizeof(name), "process %s", t->peer);
    struct json_object *p = span_named(trace, name);
    assert_non_null(p);
    snprintf(proc_id, 17, "%s", str(p, "spanID"));
    assert_true(refers(p, tid, input_span)); /* its parent: the input's */
    assert_string_equal(tag_s(p, "span.kind"), "consumer");
    assert_string_equal(tag_s(p, "messaging.system"), "kafka");
    assert_string_equal(tag_s(p, "messaging.operation.type"), "process");
    assert_string_equal(tag_s(p, "messaging.destination.name"), t->peer);
    assert_string_equal(tag_s(p, "messaging.consumer.group.name"), t->group_id);
    assert_non_null(tag_s(p, "messaging.destination.partition.id"));
    assert_true(tag_i(p, "messaging.kafka.offset") >= 0);
    assert_null(tag(p, "messaging.kafka.message.key"));
}

/* zimsim (every user exists), fresh topics and a bridge tracing to the
 * fixture's Jaeger, with extra settings. */
static void traced_bridge(struct zimsim *zs, struct topics *t, struct bridge *b,
                          int partitions, const char *extra)
{
    jaeger_urls();
    testenv_zimsim_start(zs, NULL, NULL, NULL);
    testenv_topics(t, partitions);
    char conf[1024];
    snprintf(conf, sizeof(conf), "otel.endpoint = %s\n%s", otlp, extra);
    testenv_bridge_start(b, zs, t, conf);
}

static void test_packed_call_traces(void **state)
{
    (void)state;
    char service[64], conf[1024];
    snprintf(service, sizeof(service), "zimbridge-test-%d", (int)getpid());
    snprintf(conf, sizeof(conf),
             "otel.service_name = %s\notel.flush_ms = 100\n"
             "quota.peer_per_s = 2\nretry.base_ms = 50\n",
             service);
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    traced_bridge(&zs, &t, &b, 3, conf);
    produce_events(&t, &zs);
    struct recs replies = {0};
    testenv_read_topic(t.reply, TOTAL, 0, 60000, &replies);
    assert_int_equal(replies.n, TOTAL);

    char tid[33], sid[17], proc[PACKED + 2][17], name[160];
    struct json_object *roots[PACKED + 2];
    for (int i = 0; i < PACKED + 2; i++) {
        ids(i, tid, sid);
        snprintf(name, sizeof(name), "send %s", t.reply);
        struct json_object *tr = trace_with(tid, name, &roots[i]);
        check_process(tr, tid, sid, &t, proc[i]);
        /* The send span: a child of the process span, and its context
         * is the reply's traceparent (otel.reply_context = new). */
        struct json_object *send = span_named(tr, name);
        assert_true(refers(send, tid, proc[i]));
        assert_string_equal(tag_s(send, "messaging.operation.type"), "send");
        char key[32];
        if (i < PACKED)
            snprintf(key, sizeof(key), "user_%d", i);
        else
            snprintf(key, sizeof(key), i == PACKED ? "again" : "bad");
        char want[64];
        snprintf(want, sizeof(want), "00-%s-%s-01", tid, str(send, "spanID"));
        assert_string_equal(
            testenv_header(reply_of(&replies, key), "traceparent"), want);
    }
    /* The invalid event: status error, error.type validation. */
    ids(PACKED + 1, tid, sid);
    snprintf(name, sizeof(name), "process %s", t.peer);
    struct json_object *bad = span_named(
        json_object_array_get_idx(member(roots[PACKED + 1], "data"), 0), name);
    assert_string_equal(tag_s(bad, "error.type"), "validation");
    assert_string_equal(tag_s(bad, "otel.status_code"), "ERROR");

    /* The calls: every sent event linked from one (the retried one from
     * two), some carrying several events. */
    struct json_object *calls_root;
    struct json_object *calls = call_spans(service, PACKED + 3, &calls_root);
    int packed_calls = 0, total_links = 0;
    for (size_t c = 0; c < json_object_array_length(calls); c++) {
        struct json_object *s = json_object_array_get_idx(calls, c);
        int64_t n = tag_i(s, "zim.call.events");
        total_links += (int)n;
        assert_int_equal(json_object_array_length(member(s, "references")), n);
        packed_calls += n > 1;
        assert_string_equal(tag_s(s, "span.kind"), "client");
        assert_string_equal(tag_s(s, "http.request.method"), "POST");
        assert_string_equal(tag_s(s, "server.address"), "127.0.0.1");
        assert_string_equal(tag_s(s, "zim.action"), "SendPeerMessage");
        assert_int_equal(tag_i(s, "http.response.status_code"), 200);
        assert_non_null(tag_s(s, "zim.request_id"));
        const char *u = tag_s(s, "url.full");
        assert_non_null(strstr(u, "Signature=REDACTED"));
        assert_non_null(strstr(u, "SignatureNonce=REDACTED"));
        assert_non_null(strstr(u, "Action=SendPeerMessage"));
    }
    assert_true(packed_calls >= 1);
    /* The packed ones, the one sent twice, the one with the uppercase
     * traceparent (a root of its own). */
    assert_int_equal(total_links, PACKED + 3);
    for (int i = 0; i <= PACKED; i++) {
        ids(i, tid, sid);
        int linked = 0, resent = 0, failed = 0;
        for (size_t c = 0; c < json_object_array_length(calls); c++) {
            struct json_object *s = json_object_array_get_idx(calls, c);
            if (!refers(s, tid, proc[i]))
                continue;
            linked++;
            resent += tag_i(s, "http.request.resend_count") == 1;
            if (tag_i(s, "zim.code") == 1) {
                failed++;
                assert_string_equal(tag_s(s, "error.type"), "zim.1");
            }
        }
        if (linked != (i == PACKED ? 2 : 1) ||
            resent != (i == PACKED ? 1 : 0) || failed != (i == PACKED))
            fail_msg("event %d: %d calls linked, %d resent, %d failed", i,
                     linked, resent, failed);
    }
    json_object_put(calls_root);
    for (int i = 0; i < PACKED + 2; i++)
        json_object_put(roots[i]);

    /* The uppercase traceparent was counted. */
    struct buf m;
    buf_init(&m, 1 << 20);
    testenv_metrics(&b, &m);
    assert_non_null(
        strstr(m.data, "\nzimbridge_otel_invalid_traceparent_total 1\n"));
    assert_non_null(strstr(
        m.data,
        "\nzimbridge_otel_spans_dropped_total{reason=\"queue_full\"} 0\n"));
    buf_free(&m);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&replies);
    testenv_zimsim_stop(&zs);
}

/* otel.reply_context = copy: the reply carries the input's traceparent,
 * as without tracing. */
static void test_reply_context_copy(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    traced_bridge(&zs, &t, &b, 1, "otel.reply_context = copy\n");
    rd_kafka_t *p = testenv_producer();
    const char *tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const char *h[] = {"traceparent", tp, NULL};
    testenv_produce(p, t.peer, "k",
                    "{\"FromUserId\":\"alice\",\"ToUserId\":[\"bob\"],"
                    "\"MessageType\":1,\"Priority\":2,\"MessageBody\":"
                    "{\"Message\":\"复制 📎\"}}",
                    h);
    testenv_flush(p);
    rd_kafka_destroy(p);
    struct recs replies = {0};
    testenv_read_topic(t.reply, 1, 0, 30000, &replies);
    assert_int_equal(replies.n, 1);
    assert_string_equal(testenv_header(&replies.v[0], "traceparent"), tp);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    testenv_recs_free(&replies);
    testenv_zimsim_stop(&zs);
}

/* SIGTERM flushes what is queued: with otel.flush_ms at 60 s nothing is
 * exported while the bridge runs (checked), and every event's process
 * span is in Jaeger once it has stopped. */
static void test_flush_on_sigterm(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    traced_bridge(&zs, &t, &b, 1, "otel.flush_ms = 60000\n");
    rd_kafka_t *p = testenv_producer();
    char tid[33], sid[17], tp[64], key[32];
    for (int i = 0; i < 5; i++) {
        ids(100 + i, tid, sid);
        snprintf(tp, sizeof(tp), "00-%s-%s-01", tid, sid);
        snprintf(key, sizeof(key), "flush-%d", i);
        const char *h[] = {"traceparent", tp, NULL};
        testenv_produce(p, t.peer, key,
                        "{\"FromUserId\":\"alice\",\"ToUserId\":[\"bob\"],"
                        "\"MessageType\":1,\"Priority\":2,\"MessageBody\":"
                        "{\"Message\":\"停机前 🛑\"}}",
                        h);
    }
    testenv_flush(p);
    rd_kafka_destroy(p);
    struct recs replies = {0};
    testenv_read_topic(t.reply, 5, 0, 30000, &replies);
    assert_int_equal(replies.n, 5);
    struct buf m;
    buf_init(&m, 1 << 20);
    testenv_metrics(&b, &m);
    assert_non_null(
        strstr(m.data, "\nzimbridge_otel_spans_exported_total 0\n"));
    buf_free(&m);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    char name[160];
    snprintf(name, sizeof(name), "process %s", t.peer);
    for (int i = 0; i < 5; i++) {
        ids(100 + i, tid, sid);
        struct json_object *root;
        trace_with(tid, name, &root);
        json_object_put(root);
    }
    testenv_recs_free(&replies);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_packed_call_traces, testenv_teardown),
        cmocka_unit_test_teardown(test_reply_context_copy, testenv_teardown),
        cmocka_unit_test_teardown(test_flush_on_sigterm, testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
