/* test_dlq.c - cutting a DLQ record the DLQ topic refuses as too large,
 * and reading DLQ headers back. */
#include "dlq.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

static void test_cut_halves_and_marks(void **s)
{
    (void)s;
    struct buf v;
    char h[32];
    buf_init(&v, 1 << 16);
    assert_int_equal(buf_puts(&v, "0123456789"), 0);
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(4);
    rd_kafka_header_add(hdrs, "zim.failure.class", -1, "validation", -1);

    assert_int_equal(dlq_cut(&v, hdrs, 70000), 0);
    assert_string_equal(v.data, "01234");
    assert_string_equal(dlq_header(hdrs, "zim.value.truncated", h, sizeof(h)),
                        "70000");
    assert_int_equal(dlq_cut(&v, hdrs, 70000), 0);
    assert_string_equal(v.data, "01");
    /* Marked once, however many times it is cut. */
    size_t n = 0;
    const void *val;
    size_t len;
    while (rd_kafka_header_get(hdrs, n, "zim.value.truncated", &val, &len) ==
           RD_KAFKA_RESP_ERR_NO_ERROR)
        n++;
    assert_int_equal(n, 1);
    assert_string_equal(dlq_header(hdrs, "zim.failure.class", h, sizeof(h)),
                        "validation");

    assert_int_equal(dlq_cut(&v, hdrs, 70000), 0);
    assert_int_equal(dlq_cut(&v, hdrs, 70000), 0);
    assert_int_equal(v.len, 0);
    assert_int_equal(dlq_cut(&v, hdrs, 70000), -1); /* nothing left */
    rd_kafka_headers_destroy(hdrs);
    buf_free(&v);
}

static void test_parse_time(void **s)
{
    (void)s;
    int64_t ms = 0;
    assert_int_equal(dlq_parse_time("2026-11-22T10:00:00.5Z", &ms), 0);
    assert_int_equal(ms, 1795341600500LL);
    assert_int_equal(dlq_parse_time("1795341600", &ms), 0);
    assert_int_equal(ms, 1795341600000LL);
    assert_int_equal(dlq_parse_time("9223372036854775807", &ms), -1);
    assert_int_equal(dlq_parse_time("yesterday", &ms), -1);
    /* Offsets are exactly +hh:mm: short forms read past the string's end
     * before (ASan: heap-buffer-overflow on the header's copy). */
    assert_int_equal(dlq_parse_time("2026-11-22T10:00:00+08:00", &ms), 0);
    assert_int_equal(ms, 1795341600000LL - 8 * 3600000LL);
    assert_int_equal(dlq_parse_time("2026-11-22T10:00:00-01:30", &ms), 0);
    assert_int_equal(ms, 1795341600000LL + 90 * 60000LL);
    static const char *const bad[] = {
        "2026-11-22T10:00:00+5:3",   "2026-11-22T10:00:00+05",
        "2026-11-22T10:00:00+",      "2026-11-22T10:00:00+05:3",
        "2026-11-22T10:00:00+0530",  "2026-11-22T10:00:00+24:00",
        "2026-11-22T10:00:00+05:30x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* Each on the heap, exactly its length: a read past it fails. */
        size_t n = strlen(bad[i]) + 1;
        char *h = malloc(n);
        memcpy(h, bad[i], n);
        if (dlq_parse_time(h, &ms) != -1)
            fail_msg("%s accepted", bad[i]);
        free(h);
    }
}

/* A partial's DLQ value: the event narrowed to its own recipients that
 * ZIM names as failed, in the event's order; anything else ZIM names is
 * not ours to replay. */
static void test_narrow_table(void **s)
{
    (void)s;
    static const struct {
        const char *errors, *want_to;
    } t[] = {
        {"[{\"UserId\":\"c\",\"SubCode\":1},{\"UserId\":\"a\"}]",
         "[\"a\",\"c\"]"},
        {"[{\"UserId\":\"b\"}]", "[\"b\"]"},
        {"[{\"UserId\":\"stranger\"},{\"UserId\":\"b\"}]", "[\"b\"]"},
        {"[{\"UserId\":7},{\"SubCode\":1}]", "[]"},
        {"[]", "[]"},
    };
    const char *ev = "{\"FromUserId\":\"u\",\"ToUserId\":[\"a\",\"b\",\"c\"],"
                     "\"MessageType\":1,\"Priority\":1,"
                     "\"MessageBody\":{\"Message\":\"hi\"}}";
    struct json_object *root = json_tokener_parse(ev);
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct json_object *errs = json_tokener_parse(t[i].errors);
        struct buf out;
        buf_init(&out, 1 << 16);
        assert_int_equal(dlq_narrow(root, errs, &out), 0);
        struct json_object *got = json_tokener_parse(out.data), *to = NULL;
        assert_true(json_object_object_get_ex(got, "ToUserId", &to));
        assert_string_equal(
            json_object_to_json_string_ext(to, JSON_C_TO_STRING_PLAIN),
            t[i].want_to);
        /* Everything else is the event's. */
        struct json_object *body = NULL;
        assert_true(json_object_object_get_ex(got, "MessageBody", &body));
        json_object_put(got);
        json_object_put(errs);
        buf_free(&out);
    }
    /* Over the buffer's bound: -1 and nothing half-built to produce. */
    struct json_object *errs = json_tokener_parse("[{\"UserId\":\"a\"}]");
    struct buf out;
    buf_init(&out, 16);
    assert_int_equal(dlq_narrow(root, errs, &out), -1);
    assert_true(buf_failed(&out));
    assert_null(out.data);
    json_object_put(errs);
    json_object_put(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_halves_and_marks),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_narrow_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
