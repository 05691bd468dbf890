/* test_buf.c - the bound holds, JSON escaping is exact. */
#include "buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void test_bound(void **s)
{
    (void)s;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "0123456789"), 0);
    assert_int_equal(b.len, 10);
    assert_false(buf_failed(&b));
    /* Past the bound: poisoned, nothing half-built is left to use, and
     * appends that would fit fail too, until a reset. */
    assert_int_equal(buf_puts(&b, "x"), -1);
    assert_true(buf_failed(&b));
    assert_int_equal(b.len, 0);
    assert_null(b.data);
    assert_int_equal(buf_puts(&b, ""), -1);
    assert_int_equal(buf_json_str(&b, "a", 1), -1);
    buf_truncate(&b, 0);
    assert_null(b.data);
    buf_reset(&b);
    assert_false(buf_failed(&b));
    assert_int_equal(buf_printf(&b, "%d-%s", 42, "ab"), 0);
    assert_string_equal(b.data, "42-ab");
    assert_int_equal(buf_printf(&b, "%s", "toolong"), -1);
    assert_true(buf_failed(&b));
    assert_null(b.data);
    buf_reset(&b);
    assert_int_equal(buf_printf(&b, "%d-%s", 42, "ab"), 0);
    buf_truncate(&b, 9); /* longer than it is: unchanged */
    assert_string_equal(b.data, "42-ab");
    buf_truncate(&b, 2);
    assert_int_equal(b.len, 2);
    assert_string_equal(b.data, "42");
    buf_free(&b);
}

/* buf_printf formats in place when the text fits in what is allocated,
 * and grows (or poisons at the bound) when it does not: each path gives
 * the same bytes, NUL-terminated. */
static void test_printf_paths(void **s)
{
    (void)s;
    struct buf b;
    buf_init(&b, 300);
    assert_int_equal(buf_puts(&b, "ab"), 0); /* 256 bytes allocated */
    assert_int_equal(buf_printf(&b, "[%d]", 7), 0);
    assert_string_equal(b.data, "ab[7]");
    char big[260];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    /* Does not fit in 256: grows, and the first attempt leaves no trace. */
    assert_int_equal(buf_printf(&b, "%s", big), 0);
    assert_int_equal(b.len, 5 + 259);
    assert_int_equal(strncmp(b.data, "ab[7]xxx", 8), 0);
    assert_int_equal(b.data[b.len], '\0');
    /* Exactly to the bound, then one past it. */
    assert_int_equal(buf_printf(&b, "%0*d", 300 - 264, 1), 0);
    assert_int_equal(b.len, 300);
    assert_int_equal(b.data[299], '1');
    assert_int_equal(buf_printf(&b, "%c", 'z'), -1);
    assert_true(buf_failed(&b));
    buf_reset(&b);
    /* Bounded below the allocation: the bound still holds. */
    assert_int_equal(buf_puts(&b, "0123456789"), 0);
    b.limit = 12;
    assert_int_equal(buf_printf(&b, "%s", "abc"), -1);
    assert_true(buf_failed(&b));
    buf_free(&b);
}

/* Integers as printf would write them, the extremes included. */
static void test_put_i64(void **s)
{
    (void)s;
    struct buf b;
    buf_init(&b, 200);
    const int64_t v[] = {0, 7, -7, 1000000, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char want[32];
        snprintf(want, sizeof(want), "%" PRId64, v[i]);
        buf_reset(&b);
        assert_int_equal(buf_put_i64(&b, v[i]), 0);
        assert_string_equal(b.data, want);
    }
    buf_reset(&b);
    assert_int_equal(buf_put_field(&b, "{\"offset\":", 42), 0);
    assert_string_equal(b.data, "{\"offset\":42");
    buf_free(&b);
    /* The bound holds for numbers too. */
    buf_init(&b, 3);
    assert_int_equal(buf_put_i64(&b, 1234), -1);
    assert_true(buf_failed(&b));
    buf_free(&b);
}

static void test_json_str(void **s)
{
    (void)s;
    struct buf b;
    buf_init(&b, 100);
    const char in[] = "a\"b\\c\n\x01\xc3\xa9";
    assert_int_equal(buf_json_str(&b, in, sizeof(in) - 1), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9\"");
    buf_reset(&b);
    assert_int_equal(buf_json_str(&b, "x\0y", 3), 0);
    assert_string_equal(b.data, "\"x\\u0000y\"");
    /* Chat text stays as it is; what is not UTF-8 (a string cut in a
     * character, an overlong form) becomes U+FFFD, so the output is JSON
     * every strict reader takes. */
    buf_reset(&b);
    const char zh[] = "\xe4\xbd\xa0\xe5\xa5\xbd\xf0\x9f\x98\x80";
    assert_int_equal(buf_json_str(&b, zh, sizeof(zh) - 1), 0);
    assert_string_equal(b.data, "\"\xe4\xbd\xa0\xe5\xa5\xbd\xf0\x9f\x98\x80\"");
    buf_reset(&b);
    assert_int_equal(buf_json_str(&b, zh, 5), 0); /* 你 and half of 好 */
    assert_string_equal(b.data, "\"\xe4\xbd\xa0\\ufffd\\ufffd\"");
    buf_reset(&b);
    assert_int_equal(buf_json_str(&b,
                                  "a\xc0\xaf"
                                  "b",
                                  4),
                     0);
    assert_string_equal(b.data, "\"a\\ufffd\\ufffdb\"");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_printf_paths),
        cmocka_unit_test(test_put_i64),
        cmocka_unit_test(test_json_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
