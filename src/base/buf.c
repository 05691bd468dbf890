/* buf.c - bounded byte buffer. */
#include "buf.h"

#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

int buf_failed(const struct buf *b)
{
    return b->failed;
}

int buf_out_of_memory(const struct buf *b)
{
    return b->failed == 2;
}

/* Poisons b (why: 1 over the limit, 2 out of memory): what it held is
 * gone, and appends fail until buf_reset(). The first reason stays. */
static int poison(struct buf *b, int why)
{
    buf_free(b);
    if (!b->failed)
        b->failed = why;
    return -1;
}

void buf_truncate(struct buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

static int buf_reserve(struct buf *b, size_t extra)
{
    if (b->failed || extra > b->limit - b->len)
        return poison(b, 1);
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->limit + 1)
        cap = b->limit + 1;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return poison(b, 2);
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) == -1)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    if (b->failed)
        return -1;
    /* One pass when it fits in what is allocated (the usual case for a
     * reused buffer); measured, then formatted, when it does not. */
    size_t room = b->data ? b->cap - b->len : 0;
    if (b->limit - b->len + 1 < room)
        room = b->limit - b->len + 1;
    va_list ap2;
    va_copy(ap2, ap);
    int n = room ? vsnprintf(b->data + b->len, room, fmt, ap2)
                 : vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return poison(b, 1);
    if ((size_t)n < room) {
        b->len += (size_t)n;
        return 0;
    }
    if (b->data)
        b->data[b->len] = '\0'; /* undo the cut-off attempt */
    if (buf_reserve(b, (size_t)n) == -1)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *buf_u64_digits(char *end, uint64_t u)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021"
                                "22232425262728293031323334353637383940414243"
                                "44454647484950515253545556575859606162636465"
                                "66676869707172737475767778798081828384858687"
                                "888990919293949596979899";
    char *p = end;
    while (u >= 100) {
        const char *d = pairs + 2 * (u % 100);
        u /= 100;
        *--p = d[1];
        *--p = d[0];
    }
    if (u >= 10) {
        *--p = pairs[2 * u + 1];
        *--p = pairs[2 * u];
    } else {
        *--p = (char)('0' + u);
    }
    return p;
}

int buf_put_i64(struct buf *b, int64_t v)
{
    char tmp[24], *end = tmp + sizeof(tmp);
    /* In unsigned arithmetic, so INT64_MIN negates without overflow. */
    char *p = buf_u64_digits(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
    if (v < 0)
        *--p = '-';
    return buf_append(b, p, (size_t)(end - p));
}

int buf_put_field(struct buf *b, const char *name, int64_t v)
{
    return buf_puts(b, name) == 0 ? buf_put_i64(b, v) : -1;
}

/* Bytes a JSON string takes as they are: ASCII from the space on, but "
 * and \ (0x7f included, as before). */
static const unsigned char json_plain[256] = {
    [0x20] = 1, [0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1};

int buf_json_str(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    if (buf_append(b, "\"", 1) == -1)
        return -1;
    size_t i = 0;
    for (;;) {
        /* A run that needs no escaping, copied in one go; valid UTF-8
         * characters belong to it too. */
        size_t start = i;
        for (;;) {
            while (i < n && json_plain[u[i]])
                i++;
            size_t len =
                i < n && u[i] >= 0x80 ? utf8_char(u + i, n - i, NULL) : 0;
            if (len == 0)
                break;
            i += len;
        }
        if (buf_append(b, s + start, i - start) == -1)
            return -1;
        if (i == n)
            break;
        char esc[6];
        size_t elen = 6;
        unsigned char c = u[i++];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            elen = 2;
        } else if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
        } else {
            /* JSON text is UTF-8: a byte that is not part of a valid
             * character (a string cut in the middle of one, bytes from
             * outside) becomes U+FFFD, so the output stays JSON that
             * strict readers take. */
            memcpy(esc, "\\ufffd", 6);
        }
        if (buf_append(b, esc, elen) == -1)
            return -1;
    }
    return buf_append(b, "\"", 1);
}
