/* test_job.c - a job's recipients and parts (bridge/job): an event of up
 * to 100 recipients goes whole, a larger one in parts of 100; each part's
 * answer is kept, and settling puts them together into the event's one
 * answer: sent, partial (the recipients of a part that failed listed with
 * its code), or failed. Also the job list. */
#include "job.h"
#include "testjob.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct job *peer(int n)
{
    char body[16384];
    size_t k = (size_t)snprintf(body, sizeof(body),
                                "{\"FromUserId\":\"u0\",\"ToUserId\":[");
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(body + k, sizeof(body) - k, "%s\"r%d\"",
                              i ? "," : "", i);
    k += (size_t)snprintf(body + k, sizeof(body) - k,
                          "],\"MessageType\":1,\"Priority\":1,"
                          "\"MessageBody\":{\"Message\":\"通知 📣\"}}");
    struct event_limits lim = testjob_limits(1000);
    struct job *j = testjob_new(body, k, EVENT_PEER, &lim, false, NULL);
    assert_non_null(j);
    return j;
}

/* The answer to the part now out: SuccList for every recipient but the
 * ones named in failed (comma-separated indexes, "" for none). */
static void answer_part(struct job *j, int64_t code, const char *failed)
{
    char body[32768];
    size_t k = (size_t)snprintf(
        body, sizeof(body), "{\"Code\":%lld,\"SuccList\":[", (long long)code);
    size_t ns = 0;
    for (size_t i = j->chunk_off; code == 0 && i < j->chunk_off + j->chunk_n;
         i++) {
        char me[32];
        snprintf(me, sizeof(me), ",%zu,", i);
        char list[256];
        snprintf(list, sizeof(list), ",%s,", failed);
        if (strstr(list, me))
            continue;
        k += (size_t)snprintf(body + k, sizeof(body) - k,
                              "%s{\"UserId\":\"%s\",\"MsgId\":\"1\"}",
                              ns++ ? "," : "", j->to[i]);
    }
    k += (size_t)snprintf(body + k, sizeof(body) - k, "],\"ErrorList\":[");
    size_t ne = 0;
    for (const char *p = failed; code == 0 && *p;) {
        int idx = atoi(p);
        k += (size_t)snprintf(body + k, sizeof(body) - k,
                              "%s{\"UserId\":\"r%d\",\"SubCode\":51102}",
                              ne++ ? "," : "", idx);
        p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p);
    }
    snprintf(body + k, sizeof(body) - k, "]}");
    zim_result_free(&j->res);
    j->res.http = 200;
    j->res.sent = true;
    zim_proto_parse(&j->res, body, strlen(body));
    assert_true(j->res.parsed);
}

static size_t list_len(struct json_object *l)
{
    return l ? json_object_array_length(l) : 0;
}

static void test_parts(void **s)
{
    (void)s;
    struct job *small = peer(100);
    assert_false(job_split(small));
    assert_int_equal(small->chunk_n, 100);
    assert_null(small->rest); /* a lone event needs no rest (pack off) */
    testjob_free(small);

    struct job *j = peer(250);
    assert_true(job_split(j));
    assert_non_null(j->rest);
    assert_int_equal(j->chunk_off, 0);
    assert_int_equal(j->chunk_n, 100);
    answer_part(j, 0, "3,7");
    assert_true(job_next_part(j));
    assert_int_equal(j->chunk_off, 100);
    assert_int_equal(j->chunk_n, 100);
    answer_part(j, 0, "");
    assert_true(job_next_part(j));
    assert_int_equal(j->chunk_off, 200);
    assert_int_equal(j->chunk_n, 50);
    answer_part(j, 0, "249");
    assert_false(job_next_part(j));
    /* All parts answered: one answer, 247 sent, 3 failed. */
    assert_int_equal(job_settle(j, OUTCOME_PARTIAL, false), OUTCOME_PARTIAL);
    assert_int_equal(list_len(j->res.succ_list), 247);
    assert_int_equal(list_len(j->res.error_list), 3);
    assert_int_equal(j->res.code, 0);
    testjob_free(j);
}

/* A part fails as a whole (its call failed): the recipients from it on
 * are listed as failed with that call's code, the parts before it keep
 * their answers. */
static void test_failed_part(void **s)
{
    (void)s;
    struct job *j = peer(150);
    answer_part(j, 0, "");
    assert_true(job_next_part(j));
    zim_result_free(&j->res);
    j->res.curl_rc = 28; /* timed out */
    j->res.sent = false;
    assert_int_equal(job_settle(j, OUTCOME_RETRY, true), OUTCOME_PARTIAL);
    assert_int_equal(list_len(j->res.succ_list), 100);
    assert_int_equal(list_len(j->res.error_list), 50);
    struct json_object *e = json_object_array_get_idx(j->res.error_list, 0);
    struct json_object *code = NULL;
    assert_true(json_object_object_get_ex(e, "SubCode", &code));
    assert_int_equal(json_object_get_int64(code), 900000010);
    testjob_free(j);

    /* The first part failed: nothing was sent; the event failed. */
    j = peer(150);
    zim_result_free(&j->res);
    j->res.http = 200;
    zim_proto_parse(&j->res, "{\"Code\":660500002}", 18);
    assert_int_equal(job_settle(j, OUTCOME_FAILED, true), OUTCOME_FAILED);
    assert_int_equal(list_len(j->res.error_list), 150);
    testjob_free(j);
}

static void test_list(void **s)
{
    (void)s;
    struct job a = {0}, b = {0}, c = {0};
    struct jlist l = {0};
    jl_push(&l, &a);
    jl_push(&l, &b);
    jl_push(&l, &c);
    assert_int_equal(l.n, 3);
    jl_remove(&l, &b);
    assert_ptr_equal(l.head, &a);
    assert_ptr_equal(a.next, &c);
    assert_ptr_equal(c.prev, &a);
    jl_remove(&l, &a);
    jl_remove(&l, &c);
    assert_int_equal(l.n, 0);
    assert_null(l.head);
    assert_null(l.tail);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_failed_part),
        cmocka_unit_test(test_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
