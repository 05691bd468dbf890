/* utf8.h - UTF-8 as RFC 3629 defines it: checked, and cut only between
 * characters. Chat text is Chinese, Japanese, Arabic, emoji: a check that
 * lets an overlong form (C0 AF for '/') or an encoded surrogate (ED A0 80)
 * through passes bytes that other readers refuse, and a message cut in
 * the middle of a character makes the whole reply invalid UTF-8, which
 * strict JSON consumers refuse. Pure. */
#ifndef ZB_UTF8_H
#define ZB_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The length of the valid UTF-8 sequence starting at s[0] (1 to 4), or 0
 * when it is not one: a stray continuation byte, an overlong form, an
 * encoded surrogate (U+D800..U+DFFF), a code point above U+10FFFF, or a
 * sequence cut short by n. *why (may be NULL) gets what is wrong. */
size_t utf8_char(const unsigned char *s, size_t n, const char **why);

/* True if s[0..n) is valid UTF-8. Otherwise false, with the offset of the
 * first bad sequence in *at and the reason in *why (both may be NULL). */
bool utf8_valid(const char *s, size_t n, size_t *at, const char **why);

/* The longest length <= max at which s[0..n) may be cut without splitting
 * a character: max backed off over the continuation bytes of a character
 * it would split. */
size_t utf8_cut(const char *s, size_t n, size_t max);

/* After a snprintf() that may have cut its text: drops a character left
 * incomplete at the end of the NUL-terminated s. */
void utf8_trim_tail(char *s);

/* snprintf(dst, n, "%s", src), cut between characters. n > 0. */
void utf8_copy(char *dst, size_t n, const char *src);

/* src[0..len) made safe to print on a terminal, into dst (n > 0, always
 * terminated, cut between characters): printable UTF-8 is kept (chat
 * text), and every byte of a control character (C0, DEL, C1: ESC starts
 * the sequences that retitle, clear or rewrite a terminal) or of invalid
 * UTF-8 becomes \xNN. For text from others: DLQ headers, record keys. */
void utf8_terminal(char *dst, size_t n, const char *src, size_t len);

#endif
