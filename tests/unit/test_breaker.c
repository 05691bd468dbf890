/* test_breaker.c - the breaker's transitions, probes and backoff. */
#include "breaker.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static void test_systemic_opens_at_once(void **s)
{
    (void)s;
    struct breaker b;
    breaker_init(&b, 5, 1000, 8000);
    assert_true(breaker_allow(&b, 0));
    assert_true(breaker_record(&b, BREAKER_SYSTEMIC, 100000005, 10));
    assert_int_equal(b.state, BREAKER_OPEN);
    assert_int_equal(b.reason_code, 100000005);
    assert_false(breaker_allow(&b, 500));
    assert_int_equal(breaker_wait_ms(&b, 500), 510);
    assert_true(breaker_allow(&b, 1010)); /* the first probe */
    breaker_probe_sent(&b, 1010);
    assert_false(breaker_allow(&b, 1011)); /* one at a time */
    /* A failing probe doubles the wait, up to the cap. */
    assert_false(breaker_record(&b, BREAKER_SYSTEMIC, 100000005, 1100));
    assert_int_equal(breaker_wait_ms(&b, 1100), 2000);
    for (int i = 0; i < 5; i++) {
        int64_t t = b.next_probe_ms;
        breaker_probe_sent(&b, t);
        breaker_record(&b, BREAKER_TRANSPORT, 0, t);
    }
    assert_int_equal(b.interval_ms, 8000);
    /* Answers to calls sent before it opened change nothing. */
    assert_false(breaker_record(&b, BREAKER_OK, 0, b.next_probe_ms - 1));
    assert_int_equal(b.state, BREAKER_OPEN);
    int64_t t = b.next_probe_ms;
    breaker_probe_sent(&b, t);
    assert_true(breaker_record(&b, BREAKER_OK, 0, t + 5));
    assert_int_equal(b.state, BREAKER_CLOSED);
    assert_int_equal(breaker_open_ms(&b, t + 100), t + 5 - 10);
}

static void test_transport_needs_a_run(void **s)
{
    (void)s;
    struct breaker b;
    breaker_init(&b, 3, 100, 1000);
    breaker_record(&b, BREAKER_TRANSPORT, 0, 1);
    breaker_record(&b, BREAKER_TRANSPORT, 0, 2);
    breaker_record(&b, BREAKER_OK, 0, 3); /* the run is broken */
    breaker_record(&b, BREAKER_TRANSPORT, 0, 4);
    breaker_record(&b, BREAKER_TRANSPORT, 0, 5);
    assert_int_equal(b.state, BREAKER_CLOSED);
    assert_true(breaker_record(&b, BREAKER_TRANSPORT, 0, 6));
    assert_int_equal(b.state, BREAKER_OPEN);
    assert_int_equal(b.reason_code, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_systemic_opens_at_once),
        cmocka_unit_test(test_transport_needs_a_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
