/* test_offsets.c - a partition's commit position, and the commit window's
 * admission rule, as tables. */
#include "offsets.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Records finish out of order: the commit moves only over a done prefix,
 * and a commit forgets what it covers. */
static void test_commit_position(void **st)
{
    (void)st;
    struct offsets o;
    offsets_init(&o);
    for (int64_t off = 10; off < 15; off++)
        assert_int_equal(offsets_track(&o, off), 0);
    static const struct {
        int64_t done;   /* offset marked done */
        int64_t commit; /* the offset to commit now, -1: unchanged */
        int64_t holder; /* the offset holding the commit back after it */
    } t[] = {
        {12, -1, 10}, /* a later one: 10 still holds the commit */
        {10, 11, 11}, /* the oldest: commit moves to 11 */
        {11, 13, 13}, /* 11, and 12 already done: commit moves to 13 */
        {11, -1, 13}, /* done twice: nothing moves */
        {99, -1, 13}, /* never tracked: ignored */
        {14, -1, 13}, {13, 15, -1}, /* all done: last + 1 */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(offsets_done(&o, t[i].done), t[i].commit);
        for (int64_t off = 10; off < 15; off++)
            assert_int_equal(offsets_holds_commit(&o, off), off == t[i].holder);
    }
    offsets_free(&o);
}

/* The window counts records sent and not committed: each once, and a
 * commit releases exactly the sent ones it covers. */
static void test_window_count(void **st)
{
    (void)st;
    struct offsets o;
    offsets_init(&o);
    for (int64_t off = 0; off < 200; off++) /* grows the ring past 64 */
        assert_int_equal(offsets_track(&o, off), 0);
    assert_true(offsets_sent(&o, 0));
    assert_false(offsets_sent(&o, 0)); /* a retry: counted once */
    assert_true(offsets_sent(&o, 1));
    assert_true(offsets_sent(&o, 150));
    assert_false(offsets_sent(&o, 500)); /* not tracked */
    assert_int_equal(o.nsent, 3);
    offsets_done(&o, 0);
    offsets_done(&o, 1);
    assert_int_equal(offsets_done(&o, 2), 3); /* 2 was never sent (invalid) */
    /* A commit of 2 covers 0 and 1 only; 2 stays until a commit covers it. */
    assert_int_equal(offsets_release(&o, 2), 2);
    assert_int_equal(o.nsent, 1);
    assert_int_equal(o.n, 198);
    /* A commit beyond what is done releases only the done prefix. */
    assert_int_equal(offsets_release(&o, 190), 0);
    assert_int_equal(o.n, 197);
    assert_true(offsets_holds_commit(&o, 3));
    /* Tracking continues in order after a release wrapped the ring. */
    for (int64_t off = 200; off < 400; off++)
        assert_int_equal(offsets_track(&o, off), 0);
    for (int64_t off = 3; off < 400; off++)
        offsets_done(&o, off);
    assert_int_equal(offsets_release(&o, 400), 1); /* 150 */
    assert_int_equal(o.n, 0);
    assert_int_equal(o.nsent, 0);
    offsets_free(&o);
}

#define NEW                                                                    \
    {                                                                          \
        false, false                                                           \
    }
#define HOLDER                                                                 \
    {                                                                          \
        false, true                                                            \
    }
#define RETRY                                                                  \
    {                                                                          \
        true, false                                                            \
    }

/* Who may go, for windows of 8 with 2 partitions (2 slots reserved for the
 * records holding back commits). */
static void test_admission_table(void **st)
{
    (void)st;
    static const struct {
        int64_t used, max, parts;
        struct offsets_cand c;
        bool want;
    } t[] = {
        {0, 8, 2, NEW, true},    /* room */
        {5, 8, 2, NEW, true},    /* the last unreserved slot */
        {6, 8, 2, NEW, false},   /* only reserved slots left */
        {6, 8, 2, HOLDER, true}, /* a commit holder takes one */
        {7, 8, 2, HOLDER, true},
        {8, 8, 2, HOLDER, false}, /* full */
        {8, 8, 2, RETRY, true},   /* a retry is in the window already */
        {50, 8, 2, RETRY, true},
        {0, 1, 6, NEW, false}, /* window 1: one slot, reserved */
        {0, 1, 6, HOLDER, true},
        {1, 1, 6, HOLDER, false},
        {31, 64, 100, NEW, true}, /* reserved at most half the window */
        {32, 64, 100, NEW, false},
        {62, 64, 1, NEW, true}, /* one partition: one slot reserved */
        {63, 64, 1, NEW, false},
        {0, 64, 0, NEW, true}, /* no partitions: still one reserved */
        {63, 64, 0, NEW, false},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct offsets_window w = {t[i].used, t[i].max, t[i].parts};
        if (offsets_may_send(&w, t[i].c) != t[i].want)
            fail_msg("case %zu: used %lld of %lld, %lld partitions: want %d", i,
                     (long long)t[i].used, (long long)t[i].max,
                     (long long)t[i].parts, t[i].want);
    }
    struct offsets_window w = {0, 64, 100};
    assert_int_equal(offsets_reserved(&w), 32);
}

/* Which ready record goes, best first. The regression: a retry waiting
 * behind records the full window holds back was never sent (only the best
 * was tried), so its partition never committed again (the stall fixed in
 * 567d708). */
static void test_choose_table(void **st)
{
    (void)st;
    static const struct {
        int64_t used, max, parts;
        struct offsets_cand c[4];
        size_t n;
        ptrdiff_t want;
    } t[] = {
        {0, 8, 2, {NEW, NEW}, 2, 0},                /* room: the best */
        {8, 8, 2, {NEW, NEW, RETRY}, 3, 2},         /* the stall: the retry */
        {8, 8, 2, {HOLDER, NEW, RETRY}, 3, 2},      /* full: not the holder */
        {7, 8, 2, {NEW, NEW, HOLDER, RETRY}, 4, 2}, /* reserved: the holder */
        {7, 8, 2, {NEW, NEW}, 2, -1},               /* none may go */
        {8, 8, 2, {NEW}, 1, -1},
        {0, 8, 2, {NEW}, 0, -1}, /* nothing ready */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct offsets_window w = {t[i].used, t[i].max, t[i].parts};
        ptrdiff_t got = offsets_choose(&w, t[i].c, t[i].n);
        if (got != t[i].want)
            fail_msg("case %zu: want %td got %td", i, t[i].want, got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_position),
        cmocka_unit_test(test_window_count),
        cmocka_unit_test(test_admission_table),
        cmocka_unit_test(test_choose_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
