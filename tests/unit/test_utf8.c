/* test_utf8.c - RFC 3629 at its edges, with the multilingual corpus: every
 * valid text passes, every invalid sequence fails with its reason, and a
 * cut never splits a character. */
#include "corpus.h"
#include "utf8.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

static void test_corpus(void **s)
{
    (void)s;
    struct corpus c;
    corpus_load(&c);
    size_t valid = 0, invalid = 0;
    for (size_t i = 0; i < c.n; i++) {
        const struct corpus_text *t = &c.v[i];
        size_t at = 99;
        const char *why = NULL;
        bool ok = utf8_valid(t->bytes, t->len, &at, &why);
        if (t->valid) {
            if (!ok)
                fail_msg("%s: refused at %zu: %s", t->name, at, why);
            valid++;
            continue;
        }
        if (ok)
            fail_msg("%s: accepted", t->name);
        /* The corpus gives the reason inside a JSON string, where a quote
         * follows: here the text ends, so a cut character says so. */
        if (strcmp(why, t->why) != 0 &&
            strcmp(why, "a character cut short") != 0)
            fail_msg("%s: '%s', want '%s'", t->name, why, t->why);
        invalid++;
    }
    assert_true(valid >= 20);
    assert_true(invalid >= 10);
    corpus_free(&c);
}

/* Each boundary of RFC 3629's table, one inside and one outside. */
static void test_boundaries(void **s)
{
    (void)s;
    static const struct {
        const char *bytes;
        size_t want; /* 0: invalid */
    } t[] = {
        {"\x7f", 1},
        {"\xc2\x80", 2},         /* U+0080 */
        {"\xc1\xbf", 0},         /* overlong U+007F */
        {"\xdf\xbf", 2},         /* U+07FF */
        {"\xe0\xa0\x80", 3},     /* U+0800 */
        {"\xe0\x9f\xbf", 0},     /* overlong U+07FF */
        {"\xed\x9f\xbf", 3},     /* U+D7FF */
        {"\xed\xa0\x80", 0},     /* U+D800 */
        {"\xee\x80\x80", 3},     /* U+E000 */
        {"\xef\xbf\xbf", 3},     /* U+FFFF */
        {"\xf0\x90\x80\x80", 4}, /* U+10000 */
        {"\xf0\x8f\xbf\xbf", 0}, /* overlong U+FFFF */
        {"\xf4\x8f\xbf\xbf", 4}, /* U+10FFFF */
        {"\xf4\x90\x80\x80", 0}, /* U+110000 */
        {"\xf5\x80\x80\x80", 0},
        {"\xe4\xbd", 0}, /* cut short */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        size_t n = strlen(t[i].bytes);
        size_t got = utf8_char((const unsigned char *)t[i].bytes, n, NULL);
        if (got != t[i].want)
            fail_msg("case %zu: %zu, want %zu", i, got, t[i].want);
        assert_int_equal(utf8_valid(t[i].bytes, n, NULL, NULL), t[i].want == n);
    }
}

/* A cut at every length of every valid text leaves valid UTF-8, at most
 * 3 bytes shorter than asked. */
static void test_cut_everywhere(void **s)
{
    (void)s;
    struct corpus c;
    corpus_load(&c);
    for (size_t i = 0; i < c.n; i++) {
        const struct corpus_text *t = &c.v[i];
        if (!t->valid)
            continue;
        for (size_t max = 0; max <= t->len + 1; max++) {
            size_t cut = utf8_cut(t->bytes, t->len, max);
            assert_true(cut <= max && cut <= t->len);
            assert_true(cut + 3 >= (max < t->len ? max : t->len));
            if (!utf8_valid(t->bytes, cut, NULL, NULL))
                fail_msg("%s cut at %zu (asked %zu) is invalid", t->name, cut,
                         max);
            char dst[512];
            if (max > 0 && max <= sizeof(dst)) {
                utf8_copy(dst, max, t->bytes);
                assert_true(utf8_valid(dst, strlen(dst), NULL, NULL));
                assert_memory_equal(dst, t->bytes, strlen(dst));
                /* snprintf cuts anywhere; trim_tail mends it. */
                snprintf(dst, max, "%s", t->bytes);
                utf8_trim_tail(dst);
                assert_true(utf8_valid(dst, strlen(dst), NULL, NULL));
                assert_true(strlen(dst) + 3 >= max - 1 ||
                            strlen(dst) == t->len);
            }
        }
    }
    corpus_free(&c);
}

/* Text from a DLQ header printed on an operator's terminal: chat text
 * stays, control characters and broken bytes are shown, not obeyed. */
static void test_terminal(void **s)
{
    (void)s;
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } t[] = {
        {"你好 😀 مرحبا שלום café", 0, "你好 😀 مرحبا שלום café"},
        {"\x1b]0;pwned\x07\x1b[2J", 0, "\\x1b]0;pwned\\x07\\x1b[2J"},
        {"a\rb\nc\td\x7f", 0, "a\\x0db\\x0ac\\x09d\\x7f"},
        {"\xc2\x9b"
         "31m",
         0, "\\xc2\\x9b31m"},                /* C1 CSI */
        {"\xc2\xa0nbsp", 0, "\xc2\xa0nbsp"}, /* U+00A0 is text */
        {"\xc0\xaf \xed\xa0\x80", 0, "\\xc0\\xaf \\xed\\xa0\\x80"},
        {"nul\0here", 8, "nul\\x00here"},
    };
    char out[256];
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        size_t len = t[i].len ? t[i].len : strlen(t[i].in);
        utf8_terminal(out, sizeof(out), t[i].in, len);
        if (strcmp(out, t[i].out) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, out, t[i].out);
        assert_null(strchr(out, 0x1b));
    }
    /* Cut between characters and escapes, never inside one. */
    utf8_terminal(out, 6, "ab\x1b你", 6);
    assert_string_equal(out, "ab");
    utf8_terminal(out, 8, "ab\x1b你", 6);
    assert_string_equal(out, "ab\\x1b");
    utf8_terminal(out, 10, "ab\x1b你", 6);
    assert_string_equal(out, "ab\\x1b你");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_cut_everywhere),
        cmocka_unit_test(test_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
