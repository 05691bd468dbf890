/* trace.c - traceparent and OTLP/JSON spans (see trace.h). */
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hexdig[] = "0123456789abcdef";

/* A string literal appended without strlen(). */
#define PUTS(b, lit) buf_append((b), (lit), sizeof(lit) - 1)

/* Lowercase hex s[0..2n) into out[n]. 0 or -1. */
static int unhex(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < 2 * n; i++) {
        const char *d = s[i] ? strchr(hexdig, s[i]) : NULL;
        if (d == NULL)
            return -1;
        uint8_t v = (uint8_t)(d - hexdig);
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
    }
    return 0;
}

static bool all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

int trace_parse(const char *s, size_t n, struct trace_ctx *out)
{
    memset(out, 0, sizeof(*out));
    uint8_t version;
    /* vv-<32>-<16>-ff: dashes at 2, 35 and 52 */
    if (n < TRACEPARENT_LEN || s[2] != '-' || s[35] != '-' || s[52] != '-' ||
        unhex(s, 1, &version) == -1 || version == 0xff ||
        (version == 0 && n != TRACEPARENT_LEN) ||
        (n > TRACEPARENT_LEN && s[TRACEPARENT_LEN] != '-') ||
        unhex(s + 3, TRACE_ID_BYTES, out->trace_id) == -1 ||
        unhex(s + 36, SPAN_ID_BYTES, out->span_id) == -1 ||
        unhex(s + 53, 1, &out->flags) == -1 ||
        all_zero(out->trace_id, TRACE_ID_BYTES) ||
        all_zero(out->span_id, SPAN_ID_BYTES)) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}

static char *put_hex(char *p, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *p++ = hexdig[b[i] >> 4];
        *p++ = hexdig[b[i] & 15];
    }
    return p;
}

void trace_format(const struct trace_ctx *c, char *out)
{
    char *p = out;
    *p++ = '0';
    *p++ = '0';
    *p++ = '-';
    p = put_hex(p, c->trace_id, TRACE_ID_BYTES);
    *p++ = '-';
    p = put_hex(p, c->span_id, SPAN_ID_BYTES);
    *p++ = '-';
    p = put_hex(p, &c->flags, 1);
    *p = '\0';
}

bool trace_ratio_sampled(const uint8_t trace_id[TRACE_ID_BYTES], double ratio)
{
    if (ratio <= 0)
        return false;
    if (ratio >= 1)
        return true;
    uint64_t v = 0;
    for (int i = 8; i < TRACE_ID_BYTES; i++)
        v = v << 8 | trace_id[i];
    double bound = ratio * 18446744073709551616.0; /* ratio * 2^64 */
    if (bound >= 18446744073709551615.0) /* rounds to 2^64: not a uint64 */
        return true;
    return v < (uint64_t)bound;
}

/* ---- OTLP/JSON ---- */

/* key"<hex>": one append. key is one of this file's literals. */
static void put_id(struct buf *b, const char *key, const uint8_t *id, size_t n)
{
    char tmp[64];
    size_t kl = strlen(key);
    memcpy(tmp, key, kl);
    tmp[kl] = '"';
    char *p = put_hex(tmp + kl + 1, id, n);
    *p++ = '"';
    buf_append(b, tmp, (size_t)(p - tmp));
}

/* "key":"<decimal>" : OTLP/JSON's 64-bit integers are strings. */
static void put_i64_string(struct buf *b, const char *key, int64_t v)
{
    char tmp[96], digits[24], *end = digits + sizeof(digits);
    size_t kl = strlen(key);
    char *d = buf_u64_digits(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
    memcpy(tmp, key, kl);
    char *p = tmp + kl;
    *p++ = '"';
    if (v < 0)
        *p++ = '-';
    memcpy(p, d, (size_t)(end - d));
    p += end - d;
    *p++ = '"';
    buf_append(b, tmp, (size_t)(p - tmp));
}

static void put_str(struct buf *b, const char *s)
{
    buf_json_str(b, s ? s : "", s ? strlen(s) : 0);
}

/* Attribute keys are OpenTelemetry attribute names (trace.h): written as
 * they are, with no escaping; values are escaped. */
static void put_attrs(struct buf *b, const struct trace_attr *a, size_t n,
                      bool comma)
{
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, i || comma ? ",{\"key\":\"" : "{\"key\":\"");
        buf_puts(b, a[i].key);
        switch (a[i].type) {
        case TRACE_ATTR_STRING:
            PUTS(b, "\",\"value\":{\"stringValue\":");
            put_str(b, a[i].s);
            buf_append(b, "}}", 2);
            break;
        case TRACE_ATTR_INT:
            put_i64_string(b, "\",\"value\":{\"intValue\":", a[i].i);
            buf_append(b, "}}", 2);
            break;
        case TRACE_ATTR_BOOL:
            buf_puts(b, a[i].b ? "\",\"value\":{\"boolValue\":true}}"
                               : "\",\"value\":{\"boolValue\":false}}");
            break;
        }
    }
}

int trace_attrs_json(const struct trace_attr *a, size_t n, struct buf *out)
{
    put_attrs(out, a, n, false);
    return buf_failed(out) ? -1 : 0;
}

int trace_span_json(const struct trace_span *sp, struct buf *b)
{
    put_id(b, "{\"traceId\":", sp->trace_id, TRACE_ID_BYTES);
    put_id(b, ",\"spanId\":", sp->span_id, SPAN_ID_BYTES);
    if (!all_zero(sp->parent_id, SPAN_ID_BYTES))
        put_id(b, ",\"parentSpanId\":", sp->parent_id, SPAN_ID_BYTES);
    PUTS(b, ",\"name\":");
    put_str(b, sp->name);
    buf_put_field(b, ",\"kind\":", (int64_t)sp->kind);
    put_i64_string(b, ",\"startTimeUnixNano\":", sp->start_ns);
    put_i64_string(b, ",\"endTimeUnixNano\":", sp->end_ns);
    PUTS(b, ",\"attributes\":[");
    if (sp->attrs_pre_len)
        buf_append(b, sp->attrs_pre, sp->attrs_pre_len);
    put_attrs(b, sp->attrs, sp->n_attrs, sp->attrs_pre_len > 0);
    buf_append(b, "]", 1);
    if (sp->n_links) {
        PUTS(b, ",\"links\":[");
        for (size_t i = 0; i < sp->n_links; i++) {
            put_id(b, i ? ",{\"traceId\":" : "{\"traceId\":",
                   sp->links[i].trace_id, TRACE_ID_BYTES);
            put_id(b, ",\"spanId\":", sp->links[i].span_id, SPAN_ID_BYTES);
            PUTS(b, "}");
        }
        PUTS(b, "]");
    }
    /* UNSET with no message is the default: left out, as proto3's JSON
     * mapping leaves out default values. */
    if (sp->status != TRACE_STATUS_UNSET || sp->status_message) {
        buf_put_field(b, ",\"status\":{\"code\":", (int64_t)sp->status);
        if (sp->status_message) {
            PUTS(b, ",\"message\":");
            put_str(b, sp->status_message);
        }
        buf_append(b, "}", 1);
    }
    buf_append(b, "}", 1);
    return buf_failed(b) ? -1 : 0;
}

int trace_otlp_head(const struct trace_attr *resource, size_t n_resource,
                    const char *scope, const char *version, struct buf *out)
{
    PUTS(out, "{\"resourceSpans\":[{\"resource\":{\"attributes\":[");
    put_attrs(out, resource, n_resource, false);
    PUTS(out, "]},\"scopeSpans\":[{\"scope\":{\"name\":");
    put_str(out, scope);
    PUTS(out, ",\"version\":");
    put_str(out, version);
    PUTS(out, "},\"spans\":[");
    return buf_failed(out) ? -1 : 0;
}

int trace_otlp_tail(struct buf *out)
{
    PUTS(out, "]}]}]}");
    return buf_failed(out) ? -1 : 0;
}

int trace_otlp_json(const struct trace_attr *resource, size_t n_resource,
                    const char *scope, const char *version,
                    const struct trace_span *spans, size_t n, struct buf *out)
{
    trace_otlp_head(resource, n_resource, scope, version, out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            PUTS(out, ",");
        trace_span_json(&spans[i], out);
    }
    return trace_otlp_tail(out);
}

/* ---- key=value lists ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* s[0..n) trimmed of spaces and tabs, percent-decoded into out (n + 1).
 * -1 on a bad escape or a decoded control character. */
static int kv_part(const char *s, size_t n, bool decode, char *out)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (decode && c == '%') {
            if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
                return -1;
            c = (unsigned char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

int trace_kv_parse(const char *s, trace_kv_fn fn, void *ctx, char *err,
                   size_t errlen)
{
    size_t len = s ? strlen(s) : 0;
    char *k = malloc(len + 1), *v = malloc(len + 1);
    int rc = k && v ? 0 : -1;
    if (rc == -1)
        snprintf(err, errlen, "out of memory");
    for (size_t i = 0, item = 1; rc == 0 && i < len; item++) {
        const char *comma = memchr(s + i, ',', len - i);
        size_t end = comma ? (size_t)(comma - s) : len;
        const char *eq = memchr(s + i, '=', end - i);
        if (strspn(s + i, " \t") >= end - i) {
            i = end + 1; /* an empty item */
            continue;
        }
        if (eq == NULL || kv_part(s + i, (size_t)(eq - s) - i, false, k) ||
            k[0] == '\0' || strpbrk(k, " :") ||
            kv_part(eq + 1, end - (size_t)(eq - s) - 1, true, v)) {
            snprintf(err, errlen,
                     "item %zu is not key=value (a key without spaces or "
                     "colons, a percent-encoded value)",
                     item);
            rc = -1;
        } else if (fn(ctx, k, v) == -1) {
            snprintf(err, errlen, "item %zu: out of memory", item);
            rc = -1;
        }
        i = end + 1;
    }
    free(k);
    free(v);
    return rc;
}
