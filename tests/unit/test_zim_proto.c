/* test_zim_proto.c - ZIM answers are external input: exact large MsgIds as
 * number or string, wrong types, missing Code, huge or broken bodies. */
#include "zim_proto.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static void parse(struct zim_result *r, const char *body)
{
    zim_result_init(r);
    r->http = 200;
    zim_proto_parse(r, body, strlen(body));
}

static void test_msg_id_exact(void **s)
{
    (void)s;
    struct zim_result r;
    parse(&r, "{\"Code\":0,\"Message\":\"success\",\"RequestId\":\"42\","
              "\"MsgSeq\":7,\"MsgId\":857639062792568833}");
    assert_true(r.parsed);
    assert_string_equal(r.msg_id, "857639062792568833"); /* not ...568832 */
    assert_int_equal(r.msg_seq, 7);
    assert_string_equal(r.request_id, "42");
    zim_result_free(&r);
    parse(&r, "{\"Code\":0,\"MsgId\":\"18446744073709551615\"}");
    assert_string_equal(r.msg_id, "18446744073709551615");
    assert_int_equal(r.msg_seq, -1);
    zim_result_free(&r);
    parse(&r, "{\"Code\":0,\"MsgId\":12345678901234567890}"); /* > int64 */
    assert_true(r.parsed);
    assert_true(strcmp(r.msg_id, "12345678901234567890") == 0 ||
                r.msg_id[0] == '\0'); /* exact, or dropped: never rounded */
    zim_result_free(&r);
    parse(&r, "{\"Code\":0,\"MsgId\":1.5e18,\"MsgSeq\":\"3\"}");
    assert_string_equal(r.msg_id, ""); /* a double is not an exact id */
    assert_int_equal(r.msg_seq, -1);
    zim_result_free(&r);
}

static void test_hostile_bodies(void **s)
{
    (void)s;
    static const char *const bad[] = {"",
                                      "null",
                                      "[]",
                                      "\"Code\"",
                                      "{\"Code\":null}",
                                      "{\"Code\":\"0\"}",
                                      "{\"Code\":0",
                                      "{\"code\":0}",
                                      "\xff\xfe",
                                      "{\"Code\":[0]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct zim_result r;
        parse(&r, bad[i]);
        assert_false(r.parsed);
        assert_true(r.error[0] != '\0');
        zim_result_free(&r);
    }
    /* A deep or large body is refused without trouble. */
    char *deep = malloc(200001);
    memset(deep, '[', 200000);
    deep[200000] = '\0';
    struct zim_result r;
    parse(&r, deep);
    assert_false(r.parsed);
    zim_result_free(&r);
    free(deep);
    /* Wrong types of optional fields are ignored, not trusted. */
    parse(&r, "{\"Code\":0,\"SuccList\":{},\"ErrorList\":[1,{\"SubCode\":2},"
              "{\"UserId\":\"x\",\"SubCode\":51102}],\"AuditInfos\":\"no\","
              "\"Message\":5}");
    assert_true(r.parsed);
    assert_null(r.succ_list);
    assert_int_equal(r.n_failed, 1);
    assert_int_equal(r.n_audit, 0);
    assert_string_equal(r.message, "");
    zim_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_id_exact),
        cmocka_unit_test(test_hostile_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
