/* fuzz_trace.c - what tracing reads from outside, on arbitrary bytes: a
 * record's traceparent header (trace_parse), the OTEL_EXPORTER_OTLP_HEADERS
 * and OTEL_RESOURCE_ATTRIBUTES lists (trace_kv_parse), a URL to redact
 * (spans_redact_url), and any string put in a span (buf_json_str).
 * Asserts: a traceparent taken is lowercase and formats back to itself
 * (version 00) with non-zero ids; a list's pairs hold no control
 * character and a refusal never quotes the list; a redacted URL fits and
 * keeps no byte of a Signature value; every JSON string is strict JSON
 * and valid UTF-8. */
#include "buf.h"
#include "json_strict.h"
#include "spans.h"
#include "trace.h"
#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_pair(void *ctx, const char *k, const char *v)
{
    (void)ctx;
    for (const char *p = k; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == ' ' || *p == ':')
            abort();
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            abort();
    return 0;
}

static void traceparent(const char *s, size_t n)
{
    struct trace_ctx c;
    if (trace_parse(s, n, &c) != 0)
        return;
    char out[TRACEPARENT_LEN + 1];
    trace_format(&c, out);
    for (size_t i = 3; i < TRACEPARENT_LEN; i++)
        if (s[i] >= 'A' && s[i] <= 'F')
            abort(); /* uppercase was taken */
    if (s[0] == '0' && s[1] == '0' && memcmp(s + 2, out + 2, 53) != 0)
        abort();
    struct trace_ctx again;
    if (trace_parse(out, TRACEPARENT_LEN, &again) != 0 ||
        memcmp(&again, &c, sizeof(c)) != 0)
        abort();
}

static void json_string(const char *s, size_t n)
{
    struct buf b;
    buf_init(&b, 8 * n + 16);
    if (buf_json_str(&b, s, n) != 0)
        abort();
    struct json_strict_error e;
    if (!utf8_valid(b.data, b.len, NULL, NULL) ||
        json_strict_check(b.data, b.len, 4, NULL, NULL, &e) != 0)
        abort();
    buf_free(&b);
}

static void redact(const char *s)
{
    char out[256];
    spans_redact_url(s, out, sizeof(out));
    if (strlen(out) >= sizeof(out))
        abort();
    /* A parameter Signature's value: none of it may be left. */
    const char *p = strstr(s, "?Signature=");
    if (p == NULL)
        p = strstr(s, "&Signature=");
    if (p && strlen(out) < sizeof(out) - 1) {
        const char *v = p + 11;
        size_t vl = strcspn(v, "&#");
        /* Its first 8 bytes, when they are lowercase hex (as signatures
         * are: no piece of the output can join into them) and occur
         * nowhere else in the URL. */
        char needle[9];
        if (vl >= 8 && strspn(v, "0123456789abcdef") >= 8) {
            memcpy(needle, v, 8);
            needle[8] = '\0';
            if (strstr(s, needle) == v && strstr(v + 1, needle) == NULL &&
                strstr(out, needle))
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    traceparent(s, size);
    json_string(s, size);
    char err[256] = "";
    if (trace_kv_parse(s, check_pair, NULL, err, sizeof(err)) == -1) {
        if (err[0] == '\0')
            abort();
        /* The message never quotes the list (it may hold a key). */
        if (strlen(s) >= 12 && strstr(err, s))
            abort();
    }
    redact(s);
    free(s);
    return 0;
}
