/* test_buf.c - the bound holds, JSON escaping is exact. */
#include "buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_json_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
