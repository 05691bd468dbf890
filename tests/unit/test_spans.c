/* test_spans.c - the spans of an event's path, as tables: the process
 * span's parent and sampling from each kind of traceparent, a packed
 * call's one CLIENT span linked to each of its events, the send span's
 * traceparent, and the signed URL redacted. */
#include "spans.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

static const uint8_t new_trace[TRACE_ID_BYTES] = {
    0xaa, 0xbb, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
static const uint8_t span_a[SPAN_ID_BYTES] = {1, 1, 1, 1, 1, 1, 1, 1};

static const struct trace_attr *attr(const struct spans_span *s,
                                     const char *key)
{
    for (size_t i = 0; i < s->span.n_attrs; i++)
        if (strcmp(s->attrs[i].key, key) == 0)
            return &s->attrs[i];
    return NULL;
}

static const char *attr_str(const struct spans_span *s, const char *key)
{
    const struct trace_attr *a = attr(s, key);
    return a && a->type == TRACE_ATTR_STRING ? a->s : NULL;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

/* Which parent and trace each traceparent gives, and whether it counts
 * as invalid. */
static void test_process_parent_table(void **st)
{
    (void)st;
    static const struct {
        const char *tp; /* NULL: no header */
        bool parent;    /* the header's trace and span are used */
        bool sampled;
        bool invalid;
    } t[] = {
        {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true, true,
         false},
        {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", true, false,
         false},
        /* a later version with more fields */
        {"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x", true,
         true, false},
        {"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", false, true,
         true}, /* uppercase: a root, sampled by ratio 1 */
        {"00-00000000000000000000000000000000-b7ad6b7169203331-01", false, true,
         true},
        {"00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", false, true,
         true},
        {"ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", false, true,
         true},
        {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0", false, true,
         true},
        {"", false, true, true},
        {NULL, false, true, false},
    };
    const struct spans_policy p = {.root_ratio = 1.0};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct spans_record r = {.topic = "zim.peer",
                                 .partition = 3,
                                 .offset = 1042,
                                 .group = "zimbridge",
                                 .traceparent = t[i].tp,
                                 .traceparent_len =
                                     t[i].tp ? strlen(t[i].tp) : 0,
                                 .key = "conv-对话-1",
                                 .start_ns = 10,
                                 .end_ns = 20};
        struct spans_process out;
        spans_process(&r, &p, new_trace, span_a, &out);
        char trace[33], parent[17];
        hex(out.s.span.trace_id, TRACE_ID_BYTES, trace);
        hex(out.s.span.parent_id, SPAN_ID_BYTES, parent);
        if (t[i].parent) {
            assert_string_equal(trace, "0af7651916cd43dd8448eb211c80319c");
            assert_string_equal(parent, "b7ad6b7169203331");
        } else {
            assert_memory_equal(out.s.span.trace_id, new_trace, TRACE_ID_BYTES);
            assert_string_equal(parent, "0000000000000000");
        }
        if (out.s.sampled != t[i].sampled || out.invalid_parent != t[i].invalid)
            fail_msg("case %zu (%s): sampled %d invalid %d", i,
                     t[i].tp ? t[i].tp : "none", out.s.sampled,
                     out.invalid_parent);
        assert_memory_equal(out.s.span.span_id, span_a, SPAN_ID_BYTES);
    }
}

/* The process span's name, kind and attributes; the key only when asked
 * for; a validation failure as its status. */
static void test_process_attributes(void **st)
{
    (void)st;
    struct spans_record r = {.topic = "zim.peer",
                             .partition = 3,
                             .offset = 1042,
                             .group = "zimbridge",
                             .key = "conv-对话-1",
                             .start_ns = 10,
                             .end_ns = 20};
    struct spans_policy p = {.root_ratio = 0.0};
    struct spans_process out;
    spans_process(&r, &p, new_trace, span_a, &out);
    assert_false(out.s.sampled); /* a root at ratio 0 */
    assert_string_equal(out.s.span.name, "process zim.peer");
    assert_int_equal(out.s.span.kind, TRACE_KIND_CONSUMER);
    assert_string_equal(attr_str(&out.s, "messaging.system"), "kafka");
    assert_string_equal(attr_str(&out.s, "messaging.operation.type"),
                        "process");
    assert_string_equal(attr_str(&out.s, "messaging.destination.name"),
                        "zim.peer");
    assert_string_equal(attr_str(&out.s, "messaging.destination.partition.id"),
                        "3");
    assert_string_equal(attr_str(&out.s, "messaging.consumer.group.name"),
                        "zimbridge");
    const struct trace_attr *o = attr(&out.s, "messaging.kafka.offset");
    assert_non_null(o);
    assert_int_equal(o->type, TRACE_ATTR_INT);
    assert_int_equal(o->i, 1042);
    assert_null(attr(&out.s, "messaging.kafka.message.key"));
    assert_int_equal(out.s.span.status, TRACE_STATUS_UNSET);
    assert_null(attr(&out.s, "error.type"));
    p.record_key = true;
    r.error_type = "validation";
    spans_process(&r, &p, new_trace, span_a, &out);
    assert_string_equal(attr_str(&out.s, "messaging.kafka.message.key"),
                        "conv-对话-1");
    assert_int_equal(out.s.span.status, TRACE_STATUS_ERROR);
    assert_string_equal(attr_str(&out.s, "error.type"), "validation");
}

/* The samplers that are not parent-based (always_on, always_off,
 * traceidratio): the ratio decides, the parent's ids are kept. */
static void test_ignore_parent_flag(void **st)
{
    (void)st;
    const char *on = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const char *off = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
    struct spans_record r = {.topic = "t", .group = "g"};
    struct spans_policy p = {.root_ratio = 0.0, .ignore_parent_flag = true};
    struct spans_process out;
    r.traceparent = on;
    r.traceparent_len = strlen(on);
    spans_process(&r, &p, new_trace, span_a, &out);
    assert_false(out.s.sampled);
    assert_int_equal(out.s.span.parent_id[0], 0xb7);
    p.root_ratio = 1.0;
    r.traceparent = off;
    spans_process(&r, &p, new_trace, span_a, &out);
    assert_true(out.s.sampled);
    assert_int_equal(out.s.span.trace_id[0], 0x0a);
    p.ignore_parent_flag = false;
    spans_process(&r, &p, new_trace, span_a, &out);
    assert_false(out.s.sampled); /* parent-based: its flag 00 */
}

/* Shared attributes encoded once (spans_*_consts) give the same span
 * JSON, byte for byte, as the attributes one by one. */
static void test_consts_same_json(void **st)
{
    (void)st;
    struct buf pc, sc, cc, a, b;
    buf_init(&pc, 4096);
    buf_init(&sc, 4096);
    buf_init(&cc, 4096);
    buf_init(&a, 1 << 16);
    buf_init(&b, 1 << 16);
    assert_int_equal(spans_process_consts("zim.peer", "组-1", &pc), 0);
    assert_int_equal(spans_producer_consts("zim.reply", &sc), 0);
    assert_int_equal(
        spans_client_consts("SendPeerMessage", "POST", "zim-api.zego.im", &cc),
        0);
    const struct spans_consts pk = {pc.data, pc.len}, sk = {sc.data, sc.len},
                              ck = {cc.data, cc.len};
    const char *tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    struct spans_record r = {.topic = "zim.peer",
                             .partition = 2,
                             .offset = 99,
                             .group = "组-1",
                             .traceparent = tp,
                             .traceparent_len = strlen(tp),
                             .start_ns = 5,
                             .end_ns = 9,
                             .error_type = "api"};
    const struct spans_policy p = {.root_ratio = 1.0};
    static struct spans_process one, two;
    spans_process(&r, &p, new_trace, span_a, &one);
    r.consts = &pk;
    spans_process(&r, &p, new_trace, span_a, &two);
    assert_int_equal(trace_span_json(&one.s.span, &a), 0);
    assert_int_equal(trace_span_json(&two.s.span, &b), 0);
    assert_string_equal(a.data, b.data);
    struct spans_ref ref;
    spans_ref_of(&one, &ref);
    static struct spans_span s1, s2;
    char t1[TRACEPARENT_LEN + 1], t2[TRACEPARENT_LEN + 1];
    spans_producer(&ref, "zim.reply", 1, 2, span_a, NULL, &s1, t1);
    spans_producer(&ref, "zim.reply", 1, 2, span_a, &sk, &s2, t2);
    buf_reset(&a);
    buf_reset(&b);
    trace_span_json(&s1.span, &a);
    trace_span_json(&s2.span, &b);
    assert_string_equal(a.data, b.data);
    struct spans_call c = {.action = "SendPeerMessage",
                           .method = "POST",
                           .server = "zim-api.zego.im",
                           .url = "https://zim-api.zego.im/?Signature=x",
                           .http_status = 200,
                           .zim_code = 0,
                           .events = &ref,
                           .n_events = 1};
    static struct spans_client c1, c2;
    assert_true(spans_client(&c, span_a, &c1));
    c.consts = &ck;
    assert_true(spans_client(&c, span_a, &c2));
    buf_reset(&a);
    buf_reset(&b);
    trace_span_json(&c1.s.span, &a);
    trace_span_json(&c2.s.span, &b);
    assert_string_equal(a.data, b.data);
    assert_non_null(strstr(a.data, "\"zim.action\""));
    buf_free(&pc);
    buf_free(&sc);
    buf_free(&cc);
    buf_free(&a);
    buf_free(&b);
}

/* A packed call of 3 events from 3 traces: one CLIENT span, 3 links whose
 * trace ids are the 3 inputs', in the first sampled event's trace, under
 * its process span. */
static void test_packed_call(void **st)
{
    (void)st;
    static const char *const tps[] = {
        "00-11111111111111111111111111111111-1111111111111111-00",
        "00-22222222222222222222222222222222-2222222222222222-01",
        "00-33333333333333333333333333333333-3333333333333333-01",
    };
    const struct spans_policy p = {.root_ratio = 0.0};
    struct spans_process ev[3];
    struct spans_ref evp[3];
    for (int i = 0; i < 3; i++) {
        struct spans_record r = {.topic = "zim.peer",
                                 .partition = i,
                                 .offset = 7,
                                 .group = "g",
                                 .traceparent = tps[i],
                                 .traceparent_len = strlen(tps[i])};
        uint8_t sid[SPAN_ID_BYTES] = {0xe0, 0, 0, 0, 0, 0, 0, (uint8_t)i};
        spans_process(&r, &p, new_trace, sid, &ev[i]);
        spans_ref_of(&ev[i], &evp[i]);
        /* Each process span's parent is its input's span. */
        assert_int_equal(ev[i].s.span.parent_id[0], 0x11 * (i + 1));
    }
    const char url[] = "https://zim-api.zego.im/?Action=SendPeerMessage&AppId="
                       "1&SignatureNonce=0123456789abcdef&Timestamp=1700000000"
                       "&SignatureVersion=2.0&Signature="
                       "e8d6d9a9f9f6a1e1d0e9f8a7b6c5d4e3";
    struct spans_call c = {.action = "SendPeerMessage",
                           .method = "POST",
                           .server = "zim-api.zego.im",
                           .url = url,
                           .http_status = 200,
                           .resend_count = 1,
                           .zim_code = 0,
                           .request_id = "343649807833778782",
                           .start_ns = 100,
                           .end_ns = 200,
                           .events = evp,
                           .n_events = 3};
    const uint8_t call_id[SPAN_ID_BYTES] = {0xca, 0x11, 0, 0, 0, 0, 0, 1};
    static struct spans_client cs;
    assert_true(spans_client(&c, call_id, &cs));
    assert_int_equal(cs.s.span.kind, TRACE_KIND_CLIENT);
    assert_int_equal(cs.s.span.n_links, 3);
    for (int i = 0; i < 3; i++) {
        assert_memory_equal(cs.links[i].trace_id, ev[i].s.span.trace_id,
                            TRACE_ID_BYTES);
        assert_memory_equal(cs.links[i].span_id, ev[i].s.span.span_id,
                            SPAN_ID_BYTES);
    }
    /* Event 0 is not sampled: the call lives in event 1's trace. */
    assert_memory_equal(cs.s.span.trace_id, ev[1].s.span.trace_id,
                        TRACE_ID_BYTES);
    assert_memory_equal(cs.s.span.parent_id, ev[1].s.span.span_id,
                        SPAN_ID_BYTES);
    const char *u = attr_str(&cs.s, "url.full");
    assert_non_null(u);
    assert_null(strstr(u, "0123456789abcdef"));
    assert_null(strstr(u, "e8d6d9a9"));
    assert_non_null(strstr(u, "SignatureVersion=2.0"));
    assert_int_equal(attr(&cs.s, "zim.call.events")->i, 3);
    assert_int_equal(attr(&cs.s, "http.request.resend_count")->i, 1);
    assert_int_equal(attr(&cs.s, "http.response.status_code")->i, 200);
    assert_string_equal(attr_str(&cs.s, "zim.request_id"),
                        "343649807833778782");
    /* It encodes: 3 links in the OTLP/JSON body. */
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(
        trace_otlp_json(NULL, 0, "zimbridge", "test", &cs.s.span, 1, &b), 0);
    size_t links = 0;
    for (const char *q = b.data; (q = strstr(q, "\"traceId\"")); q++)
        links++;
    assert_int_equal(links, 4); /* the span's own and 3 links */
    buf_free(&b);
    /* No event sampled: no call span. */
    evp[1].sampled = evp[2].sampled = false;
    assert_false(spans_client(&c, call_id, &cs));
}

/* More events than ZIM takes in one call are counted, not all linked. */
static void test_links_bounded(void **st)
{
    (void)st;
    static struct spans_process ev[101];
    static struct spans_ref evp[101];
    const struct spans_policy p = {.root_ratio = 1.0};
    for (int i = 0; i < 101; i++) {
        struct spans_record r = {.topic = "t", .group = "g", .offset = i};
        spans_process(&r, &p, new_trace, span_a, &ev[i]);
        spans_ref_of(&ev[i], &evp[i]);
    }
    struct spans_call c = {.action = "SendPeerMessage",
                           .method = "POST",
                           .server = "h",
                           .url = "https://h/?Action=SendPeerMessage",
                           .zim_code = -1,
                           .error_type = "timeout",
                           .events = evp,
                           .n_events = 101};
    static struct spans_client cs;
    assert_true(spans_client(&c, span_a, &cs));
    assert_int_equal(cs.s.span.n_links, 100);
    assert_int_equal(attr(&cs.s, "zim.call.events")->i, 101);
    assert_null(attr(&cs.s, "zim.code"));
    assert_null(attr(&cs.s, "http.response.status_code"));
    assert_int_equal(cs.s.span.status, TRACE_STATUS_ERROR);
    assert_string_equal(attr_str(&cs.s, "error.type"), "timeout");
}

/* The send span is a child of the event's process span, and its context
 * is the outcome record's traceparent. */
static void test_producer(void **st)
{
    (void)st;
    const char *tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    struct spans_record r = {.topic = "zim.peer",
                             .group = "g",
                             .traceparent = tp,
                             .traceparent_len = strlen(tp)};
    const struct spans_policy p = {.root_ratio = 0.0};
    struct spans_process ev;
    spans_process(&r, &p, new_trace, span_a, &ev);
    struct spans_ref ref;
    spans_ref_of(&ev, &ref);
    const uint8_t sid[SPAN_ID_BYTES] = {0x5e, 0x4d, 0, 0, 0, 0, 0, 2};
    struct spans_span out;
    char out_tp[TRACEPARENT_LEN + 1];
    spans_producer(&ref, "zim.reply", 1, 2, sid, NULL, &out, out_tp);
    assert_string_equal(out.span.name, "send zim.reply");
    assert_int_equal(out.span.kind, TRACE_KIND_PRODUCER);
    assert_memory_equal(out.span.parent_id, span_a, SPAN_ID_BYTES);
    assert_string_equal(
        out_tp, "00-0af7651916cd43dd8448eb211c80319c-5e4d000000000002-01");
    assert_string_equal(attr_str(&out, "messaging.operation.type"), "send");
    ref.sampled = false;
    spans_producer(&ref, "zim.reply", 1, 2, sid, NULL, &out, out_tp);
    assert_string_equal(
        out_tp, "00-0af7651916cd43dd8448eb211c80319c-5e4d000000000002-00");
}

static void test_redact_table(void **st)
{
    (void)st;
    static const struct {
        const char *in, *out;
    } t[] = {
        {"https://h/?Action=A&Signature=abc", "https://h/?Action=A&Signature="
                                              "REDACTED"},
        {"https://h/?SignatureNonce=12&Timestamp=1",
         "https://h/?SignatureNonce=REDACTED&Timestamp=1"},
        {"https://h/?SignatureVersion=2.0&XSignature=1",
         "https://h/?SignatureVersion=2.0&XSignature=1"},
        {"https://h/?Signature=a#frag", "https://h/?Signature=REDACTED#frag"},
        {"https://h/Signature=a", "https://h/Signature=a"}, /* not a query */
        {"https://h/?a=1&Signature=", "https://h/?a=1&Signature=REDACTED"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char out[256];
        spans_redact_url(t[i].in, out, sizeof(out));
        if (strcmp(out, t[i].out) != 0)
            fail_msg("case %zu: '%s' gave '%s'", i, t[i].in, out);
    }
    char small[12]; /* cut, never over the buffer */
    spans_redact_url("https://h/?Signature=abcdef", small, sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_process_parent_table),
        cmocka_unit_test(test_process_attributes),
        cmocka_unit_test(test_ignore_parent_flag),
        cmocka_unit_test(test_consts_same_json),
        cmocka_unit_test(test_packed_call),
        cmocka_unit_test(test_links_bounded),
        cmocka_unit_test(test_producer),
        cmocka_unit_test(test_redact_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
