/* json_strict.c - the strict JSON check (see json_strict.h). A small
 * state machine over the bytes, with a stack of the open containers that
 * names where a fault is. */
#include "json_strict.h"

#include "utf8.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* What a byte inside a string is: most are copied as they are. A table:
 * this runs for every byte of every record and answer. */
enum { C_PLAIN = 0, C_QUOTE, C_ESCAPE, C_CONTROL, C_HIGH };
static const unsigned char str_class[256] = {
    [0 ... 0x1f] = C_CONTROL,
    ['"'] = C_QUOTE,
    ['\\'] = C_ESCAPE,
    [0x80 ... 0xff] = C_HIGH,
};

struct frame {
    bool obj;
    size_t key_off, key_len; /* the member being read (raw text) */
    bool has_key;
    size_t idx; /* array: items so far */
};

struct scan {
    const char *s;
    size_t n, i;
    int depth, max_depth;
    size_t members;
    struct frame st[JSON_STRICT_MAX_DEPTH];
    struct json_strict_error *err;
};

/* The path of the value being read, from the open containers. */
static void path(const struct scan *c, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    for (int k = 0; k < c->depth && n + 1 < outlen; k++) {
        const struct frame *f = &c->st[k];
        int w;
        if (f->obj && f->has_key)
            w = snprintf(out + n, outlen - n, "%s%.*s", n ? "." : "",
                         (int)f->key_len, c->s + f->key_off);
        else if (!f->obj)
            w = snprintf(out + n, outlen - n, "[%zu]", f->idx);
        else
            break;
        if (w < 0 || (size_t)w >= outlen - n) {
            n = outlen - 1;
            break;
        }
        n += (size_t)w;
    }
    out[n] = '\0';
    utf8_trim_tail(out);
}

static int fault(struct scan *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fault(struct scan *c, const char *fmt, ...)
{
    struct json_strict_error *e = c->err;
    va_list ap;
    e->at = c->i;
    va_start(ap, fmt);
    vsnprintf(e->why, sizeof(e->why), fmt, ap);
    va_end(ap);
    utf8_trim_tail(e->why);
    path(c, e->where, sizeof(e->where));
    return -1;
}

static int ends_early(struct scan *c)
{
    return fault(c, "JSON ends early");
}

/* "unexpected character 'x' at byte N" for what a place cannot hold. */
static int unexpected(struct scan *c, const char *wanted)
{
    if (c->i >= c->n)
        return ends_early(c);
    unsigned char ch = (unsigned char)c->s[c->i];
    if (ch >= 0x20 && ch < 0x7f)
        return fault(c, "invalid JSON at byte %zu: '%c' where %s was expected",
                     c->i, ch, wanted);
    return fault(c,
                 "invalid JSON at byte %zu: byte 0x%02x where %s was "
                 "expected",
                 c->i, ch, wanted);
}

static void skip_ws(struct scan *c)
{
    size_t i = c->i;
    while (i < c->n) {
        char ch = c->s[i];
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
            break;
        i++;
    }
    c->i = i;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char h = p[k];
        v <<= 4;
        if (h >= '0' && h <= '9')
            v |= (unsigned)(h - '0');
        else if (h >= 'a' && h <= 'f')
            v |= (unsigned)(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F')
            v |= (unsigned)(h - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* A \u escape at c->i (the backslash); a high surrogate must be followed
 * by a \u escape of a low one. */
static int unicode_escape(struct scan *c)
{
    unsigned u = 0, lo = 0;
    if (c->n - c->i < 6 || hex4(c->s + c->i + 2, &u) == -1)
        return fault(c,
                     "invalid JSON at byte %zu: \\u must be followed by "
                     "4 hex digits",
                     c->i);
    if (u >= 0xDC00 && u <= 0xDFFF)
        return fault(c,
                     "invalid JSON at byte %zu: \\u%04x is an unpaired "
                     "surrogate (not a character)",
                     c->i, u);
    if (u >= 0xD800 && u <= 0xDBFF) {
        if (c->n - c->i < 12 || c->s[c->i + 6] != '\\' ||
            c->s[c->i + 7] != 'u' || hex4(c->s + c->i + 8, &lo) == -1 ||
            lo < 0xDC00 || lo > 0xDFFF)
            return fault(c,
                         "invalid JSON at byte %zu: \\u%04x is an "
                         "unpaired surrogate (not a character)",
                         c->i, u);
        c->i += 6;
    }
    c->i += 6;
    return 0;
}

static int escape(struct scan *c)
{
    if (c->i + 1 >= c->n)
        return ends_early(c);
    switch (c->s[c->i + 1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        c->i += 2;
        return 0;
    case 'u':
        return unicode_escape(c);
    default:
        return fault(c, "invalid JSON at byte %zu: \\%c is not an escape", c->i,
                     c->s[c->i + 1] > 0x20 ? c->s[c->i + 1] : '?');
    }
}

/* A string at c->i (its opening quote); c->i ends past the closing one. */
static int string(struct scan *c)
{
    const unsigned char *u = (const unsigned char *)c->s;
    c->i++;
    for (;;) {
        /* The plain run, in a local: a store to c->i per byte otherwise
         * (u may alias it, as any char pointer may). */
        size_t i = c->i, n = c->n;
        while (i < n && str_class[u[i]] == C_PLAIN)
            i++;
        c->i = i;
        if (i >= n)
            return ends_early(c);
        const char *why = NULL;
        size_t len;
        switch (str_class[u[i]]) {
        case C_QUOTE:
            c->i++;
            return 0;
        case C_ESCAPE:
            if (escape(c) == -1)
                return -1;
            break;
        case C_CONTROL:
            return fault(c,
                         "invalid JSON at byte %zu: control character "
                         "0x%02x in a string (write it as \\u%04x)",
                         c->i, u[c->i], u[c->i]);
        default:
            if ((len = utf8_char(u + c->i, c->n - c->i, &why)) == 0)
                return fault(c, "invalid UTF-8 at byte %zu: %s", c->i, why);
            c->i += len;
        }
    }
}

static bool digit(const struct scan *c)
{
    return c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9';
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(struct scan *c)
{
    if (c->s[c->i] == '-')
        c->i++;
    if (!digit(c))
        return unexpected(c, "a digit");
    if (c->s[c->i++] != '0')
        while (digit(c))
            c->i++;
    if (c->i < c->n && c->s[c->i] == '.') {
        c->i++;
        if (!digit(c))
            return unexpected(c, "a digit");
        while (digit(c))
            c->i++;
    }
    if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        c->i++;
        if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-'))
            c->i++;
        if (!digit(c))
            return unexpected(c, "a digit");
        while (digit(c))
            c->i++;
    }
    return 0;
}

static int literal(struct scan *c, const char *word)
{
    size_t len = strlen(word);
    if (c->n - c->i < len || memcmp(c->s + c->i, word, len) != 0)
        return unexpected(c, "a JSON value");
    c->i += len;
    return 0;
}

/* Opens a container at c->i ('{' or '['). */
static int open_container(struct scan *c, bool obj)
{
    if (c->depth >= c->max_depth)
        return fault(c, "JSON nested deeper than %d levels", c->max_depth);
    c->st[c->depth++] = (struct frame){.obj = obj};
    c->i++;
    return 0;
}

/* A scalar at c->i, or the opening of a container: 0, 1 when a container
 * was opened, -1 on a fault. */
static int value(struct scan *c)
{
    skip_ws(c);
    if (c->i >= c->n)
        return ends_early(c);
    switch (c->s[c->i]) {
    case '{':
    case '[':
        return open_container(c, c->s[c->i] == '{') == 0 ? 1 : -1;
    case '"':
        return string(c);
    case 't':
        return literal(c, "true");
    case 'f':
        return literal(c, "false");
    case 'n':
        return literal(c, "null");
    default:
        if (c->s[c->i] == '-' || digit(c))
            return number(c);
        return unexpected(c, "a JSON value");
    }
}

/* A member's key and colon, at c->i (past '{' or ','). */
static int key(struct scan *c)
{
    struct frame *f = &c->st[c->depth - 1];
    f->has_key = false; /* a fault in or before the key names the object */
    skip_ws(c);
    if (c->i >= c->n || c->s[c->i] != '"')
        return unexpected(c, "a key in double quotes");
    size_t start = c->i + 1;
    if (string(c) == -1)
        return -1;
    f->key_off = start;
    f->key_len = c->i - 1 - start;
    f->has_key = true;
    skip_ws(c);
    if (c->i >= c->n || c->s[c->i] != ':')
        return unexpected(c, "':'");
    c->i++;
    c->members++;
    return 0;
}

/* After '{' or '[': the empty container closes at once. 1 if it did. */
static int closes_empty(struct scan *c)
{
    skip_ws(c);
    char close = c->st[c->depth - 1].obj ? '}' : ']';
    if (c->i < c->n && c->s[c->i] == close) {
        c->i++;
        c->depth--;
        return 1;
    }
    return 0;
}

/* After a value inside a container: ',' and the next member or item, or
 * the container's end. 1: the container closed; 0: a value is next. */
static int next(struct scan *c)
{
    struct frame *f = &c->st[c->depth - 1];
    skip_ws(c);
    if (c->i >= c->n) {
        f->has_key = false; /* the last value was whole: name its object */
        return ends_early(c);
    }
    if (c->s[c->i] == ',') {
        c->i++;
        if (f->obj)
            return key(c);
        f->idx++;
        return 0;
    }
    if (c->s[c->i] == (f->obj ? '}' : ']')) {
        c->i++;
        c->depth--;
        return 1;
    }
    return unexpected(c, f->obj ? "',' or '}'" : "',' or ']'");
}

static int check(struct scan *c)
{
    int rc = value(c);
    for (;;) {
        if (rc == -1)
            return -1;
        if (rc == 1 && (rc = closes_empty(c)) == 0) {
            /* A container was opened: its first member or item. */
            if (c->st[c->depth - 1].obj && key(c) == -1)
                return -1;
            rc = value(c);
            continue;
        }
        /* A value ended (rc 0), or a container closed (rc 1). */
        while (c->depth > 0 && (rc = next(c)) == 1)
            ;
        if (rc == -1)
            return -1;
        if (c->depth == 0)
            break;
        rc = value(c);
    }
    skip_ws(c);
    if (c->i < c->n)
        return fault(c, "unexpected data after the JSON value at byte %zu",
                     c->i);
    return 0;
}

int json_strict_check(const char *s, size_t n, int max_depth, size_t *members,
                      char *top, struct json_strict_error *err)
{
    /* Not zero-initialized: the frames (2.5 KB) are written as they are
     * opened, and clearing them cost more than checking a record. */
    struct scan c;
    c.s = s;
    c.n = n;
    c.i = 0;
    c.depth = 0;
    c.members = 0;
    c.err = err;
    c.max_depth = max_depth < 1                       ? 1
                  : max_depth > JSON_STRICT_MAX_DEPTH ? JSON_STRICT_MAX_DEPTH
                                                      : max_depth;
    err->at = 0;
    err->why[0] = err->where[0] = '\0';
    skip_ws(&c);
    if (c.i < n && top)
        *top = s[c.i];
    if (check(&c) == -1)
        return -1;
    if (members)
        *members = c.members;
    return 0;
}
