/* corpus.c - loads tests/data/multilingual.jsonl. */
#include "corpus.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ZB_TEST_DATA
#error "ZB_TEST_DATA must name tests/data"
#endif

static int hexval(char h)
{
    if (h >= '0' && h <= '9')
        return h - '0';
    if (h >= 'a' && h <= 'f')
        return h - 'a' + 10;
    return -1;
}

static void add(struct corpus *c, struct json_object *o)
{
    struct json_object *name = NULL, *text = NULL, *hex = NULL, *why = NULL;
    if (!json_object_object_get_ex(o, "name", &name))
        return; /* the comment line */
    c->v = realloc(c->v, (c->n + 1) * sizeof(*c->v));
    assert_non_null(c->v);
    struct corpus_text *t = &c->v[c->n++];
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", json_object_get_string(name));
    if (json_object_object_get_ex(o, "text", &text)) {
        t->valid = true;
        t->len = (size_t)json_object_get_string_len(text);
        t->bytes = malloc(t->len + 1);
        assert_non_null(t->bytes);
        memcpy(t->bytes, json_object_get_string(text), t->len + 1);
        return;
    }
    assert_true(json_object_object_get_ex(o, "hex", &hex));
    assert_true(json_object_object_get_ex(o, "why", &why));
    const char *h = json_object_get_string(hex);
    t->len = strlen(h) / 2;
    t->bytes = malloc(t->len + 1);
    assert_non_null(t->bytes);
    for (size_t i = 0; i < t->len; i++) {
        int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
        assert_true(hi >= 0 && lo >= 0);
        t->bytes[i] = (char)(hi * 16 + lo);
    }
    t->bytes[t->len] = '\0';
    snprintf(t->why, sizeof(t->why), "%s", json_object_get_string(why));
}

void corpus_load(struct corpus *c)
{
    char path[512], line[8192];
    snprintf(path, sizeof(path), "%s/multilingual.jsonl", ZB_TEST_DATA);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open the corpus %s", path);
    memset(c, 0, sizeof(*c));
    while (fgets(line, sizeof(line), f)) {
        struct json_object *o = json_tokener_parse(line);
        if (o == NULL)
            fail_msg("corpus line is not JSON: %s", line);
        add(c, o);
        json_object_put(o);
    }
    fclose(f);
    if (c->n < 20)
        fail_msg("the corpus has %zu entries", c->n);
}

void corpus_free(struct corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].bytes);
    free(c->v);
    memset(c, 0, sizeof(*c));
}

const struct corpus_text *corpus_get(const struct corpus *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].name, name) == 0)
            return &c->v[i];
    fail_msg("no corpus entry %s", name);
    return NULL;
}

void corpus_json_escape(const struct corpus_text *t, char *out, size_t n)
{
    size_t k = 0;
    assert_true(t->valid);
    for (size_t i = 0; i < t->len; i++) {
        unsigned char ch = (unsigned char)t->bytes[i];
        const char *esc = NULL;
        char tmp[8];
        if (ch == '"')
            esc = "\\\"";
        else if (ch == '\\')
            esc = "\\\\";
        else if (ch < 0x20) {
            snprintf(tmp, sizeof(tmp), "\\u%04x", ch);
            esc = tmp;
        }
        size_t add_len = esc ? strlen(esc) : 1;
        assert_true(k + add_len < n);
        if (esc)
            memcpy(out + k, esc, add_len);
        else
            out[k] = (char)ch;
        k += add_len;
    }
    out[k] = '\0';
}
