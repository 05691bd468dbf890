/* test_outcome.c - the one classification of ZIM answers, and backoff. */
#include "outcome.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <string.h>

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
        {CURLE_OK, 200, "<html>proxy</html>", OUTCOME_RETRY},
        {CURLE_OK, 200, "{\"Message\":\"no code\"}", OUTCOME_RETRY},
        {CURLE_OK, 200, "{\"Code\":\"0\"}", OUTCOME_RETRY},
        {CURLE_OK, 200, "{\"Code\":0}", OUTCOME_SENT},
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
        zim_result_init(&res);
        res.curl_rc = t[i].curl_rc;
        res.http = t[i].http;
        if (t[i].body)
            zim_proto_parse(&res, t[i].body, strlen(t[i].body));
        enum outcome got = outcome_classify(&res);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_table),
        cmocka_unit_test(test_code_classes),
        cmocka_unit_test(test_backoff_full_jitter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
