/* json_strict.h - JSON text checked strictly (RFC 8259, UTF-8 as RFC 3629
 * defines it) before json-c reads it.
 *
 * Why not json-c's own JSON_TOKENER_STRICT: its rules differ between the
 * versions we ship and test on, and neither version is right for chat
 * text.
 * - json-c 0.18 (Debian 13, the image) compares a signed char with 0x1f
 *   in strict mode, so every byte >= 0x80 counts as a control character:
 *   every Chinese, Arabic or emoji message is "invalid UTF-8". Fixed
 *   upstream after 0.18.
 * - json-c 0.16 (Debian 12) accepts overlong forms (C0 AF), encoded
 *   surrogates (ED A0 80) and code points above U+10FFFF under
 *   JSON_TOKENER_VALIDATE_UTF8, and raw control characters in strings.
 * This one check gives both the same rules, and json-c then reads the
 * text in its lenient mode, which reads every text accepted here as
 * RFC 8259 says (what lenient mode adds, single quotes, comments,
 * trailing commas, NaN, never reaches it).
 *
 * What is refused: anything RFC 8259 does not allow (trailing commas,
 * single quotes, comments, NaN, leading zeros, literals in the wrong
 * case), raw control characters in strings, invalid UTF-8, \u escapes
 * that name an unpaired surrogate, nesting deeper than asked, and
 * anything but white space after the value. Pure; one pass. */
#ifndef ZB_JSON_STRICT_H
#define ZB_JSON_STRICT_H

#include <stddef.h>

#define JSON_STRICT_MAX_DEPTH 64

struct json_strict_error {
    size_t at;       /* byte offset of the fault */
    char why[160];   /* "invalid UTF-8 at byte 92: an overlong encoding" */
    char where[128]; /* the value it is in: "MessageBody.Message",
                        "ToUserId[1]"; "" at the top */
};

/* Checks s[0..n) holds one JSON value, nested at most max_depth
 * containers deep (json-c's meaning of depth; at most
 * JSON_STRICT_MAX_DEPTH), with only white space around it. 0, with
 * *members (may be NULL) the number of object members in it (to compare
 * with what json-c kept: json-c keeps the last of repeated keys without a
 * word), and *top (may be NULL) its first byte ('{', '[', '"', 't', 'f',
 * 'n', or the number's first); or -1 with err filled. */
int json_strict_check(const char *s, size_t n, int max_depth, size_t *members,
                      char *top, struct json_strict_error *err);

#endif
