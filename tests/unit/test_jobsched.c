/* test_jobsched.c - per-key FIFOs and priority heaps. */
#include "jobsched.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

/* A job with just what the scheduler reads. */
static struct job *mk(const char *key, int32_t partition, int priority,
                      enum event_kind kind)
{
    struct job *j = calloc(1, sizeof(*j));
    rd_kafka_message_t *m = calloc(1, sizeof(*m));
    m->key = key ? strdup(key) : NULL;
    m->key_len = key ? strlen(key) : 0;
    m->partition = partition;
    j->rkm = m;
    j->kind = kind;
    j->ticket.topic = (int)kind;
    j->ticket.partition = partition;
    j->ev.priority = priority;
    j->heap_idx = -1;
    return j;
}

static void rm(struct job *j)
{
    free(j->rkm->key);
    free(j->rkm);
    free(j);
}

static void test_key_order_and_concurrency(void **st)
{
    (void)st;
    struct jobsched *s = jobsched_new(ORDER_KEY);
    struct job *a1 = mk("a", 0, 1, EVENT_PEER), *a2 = mk("a", 0, 1, EVENT_PEER);
    struct job *b1 = mk("b", 0, 1, EVENT_PEER);
    jobsched_add(s, a1);
    jobsched_add(s, a2);
    jobsched_add(s, b1);
    /* Different keys are both ready; the second of a key is not. */
    assert_int_equal(jobsched_ready_count(s, EVENT_PEER), 2);
    assert_ptr_equal(jobsched_pop(s, EVENT_PEER), a1);
    a1->state = JOB_IN_FLIGHT;
    assert_ptr_equal(jobsched_pop(s, EVENT_PEER), b1);
    b1->state = JOB_IN_FLIGHT;
    assert_null(jobsched_pop(s, EVENT_PEER)); /* a2 waits behind a1 */
    /* A retry of a1 keeps blocking a2, and goes before younger jobs. */
    a1->state = JOB_RETRY_WAIT;
    assert_null(jobsched_pop(s, EVENT_PEER));
    struct job *c1 = mk("c", 0, 1, EVENT_PEER);
    jobsched_add(s, c1);
    jobsched_requeue(s, a1);
    assert_ptr_equal(jobsched_pop(s, EVENT_PEER), a1);
    a1->state = JOB_IN_FLIGHT;
    jobsched_remove(s, a1); /* done: a2 becomes ready, older than c1 */
    assert_ptr_equal(jobsched_pop(s, EVENT_PEER), a2);
    assert_ptr_equal(jobsched_pop(s, EVENT_PEER), c1);
    jobsched_remove(s, a2);
    jobsched_remove(s, b1);
    jobsched_remove(s, c1);
    jobsched_destroy(s);
    rm(a1), rm(a2), rm(b1), rm(c1);
}

static void test_priority_first_without_reordering_keys(void **st)
{
    (void)st;
    struct jobsched *s = jobsched_new(ORDER_KEY);
    struct job *lo = mk("x", 0, 1, EVENT_GROUP),
               *hi = mk("y", 0, 3, EVENT_GROUP);
    struct job *x_hi = mk("x", 0, 3, EVENT_GROUP); /* behind lo */
    jobsched_add(s, lo);
    jobsched_add(s, x_hi);
    jobsched_add(s, hi);
    assert_ptr_equal(jobsched_pop(s, EVENT_GROUP), hi); /* priority 3 first */
    assert_ptr_equal(jobsched_pop(s, EVENT_GROUP), lo); /* x_hi stays behind */
    assert_null(jobsched_pop(s, EVENT_GROUP));
    lo->state = JOB_IN_FLIGHT;
    jobsched_remove(s, lo);
    assert_ptr_equal(jobsched_pop(s, EVENT_GROUP), x_hi);
    jobsched_remove(s, x_hi);
    jobsched_remove(s, hi);
    jobsched_destroy(s);
    rm(lo), rm(hi), rm(x_hi);
}

static void test_partition_and_none(void **st)
{
    (void)st;
    struct jobsched *s = jobsched_new(ORDER_PARTITION);
    struct job *p1 = mk("a", 1, 1, EVENT_PEER), *p2 = mk("b", 1, 1, EVENT_PEER);
    struct job *q1 = mk("a", 2, 1, EVENT_PEER);
    jobsched_add(s, p1);
    jobsched_add(s, p2);
    jobsched_add(s, q1);
    assert_int_equal(jobsched_ready_count(s, EVENT_PEER), 2); /* p1, q1 */
    jobsched_remove(s, p1);
    jobsched_remove(s, p2);
    jobsched_remove(s, q1);
    jobsched_destroy(s);
    s = jobsched_new(ORDER_NONE);
    struct job *n1 = mk("a", 1, 1, EVENT_PEER), *n2 = mk("a", 1, 1, EVENT_PEER);
    jobsched_add(s, n1);
    jobsched_add(s, n2);
    assert_int_equal(jobsched_ready_count(s, EVENT_PEER), 2);
    jobsched_remove(s, n1);
    jobsched_remove(s, n2);
    jobsched_destroy(s);
    /* Records without a key are ordered per partition under "key". */
    s = jobsched_new(ORDER_KEY);
    struct job *k1 = mk(NULL, 4, 1, EVENT_PEER),
               *k2 = mk(NULL, 4, 1, EVENT_PEER);
    jobsched_add(s, k1);
    jobsched_add(s, k2);
    assert_int_equal(jobsched_ready_count(s, EVENT_PEER), 1);
    jobsched_remove(s, k1);
    jobsched_remove(s, k2);
    jobsched_destroy(s);
    rm(p1), rm(p2), rm(q1), rm(n1), rm(n2), rm(k1), rm(k2);
}

static void drop(void *opaque, struct job *j)
{
    int *n = opaque;
    (*n)++;
    j->state = JOB_DONE;
}

static void test_many_keys_and_held(void **st)
{
    (void)st;
    enum { N = 5000 };
    struct jobsched *s = jobsched_new(ORDER_KEY);
    static struct job *jobs[N];
    char key[16];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "k%d", i % 2000); /* forces growth */
        jobs[i] = mk(key, 0, 1 + i % 3, EVENT_PEER);
        assert_int_equal(jobsched_add(s, jobs[i]), 0);
    }
    assert_int_equal(jobsched_ready_count(s, EVENT_PEER), 2000);
    int held = 0;
    jobsched_foreach_held(s, drop, &held);
    assert_int_equal(held, N);
    /* Pops come out by priority, then age. */
    struct job *prev = NULL, *j;
    int popped = 0;
    while ((j = jobsched_pop(s, EVENT_PEER))) {
        if (prev)
            assert_true(
                prev->ev.priority > j->ev.priority ||
                (prev->ev.priority == j->ev.priority && prev->seq < j->seq));
        prev = j;
        popped++;
    }
    assert_int_equal(popped, 2000);
    for (int i = 0; i < N; i++) {
        jobsched_remove(s, jobs[i]);
        rm(jobs[i]);
    }
    jobsched_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_order_and_concurrency),
        cmocka_unit_test(test_priority_first_without_reordering_keys),
        cmocka_unit_test(test_partition_and_none),
        cmocka_unit_test(test_many_keys_and_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
