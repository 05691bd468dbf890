/* test_offsets.c - a partition's commit point and its finished-offsets
 * metadata, what a restart skips, and the commit window's admission
 * rule, as tables. */
#include "offsets.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

static void track(struct offsets *o, int64_t from, int64_t to)
{
    for (int64_t off = from; off < to; off++)
        assert_int_equal(offsets_track(o, off, 1000 + off), 0);
}

/* Records finish out of order: the offset moves only over a done prefix;
 * the done ones above it go in the metadata, in runs. */
static void test_commit_point_table(void **st)
{
    (void)st;
    struct offsets o;
    offsets_init(&o);
    track(&o, 10, 15);
    static const struct {
        int64_t done;     /* offset marked done */
        bool changed;     /* offsets_done() */
        int64_t offset;   /* the commit point then */
        const char *meta; /* its metadata */
        int64_t holder;   /* the offset holding the commit back */
    } t[] = {
        /* The time: when the offset held back was tracked (1000 + off). */
        {12, true, 10, "zb2:1010:2,1", 10}, /* 10, 11 not done; 12 done */
        {14, true, 10, "zb2:1010:2,1,1,1", 10},
        {10, true, 11, "zb2:1011:1,1,1,1", 11},  /* the offset moves */
        {10, false, 11, "zb2:1011:1,1,1,1", 11}, /* done twice: nothing */
        {99, false, 11, "zb2:1011:1,1,1,1", 11}, /* never tracked */
        {11, true, 13, "zb2:1013:1,1", 13},
        {13, true, 15, "zb2:5000", -1}, /* all done: last + 1, now */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct offsets_commit c;
        assert_int_equal(offsets_done(&o, t[i].done), t[i].changed);
        offsets_commit_point(&o, OFFSETS_META_MAX, 5000, &c);
        if (c.offset != t[i].offset || strcmp(c.meta, t[i].meta) != 0)
            fail_msg("case %zu: want %lld '%s' got %lld '%s'", i,
                     (long long)t[i].offset, t[i].meta, (long long)c.offset,
                     c.meta);
        assert_int_equal(c.meta_len, strlen(t[i].meta));
        for (int64_t off = 10; off < 15; off++)
            assert_int_equal(offsets_holds_commit(&o, off), off == t[i].holder);
    }
    offsets_free(&o);
}

/* Offsets never delivered (compaction, transaction markers) count as not
 * done; an empty ring commits nothing. */
static void test_commit_point_gaps(void **st)
{
    (void)st;
    struct offsets o;
    offsets_init(&o);
    struct offsets_commit c;
    offsets_commit_point(&o, OFFSETS_META_MAX, 5000, &c);
    assert_int_equal(c.offset, -1);
    assert_int_equal(c.since_ms, -1);
    int64_t offs[] = {100, 101, 105, 106, 110};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(offsets_track(&o, offs[i], offs[i] * 10), 0);
    offsets_done(&o, 101);
    offsets_done(&o, 105);
    offsets_done(&o, 106);
    offsets_commit_point(&o, OFFSETS_META_MAX, 5000, &c);
    assert_int_equal(c.offset, 100);
    /* 100 not done, 101 done, 102-104 missing, 105-106 done. */
    assert_string_equal(c.meta, "zb2:1000:1,1,3,2");
    assert_int_equal(c.since_ms, 1000);
    assert_int_equal(c.covered, 106);
    offsets_free(&o);
}

/* The metadata is bounded: what does not fit is left out, from the top,
 * and never does it name an offset that did not finish. */
static void test_commit_point_bounded(void **st)
{
    (void)st;
    struct offsets o;
    offsets_init(&o);
    track(&o, 0, 20000);
    for (int64_t off = 1; off < 20000; off += 2) /* every other one */
        offsets_done(&o, off);
    struct offsets_commit c;
    offsets_commit_point(&o, 64, 5000, &c);
    assert_true(c.meta_len <= 64);
    assert_true(c.covered > 0 && c.covered < 20000);
    struct offsets_skip sk;
    assert_int_equal(offsets_skip_decode(&sk, c.offset, c.meta, c.meta_len), 0);
    for (int64_t off = 0; off < 20000; off++)
        assert_int_equal(offsets_skip_has(&sk, off),
                         off % 2 == 1 && off <= c.covered);
    assert_int_equal(offsets_skip_last(&sk), c.covered);
    offsets_skip_free(&sk);
    /* At the default bound: about 1,000 runs of a worst-case pattern. */
    offsets_commit_point(&o, OFFSETS_META_MAX, 5000, &c);
    assert_true(c.meta_len <= OFFSETS_META_MAX);
    assert_true(c.covered > 1000);
    offsets_free(&o);
}

/* What a restart reads back: exactly the finished offsets; anything not
 * ours or damaged skips nothing. */
static void test_skip_decode_table(void **st)
{
    (void)st;
    static const struct {
        const char *meta;
        const char *skipped; /* offsets 100..109 skipped, as 0/1 */
    } t[] = {
        {"zb1:2,3", "0011100000"},
        {"zb1:1,1,3,2", "0100011000"},
        {"zb1:1,1,3,2,1,1", "0100011010"},
        {"", "0000000000"},
        {"zb1:", "0000000000"},
        {"zb1:2", "0000000000"},    /* odd: damaged */
        {"zb1:2,3,", "0000000000"}, /* trailing comma */
        {"zb1:2,0", "0000000000"},  /* empty run */
        {"zb1:2,x", "0000000000"},
        {"zb1:-2,3", "0000000000"},
        {"zb1:1234567890123,1", "0000000000"},
        {"zb2:1700000000000:2,3", "0011100000"},
        {"zb2:1700000000000", "0000000000"},
        {"zb2:17:1,1,3,2", "0100011000"},
        {"zb2:2,3", "0000000000"},   /* no time */
        {"zb2:5:", "0000000000"},    /* a trailing colon */
        {"zb2:5:2", "0000000000"},   /* odd */
        {"zb3:5:2,3", "0000000000"}, /* another version */
        {"{\"owner\":\"someone\"}", "0000000000"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct offsets_skip sk;
        assert_int_equal(
            offsets_skip_decode(&sk, 100, t[i].meta, strlen(t[i].meta)), 0);
        for (int k = 0; k < 10; k++)
            if (offsets_skip_has(&sk, 100 + k) != (t[i].skipped[k] == '1'))
                fail_msg("case %zu (%s): offset %d", i, t[i].meta, 100 + k);
        assert_false(offsets_skip_has(&sk, 99));
        offsets_skip_free(&sk);
    }
    /* An idle partition's commit made again: the same offset, a new time,
     * and it decodes to nothing to skip. */
    struct offsets_commit ic;
    offsets_commit_idle(100, 1765000000000, &ic);
    assert_int_equal(ic.offset, 100);
    assert_int_equal(ic.covered, 99);
    assert_string_equal(ic.meta, "zb2:1765000000000");
    assert_int_equal(ic.meta_len, strlen(ic.meta));
    struct offsets_skip isk;
    assert_int_equal(offsets_skip_decode(&isk, 100, ic.meta, ic.meta_len), 0);
    assert_int_equal(isk.since_ms, 1765000000000);
    assert_int_equal(offsets_skip_last(&isk), -1);
    offsets_skip_free(&isk);
    /* The commit's time: from which the ledger is read (-1: none). */
    static const struct {
        const char *meta;
        int64_t since;
    } ts[] = {
        {"zb2:1700000000000:2,3", 1700000000000},
        {"zb2:17", 17},
        {"zb2:17:2", 17}, /* damaged runs, the time still good */
        {"zb2:17:", -1},
        {"zb2:17x", -1},
        {"zb2:", -1},
        {"zb1:2,3", -1},
        {"", -1},
        {"zb2:1234567890123456789", -1}, /* 19 digits */
    };
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        struct offsets_skip sk;
        assert_int_equal(
            offsets_skip_decode(&sk, 100, ts[i].meta, strlen(ts[i].meta)), 0);
        if (sk.since_ms != ts[i].since)
            fail_msg("case %zu (%s): since %lld", i, ts[i].meta,
                     (long long)sk.since_ms);
        offsets_skip_free(&sk);
    }
}

/* The window counts records sent and not recorded: each once; a commit
 * records the finished ones it names, even above a record that holds the
 * offset back, and forgets what its offset passed. */
static void test_window_count(void **st)
{
    (void)st;
    struct offsets o;
    offsets_init(&o);
    track(&o, 0, 200); /* grows the ring past 64 */
    assert_true(offsets_sent(&o, 0));
    assert_false(offsets_sent(&o, 0)); /* a retry: counted once */
    assert_true(offsets_sent(&o, 1));
    assert_true(offsets_sent(&o, 150));
    assert_false(offsets_sent(&o, 500)); /* not tracked */
    assert_int_equal(o.window, 3);
    offsets_done(&o, 1);
    offsets_done(&o, 150);
    struct offsets_commit c;
    offsets_commit_point(&o, OFFSETS_META_MAX, 5000, &c);
    assert_int_equal(c.offset, 0); /* 0 holds the offset back */
    /* Done after the commit was made: not in it, not recorded by it. */
    offsets_done(&o, 2);
    assert_int_equal(offsets_committed(&o, &c), 2); /* 1 and 150 */
    assert_int_equal(o.window, 1);                  /* 0, in flight */
    assert_int_equal(o.n, 200);
    offsets_done(&o, 0);
    offsets_commit_point(&o, OFFSETS_META_MAX, 5000, &c);
    assert_int_equal(c.offset, 3);
    assert_string_equal(c.meta, "zb2:1003:147,1");
    assert_int_equal(offsets_committed(&o, &c), 1); /* 0 left the ring */
    assert_int_equal(o.window, 0);
    assert_int_equal(o.n, 197);
    assert_true(offsets_holds_commit(&o, 3));
    /* A later commit whose metadata no longer names 150 (cut to fit)
     * puts it back in the window. */
    assert_true(offsets_sent(&o, 151));
    offsets_done(&o, 151);
    offsets_commit_point(&o, 4, 5000, &c); /* no room for any run */
    assert_string_equal(c.meta, "");
    assert_int_equal(offsets_committed(&o, &c), -1); /* 150 is back */
    assert_int_equal(o.window, 2);                   /* with 151 */
    /* Tracking continues after the ring wrapped. */
    track(&o, 200, 400);
    for (int64_t off = 3; off < 400; off++)
        offsets_done(&o, off);
    offsets_commit_point(&o, OFFSETS_META_MAX, 5000, &c);
    assert_int_equal(c.offset, 400);
    assert_int_equal(offsets_committed(&o, &c), 2);
    assert_int_equal(o.n, 0);
    assert_int_equal(o.window, 0);
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

/* The window's limit: it grows while it is what holds sending back and
 * commits record what finished; it falls back when Kafka stalls. */
static void test_limit_table(void **st)
{
    (void)st;
    static const struct {
        char op; /* r: recorded n with used, t: tick with used at ms */
        int64_t n, used, ms, want;
    } t[] = {
        {'r', 10, 10, 10, 64},  /* window not the limit: no growth */
        {'r', 40, 40, 20, 104}, /* half full or more: grows by n */
        {'r', 100, 104, 30, 204},
        {'r', 200, 204, 40, 404},
        {'r', 400, 404, 50, 804},
        {'r', 800, 804, 60, 1024}, /* capped at commit.window */
        {'t', 0, 900, 500, 1024},  /* 440 ms without a record: fine */
        {'t', 0, 900, 1060, 64},   /* 1 s: a stall, back to the floor */
        {'r', 64, 64, 1100, 128},
        {'t', 0, 0, 3000, 128}, /* nothing waiting: no stall */
        {'t', 0, 5, 3999, 128},
        {'t', 0, 5, 4000, 64},
    };
    struct offsets_limit l;
    offsets_limit_init(&l, 64, 1024, 0);
    assert_int_equal(l.limit, 64);
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (t[i].op == 'r')
            offsets_limit_recorded(&l, t[i].n, t[i].used, t[i].ms);
        else
            offsets_limit_tick(&l, t[i].used, t[i].ms, 1000);
        if (l.limit != t[i].want)
            fail_msg("case %zu: want %lld got %lld", i, (long long)t[i].want,
                     (long long)l.limit);
    }
    offsets_limit_init(&l, 64, 8, 0); /* a window smaller than the floor */
    assert_int_equal(l.limit, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_point_table),
        cmocka_unit_test(test_commit_point_gaps),
        cmocka_unit_test(test_commit_point_bounded),
        cmocka_unit_test(test_skip_decode_table),
        cmocka_unit_test(test_window_count),
        cmocka_unit_test(test_admission_table),
        cmocka_unit_test(test_choose_table),
        cmocka_unit_test(test_limit_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
