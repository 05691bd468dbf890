/* test_jobsched.c - per-key FIFOs and priority heaps, on bare nodes: the
 * scheduler knows nothing of jobs or Kafka. */
#include "event_kind.h"
#include "jobsched.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What is scheduled: a node, plus what the test remembers of it. */
struct item {
    struct jobsched_node n;
    char key[16];
    int priority;
};

/* Adds an item with key (NULL: none) from topic 0, partition p, in
 * group (0: none). */
static struct item *add_g(struct jobsched *s, const char *key, int32_t p,
                          int priority, int action, uint64_t group)
{
    struct item *it = calloc(1, sizeof(*it));
    if (key)
        snprintf(it->key, sizeof(it->key), "%s", key);
    it->priority = priority;
    struct jobsched_key k = {.topic = action,
                             .partition = p,
                             .key = key ? it->key : NULL,
                             .key_len = key ? strlen(key) : 0};
    assert_int_equal(jobsched_add(s, &it->n, action, priority, group, &k), 0);
    return it;
}

static struct item *add(struct jobsched *s, const char *key, int32_t p,
                        int priority, int action)
{
    return add_g(s, key, p, priority, action, 0);
}

static struct jobsched_node *pop(struct jobsched *s, int action)
{
    return jobsched_pop(s, action);
}

static void test_key_order_and_concurrency(void **st)
{
    (void)st;
    struct jobsched *s = jobsched_new(ORDER_KEY);
    struct item *a1 = add(s, "a", 0, 1, EVENT_PEER);
    struct item *a2 = add(s, "a", 0, 1, EVENT_PEER);
    struct item *b1 = add(s, "b", 0, 1, EVENT_PEER);
    /* Different keys are both ready; the second of a key is not. */
    assert_int_equal(jobsched_ready_count(s, EVENT_PEER), 2);
    assert_ptr_equal(pop(s, EVENT_PEER), &a1->n); /* in flight */
    assert_ptr_equal(pop(s, EVENT_PEER), &b1->n);
    assert_null(pop(s, EVENT_PEER)); /* a2 waits behind a1 */
    /* A retry of a1 keeps blocking a2, and goes before younger nodes. */
    struct item *c1 = add(s, "c", 0, 1, EVENT_PEER);
    jobsched_requeue(s, &a1->n);
    assert_ptr_equal(pop(s, EVENT_PEER), &a1->n);
    jobsched_remove(s, &a1->n); /* done: a2 becomes ready, older than c1 */
    assert_ptr_equal(pop(s, EVENT_PEER), &a2->n);
    assert_ptr_equal(pop(s, EVENT_PEER), &c1->n);
    jobsched_remove(s, &a2->n);
    jobsched_remove(s, &b1->n);
    jobsched_remove(s, &c1->n);
    jobsched_destroy(s);
    free(a1), free(a2), free(b1), free(c1);
}

static void test_priority_first_without_reordering_keys(void **st)
{
    (void)st;
    struct jobsched *s = jobsched_new(ORDER_KEY);
    struct item *lo = add(s, "x", 0, 1, EVENT_GROUP);
    struct item *x_hi = add(s, "x", 0, 3, EVENT_GROUP); /* behind lo */
    struct item *hi = add(s, "y", 0, 3, EVENT_GROUP);
    assert_ptr_equal(pop(s, EVENT_GROUP), &hi->n); /* priority 3 first */
    assert_ptr_equal(pop(s, EVENT_GROUP), &lo->n); /* x_hi stays behind */
    assert_null(pop(s, EVENT_GROUP));
    jobsched_remove(s, &lo->n);
    assert_ptr_equal(pop(s, EVENT_GROUP), &x_hi->n);
    jobsched_remove(s, &x_hi->n);
    jobsched_remove(s, &hi->n);
    jobsched_destroy(s);
    free(lo), free(hi), free(x_hi);
}

static void test_partition_and_none(void **st)
{
    (void)st;
    struct jobsched *s = jobsched_new(ORDER_PARTITION);
    struct item *p1 = add(s, "a", 1, 1, EVENT_PEER);
    struct item *p2 = add(s, "b", 1, 1, EVENT_PEER);
    struct item *q1 = add(s, "a", 2, 1, EVENT_PEER);
    assert_int_equal(jobsched_ready_count(s, EVENT_PEER), 2); /* p1, q1 */
    jobsched_remove(s, &p1->n);
    jobsched_remove(s, &p2->n);
    jobsched_remove(s, &q1->n);
    jobsched_destroy(s);
    s = jobsched_new(ORDER_NONE);
    struct item *n1 = add(s, "a", 1, 1, EVENT_PEER);
    struct item *n2 = add(s, "a", 1, 1, EVENT_PEER);
    assert_int_equal(jobsched_ready_count(s, EVENT_PEER), 2);
    jobsched_remove(s, &n1->n);
    jobsched_remove(s, &n2->n);
    jobsched_destroy(s);
    /* Records without a key are ordered per partition under "key". */
    s = jobsched_new(ORDER_KEY);
    struct item *k1 = add(s, NULL, 4, 1, EVENT_PEER);
    struct item *k2 = add(s, NULL, 4, 1, EVENT_PEER);
    assert_int_equal(jobsched_ready_count(s, EVENT_PEER), 1);
    jobsched_remove(s, &k1->n);
    jobsched_remove(s, &k2->n);
    jobsched_destroy(s);
    free(p1), free(p2), free(q1), free(n1), free(n2), free(k1), free(k2);
}

static void count(void *opaque, struct jobsched_node *n)
{
    (void)n;
    (*(int *)opaque)++;
}

static void test_many_keys_and_held(void **st)
{
    (void)st;
    enum { N = 5000 };
    struct jobsched *s = jobsched_new(ORDER_KEY);
    static struct item *items[N];
    char key[16];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "k%d", i % 2000); /* forces growth */
        items[i] = add(s, key, 0, 1 + i % 3, EVENT_PEER);
    }
    assert_int_equal(jobsched_ready_count(s, EVENT_PEER), 2000);
    int held = 0;
    jobsched_foreach_held(s, count, &held);
    assert_int_equal(held, N);
    /* Pops come out by priority, then age. */
    struct jobsched_node *prev = NULL, *j;
    int popped = 0;
    while ((j = pop(s, EVENT_PEER))) {
        if (prev)
            assert_true(prev->priority > j->priority ||
                        (prev->priority == j->priority && prev->seq < j->seq));
        prev = j;
        popped++;
    }
    assert_int_equal(popped, 2000);
    /* Taken nodes (in flight) are not held; the 3,000 behind them are. */
    held = 0;
    jobsched_foreach_held(s, count, &held);
    assert_int_equal(held, N - 2000);
    for (int i = 0; i < N; i++) {
        jobsched_remove(s, &items[i]->n);
        free(items[i]);
    }
    jobsched_destroy(s);
}

static void test_take_and_ready(void **st)
{
    (void)st;
    struct jobsched *s = jobsched_new(ORDER_KEY);
    struct item *a = add(s, "a", 0, 1, EVENT_PEER);
    struct item *a2 = add(s, "a", 0, 1, EVENT_PEER);
    struct item *b = add(s, "b", 0, 2, EVENT_BROADCAST);
    assert_true(jobsched_is_ready(&a->n));
    assert_false(jobsched_is_ready(&a2->n));
    assert_false(jobsched_take(s, &a2->n)); /* not ready: behind a */
    assert_true(jobsched_take(s, &a->n));
    assert_false(jobsched_is_ready(&a->n));
    assert_false(jobsched_has_ready(s, EVENT_PEER));
    assert_true(jobsched_has_ready(s, EVENT_BROADCAST)); /* heaps per action */
    jobsched_remove(s, &a->n);
    assert_true(jobsched_is_ready(&a2->n));
    jobsched_remove(s, &a2->n);
    jobsched_remove(s, &b->n);
    assert_false(jobsched_has_ready(s, EVENT_BROADCAST));
    jobsched_destroy(s);
    free(a), free(a2), free(b);
}

/* The ready nodes of a group, oldest first: only ready ones (a key's
 * second record joins when its head is done), a requeued one in its
 * place, each gone once taken. */
static void test_groups(void **st)
{
    (void)st;
    struct jobsched *s = jobsched_new(ORDER_KEY);
    struct item *a1 = add_g(s, "a", 0, 1, EVENT_PEER, 7);
    struct item *a2 = add_g(s, "a", 0, 1, EVENT_PEER, 7); /* behind a1 */
    struct item *b1 = add_g(s, "b", 0, 1, EVENT_PEER, 7);
    struct item *c1 = add_g(s, "c", 0, 1, EVENT_PEER, 9); /* another group */
    struct item *d1 = add_g(s, "d", 0, 1, EVENT_PEER, 7);
    struct jobsched_node *want1[] = {&a1->n, &b1->n, &d1->n, NULL};
    struct jobsched_node *n = jobsched_group_first(s, 7);
    for (int i = 0; want1[i]; i++, n = jobsched_group_next(n))
        assert_ptr_equal(n, want1[i]);
    assert_null(n);
    assert_ptr_equal(jobsched_group_first(s, 9), &c1->n);
    assert_null(jobsched_group_first(s, 8));
    assert_null(jobsched_group_first(s, 0));
    /* Taken: out of the list. Requeued: back, in its place. */
    assert_ptr_equal(jobsched_pop(s, EVENT_PEER), &a1->n);
    assert_ptr_equal(jobsched_group_first(s, 7), &b1->n);
    assert_true(jobsched_take(s, &d1->n));
    jobsched_requeue(s, &a1->n);
    assert_ptr_equal(jobsched_group_first(s, 7), &a1->n);
    assert_ptr_equal(jobsched_group_next(&a1->n), &b1->n);
    assert_null(jobsched_group_next(&b1->n));
    /* a1 done: a2 becomes ready and joins the group, older than b1. */
    assert_true(jobsched_take(s, &a1->n));
    jobsched_remove(s, &a1->n);
    assert_ptr_equal(jobsched_group_first(s, 7), &a2->n);
    assert_ptr_equal(jobsched_group_next(&a2->n), &b1->n);
    jobsched_remove(s, &b1->n);
    jobsched_remove(s, &a2->n);
    jobsched_remove(s, &c1->n);
    jobsched_remove(s, &d1->n);
    assert_null(jobsched_group_first(s, 7));
    assert_null(jobsched_group_first(s, 9));
    /* Many groups: the index grows. */
    static struct item *many[2000];
    char key[16];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        many[i] = add_g(s, key, 0, 1, EVENT_PEER, (uint64_t)(i % 700) + 1);
    }
    int in_group = 0;
    for (n = jobsched_group_first(s, 5); n; n = jobsched_group_next(n))
        in_group++;
    assert_int_equal(in_group, 3); /* 4, 704, 1404 */
    for (int i = 0; i < 2000; i++) {
        jobsched_remove(s, &many[i]->n);
        free(many[i]);
    }
    jobsched_destroy(s);
    free(a1), free(a2), free(b1), free(c1), free(d1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_order_and_concurrency),
        cmocka_unit_test(test_priority_first_without_reordering_keys),
        cmocka_unit_test(test_partition_and_none),
        cmocka_unit_test(test_many_keys_and_held),
        cmocka_unit_test(test_take_and_ready),
        cmocka_unit_test(test_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
