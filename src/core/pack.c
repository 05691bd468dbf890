/* pack.c - recipient packing. */
#include "pack.h"

#include <json-c/json.h>
#include <string.h>

int pack_rest(struct json_object *event, struct buf *out)
{
    bool first = true;
    buf_puts(out, "{");
    json_object_object_foreach(event, key, val)
    {
        if (strcmp(key, "ToUserId") == 0)
            continue;
        if (!first)
            buf_puts(out, ",");
        first = false;
        buf_json_str(out, key, strlen(key));
        buf_puts(out, ":");
        const char *v = json_object_to_json_string_ext(
            val, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (v == NULL)
            return -2; /* json-c could not allocate */
        buf_puts(out, v);
    }
    buf_puts(out, "}");
    if (buf_failed(out))
        return buf_out_of_memory(out) ? -2 : -1;
    return 0;
}

uint64_t pack_hash(const char *rest, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)rest[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

static bool has(const char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

bool pack_add(struct pack_call *c, const char *const *ids, size_t n)
{
    if (n == 0 || n > PACK_MAX_RECIPIENTS - c->n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (has(c->ids, c->n, ids[i]) || has(ids, i, ids[i]))
            return false;
    memcpy(&c->ids[c->n], ids, n * sizeof(*ids));
    c->n += n;
    return true;
}

int pack_body(const char *rest, size_t len, const struct pack_call *c,
              struct buf *out)
{
    if (len < 2 || rest[0] != '{' || rest[len - 1] != '}')
        return -1;
    buf_append(out, rest, len - 1);
    buf_puts(out, len > 2 ? ",\"ToUserId\":[" : "\"ToUserId\":[");
    for (size_t i = 0; i < c->n; i++) {
        if (i)
            buf_puts(out, ",");
        buf_json_str(out, c->ids[i], strlen(c->ids[i]));
    }
    buf_puts(out, "]}");
    return buf_failed(out) ? -1 : 0;
}

struct json_object *pack_filter(struct json_object *list,
                                const char *const *ids, size_t n)
{
    struct json_object *out = json_object_new_array();
    size_t len = json_object_is_type(list, json_type_array)
                     ? json_object_array_length(list)
                     : 0;
    for (size_t i = 0; out && i < len; i++) {
        struct json_object *e = json_object_array_get_idx(list, i), *u = NULL;
        if (json_object_object_get_ex(e, "UserId", &u) &&
            json_object_is_type(u, json_type_string) &&
            has(ids, n, json_object_get_string(u)) &&
            json_object_array_add(out, json_object_get(e)) != 0) {
            json_object_put(e);
            json_object_put(out);
            return NULL;
        }
    }
    return out;
}

size_t pack_chunk(size_t total, size_t off)
{
    if (off >= total)
        return 0;
    return total - off < PACK_MAX_RECIPIENTS ? total - off
                                             : PACK_MAX_RECIPIENTS;
}

bool pack_linger(bool packs, size_t recipients, bool sent_before, int64_t now,
                 int64_t received, int64_t linger_ms)
{
    return packs && recipients < PACK_MAX_RECIPIENTS && !sent_before &&
           now < received + linger_ms;
}
