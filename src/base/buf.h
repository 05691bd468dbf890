/* buf.h - a byte buffer with a hard upper bound.
 * Appends fail (-1) instead of growing past the bound, so no input can make
 * us allocate without limit. A buffer whose append failed is poisoned, as
 * curl's dynbuf is: its content is freed and every later append fails
 * until buf_reset(), so a half-built value can never be used. The content
 * is always NUL-terminated. */
#ifndef ZB_BUF_H
#define ZB_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
    char *data;   /* NUL-terminated; NULL until the first append */
    size_t len;   /* bytes used, without the NUL */
    size_t cap;   /* bytes allocated */
    size_t limit; /* most bytes len may reach */
    int failed;   /* an append failed: poisoned until buf_reset();
                     1: over the limit, 2: out of memory */
};

void buf_init(struct buf *b, size_t limit);
void buf_free(struct buf *b);  /* frees data; b may be reused after buf_init */
void buf_reset(struct buf *b); /* len = 0, keeps the memory, unpoisons */
int buf_failed(const struct buf *b); /* nonzero if poisoned */
/* Whether it was poisoned for want of memory, not for its limit. */
int buf_out_of_memory(const struct buf *b);
void buf_truncate(struct buf *b, size_t len); /* len = min(len, b->len) */
int buf_append(struct buf *b, const void *p, size_t n); /* 0 or -1 */
int buf_puts(struct buf *b, const char *s);             /* 0 or -1 */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))); /* 0 or -1 */
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends v in decimal, as "%" PRId64 would, without printf's cost (the
 * reply builder's numbers). 0 or -1. */
int buf_put_i64(struct buf *b, int64_t v);
/* u in decimal, written backwards ending just before end (room for 20
 * digits); returns where it starts. */
char *buf_u64_digits(char *end, uint64_t u);
/* Appends name, then v in decimal: ,"offset":42 in one call. 0 or -1. */
int buf_put_field(struct buf *b, const char *name, int64_t v);
/* Appends s as a JSON string literal, quotes included; a byte that is no
 * part of valid UTF-8 becomes \ufffd. 0 or -1. */
int buf_json_str(struct buf *b, const char *s, size_t n);

#endif
