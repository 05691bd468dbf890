/* test_dlq.c - cutting a DLQ record the DLQ topic refuses as too large,
 * and reading DLQ headers back. */
#include "dlq.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_halves_and_marks),
        cmocka_unit_test(test_parse_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
