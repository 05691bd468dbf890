/* test_outcome.c - the one classification of ZIM answers, and backoff. */
#include "outcome.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

/* ZIM's answer as zim_client fills it: a curl result, an HTTP status,
 * the body (NULL: none), whether the request went out whole. */
static void answer(struct zim_result *res, int curl_rc, bool sent, long http,
                   const char *body)
{
    zim_result_init(res);
    res->curl_rc = curl_rc;
    res->sent = sent;
    res->http = http;
    if (body)
        zim_proto_parse(res, body, strlen(body));
}

static void test_classify_table(void **s)
{
    (void)s;
    static const struct {
        int curl_rc;
        long http;
        const char *body;
        enum outcome want;
    } t[] = {
        {CURLE_OPERATION_TIMEDOUT, 0, NULL, OUTCOME_RETRY},
        {CURLE_COULDNT_CONNECT, 0, NULL, OUTCOME_RETRY},
        {CURLE_OK, 503, NULL, OUTCOME_RETRY},
        {CURLE_OK, 429, NULL, OUTCOME_RETRY},
        {CURLE_OK, 404, NULL, OUTCOME_FAILED},
        /* A 200 that is not ZIM's JSON: taken, maybe sent; never again. */
        {CURLE_OK, 200, "<html>proxy</html>", OUTCOME_UNKNOWN},
        {CURLE_OK, 200, "{\"Message\":\"no code\"}", OUTCOME_UNKNOWN},
        {CURLE_OK, 200, "{\"Code\":\"0\"}", OUTCOME_UNKNOWN},
        {CURLE_OK, 200, "{\"Code\":0}", OUTCOME_SENT},
        /* ZIM answers in Chinese: that is JSON like any other. */
        {CURLE_OK, 200, "{\"Code\":0,\"Message\":\"成功\"}", OUTCOME_SENT},
        {CURLE_OK, 200,
         "{\"Code\":660500005,\"Message\":\"文本审核未通过\","
         "\"AuditInfos\":[{\"Index\":0,\"Reason\":\"包含违禁词\"}]}",
         OUTCOME_REJECTED},
        {CURLE_OK, 200, "{\"Code\":1,\"Message\":\"服务器繁忙\"}",
         OUTCOME_RETRY},
        {CURLE_OK, 200, "{\"Code\":0,\"ErrorList\":[]}", OUTCOME_SENT},
        {CURLE_OK, 200,
         "{\"Code\":0,\"ErrorList\":[{\"UserId\":\"g\",\"SubCode\":51102}]}",
         OUTCOME_PARTIAL},
        {CURLE_OK, 200, "{\"Code\":0,\"ErrorList\":\"oops\"}", OUTCOME_SENT},
        {CURLE_OK, 200,
         "{\"Code\":660500005,\"AuditInfos\":[{\"Index\":0,\"Reason\":\"r\"}]}",
         OUTCOME_REJECTED},
        {CURLE_OK, 200, "{\"Code\":1}", OUTCOME_RETRY},
        {CURLE_OK, 200, "{\"Code\":7}", OUTCOME_RETRY},
        {CURLE_OK, 200, "{\"Code\":100000004}", OUTCOME_RETRY},
        {CURLE_OK, 200, "{\"Code\":660500003}", OUTCOME_RETRY},
        {CURLE_OK, 200, "{\"Code\":100000005}", OUTCOME_FAILED},
        {CURLE_OK, 200, "{\"Code\":660500002}", OUTCOME_FAILED},
        {CURLE_OK, 200, "{\"Code\":660600001}", OUTCOME_FAILED},
        {CURLE_OK, 200, "{\"Code\":660000011}", OUTCOME_FAILED},
        {CURLE_OK, 200,
         "{\"Code\":660200001,\"ErrorList\":[{\"UserId\":\"x\",\"SubCode\":"
         "51102}]}",
         OUTCOME_FAILED},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct zim_result res;
        answer(&res, t[i].curl_rc, true, t[i].http, t[i].body);
        enum outcome got = outcome_classify(&res, EVENT_PEER);
        if (got != t[i].want)
            fail_msg("case %zu (%s): want %s got %s", i,
                     t[i].body ? t[i].body : "-", outcome_name(t[i].want),
                     outcome_name(got));
        zim_result_free(&res);
    }
}

static void test_code_classes(void **s)
{
    (void)s;
    assert_true(outcome_code_is_systemic(100000005));
    assert_true(outcome_code_is_systemic(3));
    assert_true(outcome_code_is_systemic(100000010));
    assert_false(outcome_code_is_systemic(1));
    assert_false(outcome_code_is_systemic(660500002));
    assert_true(outcome_code_is_transient(105001));
    assert_false(outcome_code_is_transient(660400001));
}

static void test_backoff_full_jitter(void **s)
{
    (void)s;
    /* Retry n waits in [base, min(cap, base * 2^n)]. */
    for (uint64_t r = 0; r < 1000; r++) {
        int64_t w = outcome_backoff_ms(3, 100, 10000, r * 7919);
        assert_true(w >= 100 && w <= 800);
        w = outcome_backoff_ms(20, 100, 10000, r * 104729);
        assert_true(w >= 100 && w <= 10000);
    }
    assert_int_equal(outcome_backoff_ms(0, 100, 10000, 12345), 100);
    /* Both ends are reachable. */
    assert_int_equal(outcome_backoff_ms(1, 100, 10000, 0), 100);
    assert_int_equal(outcome_backoff_ms(1, 100, 10000, 100), 200);
}

/* Every verdict: what an answer means for the event, the breaker and the
 * quota, per action. */
static void test_judge_table(void **s)
{
    (void)s;
    static const struct {
        int curl_rc;
        long http;
        const char *body;
        enum event_kind kind;
        enum outcome outcome;
        enum breaker_event breaker;
        bool throttled;
    } t[] = {
        {CURLE_OPERATION_TIMEDOUT, 0, NULL, EVENT_PEER, OUTCOME_RETRY,
         BREAKER_TRANSPORT, false},
        {CURLE_OK, 503, NULL, EVENT_GROUP, OUTCOME_RETRY, BREAKER_TRANSPORT,
         false},
        {CURLE_OK, 429, NULL, EVENT_PEER, OUTCOME_RETRY, BREAKER_OK, false},
        {CURLE_OK, 404, NULL, EVENT_PEER, OUTCOME_FAILED, BREAKER_OK, false},
        {CURLE_OK, 200, "not json", EVENT_PEER, OUTCOME_UNKNOWN,
         BREAKER_TRANSPORT, false},
        {CURLE_OK, 200, "<html>OK</html>", EVENT_BROADCAST, OUTCOME_UNKNOWN,
         BREAKER_TRANSPORT, false},
        {CURLE_OK, 200, "{\"Code\":0}", EVENT_BROADCAST, OUTCOME_SENT,
         BREAKER_OK, false},
        {CURLE_OK, 200, "{\"Code\":7}", EVENT_PEER, OUTCOME_RETRY, BREAKER_OK,
         true},
        {CURLE_OK, 200, "{\"Code\":7}", EVENT_BROADCAST, OUTCOME_RETRY,
         BREAKER_OK, true},
        /* Broadcast's own frequency limit throttles broadcasts only. */
        {CURLE_OK, 200, "{\"Code\":660500003}", EVENT_BROADCAST, OUTCOME_RETRY,
         BREAKER_OK, true},
        {CURLE_OK, 200, "{\"Code\":660500003}", EVENT_PEER, OUTCOME_RETRY,
         BREAKER_OK, false},
        {CURLE_OK, 200, "{\"Code\":1}", EVENT_GROUP, OUTCOME_RETRY, BREAKER_OK,
         false},
        /* Our setup is wrong: systemic, whatever the action. */
        {CURLE_OK, 200, "{\"Code\":100000005}", EVENT_PEER, OUTCOME_FAILED,
         BREAKER_SYSTEMIC, false},
        {CURLE_OK, 200, "{\"Code\":3}", EVENT_BROADCAST, OUTCOME_FAILED,
         BREAKER_SYSTEMIC, false},
        {CURLE_OK, 200, "{\"Code\":660000028}", EVENT_GROUP, OUTCOME_FAILED,
         BREAKER_SYSTEMIC, false},
        /* About the message: the breaker is not told of a problem. */
        {CURLE_OK, 200, "{\"Code\":660600001}", EVENT_GROUP, OUTCOME_FAILED,
         BREAKER_OK, false},
        {CURLE_OK, 200,
         "{\"Code\":0,\"ErrorList\":[{\"UserId\":\"g\",\"SubCode\":1}]}",
         EVENT_PEER, OUTCOME_PARTIAL, BREAKER_OK, false},
        {CURLE_OK, 200, "{\"Code\":0,\"AuditInfos\":[{\"Index\":0}]}",
         EVENT_PEER, OUTCOME_REJECTED, BREAKER_OK, false},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct zim_result res;
        answer(&res, t[i].curl_rc, true, t[i].http, t[i].body);
        struct verdict v = outcome_judge(&res, t[i].kind);
        if (v.outcome != t[i].outcome || v.breaker != t[i].breaker ||
            v.throttled != t[i].throttled)
            fail_msg("case %zu: got %s/%d/%d", i, outcome_name(v.outcome),
                     (int)v.breaker, (int)v.throttled);
        zim_result_free(&res);
    }
}

/* An ambiguous answer, per action: whether the event goes again. ZIM has
 * no idempotency key; a broadcast to every user is never sent twice for
 * one, a peer or group message is (an outage must not dead-letter it),
 * and an unreadable 200 never is. */
static void test_ambiguity_table(void **s)
{
    (void)s;
    static const struct {
        int curl_rc;
        bool sent;
        long http;
        const char *body;
        enum ambiguity a;
        enum outcome peer, group, broadcast;
    } t[] = {
        /* Never sent whole: sending again is safe for every action. */
        {CURLE_COULDNT_CONNECT, false, 0, NULL, AMBIG_NONE, OUTCOME_RETRY,
         OUTCOME_RETRY, OUTCOME_RETRY},
        {CURLE_OPERATION_TIMEDOUT, false, 0, NULL, AMBIG_NONE, OUTCOME_RETRY,
         OUTCOME_RETRY, OUTCOME_RETRY},
        {CURLE_OK, false, 503, NULL, AMBIG_NONE, OUTCOME_RETRY, OUTCOME_RETRY,
         OUTCOME_RETRY},
        {CURLE_OK, true, 429, NULL, AMBIG_NONE, OUTCOME_RETRY, OUTCOME_RETRY,
         OUTCOME_RETRY},
        /* Sent whole, then no answer: ZIM may have acted. */
        {CURLE_OPERATION_TIMEDOUT, true, 0, NULL, AMBIG_NO_ANSWER,
         OUTCOME_RETRY, OUTCOME_RETRY, OUTCOME_UNKNOWN},
        {CURLE_RECV_ERROR, true, 0, NULL, AMBIG_NO_ANSWER, OUTCOME_RETRY,
         OUTCOME_RETRY, OUTCOME_UNKNOWN},
        {CURLE_OK, true, 502, NULL, AMBIG_NO_ANSWER, OUTCOME_RETRY,
         OUTCOME_RETRY, OUTCOME_UNKNOWN},
        {CURLE_OK, true, 504, NULL, AMBIG_NO_ANSWER, OUTCOME_RETRY,
         OUTCOME_RETRY, OUTCOME_UNKNOWN},
        /* Taken and answered 200 in a way that is not ZIM's. */
        {CURLE_OK, true, 200, "<html>OK</html>", AMBIG_ANSWER, OUTCOME_UNKNOWN,
         OUTCOME_UNKNOWN, OUTCOME_UNKNOWN},
        {CURLE_OK, true, 200, "{\"Code\":0,\"Message\":\"成功\"}", AMBIG_NONE,
         OUTCOME_SENT, OUTCOME_SENT, OUTCOME_SENT},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct zim_result res;
        answer(&res, t[i].curl_rc, t[i].sent, t[i].http, t[i].body);
        assert_int_equal(outcome_ambiguity(&res), t[i].a);
        const enum outcome want[] = {t[i].peer, t[i].group, t[i].broadcast};
        for (int k = 0; k < 3; k++) {
            enum outcome got = outcome_classify(&res, (enum event_kind)k);
            if (got != want[k])
                fail_msg("case %zu, kind %d: want %s got %s", i, k,
                         outcome_name(want[k]), outcome_name(got));
        }
        zim_result_free(&res);
    }
    assert_false(outcome_resends_ambiguous(EVENT_PEER, AMBIG_ANSWER));
    assert_true(outcome_resends_ambiguous(EVENT_GROUP, AMBIG_NO_ANSWER));
    assert_false(outcome_resends_ambiguous(EVENT_BROADCAST, AMBIG_NO_ANSWER));
}

/* The code an answer, or a recipient's failure, is filed under: one rule
 * for the reply, the DLQ record and a split event's parts. */
static void test_codes_filed(void **s)
{
    (void)s;
    static const struct {
        int curl_rc;
        long http;
        const char *body;
        int64_t code;
    } t[] = {
        {CURLE_OK, 200, "{\"Code\":660300001,\"Message\":\"房间不存在\"}",
         660300001},
        {CURLE_OK, 200, "{\"Code\":0}", 0},
        {CURLE_OPERATION_TIMEDOUT, 0, NULL, ZB_CODE_TRANSPORT},
        {CURLE_OK, 502, NULL, ZB_CODE_HTTP},
        {CURLE_OK, 200, "<html>", ZB_CODE_BAD_ANSWER},
        {CURLE_OK, 200, "{\"Code\":\"7\"}", ZB_CODE_BAD_ANSWER},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct zim_result res;
        answer(&res, t[i].curl_rc, false, t[i].http, t[i].body);
        assert_int_equal(outcome_code(&res), t[i].code);
        zim_result_free(&res);
    }
    static const struct {
        const char *errors;
        int64_t code;
    } r[] = {
        {"[{\"UserId\":\"a\",\"SubCode\":51102},{\"UserId\":\"b\","
         "\"SubCode\":1}]",
         51102},
        {"[{\"UserId\":\"a\"},{\"UserId\":\"b\",\"SubCode\":660200001}]",
         660200001},
        {"[{\"UserId\":\"a\",\"SubCode\":\"51102\"}]", 0},
        {"[]", 0},
        {"{\"SubCode\":5}", 0},
        {NULL, 0},
    };
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        struct json_object *l =
            r[i].errors ? json_tokener_parse(r[i].errors) : NULL;
        assert_int_equal(outcome_recipients_code(l), r[i].code);
        json_object_put(l);
    }
}

/* Whether a retry goes, and after how long. */
static void test_retry_wait_table(void **s)
{
    (void)s;
    const struct retry_policy p = {.max_attempts = 4,
                                   .base_ms = 100,
                                   .max_ms = 1000,
                                   .max_elapsed_ms = 5000};
    static const struct {
        int attempts;
        int64_t elapsed;
        uint64_t rnd;
        int64_t want; /* -1: give up */
    } t[] = {
        {1, 0, 0, 100},                     /* first retry: the base */
        {2, 0, 100, 200},                   /* [100, 200]: the top */
        {3, 0, 0, 100},                     /* [100, 400]: the bottom */
        {3, 0, 150, 250},    {4, 0, 0, -1}, /* max_attempts made */
        {1, 4900, 0, 100},  /* 4900 + 100 = the limit: still goes */
        {1, 4901, 0, -1},   /* past max_elapsed_ms */
        {2, 4850, 100, -1}, /* its wait would pass it */
        {2, 4800, 100, 200},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int64_t got =
            outcome_retry_wait(&p, t[i].attempts, t[i].elapsed, t[i].rnd);
        if (got != t[i].want)
            fail_msg("case %zu: want %lld got %lld", i, (long long)t[i].want,
                     (long long)got);
    }
}

/* How a finished event is filed, and its status. */
static void test_filing_table(void **s)
{
    (void)s;
    static const struct {
        enum outcome o;
        enum failure_class f; /* outcome_failure(o) */
        const char *status, *name;
    } t[] = {
        {OUTCOME_SENT, FAILURE_NONE, "sent", ""},
        {OUTCOME_REJECTED, FAILURE_NONE, "rejected", ""},
        {OUTCOME_PARTIAL, FAILURE_PARTIAL, "partial", "partial"},
        {OUTCOME_FAILED, FAILURE_API, "failed", "api"},
        {OUTCOME_UNKNOWN, FAILURE_AMBIGUOUS, "unknown", "ambiguous"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(outcome_failure(t[i].o), t[i].f);
        assert_string_equal(outcome_status(t[i].o, t[i].f), t[i].status);
        assert_string_equal(outcome_failure_name(t[i].f), t[i].name);
    }
    /* Filed by the caller: exhausted retries and invalid events. */
    assert_string_equal(outcome_status(OUTCOME_RETRY, FAILURE_EXHAUSTED),
                        "failed");
    assert_string_equal(outcome_failure_name(FAILURE_EXHAUSTED), "exhausted");
    assert_string_equal(outcome_status(OUTCOME_FAILED, FAILURE_VALIDATION),
                        "failed");
    assert_string_equal(outcome_failure_name(FAILURE_VALIDATION), "validation");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_table),
        cmocka_unit_test(test_code_classes),
        cmocka_unit_test(test_backoff_full_jitter),
        cmocka_unit_test(test_judge_table),
        cmocka_unit_test(test_ambiguity_table),
        cmocka_unit_test(test_codes_filed),
        cmocka_unit_test(test_retry_wait_table),
        cmocka_unit_test(test_filing_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
