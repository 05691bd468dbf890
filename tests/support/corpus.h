/* corpus.h - the multilingual test corpus (tests/data/multilingual.jsonl):
 * real chat text in many scripts, and invalid UTF-8 with the reason the
 * bridge gives for it. Every test that sends text takes it from here, so
 * no test passes on ASCII alone. */
#ifndef ZB_TEST_CORPUS_H
#define ZB_TEST_CORPUS_H

#include <stdbool.h>
#include <stddef.h>

struct corpus_text {
    char name[48];
    char *bytes; /* the text (valid) or the raw bytes (invalid), NUL-ended */
    size_t len;
    bool valid;
    char why[96]; /* invalid: the reason json_strict gives, in a string */
};

struct corpus {
    struct corpus_text *v;
    size_t n;
};

/* Loads the corpus; aborts the test (cmocka fail) if it cannot. */
void corpus_load(struct corpus *c);
void corpus_free(struct corpus *c);
/* The entry called name (fails the test if there is none). */
const struct corpus_text *corpus_get(const struct corpus *c, const char *name);
/* text as the inside of a JSON string literal (quotes not included),
 * escaped as JSON requires, into out (size n): the valid ones only. */
void corpus_json_escape(const struct corpus_text *t, char *out, size_t n);

#endif
