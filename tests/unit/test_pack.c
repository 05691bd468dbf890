/* test_pack.c - what may share a call, splitting, the call's body, and
 * each event's part of the answer, as tables. */
#include "pack.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static void rest_of(const char *event, struct buf *out)
{
    struct json_object *o = json_tokener_parse(event);
    assert_non_null(o);
    buf_init(out, 1 << 16);
    assert_int_equal(pack_rest(o, out), 0);
    json_object_put(o);
}

/* Events pack when everything but ToUserId is equal, byte for byte. */
static void test_what_packs_table(void **st)
{
    (void)st;
    static const struct {
        const char *a, *b;
        bool same;
    } t[] = {
        {"{\"FromUserId\":\"s\",\"ToUserId\":[\"a\"],\"MessageType\":1,"
         "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}",
         "{\"FromUserId\":\"s\",\"ToUserId\":[\"b\",\"c\"],\"MessageType\":1,"
         "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}",
         true},
        /* white space is not a field */
        {"{\"FromUserId\":\"s\",\"ToUserId\":[\"a\"],\"Priority\":1}",
         "{ \"FromUserId\" : \"s\", \"ToUserId\":[\"b\"], \"Priority\": 1 }",
         true},
        /* ToUserId anywhere */
        {"{\"ToUserId\":[\"a\"],\"FromUserId\":\"s\",\"Priority\":1}",
         "{\"FromUserId\":\"s\",\"Priority\":1,\"ToUserId\":[\"b\"]}", true},
        {"{\"FromUserId\":\"s\",\"ToUserId\":[\"a\"],\"Priority\":1}",
         "{\"FromUserId\":\"t\",\"ToUserId\":[\"a\"],\"Priority\":1}", false},
        {"{\"FromUserId\":\"s\",\"ToUserId\":[\"a\"],\"Priority\":1}",
         "{\"FromUserId\":\"s\",\"ToUserId\":[\"a\"],\"Priority\":2}", false},
        {"{\"FromUserId\":\"s\",\"MessageBody\":{\"Message\":\"hi\"}}",
         "{\"FromUserId\":\"s\",\"MessageBody\":{\"Message\":\"hi\","
         "\"ExtendedData\":\"x\"}}",
         false},
        {"{\"FromUserId\":\"s\",\"MessageBody\":{\"Message\":\"hi\","
         "\"OfflinePush\":{\"Title\":\"a\"}}}",
         "{\"FromUserId\":\"s\",\"MessageBody\":{\"Message\":\"hi\","
         "\"OfflinePush\":{\"Title\":\"b\"}}}",
         false},
        {"{\"FromUserId\":\"s\",\"SenderUnaware\":1}",
         "{\"FromUserId\":\"s\",\"SenderUnaware\":0}", false},
        {"{\"FromUserId\":\"s\",\"SendMsgOptions\":{\"NoUnread\":true}}",
         "{\"FromUserId\":\"s\"}", false},
        {"{\"FromUserId\":\"s\",\"SubMsgType\":1,\"SearchedContent\":\"x\"}",
         "{\"FromUserId\":\"s\",\"SubMsgType\":1,\"SearchedContent\":\"y\"}",
         false},
        /* another key order: another request, bytes differ */
        {"{\"FromUserId\":\"s\",\"Priority\":1}",
         "{\"Priority\":1,\"FromUserId\":\"s\"}", false},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct buf a, b;
        rest_of(t[i].a, &a);
        rest_of(t[i].b, &b);
        bool same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
        if (same != t[i].same)
            fail_msg("case %zu: %s vs %s", i, a.data, b.data);
        assert_true(same ==
                    (pack_hash(a.data, a.len) == pack_hash(b.data, b.len)));
        assert_null(strstr(a.data, "ToUserId"));
        buf_free(&a);
        buf_free(&b);
    }
}

/* At most 100 recipients per call, each once, all of an event or none. */
static void test_add_table(void **st)
{
    (void)st;
    static const char *const ab[] = {"a", "b"}, *const c[] = {"c"},
                             *const aa[] = {"x", "x"}, *const b[] = {"b"};
    struct pack_call pc = {.n = 0};
    assert_true(pack_add(&pc, ab, 2));
    assert_true(pack_add(&pc, c, 1));
    assert_false(pack_add(&pc, b, 1));  /* b is in the call already */
    assert_false(pack_add(&pc, aa, 2)); /* twice in one event */
    assert_false(pack_add(&pc, c, 0));
    assert_int_equal(pc.n, 3);
    /* Filling to 100 exactly; one more does not fit. */
    static char names[120][8];
    const char *ids[120];
    for (int i = 0; i < 120; i++) {
        snprintf(names[i], sizeof(names[i]), "u%d", i);
        ids[i] = names[i];
    }
    assert_false(pack_add(&pc, ids, 98));
    assert_true(pack_add(&pc, ids, 97));
    assert_int_equal(pc.n, 100);
    assert_false(pack_add(&pc, ids + 100, 1));
    struct pack_call big = {.n = 0};
    assert_false(pack_add(&big, ids, 101)); /* splitting comes first */
}

static void test_chunk_table(void **st)
{
    (void)st;
    static const struct {
        size_t total, off, want;
    } t[] = {
        {1, 0, 1},      {100, 0, 100}, {101, 0, 100},
        {101, 100, 1},  {250, 0, 100}, {250, 100, 100},
        {250, 200, 50}, {250, 250, 0}, {10000, 9900, 100},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        assert_int_equal(pack_chunk(t[i].total, t[i].off), t[i].want);
}

static void test_body(void **st)
{
    (void)st;
    struct buf rest, body;
    rest_of("{\"FromUserId\":\"s\",\"ToUserId\":[\"old\"],\"MessageType\":1,"
            "\"MessageBody\":{\"Message\":\"see http://x/\\u00e9\"}}",
            &rest);
    struct pack_call pc = {.n = 0};
    static const char *const ids[] = {"a", "b\"q"};
    assert_true(pack_add(&pc, ids, 2));
    buf_init(&body, 1 << 16);
    assert_int_equal(pack_body(rest.data, rest.len, &pc, &body), 0);
    struct json_object *o = json_tokener_parse(body.data), *to = NULL, *m;
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "ToUserId", &to));
    assert_string_equal(
        json_object_to_json_string_ext(to, JSON_C_TO_STRING_PLAIN),
        "[\"a\",\"b\\\"q\"]");
    assert_true(json_object_object_get_ex(o, "MessageBody", &m));
    assert_true(json_object_object_get_ex(m, "Message", &m));
    assert_string_equal(json_object_get_string(m), "see http://x/\xc3\xa9");
    assert_non_null(strstr(body.data, "http://x/")); /* no \/ */
    json_object_put(o);
    /* Bounded: a body that does not fit fails and is not usable. */
    struct buf small;
    buf_init(&small, 16);
    assert_int_equal(pack_body(rest.data, rest.len, &pc, &small), -1);
    assert_null(small.data);
    buf_free(&rest);
    buf_free(&body);
}

/* Each event gets its own recipients' entries of ZIM's lists. */
static void test_filter_table(void **st)
{
    (void)st;
    const char *succ = "[{\"UserId\":\"a\",\"MsgId\":\"1\",\"MsgSeq\":3},"
                       "{\"UserId\":\"b\",\"MsgId\":\"2\"},"
                       "{\"UserId\":\"c\",\"MsgId\":\"3\"},{\"MsgId\":\"4\"},"
                       "{\"UserId\":5}]";
    static const struct {
        const char *ids[3];
        size_t n;
        const char *want;
    } t[] = {
        {{"a", "c"}, 2, "a,c"},
        {{"b"}, 1, "b"},
        {{"z"}, 1, ""},
        {{"c", "b", "a"}, 3, "a,b,c"}, /* ZIM's order */
    };
    struct json_object *list = json_tokener_parse(succ);
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct json_object *f = pack_filter(list, t[i].ids, t[i].n);
        char got[64] = "";
        for (size_t k = 0; k < json_object_array_length(f); k++) {
            struct json_object *u;
            json_object_object_get_ex(json_object_array_get_idx(f, k), "UserId",
                                      &u);
            strcat(got, k ? "," : "");
            strcat(got, json_object_get_string(u));
        }
        assert_string_equal(got, t[i].want);
        json_object_put(f);
    }
    static const char *const a[] = {"a"};
    struct json_object *none = pack_filter(NULL, a, 1);
    assert_int_equal(json_object_array_length(none), 0);
    json_object_put(none);
    json_object_put(list);
}

/* pack.linger_ms: a call waits to fill only while it may still grow, only
 * for events never sent, and only until received + linger. */
static void test_linger_table(void **s)
{
    (void)s;
    static const struct {
        bool packs;
        size_t rcpt;
        bool sent_before;
        int64_t now, received, linger;
        bool want;
    } t[] = {
        {true, 1, false, 100, 90, 50, true},  /* 40 ms left */
        {true, 1, false, 140, 90, 50, false}, /* its time is up */
        {true, 1, false, 139, 90, 50, true},
        {true, 1, false, 100, 90, 0, false},    /* linger off (default) */
        {false, 1, false, 100, 90, 50, false},  /* group, room: no packing */
        {true, 100, false, 100, 90, 50, false}, /* full */
        {true, 99, false, 100, 90, 50, true},
        {true, 1, true, 100, 90, 50, false}, /* a retry goes at once */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (pack_linger(t[i].packs, t[i].rcpt, t[i].sent_before, t[i].now,
                        t[i].received, t[i].linger) != t[i].want)
            fail_msg("case %zu", i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linger_table),
        cmocka_unit_test(test_what_packs_table),
        cmocka_unit_test(test_add_table),
        cmocka_unit_test(test_chunk_table),
        cmocka_unit_test(test_body),
        cmocka_unit_test(test_filter_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
