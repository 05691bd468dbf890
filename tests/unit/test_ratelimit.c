/* test_ratelimit.c - bucket rates, shares and AIMD, driven by a fake
 * clock. */
#include "ratelimit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Calls admitted in [0, ms) when tried every millisecond. */
static int admitted(struct ratelimit *rl, int64_t from, int64_t ms)
{
    int n = 0;
    for (int64_t t = from; t < from + ms; t++)
        n += ratelimit_take(rl, t);
    return n;
}

/* A loop that wakes late (up to 3 ms) must still never put more than the
 * quota into any sliding second. */
static void test_sliding_window_bound(void **s)
{
    (void)s;
    struct ratelimit *rl = ratelimit_new(20, 1, 0.02);
    int64_t times[400];
    int n = 0;
    uint64_t x = 88172645463325252ULL;
    for (int64_t t = 0; t < 20000 && n < 400;) {
        if (ratelimit_take(rl, t))
            times[n++] = t;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t w = ratelimit_wait_ms(rl, t);
        t += (w > 0 ? w : 1) + (int64_t)(x % 4);
    }
    for (int i = 20; i < n; i++)
        assert_true(times[i] - times[i - 20] >= 1000);
    assert_true(n >= 380); /* and the rate is still used: >= 19/s */
    ratelimit_destroy(rl);
}

static void test_rate_and_share(void **s)
{
    (void)s;
    struct ratelimit *rl = ratelimit_new(20, 1, 0.02);
    int n = admitted(rl, 0, 10000);
    assert_in_range(n, 196, 197); /* 19.6/s, polling loses nothing */
    /* No second of the run exceeds the quota. */
    struct ratelimit *r2 = ratelimit_new(20, 1, 0.02);
    for (int sec = 0; sec < 5; sec++)
        assert_true(admitted(r2, sec * 1000, 1000) <= 20);
    /* Half the partitions: half the rate. */
    ratelimit_set_share(rl, 0.5, 10000);
    n = admitted(rl, 10000, 10000);
    assert_in_range(n, 97, 99);
    ratelimit_set_share(rl, 0, 20000);
    assert_int_equal(admitted(rl, 20001, 5000), 0);
    assert_int_equal(ratelimit_wait_ms(rl, 30000), -1);
    /* Partitions gained: nothing for a second, then the new share. */
    ratelimit_set_share(rl, 0.5, 30000);
    assert_true(ratelimit_rate(rl) == 0);
    assert_true(ratelimit_goal(rl) > 9.79 && ratelimit_goal(rl) < 9.81);
    assert_int_equal(ratelimit_wait_ms(rl, 30000), 1000);
    assert_int_equal(admitted(rl, 30000, 1000), 0);
    n = admitted(rl, 31000, 10000);
    assert_in_range(n, 97, 99);
    ratelimit_destroy(rl);
    ratelimit_destroy(r2);
    /* 0 = unlimited. */
    rl = ratelimit_new(0, 1, 0);
    assert_int_equal(admitted(rl, 0, 100), 100);
    ratelimit_destroy(rl);
}

static void test_aimd(void **s)
{
    (void)s;
    struct ratelimit *rl = ratelimit_new(10, 1, 0);
    assert_true(ratelimit_rate(rl) > 9.99);
    ratelimit_throttled(rl, 0);
    assert_true(ratelimit_rate(rl) < 7.01 && ratelimit_rate(rl) > 6.99);
    ratelimit_throttled(rl, 0);
    assert_true(ratelimit_rate(rl) < 4.91);
    for (int i = 0; i < 20; i++)
        ratelimit_throttled(rl, 0);
    assert_true(ratelimit_rate(rl) >= 0.99); /* floor: 10 % */
    /* +5 % of the target per second: back to 10 within 20 s. */
    ratelimit_take(rl, 10000);
    assert_true(ratelimit_rate(rl) > 5.9 && ratelimit_rate(rl) < 6.1);
    ratelimit_take(rl, 30000);
    assert_true(ratelimit_rate(rl) > 9.99);
    ratelimit_destroy(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_and_share),
        cmocka_unit_test(test_sliding_window_bound),
        cmocka_unit_test(test_aimd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
