/* test_window.c - the rolling window of broadcast's daily quota. */
#include "window.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static void test_window(void **s)
{
    (void)s;
    struct window *w = window_new(3, 1000);
    assert_false(window_full(w, 0));
    window_add(w, 0);
    window_add(w, 100);
    window_add(w, 200);
    assert_true(window_full(w, 300));
    assert_int_equal(window_frees_at(w, 300), 1000);
    assert_false(window_full(w, 1000));
    assert_int_equal(window_count(w, 1150), 1);
    /* Two replicas: two thirds of 3 = 2. */
    window_set_share(w, 0.67);
    assert_int_equal(window_limit(w), 2);
    window_add(w, 1100);
    assert_true(window_full(w, 1150));
    assert_int_equal(window_frees_at(w, 1150), 1200); /* 200 + 1000 */
    window_destroy(w);
    w = window_new(0, 1000); /* unlimited */
    window_add(w, 1);
    assert_false(window_full(w, 2));
    window_destroy(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
