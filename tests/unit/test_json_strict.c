/* test_json_strict.c - RFC 8259 and nothing more, the same on every json-c
 * version: what is accepted, what is refused with which words and where,
 * the multilingual corpus inside strings, and agreement with json-c (the
 * reader behind the check) on everything accepted. */
#include "corpus.h"
#include "json_strict.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t tree_members(struct json_object *o)
{
    size_t n = 0;
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v)
        {
            (void)k;
            n += 1 + tree_members(v);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            n += tree_members(json_object_array_get_idx(o, i));
    }
    return n;
}

/* json-c's lenient reader on text the check accepted: it must read it
 * whole, to the same members. (A top-level number needs a terminator.) */
static void json_c_agrees(const char *s, size_t n, size_t members)
{
    struct json_tokener *tok = json_tokener_new_ex(JSON_STRICT_MAX_DEPTH);
    struct json_object *o = json_tokener_parse_ex(tok, s, (int)n);
    enum json_tokener_error e = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (e != json_tokener_success)
        fail_msg("json-c does not read what the check accepted: %s (%s)", s,
                 json_tokener_error_desc(e));
    assert_int_equal(tree_members(o), members);
    json_object_put(o);
}

static const struct {
    const char *json;
    const char *why;   /* NULL: accepted; else a part of the reason */
    const char *where; /* the path of the fault */
} cases[] = {
    {"{}", NULL, ""},
    {" {\"a\" : [1, -0, 2.5e-3, 1E+2, true, false, null, \"x\"]}\r\n", NULL,
     ""},
    {"[[],{},\"\",0]", NULL, ""},
    {"{\"a\":{\"b\":[{\"c\":\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\"}]}}",
     NULL, ""},
    {"\"\x7f\"", NULL, ""}, /* DEL is no control character in JSON */
    {"", "JSON ends early", ""},
    {"{\"a\":1", "JSON ends early", ""},
    {"{\"a\":1,}", "'}' where a key in double quotes", ""},
    {"[1,]", "']' where a JSON value", "[1]"},
    {"{'a':1}", "''' where a key in double quotes", ""},
    {"{\"a\":01}", "'1' where ',' or '}'", "a"},
    {"{\"a\":1.}", "'}' where a digit", "a"},
    {"{\"a\":.5}", "'.' where a JSON value", "a"},
    {"{\"a\":+1}", "'+' where a JSON value", "a"},
    {"{\"a\":NaN}", "'N' where a JSON value", "a"},
    {"{\"a\":True}", "'T' where a JSON value", "a"},
    {"{\"a\":tru}", "where a JSON value", "a"},
    {"{\"a\" 1}", "'1' where ':'", "a"},
    {"{\"a\":1} x", "unexpected data after the JSON value at byte 8", ""},
    {"{\"a\":1}{}", "unexpected data after the JSON value", ""},
    {"{\"a\":\"x\ty\"}", "control character 0x09", "a"},
    {"{\"a\":\"x\ny\"}", "control character 0x0a", "a"},
    {"{\"a\":[\"ok\",\"\\x\"]}", "\\x is not an escape", "a[1]"},
    {"{\"a\":\"\\u12g4\"}", "4 hex digits", "a"},
    {"{\"a\":\"\\ud800\"}", "\\ud800 is an unpaired surrogate", "a"},
    {"{\"a\":\"\\ud800\\u0041\"}", "unpaired surrogate", "a"},
    {"{\"a\":\"\\udc00\"}", "\\udc00 is an unpaired surrogate", "a"},
    {"{\"a\":{\"b\":[0,{\"c\":\"\xc0\xaf\"}]}}",
     "invalid UTF-8 at byte 19: an overlong encoding", "a.b[1].c"},
    {"{\"\xed\xa0\x80\":1}", "an encoded surrogate", ""},
    {"{\"a\":1/*c*/}", "'/' where ',' or '}'", "a"},
    {"{\"a\":\"x\"\x00}", "byte 0x00 where ',' or '}'", "a"},
};

static void test_table(void **s)
{
    (void)s;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *j = cases[i].json;
        size_t n = strlen(j);
        if (strstr(cases[i].why ? cases[i].why : "", "0x00"))
            n = strlen(j) + 2; /* the NUL, then the brace */
        struct json_strict_error err;
        size_t members = 0;
        int rc = json_strict_check(j, n, 16, &members, NULL, &err);
        if (cases[i].why == NULL) {
            if (rc != 0)
                fail_msg("case %zu refused: %s (%s)", i, err.why, j);
            json_c_agrees(j, n, members);
            continue;
        }
        if (rc == 0)
            fail_msg("case %zu accepted: %s", i, j);
        if (strstr(err.why, cases[i].why) == NULL)
            fail_msg("case %zu: '%s', want '%s'", i, err.why, cases[i].why);
        if (strcmp(err.where, cases[i].where) != 0)
            fail_msg("case %zu: at '%s', want '%s'", i, err.where,
                     cases[i].where);
    }
}

/* Depth means what it means to json-c: depth d allows d nested
 * containers and refuses d + 1. */
static void test_depth_as_json_c(void **s)
{
    (void)s;
    for (int d = 1; d <= 20; d++) {
        for (int nest = d; nest <= d + 1; nest++) {
            char j[64];
            int k = 0;
            for (int i = 0; i < nest; i++)
                j[k++] = '[';
            for (int i = 0; i < nest; i++)
                j[k++] = ']';
            struct json_strict_error err;
            int rc = json_strict_check(j, (size_t)k, d, NULL, NULL, &err);
            struct json_tokener *tok = json_tokener_new_ex(d);
            struct json_object *o = json_tokener_parse_ex(tok, j, k);
            assert_int_equal(rc == 0, o != NULL);
            if (rc)
                assert_non_null(strstr(err.why, "nested deeper than"));
            json_object_put(o);
            json_tokener_free(tok);
        }
    }
}

/* Every text of the corpus inside a string is accepted, and json-c reads
 * back the same bytes; every invalid sequence is refused with its reason
 * and the field it is in. */
static void test_corpus(void **s)
{
    (void)s;
    struct corpus c;
    corpus_load(&c);
    for (size_t i = 0; i < c.n; i++) {
        const struct corpus_text *t = &c.v[i];
        char j[2048], esc[1024];
        size_t n;
        if (t->valid) {
            corpus_json_escape(t, esc, sizeof(esc));
            n = (size_t)snprintf(j, sizeof(j),
                                 "{\"Body\":{\"Message\":\"%s\"}}", esc);
        } else {
            n = (size_t)snprintf(
                j, sizeof(j), "{\"Body\":{\"Message\":\"ok %s\"}}", t->bytes);
        }
        struct json_strict_error err;
        size_t members = 0;
        int rc = json_strict_check(j, n, 16, &members, NULL, &err);
        if (!t->valid) {
            if (rc == 0)
                fail_msg("%s accepted", t->name);
            if (strstr(err.why, t->why) == NULL ||
                strcmp(err.where, "Body.Message") != 0)
                fail_msg("%s: '%s' at '%s', want '%s' at Body.Message", t->name,
                         err.why, err.where, t->why);
            continue;
        }
        if (rc != 0)
            fail_msg("%s refused: %s", t->name, err.why);
        json_c_agrees(j, n, members);
        struct json_object *o = json_tokener_parse(j), *b = NULL, *m = NULL;
        assert_true(json_object_object_get_ex(o, "Body", &b));
        assert_true(json_object_object_get_ex(b, "Message", &m));
        assert_int_equal((size_t)json_object_get_string_len(m), t->len);
        assert_memory_equal(json_object_get_string(m), t->bytes, t->len);
        json_object_put(o);
    }
    corpus_free(&c);
}

/* Members are counted as json-c would keep them, so a repeated key shows
 * as a difference. */
static void test_members(void **s)
{
    (void)s;
    const char *j = "{\"a\":1,\"b\":{\"c\":[{\"d\":2},{\"e\":3}]},\"a\":4}";
    size_t members = 0;
    char top = 0;
    struct json_strict_error err;
    assert_int_equal(json_strict_check(j, strlen(j), 16, &members, &top, &err),
                     0);
    assert_int_equal(members, 6);
    assert_int_equal(top, '{');
    struct json_object *o = json_tokener_parse(j);
    assert_int_equal(tree_members(o), 5); /* json-c kept one "a" */
    json_object_put(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_depth_as_json_c),
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
