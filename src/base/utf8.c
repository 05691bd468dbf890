/* utf8.c - RFC 3629 UTF-8: checking and cutting. */
#include "utf8.h"

#include <stdio.h>
#include <string.h>

static bool cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* How many bytes a sequence led by c has (1 to 4), by its high bits; 0
 * for a continuation byte or a byte UTF-8 never uses. */
static size_t lead_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0; /* continuation, or C0/C1: only overlong forms */
    if (c < 0xE0)
        return 2;
    if (c < 0xF0)
        return 3;
    return c < 0xF5 ? 4 : 0;
}

size_t utf8_char(const unsigned char *s, size_t n, const char **why)
{
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    if (n == 0) {
        *why = "empty";
        return 0;
    }
    unsigned char c = s[0];
    size_t len = lead_len(c);
    if (len == 1)
        return 1;
    if (len == 0) {
        *why = cont(c)    ? "a continuation byte with no lead byte"
               : c < 0xC2 ? "an overlong encoding"
                          : "a byte that UTF-8 never uses";
        return 0;
    }
    /* The second byte's range is narrower after E0, ED, F0 and F4: what
     * lies outside it is an overlong form, a surrogate or above U+10FFFF. */
    unsigned char lo = 0x80, hi = 0xBF;
    const char *bad = "a lead byte not followed by its continuation bytes";
    if (c == 0xE0 || c == 0xF0) {
        lo = c == 0xE0 ? 0xA0 : 0x90;
        bad = "an overlong encoding";
    } else if (c == 0xED) {
        hi = 0x9F;
        bad = "an encoded surrogate (U+D800..U+DFFF)";
    } else if (c == 0xF4) {
        hi = 0x8F;
        bad = "a code point above U+10FFFF";
    }
    if (n < 2 || !cont(s[1])) {
        *why = n < 2 ? "a character cut short"
                     : "a lead byte not followed by its continuation bytes";
        return 0;
    }
    if (s[1] < lo || s[1] > hi) {
        *why = bad;
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (i >= n || !cont(s[i])) {
            *why = i >= n ? "a character cut short"
                          : "a lead byte not followed by its continuation "
                            "bytes";
            return 0;
        }
    }
    return len;
}

bool utf8_valid(const char *s, size_t n, size_t *at, const char **why)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) { /* ASCII runs: the usual case */
            i++;
            continue;
        }
        size_t len = utf8_char(u + i, n - i, why);
        if (len == 0) {
            if (at)
                *at = i;
            return false;
        }
        i += len;
    }
    return true;
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (max >= n)
        return n;
    const unsigned char *u = (const unsigned char *)s;
    /* s[max] is the first byte left out: if it continues a character,
     * back off to that character's lead byte (at most 3 bytes; past that
     * the text is not UTF-8 and any cut is as good). */
    size_t i = max;
    while (i > 0 && max - i < 3 && cont(u[i]))
        i--;
    return cont(u[i]) ? max : i;
}

void utf8_trim_tail(char *s)
{
    size_t n = strlen(s);
    const unsigned char *u = (const unsigned char *)s;
    size_t i = n;
    while (i > 0 && n - i < 3 && cont(u[i - 1]))
        i--;
    if (i == 0 || u[i - 1] < 0x80)
        return; /* ends in ASCII, or is not UTF-8 to begin with */
    size_t len = lead_len(u[i - 1]);
    if (len > n - (i - 1))
        s[i - 1] = '\0'; /* its lead byte came, not all of the rest */
}

void utf8_copy(char *dst, size_t n, const char *src)
{
    size_t len = utf8_cut(src, strlen(src), n - 1);
    memmove(dst, src, len);
    dst[len] = '\0';
}

void utf8_terminal(char *dst, size_t n, const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t c = utf8_char(s + i, len - i, NULL);
        bool control = c == 0 || (c == 1 && (s[i] < 0x20 || s[i] == 0x7f)) ||
                       (c == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0);
        size_t take = control ? (c ? c : 1) : c;
        size_t need = control ? 4 * take : take;
        if (o + need >= n)
            break;
        if (control) {
            for (size_t k = 0; k < take; k++, o += 4)
                snprintf(dst + o, n - o, "\\x%02x", s[i + k]);
        } else {
            memcpy(dst + o, s + i, take);
            o += take;
        }
        i += take;
    }
    dst[o] = '\0';
}
