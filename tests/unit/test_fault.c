/* test_fault.c - ZB_FAULTS' grammar and counting (test builds only). */
#include "fault.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static void test_counts(void **s)
{
    (void)s;
    assert_int_equal(fault_arm("job:2:1,sched:0:2"), 0);
    /* job: the 3rd call fails, only it */
    assert_false(fault_fail(FAULT_JOB));
    assert_false(fault_fail(FAULT_JOB));
    assert_true(fault_fail(FAULT_JOB));
    assert_false(fault_fail(FAULT_JOB));
    /* sched: the first two */
    assert_true(fault_fail(FAULT_SCHED));
    assert_true(fault_fail(FAULT_SCHED));
    assert_false(fault_fail(FAULT_SCHED));
    /* not armed: never */
    for (int i = 0; i < 10; i++)
        assert_false(fault_fail(FAULT_TRACK));
}

static void test_malformed(void **s)
{
    (void)s;
    static const char *const bad[] = {
        "job",      "job:1", "job:1:",    "jobs:1:1",  "job:x:1",
        "job:-1:1", ":1:1",  "job:1:1:1", "job:1:1;x", "job:1234567890:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(fault_arm(bad[i]), -1);
        assert_false(fault_fail(FAULT_JOB)); /* nothing armed */
    }
    assert_int_equal(fault_arm(""), 0);
    assert_int_equal(fault_arm(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
