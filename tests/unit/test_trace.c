/* test_trace.c - traceparent as W3C Trace Context says (its own examples
 * and each invalid form issue 24 names), the ratio sampler, and OTLP/JSON
 * as its specification says: hex ids, integer enums, 64-bit integers as
 * strings, a packed call's links. */
#include "json_strict.h"
#include "trace.h"
#include "utf8.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#define W3C "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static int parse(const char *s, struct trace_ctx *c)
{
    return trace_parse(s, strlen(s), c);
}

static void test_parse_valid(void **s)
{
    (void)s;
    struct trace_ctx c;
    assert_int_equal(parse(W3C, &c), 0);
    static const uint8_t tid[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3,
                                    0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d,
                                    0x0e, 0x0e, 0x47, 0x36};
    static const uint8_t sid[8] = {0x00, 0xf0, 0x67, 0xaa,
                                   0x0b, 0xa9, 0x02, 0xb7};
    assert_memory_equal(c.trace_id, tid, 16);
    assert_memory_equal(c.span_id, sid, 8);
    assert_int_equal(c.flags, TRACE_FLAG_SAMPLED);
    char out[TRACEPARENT_LEN + 1];
    trace_format(&c, out);
    assert_string_equal(out, W3C);
    /* not sampled */
    assert_int_equal(
        parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", &c),
        0);
    assert_int_equal(c.flags, 0);
    /* a later version may carry more fields, after a dash */
    assert_int_equal(
        parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what",
              &c),
        0);
    assert_int_equal(
        parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09", &c),
        0);
    assert_int_equal(c.flags, 9);
}

static void test_parse_invalid(void **s)
{
    (void)s;
    static const char *const bad[] = {
        "",
        "00",
        /* uppercase hex */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
        /* all-zero ids */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        /* version ff */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        /* wrong lengths */
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        /* not hex, wrong separators, spaces */
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736 00f067aa0ba902b7-01",
        " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e47z6-00f067aa0ba902b7-01",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct trace_ctx c;
        memset(&c, 0xab, sizeof(c));
        if (parse(bad[i], &c) != -1)
            fail_msg("accepted: '%s'", bad[i]);
        static const struct trace_ctx zero;
        assert_memory_equal(&c, &zero, sizeof(c));
    }
    /* a NUL inside is not hex */
    char nul[TRACEPARENT_LEN];
    memcpy(nul, W3C, TRACEPARENT_LEN);
    nul[10] = '\0';
    struct trace_ctx c;
    assert_int_equal(trace_parse(nul, TRACEPARENT_LEN, &c), -1);
}

static void test_ratio(void **s)
{
    (void)s;
    uint8_t id[16] = {0};
    int yes = 0;
    for (int i = 0; i < 4096; i++) {
        /* spread over the last 8 bytes, deterministically */
        uint64_t v = (uint64_t)i * (uint64_t)0x9e3779b97f4a7c15ULL;
        for (int k = 0; k < 8; k++)
            id[8 + k] = (uint8_t)(v >> (56 - 8 * k));
        yes += trace_ratio_sampled(id, 0.25);
        assert_false(trace_ratio_sampled(id, 0));
        assert_true(trace_ratio_sampled(id, 1));
        assert_true(trace_ratio_sampled(id, 0.99999999999999999));
        /* the same id, the same answer */
        assert_int_equal(trace_ratio_sampled(id, 0.25),
                         trace_ratio_sampled(id, 0.25));
    }
    assert_in_range(yes, 4096 / 4 - 100, 4096 / 4 + 100);
    memset(id + 8, 0xff, 8);
    assert_false(trace_ratio_sampled(id, 0.5));
    memset(id + 8, 0, 8);
    assert_true(trace_ratio_sampled(id, 1e-12));
}

/* A packed call of 3 events: one CLIENT span, a link to each input. */
static void test_otlp_json(void **s)
{
    (void)s;
    struct trace_ctx in[3];
    assert_int_equal(
        parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
              &in[0]),
        0);
    assert_int_equal(parse(W3C, &in[1]), 0);
    assert_int_equal(
        parse("00-11111111111111111111111111111111-2222222222222222-00",
              &in[2]),
        0);
    struct trace_link links[3];
    for (int i = 0; i < 3; i++) {
        memcpy(links[i].trace_id, in[i].trace_id, 16);
        memcpy(links[i].span_id, in[i].span_id, 8);
    }
    const struct trace_attr attrs[] = {
        {"http.request.method", TRACE_ATTR_STRING, "POST", 0, false},
        {"http.response.status_code", TRACE_ATTR_INT, NULL, 200, false},
        {"zim.call.events", TRACE_ATTR_INT, NULL, 3, false},
        {"zim.request_id", TRACE_ATTR_STRING, "343649807833778782", 0, false},
        {"zim.message", TRACE_ATTR_STRING, "成功 \"ok\"\n", 0, false},
        {"zim.packed", TRACE_ATTR_BOOL, NULL, 0, true},
    };
    struct trace_span sp = {
        .trace_id = {0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48,
                     0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c},
        .span_id = {1, 2, 3, 4, 5, 6, 7, 8},
        .parent_id = {0},
        .name = "POST",
        .kind = TRACE_KIND_CLIENT,
        .start_ns = 1795341600000000000LL,
        .end_ns = 1795341600005000000LL,
        .attrs = attrs,
        .n_attrs = sizeof(attrs) / sizeof(attrs[0]),
        .links = links,
        .n_links = 3,
        .status = TRACE_STATUS_ERROR,
        .status_message = "\xff bad",
    };
    const struct trace_attr res[] = {
        {"service.name", TRACE_ATTR_STRING, "zimbridge", 0, false}};
    struct buf b;
    buf_init(&b, 1 << 16);
    assert_int_equal(trace_otlp_json(res, 1, "zimbridge", "0.1.0", &sp, 1, &b),
                     0);
    static const char want[] =
        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":"
        "\"service.name\",\"value\":{\"stringValue\":\"zimbridge\"}}]},"
        "\"scopeSpans\":[{\"scope\":{\"name\":\"zimbridge\",\"version\":"
        "\"0.1.0\"},\"spans\":[{\"traceId\":"
        "\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":\"0102030405060708\","
        "\"name\":\"POST\",\"kind\":3,\"startTimeUnixNano\":"
        "\"1795341600000000000\",\"endTimeUnixNano\":\"1795341600005000000\","
        "\"attributes\":[{\"key\":\"http.request.method\",\"value\":"
        "{\"stringValue\":\"POST\"}},{\"key\":\"http.response.status_code\","
        "\"value\":{\"intValue\":\"200\"}},{\"key\":\"zim.call.events\","
        "\"value\":{\"intValue\":\"3\"}},{\"key\":\"zim.request_id\",\"value\":"
        "{\"stringValue\":\"343649807833778782\"}},{\"key\":\"zim.message\","
        "\"value\":{\"stringValue\":\"成功 \\\"ok\\\"\\u000a\"}},{\"key\":"
        "\"zim.packed\",\"value\":{\"boolValue\":true}}],\"links\":["
        "{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":"
        "\"b7ad6b7169203331\"},{\"traceId\":"
        "\"4bf92f3577b34da6a3ce929d0e0e4736\",\"spanId\":\"00f067aa0ba902b7\"},"
        "{\"traceId\":\"11111111111111111111111111111111\",\"spanId\":"
        "\"2222222222222222\"}],\"status\":{\"code\":2,\"message\":"
        "\"\\ufffd bad\"}}]}]}]}";
    assert_string_equal(b.data, want);
    /* strict JSON, valid UTF-8 */
    struct json_strict_error e;
    assert_int_equal(json_strict_check(b.data, b.len, 16, NULL, NULL, &e), 0);
    assert_true(utf8_valid(b.data, b.len, NULL, NULL));
    /* a child span names its parent; a root has no parentSpanId */
    buf_reset(&b);
    sp.n_links = 0;
    sp.n_attrs = 0;
    sp.status = TRACE_STATUS_UNSET;
    sp.status_message = NULL;
    sp.kind = TRACE_KIND_CONSUMER;
    memcpy(sp.parent_id, in[0].span_id, 8);
    assert_int_equal(trace_otlp_json(NULL, 0, "zimbridge", "0.1.0", &sp, 1, &b),
                     0);
    assert_non_null(strstr(b.data, ",\"parentSpanId\":\"b7ad6b7169203331\","));
    assert_non_null(strstr(b.data, "\"kind\":5,"));
    /* UNSET with no message: left out (proto3 JSON's default) */
    assert_non_null(strstr(b.data, "\"attributes\":[]}"));
    assert_null(strstr(b.data, "status"));
    assert_null(strstr(b.data, "links"));
    /* over the limit: -1, poisoned */
    struct buf small;
    buf_init(&small, 64);
    assert_int_equal(
        trace_otlp_json(res, 1, "zimbridge", "0.1.0", &sp, 1, &small), -1);
    buf_free(&small);
    buf_free(&b);
}

/* key=value lists (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES). */
static int collect(void *ctx, const char *k, const char *v)
{
    struct buf *b = ctx;
    return buf_printf(b, "[%s|%s]", k, v);
}

static void test_kv(void **s)
{
    (void)s;
    static const struct {
        const char *in, *out; /* out NULL: refused */
    } t[] = {
        {"", ""},
        {"a=1", "[a|1]"},
        {" api-key = s%3Dcr%2Cet , x=y ", "[api-key|s=cr,et][x|y]"},
        {"deployment.environment=生产,team=チーム",
         "[deployment.environment|生产]"
         "[team|チーム]"},
        {"a=1,,b=2,", "[a|1][b|2]"},
        {"k=", "[k|]"},
        {"a=%E2%9C%93", "[a|\xe2\x9c\x93]"},
        {"novalue", NULL},
        {"=v", NULL},
        {"a b=1", NULL},
        {"a=x%0D%0AInjected: 1", NULL}, /* CR LF: a header injection */
        {"a=%4", NULL},
        {"a=%zz", NULL},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct buf b;
        buf_init(&b, 4096);
        buf_puts(&b, "");
        char err[256] = "";
        int rc = trace_kv_parse(t[i].in, collect, &b, err, sizeof(err));
        if (t[i].out == NULL) {
            if (rc != -1)
                fail_msg("case %zu '%s' was taken: %s", i, t[i].in, b.data);
            assert_null(strstr(err, "Injected"));
        } else {
            if (rc != 0)
                fail_msg("case %zu '%s' refused: %s", i, t[i].in, err);
            assert_string_equal(b.data, t[i].out);
        }
        buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_otlp_json),
        cmocka_unit_test(test_kv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
