/* test_jsontok.c - a slot's tokener is reused, reset between documents,
 * and made again when its depth or flags change. */
#include "jsontok.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <string.h>

static struct json_object *parse(struct json_tokener *tok, const char *s)
{
    return json_tokener_parse_ex(tok, s, (int)strlen(s));
}

static void test_reuse_and_reset(void **st)
{
    (void)st;
    struct jsontok slot = {0};
    struct json_tokener *a = jsontok_get(&slot, 8, JSON_TOKENER_STRICT);
    assert_non_null(a);
    /* A document left half-read does not spill into the next one. */
    assert_null(parse(a, "{\"a\":"));
    assert_int_equal(json_tokener_get_error(a), json_tokener_continue);
    struct json_tokener *b = jsontok_get(&slot, 8, JSON_TOKENER_STRICT);
    assert_ptr_equal(a, b);
    struct json_object *o = parse(b, "[1]");
    assert_non_null(o);
    assert_int_equal(json_object_array_length(o), 1);
    json_object_put(o);
    json_tokener_free(slot.tok);
}

static void test_new_depth_and_flags(void **st)
{
    (void)st;
    struct jsontok slot = {0};
    assert_non_null(jsontok_get(&slot, 8, JSON_TOKENER_STRICT));
    /* Depth 2 now: [[[1]]] is too deep for it. */
    struct json_tokener *t = jsontok_get(&slot, 2, JSON_TOKENER_STRICT);
    assert_non_null(t);
    assert_null(parse(t, "[[[1]]]"));
    assert_int_equal(json_tokener_get_error(t), json_tokener_error_depth);
    /* Strict now off: a trailing comma is accepted. */
    t = jsontok_get(&slot, 2, 0);
    struct json_object *o = parse(t, "[1,]");
    assert_non_null(o);
    json_object_put(o);
    assert_int_equal(slot.depth, 2);
    assert_int_equal(slot.flags, 0);
    json_tokener_free(slot.tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_and_reset),
        cmocka_unit_test(test_new_depth_and_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
