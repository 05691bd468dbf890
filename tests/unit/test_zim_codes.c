/* test_zim_codes.c - the reference's return codes and ours are known,
 * anything else folds into "other". */
#include "event.h"
#include "outcome.h"
#include "zim_codes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static void test_known(void **s)
{
    (void)s;
    /* Public (5.1) and business (5.2) codes from every part of the table,
     * the ones validation and outcome.c use, and the project's own. */
    static const int64_t known[] = {0,
                                    1,
                                    2,
                                    3,
                                    7,
                                    50014,
                                    51102,
                                    105001,
                                    100000000,
                                    100000004,
                                    100000017,
                                    660000001,
                                    660000002,
                                    660000011,
                                    660000012,
                                    660000025,
                                    660300001,
                                    660300005,
                                    660300013,
                                    660400001,
                                    660500002,
                                    660600001,
                                    660600030,
                                    660900008,
                                    ZB_CODE_UNREADABLE,
                                    ZB_CODE_UNKNOWN_FIELD,
                                    ZB_CODE_TRANSPORT,
                                    ZB_CODE_HTTP,
                                    ZB_CODE_BAD_ANSWER};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (!zim_code_known(known[i]))
            fail_msg("%lld should be known", (long long)known[i]);
        assert_int_equal(zim_code_label(known[i]), known[i]);
    }
    static const int64_t unknown[] = {
        -1,        4,         8,         660000000, 660000004, 660999999,
        900000000, 900000013, INT64_MAX, INT64_MIN, 100000018, 1000000000};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        if (zim_code_known(unknown[i]))
            fail_msg("%lld should not be known", (long long)unknown[i]);
        assert_int_equal(zim_code_label(unknown[i]), ZIM_CODE_OTHER);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
