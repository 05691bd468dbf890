/* test_call.c - one ZIM call and the events it carries (bridge/call):
 * which events share a call, the body built for them, a call reused from
 * the pool after a full one, the part of the answer each event gets, and
 * that no call carries a recipient twice or one that is not its events'.
 * Messages come from the multilingual corpus. */
#include "call.h"
#include "corpus.h"
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

/* A peer event from u0 to ids "<prefix>0".."<prefix>n-1", with text. */
static struct job *peer(const char *prefix, int from, int n, const char *text)
{
    char body[16384];
    size_t k = (size_t)snprintf(body, sizeof(body),
                                "{\"FromUserId\":\"u0\",\"ToUserId\":[");
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(body + k, sizeof(body) - k, "%s\"%s%d\"",
                              i ? "," : "", prefix, from + i);
    k += (size_t)snprintf(body + k, sizeof(body) - k,
                          "],\"MessageType\":1,\"Priority\":1,"
                          "\"MessageBody\":{\"Message\":\"%s\"}}",
                          text);
    struct event_limits lim = testjob_limits(300);
    struct event_error err;
    struct job *j = testjob_new(body, k, EVENT_PEER, &lim, true, &err);
    if (j == NULL)
        fail_msg("event refused: %s: %s", err.field, err.message);
    return j;
}

/* The ToUserId of the call's body, as strings. */
static struct json_object *body_to(struct call *c)
{
    const char *data = NULL;
    size_t len = 0;
    assert_int_equal(call_body(c, &data, &len), 0);
    struct json_object *o = json_tokener_parse(data), *to = NULL;
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "ToUserId", &to));
    json_object_get(to);
    json_object_put(o);
    return to;
}

static bool has_id(struct json_object *to, const char *id)
{
    for (size_t i = 0; i < json_object_array_length(to); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(to, i)),
                   id) == 0)
            return true;
    return false;
}

/* A call from the pool, reused after one that carried 100 recipients,
 * carries only its own events' recipients. */
static void test_reuse_after_full_call(void **s)
{
    (void)s;
    struct corpus cp;
    corpus_load(&cp);
    char zh[256];
    corpus_json_escape(corpus_get(&cp, "zh-hans"), zh, sizeof(zh));
    struct call c;
    memset(&c, 0, sizeof(c));
    call_reset(&c, EVENT_PEER);
    struct job *big = peer("a", 0, 150, zh); /* split: 100, then 50 */
    assert_true(job_split(big));
    assert_true(call_add(&c, big));
    assert_false(c.whole);
    struct json_object *to = body_to(&c);
    assert_int_equal(json_object_array_length(to), 100);
    json_object_put(to);

    call_reset(&c, EVENT_PEER);
    struct job *x = peer("b", 0, 2, zh), *y = peer("c", 0, 1, zh);
    assert_true(call_add(&c, x));
    assert_true(c.whole); /* alone: its own bytes */
    assert_true(call_add(&c, y));
    assert_false(c.whole);
    to = body_to(&c);
    assert_int_equal(json_object_array_length(to), 3);
    assert_true(has_id(to, "b0") && has_id(to, "b1") && has_id(to, "c0"));
    assert_false(has_id(to, "a0") || has_id(to, "a99"));
    json_object_put(to);
    for (size_t i = c.pc.n; i < PACK_MAX_RECIPIENTS; i++)
        assert_null(c.pc.ids[i]); /* nothing left of the full call */

    /* The split event's second part, in a reused call: a50..a149 are
     * a100..a149 now, nothing of the first part. */
    assert_true(job_next_part(big));
    call_reset(&c, EVENT_PEER);
    assert_true(call_add(&c, big));
    to = body_to(&c);
    assert_int_equal(json_object_array_length(to), 50);
    assert_true(has_id(to, "a100") && has_id(to, "a149"));
    assert_false(has_id(to, "a99"));
    json_object_put(to);
    call_free(&c);
    testjob_free(big);
    testjob_free(x);
    testjob_free(y);
    corpus_free(&cp);
}

/* What may share a call: identical but for ToUserId, recipients new to
 * the call, at most 100 of them. */
static void test_what_packs(void **s)
{
    (void)s;
    struct call c;
    memset(&c, 0, sizeof(c));
    call_reset(&c, EVENT_PEER);
    struct job *a = peer("p", 0, 60, "مرحبا"), *b = peer("p", 59, 2, "مرحبا");
    struct job *d = peer("q", 0, 40, "مرحبا"), *e = peer("r", 0, 1, "مرحبا");
    struct job *other = peer("z", 0, 1, "שלום");
    assert_true(call_add(&c, a));
    assert_false(call_add(&c, b));     /* p59 is in the call already */
    assert_false(call_add(&c, other)); /* another message */
    assert_true(call_add(&c, d));      /* 100 now */
    assert_false(call_add(&c, e));     /* full */
    assert_int_equal(c.n_jobs, 2);
    assert_int_equal(c.pc.n, 100);
    call_free(&c);
    testjob_free(a);
    testjob_free(b);
    testjob_free(d);
    testjob_free(e);
    testjob_free(other);
}

/* A first event whose part names a user twice (validation refuses such
 * events; here one is made by hand) is refused, not sent with a count
 * its IDs do not fill. */
static void test_repeat_is_refused(void **s)
{
    (void)s;
    struct job *j = peer("d", 0, 150, "x");
    j->to[1] = j->to[0]; /* as if validation had let "d0","d0" through */
    struct call c;
    memset(&c, 0, sizeof(c));
    call_reset(&c, EVENT_PEER);
    assert_false(call_add(&c, j));
    assert_int_equal(c.n_jobs, 0);
    assert_int_equal(c.pc.n, 0);
    call_free(&c);
    testjob_free(j);
}

/* Each event gets only its own recipients' part of a packed answer. */
static void test_parts(void **s)
{
    (void)s;
    struct call c;
    memset(&c, 0, sizeof(c));
    call_reset(&c, EVENT_PEER);
    struct job *a = peer("m", 0, 2, "ok"), *b = peer("n", 0, 1, "ok");
    assert_true(call_add(&c, a) && call_add(&c, b));
    const char *ans = "{\"Code\":0,\"Message\":\"成功\",\"RequestId\":\"1\","
                      "\"SuccList\":[{\"UserId\":\"m0\",\"MsgId\":\"1\"},"
                      "{\"UserId\":\"n0\",\"MsgId\":\"2\"}],"
                      "\"ErrorList\":[{\"UserId\":\"m1\",\"SubCode\":51102}]}";
    struct zim_result res, pa, pb;
    zim_result_init(&res);
    zim_result_init(&pa);
    zim_result_init(&pb);
    res.sent = true;
    res.http = 200;
    zim_proto_parse(&res, ans, strlen(ans));
    assert_true(res.parsed);
    call_part(&c, a, &res, &pa);
    call_part(&c, b, &res, &pb);
    assert_int_equal(json_object_array_length(pa.succ_list), 1);
    assert_int_equal(pa.n_failed, 1);
    assert_int_equal(json_object_array_length(pb.succ_list), 1);
    assert_int_equal(pb.n_failed, 0);
    assert_string_equal(pa.message, "成功");
    assert_true(pb.sent);
    zim_result_free(&res);
    zim_result_free(&pa);
    zim_result_free(&pb);
    call_free(&c);
    testjob_free(a);
    testjob_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_after_full_call),
        cmocka_unit_test(test_what_packs),
        cmocka_unit_test(test_repeat_is_refused),
        cmocka_unit_test(test_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
