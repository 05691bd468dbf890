/* event.c - parse and validate chat-send events (reference §2-§4).
 *
 * Each JSON object the contract defines is described by a table of fields
 * (name, JSON type, bounds); one walker checks a table against an object:
 * unknown keys first, in the record's order, then each field in table order.
 * Rules that span fields (MessageType per conversation, SubMsgType with
 * custom messages, no message to self, the MessageBody per type) follow in
 * code. The first fault found is reported. */
#include "event.h"

#include "action.h"
#include "config.h"
#include "json_strict.h"
#include "jsontok.h"
#include "utf8.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ftype {
    FT_STR = 0, /* string, byte length in [min, max] */
    FT_INT,     /* integer in [min, max] */
    FT_BOOL,
    FT_ID,  /* ZIM ID: charset §3, 1..32 bytes */
    FT_IDS, /* array of FT_ID, count in [min, max] */
    FT_OBJ, /* object checked against sub */
    FT_ANY, /* checked by code after the walk (type given by min) */
};

#define REQ 1u /* required */
/* A max that is the limit peer.max_recipients sets. */
#define LIM_RECIPIENTS (-2)

struct fspec {
    const char *name;
    enum ftype type;
    unsigned flags;
    int64_t min, max;
    const struct fspec *sub; /* FT_OBJ: its fields, ended by a NULL name */
    int64_t over_code;       /* code when above max; 0: ZIM_CODE_BAD_PARAM */
};

#define NOLIM INT64_MAX
#define END                                                                    \
    {                                                                          \
        NULL, FT_STR, 0, 0, 0, NULL, 0                                         \
    }

/* The walker's state: where we are and where errors go. */
struct ctx {
    const struct event_limits *lim;
    struct event_error *err;
    char path[128];
    size_t plen;
};

static int fail(struct ctx *c, int64_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, int64_t code, const char *fmt, ...)
{
    va_list ap;
    utf8_copy(c->err->field, sizeof(c->err->field), c->path);
    c->err->code = code;
    va_start(ap, fmt);
    vsnprintf(c->err->message, sizeof(c->err->message), fmt, ap);
    va_end(ap);
    /* Keys are chat text too: never cut one in the middle of a
     * character, or the reply would not be UTF-8. */
    utf8_trim_tail(c->err->message);
    return -1;
}

/* Path pushes return the old length, which pop restores. They run for
 * every field of every record, so they copy bytes instead of formatting. */
static void path_add(struct ctx *c, const char *s, size_t n)
{
    size_t room = sizeof(c->path) - 1 - c->plen;
    if (n > room)
        n = utf8_cut(s, n, room);
    memcpy(c->path + c->plen, s, n);
    c->plen += n;
    c->path[c->plen] = '\0';
}

static size_t push_name(struct ctx *c, const char *name)
{
    size_t old = c->plen;
    if (c->plen)
        path_add(c, ".", 1);
    path_add(c, name, strlen(name));
    return old;
}

static size_t push_index(struct ctx *c, size_t i)
{
    size_t old = c->plen;
    char tmp[24];
    size_t n = sizeof(tmp);
    tmp[--n] = ']';
    do {
        tmp[--n] = (char)('0' + i % 10);
        i /= 10;
    } while (i);
    tmp[--n] = '[';
    path_add(c, tmp + n, sizeof(tmp) - n);
    return old;
}

static void pop(struct ctx *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

/* ---- leaf checks ---- */

/* The messaging pages' ID charset (reference §3). A switch, which the
 * compiler turns into a bit test: this runs for every byte of every ID. */
static bool id_char_ok(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
        (ch >= '0' && ch <= '9'))
        return true;
    switch (ch) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '(':
    case ')':
    case '+':
    case '-':
    case ':':
    case ';':
    case '<':
    case '=':
    case '.':
    case '>':
    case '?':
    case '@':
    case '[':
    case ']':
    case '^':
    case '_':
    case ' ':
    case '{':
    case '}':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

static int check_id(struct ctx *c, struct json_object *v, bool user)
{
    if (!json_object_is_type(v, json_type_string))
        return fail(c, ZIM_CODE_BAD_PARAM, "must be a string");
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (n == 0)
        return fail(c, ZIM_CODE_BAD_PARAM, "must not be empty");
    if (n > 32)
        return fail(c, user ? ZIM_CODE_USERID_TOO_LONG : ZIM_CODE_BAD_PARAM,
                    "%zu bytes, over the limit of 32", n);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!id_char_ok(ch)) {
            if (ch >= 0x20 && ch < 0x7f)
                return fail(c, ZIM_CODE_BAD_PARAM,
                            "character '%c' at byte %zu is not allowed in "
                            "ZIM IDs",
                            ch, i);
            return fail(c, ZIM_CODE_BAD_PARAM,
                        "byte 0x%02x at byte %zu is not allowed in ZIM IDs "
                        "(ASCII letters, digits, space and "
                        "!#$%%&()+-:;<=.>?@[]^_{}|~ only)",
                        ch, i);
        }
    }
    return 0;
}

/* FNV-1a of an ID: the key of the repeat search's table. */
static uint64_t id_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Each user once in a list of IDs (already checked one by one): a
 * repeated recipient would share a call with itself, and ZIM would
 * deliver the message twice or refuse the call. The first repeat is
 * named, with the entry it repeats. Up to 10,000 IDs (peer.max_recipients):
 * an open-addressing table of their indexes, on the stack for short
 * lists. */
static int check_unique_ids(struct ctx *c, struct json_object *arr, size_t n)
{
    uint32_t small[256], *slot = small;
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    if (n < 2)
        return 0;
    if (cap > sizeof(small) / sizeof(small[0]) &&
        (slot = malloc(cap * sizeof(*slot))) == NULL)
        return fail(c, ZIM_CODE_BAD_PARAM, "out of memory");
    memset(slot, 0xff, cap * sizeof(*slot)); /* UINT32_MAX: empty */
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct json_object *v = json_object_array_get_idx(arr, i);
        const char *id = json_object_get_string(v);
        size_t len = (size_t)json_object_get_string_len(v);
        for (size_t k = id_hash(id, len) & (cap - 1);;
             k = (k + 1) & (cap - 1)) {
            if (slot[k] == UINT32_MAX) {
                slot[k] = (uint32_t)i;
                break;
            }
            struct json_object *o = json_object_array_get_idx(arr, slot[k]);
            if ((size_t)json_object_get_string_len(o) == len &&
                memcmp(json_object_get_string(o), id, len) == 0) {
                char list[sizeof(c->path)];
                memcpy(list, c->path, c->plen + 1);
                size_t old = push_index(c, i);
                rc = fail(c, ZIM_CODE_BAD_PARAM,
                          "names the same user as %s[%u]; each user may be "
                          "named once",
                          list, slot[k]);
                pop(c, old);
                break;
            }
        }
    }
    if (slot != small)
        free(slot);
    return rc;
}

static const char *type_name(enum ftype t)
{
    switch (t) {
    case FT_STR:
    case FT_ID:
        return "a string";
    case FT_INT:
        return "an integer";
    case FT_BOOL:
        return "true or false";
    case FT_IDS:
        return "an array of strings";
    case FT_OBJ:
        return "an object";
    case FT_ANY:
        break;
    }
    return "a value";
}

static int walk(struct ctx *c, struct json_object *obj,
                const struct fspec *spec);

static int check_value(struct ctx *c, struct json_object *v,
                       const struct fspec *f)
{
    switch (f->type) {
    case FT_STR: {
        if (!json_object_is_type(v, json_type_string))
            return fail(c, ZIM_CODE_BAD_PARAM, "must be %s",
                        type_name(f->type));
        int64_t n = json_object_get_string_len(v);
        if (n < f->min)
            return fail(c, ZIM_CODE_BAD_PARAM, "must not be empty");
        if (n > f->max)
            return fail(c, f->over_code ? f->over_code : ZIM_CODE_BAD_PARAM,
                        "%lld bytes, over the limit of %lld", (long long)n,
                        (long long)f->max);
        return 0;
    }
    case FT_INT: {
        if (!json_object_is_type(v, json_type_int))
            return fail(c, ZIM_CODE_BAD_PARAM, "must be %s",
                        type_name(f->type));
        int64_t n = json_object_get_int64(v);
        /* json-c clamps integers beyond int64 to its limits. */
        if (n < f->min || n > f->max || n == INT64_MAX || n == INT64_MIN)
            return fail(c, ZIM_CODE_BAD_PARAM,
                        "%lld is out of range [%lld, %lld]", (long long)n,
                        (long long)f->min, (long long)f->max);
        return 0;
    }
    case FT_BOOL:
        if (!json_object_is_type(v, json_type_boolean))
            return fail(c, ZIM_CODE_BAD_PARAM, "must be %s",
                        type_name(f->type));
        return 0;
    case FT_ID:
        return check_id(c, v, f->over_code != 0);
    case FT_IDS: {
        if (!json_object_is_type(v, json_type_array))
            return fail(c, ZIM_CODE_BAD_PARAM, "must be %s",
                        type_name(f->type));
        int64_t n = (int64_t)json_object_array_length(v);
        int64_t max =
            f->max == LIM_RECIPIENTS ? (int64_t)c->lim->max_recipients : f->max;
        if (n < f->min)
            return fail(c, ZIM_CODE_BAD_PARAM, "needs at least %lld entries",
                        (long long)f->min);
        if (n > max)
            return fail(
                c, f->over_code ? ZIM_CODE_TOO_MANY_USERS : ZIM_CODE_BAD_PARAM,
                "%lld entries, over the limit of %lld", (long long)n,
                (long long)max);
        for (size_t i = 0; i < (size_t)n; i++) {
            size_t old = push_index(c, i);
            if (check_id(c, json_object_array_get_idx(v, i), true) == -1)
                return -1;
            pop(c, old);
        }
        return check_unique_ids(c, v, (size_t)n);
    }
    case FT_OBJ:
        if (!json_object_is_type(v, json_type_object))
            return fail(c, ZIM_CODE_BAD_PARAM, "must be %s",
                        type_name(f->type));
        return f->sub ? walk(c, v, f->sub) : 0;
    case FT_ANY:
        return 0;
    }
    return 0;
}

static const struct fspec *find_spec(const struct fspec *spec, const char *k)
{
    for (; spec->name; spec++)
        if (strcmp(spec->name, k) == 0)
            return spec;
    return NULL;
}

static int stray_field(struct ctx *c, const char *key, int kind);

/* obj against spec; kind: the event's action at its root, -1 below. */
static int walk_kind(struct ctx *c, struct json_object *obj,
                     const struct fspec *spec, int kind)
{
    if (!c->lim->allow_unknown_fields || kind >= 0) {
        json_object_object_foreach(obj, key, val)
        {
            (void)val;
            if (find_spec(spec, key) == NULL && stray_field(c, key, kind) == -1)
                return -1;
        }
    }
    for (const struct fspec *f = spec; f->name; f++) {
        struct json_object *v = NULL;
        size_t old = push_name(c, f->name);
        if (!json_object_object_get_ex(obj, f->name, &v)) {
            if (f->flags & REQ)
                return fail(c, ZIM_CODE_BAD_PARAM, "is required");
        } else if (v == NULL) {
            return fail(c, ZIM_CODE_BAD_PARAM, "must not be null");
        } else if (check_value(c, v, f) == -1) {
            return -1;
        }
        pop(c, old);
    }
    return 0;
}

static int walk(struct ctx *c, struct json_object *obj,
                const struct fspec *spec)
{
    return walk_kind(c, obj, spec, -1);
}

static struct json_object *get(struct json_object *obj, const char *k)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(obj, k, &v) ? v : NULL;
}

/* ---- the contract's objects ---- */

static const struct fspec image_ref_spec[] = {
    {"Url", FT_STR, REQ, 1, 500, NULL, 0},
    {"Width", FT_INT, 0, 0, INT32_MAX, NULL, 0},
    {"Height", FT_INT, 0, 0, INT32_MAX, NULL, 0},
    END};
static const struct fspec origin_spec[] = {
    {"Url", FT_STR, REQ, 1, 500, NULL, 0},
    {"Width", FT_INT, REQ, 0, INT32_MAX, NULL, 0},
    {"Height", FT_INT, REQ, 0, INT32_MAX, NULL, 0},
    END};
/* A video's first frame: "Width/Height must not be 0" (§4.7). */
static const struct fspec frame_spec[] = {
    {"Url", FT_STR, REQ, 1, 500, NULL, 0},
    {"Width", FT_INT, REQ, 1, INT32_MAX, NULL, 0},
    {"Height", FT_INT, REQ, 1, INT32_MAX, NULL, 0},
    END};

static const struct fspec image_msg_spec[] = {
    {"Uid", FT_STR, REQ, 1, NOLIM, NULL, 0},
    {"Origin", FT_OBJ, REQ, 0, 0, origin_spec, 0},
    {"LargeImage", FT_OBJ, 0, 0, 0, image_ref_spec, 0},
    {"Thumbnail", FT_OBJ, 0, 0, 0, image_ref_spec, 0},
    {"FileName", FT_STR, REQ, 1, 150, NULL, 0},
    {"Size", FT_INT, 0, 0, NOLIM - 1, NULL, 0},
    END};
static const struct fspec file_msg_spec[] = {
    {"Uid", FT_STR, REQ, 1, NOLIM, NULL, 0},
    {"Url", FT_STR, REQ, 1, 500, NULL, 0},
    {"FileName", FT_STR, REQ, 1, 150, NULL, 0},
    {"Size", FT_INT, 0, 0, NOLIM - 1, NULL, 0},
    END};
static const struct fspec audio_msg_spec[] = {
    {"Uid", FT_STR, REQ, 1, NOLIM, NULL, 0},
    {"Url", FT_STR, REQ, 1, 500, NULL, 0},
    {"FileName", FT_STR, REQ, 1, 150, NULL, 0},
    {"Size", FT_INT, 0, 0, NOLIM - 1, NULL, 0},
    {"MediaDuration", FT_INT, 0, 0, NOLIM - 1, NULL, 0},
    END};
static const struct fspec video_msg_spec[] = {
    {"Uid", FT_STR, REQ, 1, NOLIM, NULL, 0},
    {"Url", FT_STR, REQ, 1, 500, NULL, 0},
    {"FileName", FT_STR, REQ, 1, 150, NULL, 0},
    {"Size", FT_INT, 0, 0, NOLIM - 1, NULL, 0},
    {"MediaDuration", FT_INT, 0, 0, NOLIM - 1, NULL, 0},
    {"Thumbnail", FT_OBJ, 0, 0, 0, frame_spec, 0},
    END};

static const struct fspec multi_item_spec[] = {
    {"MsgType", FT_INT, REQ, 0, NOLIM - 1, NULL, 0},
    {"SubMsgType", FT_INT, 0, 0, 200, NULL, 0},
    {"Msg", FT_STR, REQ, 1, NOLIM, NULL, 0},
    {"SearchedContent", FT_ANY, 0, 0, 0, NULL, 0},
    END};
static const struct fspec multi_msg_spec[] = {
    {"MultiMsg", FT_ANY, REQ, 0, 0, NULL, 0}, END};

static const struct fspec apns_spec[] = {
    {"Image", FT_STR, 0, 0, NOLIM, NULL, 0}, END};
static const struct fspec vendor_spec[] = {
    {"Image", FT_STR, 0, 0, NOLIM, NULL, 0},
    {"Icon", FT_STR, 0, 0, NOLIM, NULL, 0},
    END};
static const struct fspec android_spec[] = {
    {"HuaWei", FT_OBJ, 0, 0, 0, vendor_spec, 0},
    {"FCM", FT_OBJ, 0, 0, 0, vendor_spec, 0},
    END};
static const struct fspec push_image_spec[] = {
    {"Apns", FT_OBJ, 0, 0, 0, apns_spec, 0},
    {"Android", FT_OBJ, 0, 0, 0, android_spec, 0},
    END};
static const struct fspec template_spec[] = {
    {"TemplateId", FT_STR, 0, 0, NOLIM, NULL, 0},
    {"TitleParameters", FT_STR, 0, 0, NOLIM, NULL, 0},
    {"ContentParameters", FT_STR, 0, 0, NOLIM, NULL, 0},
    END};
static const struct fspec offline_push_spec[] = {
    {"Enable", FT_INT, 0, 0, 1, NULL, 0},
    {"Title", FT_STR, 0, 0, NOLIM, NULL, 0},
    {"Content", FT_STR, 0, 0, NOLIM, NULL, 0},
    {"Payload", FT_STR, 0, 0, NOLIM, NULL, 0},
    {"PushStrategyId", FT_STR, 0, 0, NOLIM, NULL, 0},
    {"PushImageInfo", FT_OBJ, 0, 0, 0, push_image_spec, 0},
    {"EnableBadge", FT_BOOL, 0, 0, 0, NULL, 0},
    /* "values above 99 are treated as 99": accepted, not an error. */
    {"BadgeIncrement", FT_INT, 0, 0, INT32_MAX, NULL, 0},
    {"PrivateMessageTemplate", FT_OBJ, 0, 0, 0, template_spec, 0},
    {"ThreadId", FT_STR, 0, 0, NOLIM, NULL, 0},
    END};

/* MessageBody. Message and ExtendedData limits depend on the settings and
 * the type, so they are checked in check_body(). */
static const struct fspec body_spec[] = {
    {"Message", FT_ANY, REQ, 0, 0, NULL, 0},
    {"ExtendedData", FT_ANY, 0, 0, 0, NULL, 0},
    {"OfflinePush", FT_OBJ, 0, 0, 0, offline_push_spec, 0},
    {"HasReceipt", FT_INT, 0, 0, 1, NULL, 0},
    END};
/* Command messages (§4.3) have IsBase64 and neither OfflinePush nor
 * HasReceipt. */
static const struct fspec command_body_spec[] = {
    {"Message", FT_ANY, REQ, 0, 0, NULL, 0},
    {"ExtendedData", FT_ANY, 0, 0, 0, NULL, 0},
    {"IsBase64", FT_INT, 0, 0, 1, NULL, 0},
    END};

static const struct fspec send_opts_peer_spec[] = {
    {"NoUnread", FT_BOOL, 0, 0, 0, NULL, 0}, END};
static const struct fspec target_spec[] = {
    {"ReceiverUserIds", FT_IDS, 0, 0, NOLIM, NULL, 1},
    {"Inclusive", FT_BOOL, 0, 0, 0, NULL, 0},
    END};
static const struct fspec send_opts_group_spec[] = {
    {"NoUnread", FT_BOOL, 0, 0, 0, NULL, 0},
    {"TargetOption", FT_OBJ, 0, 0, 0, target_spec, 0},
    END};

/* over_code 1 on FT_ID / FT_IDS marks user IDs (660000012 when too long,
 * 660000011 when too many). */
static const struct fspec peer_spec[] = {
    {"FromUserId", FT_ID, REQ, 0, 0, NULL, 1},
    {"ToUserId", FT_IDS, REQ, 1, LIM_RECIPIENTS, NULL, 1},
    {"MessageType", FT_INT, REQ, INT32_MIN, INT32_MAX, NULL, 0},
    {"Priority", FT_INT, REQ, 1, 3, NULL, 0},
    {"MessageBody", FT_OBJ, REQ, 0, 0, NULL, 0},
    {"SubMsgType", FT_INT, 0, 0, 200, NULL, 0},
    {"SearchedContent", FT_ANY, 0, 0, 0, NULL, 0},
    {"SenderUnaware", FT_INT, 0, 0, 1, NULL, 0},
    {"SendMsgOptions", FT_OBJ, 0, 0, 0, send_opts_peer_spec, 0},
    END};
static const struct fspec group_spec[] = {
    {"FromUserId", FT_ID, REQ, 0, 0, NULL, 1},
    {"GroupId", FT_ID, REQ, 0, 0, NULL, 0},
    {"MessageType", FT_INT, REQ, INT32_MIN, INT32_MAX, NULL, 0},
    {"Priority", FT_INT, REQ, 1, 3, NULL, 0},
    {"MessageBody", FT_OBJ, REQ, 0, 0, NULL, 0},
    {"SubMsgType", FT_INT, 0, 0, 200, NULL, 0},
    {"SearchedContent", FT_ANY, 0, 0, 0, NULL, 0},
    {"SendMsgOptions", FT_OBJ, 0, 0, 0, send_opts_group_spec, 0},
    END};
static const struct fspec broadcast_spec[] = {
    {"FromUserId", FT_ID, REQ, 0, 0, NULL, 1},
    {"MessageType", FT_INT, REQ, INT32_MIN, INT32_MAX, NULL, 0},
    {"MessageBody", FT_OBJ, REQ, 0, 0, NULL, 0},
    {"SubMsgType", FT_INT, 0, 0, 200, NULL, 0},
    {"PushType", FT_INT, 0, 0, 2, NULL, 0},
    END};

/* SendRoomMessage (reference §2.5): one room, no recipients, no
 * SendMsgOptions; SenderUnaware defaults to 1 here. */
static const struct fspec room_spec[] = {
    {"FromUserId", FT_ID, REQ, 0, 0, NULL, 1},
    {"RoomId", FT_ID, REQ, 0, 0, NULL, 0},
    {"MessageType", FT_INT, REQ, INT32_MIN, INT32_MAX, NULL, 0},
    {"Priority", FT_INT, REQ, 1, 3, NULL, 0},
    {"MessageBody", FT_OBJ, REQ, 0, 0, NULL, 0},
    {"SubMsgType", FT_INT, 0, 0, 200, NULL, 0},
    {"SearchedContent", FT_ANY, 0, 0, 0, NULL, 0},
    {"SenderUnaware", FT_INT, 0, 0, 1, NULL, 0},
    END};

/* The message types each conversation takes (reference §4.1). */
static const int64_t types_chat[] = {1, 2, 10, 11, 12, 13, 14, 200};
static const int64_t types_broadcast[] = {1, 11, 12, 13, 14, 200};
static const int64_t types_room[] = {1, 2, 10, 11, 12, 13, 14, 20, 200};

/* An action's event (core/action.h holds a pointer to it). */
struct event_spec {
    const char *what; /* "peer messages", for errors */
    const struct fspec *root;
    const int64_t *types;
    size_t n_types;
    bool priority;  /* has Priority */
    bool room_body; /* MessageBody as rooms take it: no OfflinePush, no
                       HasReceipt (§2.5) */
};

const struct event_spec event_spec_peer = {
    "peer messages", peer_spec, types_chat, ZB_LEN(types_chat), true, false};
const struct event_spec event_spec_group = {
    "group messages", group_spec, types_chat, ZB_LEN(types_chat), true, false};
const struct event_spec event_spec_broadcast = {
    "broadcasts", broadcast_spec, types_broadcast, ZB_LEN(types_broadcast),
    false,        false};
const struct event_spec event_spec_room = {
    "room messages", room_spec, types_room, ZB_LEN(types_room), true, true};

bool event_spec_has(const struct event_spec *spec, const char *field)
{
    for (const struct fspec *f = spec->root; f->name; f++)
        if (strcmp(f->name, field) == 0)
            return true;
    return false;
}

/* ---- cross-field rules ---- */

enum {
    MT_TEXT = 1,
    MT_COMMAND = 2,
    MT_MULTI = 10,
    MT_IMAGE = 11,
    MT_FILE = 12,
    MT_AUDIO = 13,
    MT_VIDEO = 14,
    MT_BARRAGE = 20,
    MT_CUSTOM = 200,
};

static bool type_in(const struct event_spec *spec, int64_t t)
{
    for (size_t i = 0; i < spec->n_types; i++)
        if (spec->types[i] == t)
            return true;
    return false;
}

/* "1, 2, 10, ... or 200": the types spec takes. */
static void type_list(const struct event_spec *spec, char *out, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < spec->n_types && k < n; i++) {
        int w = snprintf(out + k, n - k, "%s%lld",
                         i == 0                   ? ""
                         : i + 1 == spec->n_types ? " or "
                                                  : ", ",
                         (long long)spec->types[i]);
        k += w > 0 ? (size_t)w : 0;
    }
}

/* MessageType for an event of kind: taken, or why not. */
static int check_type(struct ctx *c, enum event_kind kind, int64_t type)
{
    const struct event_spec *spec = action_of(kind)->spec;
    if (type_in(spec, type))
        return 0;
    char list[96];
    type_list(spec, list, sizeof(list));
    push_name(c, "MessageType");
    for (int k = 0; k < ZB_ACTION_COUNT; k++) {
        const struct event_spec *other = action_of((enum event_kind)k)->spec;
        if (type_in(other, type))
            return fail(c, ZIM_CODE_BAD_PARAM,
                        "%lld%s is not allowed for %s (%s); it is for %s",
                        (long long)type, type == MT_BARRAGE ? " (pop-up)" : "",
                        spec->what, list, other->what);
    }
    return fail(c, ZIM_CODE_BAD_PARAM, "%lld is not a message type (%s)",
                (long long)type, list);
}

/* Base64 (RFC 4648, padded): returns the decoded length, or -1. */
static int64_t base64_decoded_len(const char *s, size_t n)
{
    if (n % 4 != 0)
        return -1;
    size_t pad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '=') {
            if (i < n - 2)
                return -1;
            pad++;
            continue;
        }
        if (pad)
            return -1; /* data after padding */
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'))
            return -1;
    }
    return (int64_t)(n / 4 * 3 - pad);
}

/* ---- duplicate keys ----
 * json-c keeps the last of repeated keys without a word, so a record
 * {"ToUserId":["a"],"ToUserId":["b"]} would be checked and sent as if
 * only "b" was there, while another reader of the same record might take
 * "a". Such records are refused. The strict check counts the members it
 * read (base/json_strict.h); comparing that with the members json-c kept
 * finds a repeat in one pass; only then is the repeat looked up, to name
 * it. */

static size_t tree_members(struct json_object *o)
{
    size_t n = 0;
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v)
        {
            (void)k;
            n += 1 + tree_members(v);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        size_t len = json_object_array_length(o);
        for (size_t i = 0; i < len; i++)
            n += tree_members(json_object_array_get_idx(o, i));
    }
    return n;
}

/* One open object while looking for the repeat: its keys so far, as
 * spans of the raw text (escapes not decoded). They are sorted when the
 * object closes and a repeat is two neighbours: O(k log k) for k keys,
 * whatever the keys are (a list compared with each new key took 8 s for a
 * 1 MiB record of 80,000 keys; a hash set could be flooded). */
struct dupkey {
    const char *s;
    size_t len;
};

struct dupframe {
    bool is_obj;
    size_t idx;                /* members or items read so far */
    size_t name_off, name_len; /* the key it is the value of */
    size_t nkeys, cap;
    struct dupkey *keys;
};

static int dupkey_cmp(const void *a, const void *b)
{
    const struct dupkey *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    int c = memcmp(x->s, y->s, x->len);
    if (c)
        return c;
    return (x->s > y->s) - (x->s < y->s); /* the earlier one first */
}

/* The second of the first pair of equal keys of f, or NULL. */
static const struct dupkey *frame_repeat(struct dupframe *f)
{
    if (f->nkeys < 2)
        return NULL;
    qsort(f->keys, f->nkeys, sizeof(*f->keys), dupkey_cmp);
    for (size_t k = 1; k < f->nkeys; k++)
        if (f->keys[k].len == f->keys[k - 1].len &&
            memcmp(f->keys[k].s, f->keys[k - 1].s, f->keys[k].len) == 0)
            return &f->keys[k];
    return NULL;
}

/* The path of key (a span of p) inside the frames st[0..top]. */
static void dup_path(const char *p, const struct dupframe *st, int top,
                     size_t key_off, size_t key_len, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    for (int k = 1; k <= top + 1 && n + 1 < outlen; k++) {
        bool last = k == top + 1;
        size_t off = last ? key_off : st[k].name_off;
        size_t len = last ? key_len : st[k].name_len;
        int w;
        if (st[k - 1].is_obj)
            w = snprintf(out + n, outlen - n, "%s%.*s", n ? "." : "", (int)len,
                         p + off);
        else
            w = snprintf(out + n, outlen - n, "[%zu]", st[k - 1].idx);
        if (w < 0 || (size_t)w >= outlen - n)
            break;
        n += (size_t)w;
    }
    utf8_trim_tail(out);
}

/* Names the first repeated key of p (valid JSON) in why and its path in
 * where; keys that differ only in how they are escaped are found by the
 * count alone and reported without a path. */
static void name_duplicate(const char *p, size_t n, int depth, char *why,
                           size_t whylen, char *where, size_t wherelen)
{
    struct dupframe *st = calloc((size_t)depth + 1, sizeof(*st));
    int top = -1;
    snprintf(why, whylen, "a key is repeated in a JSON object");
    if (st == NULL)
        return;
    size_t key_off = 0, key_len = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (ch == '"') {
            size_t j = i + 1;
            while (j < n && p[j] != '"')
                j += p[j] == '\\' ? 2 : 1;
            key_off = i + 1;
            key_len = j - i - 1;
            i = j;
        } else if ((ch == '{' || ch == '[') && top + 1 <= depth) {
            st[++top] = (struct dupframe){
                .is_obj = ch == '{', .name_off = key_off, .name_len = key_len};
        } else if ((ch == '}' || ch == ']') && top >= 0) {
            const struct dupkey *d =
                st[top].is_obj ? frame_repeat(&st[top]) : NULL;
            if (d) {
                dup_path(p, st, top, (size_t)(d->s - p), d->len, where,
                         wherelen);
                snprintf(why, whylen,
                         "key appears twice in one JSON object; a reader "
                         "could take either value");
                goto out;
            }
            free(st[top--].keys);
        } else if (ch == ',' && top >= 0) {
            st[top].idx++;
        } else if (ch == ':' && top >= 0 && st[top].is_obj) {
            struct dupframe *f = &st[top];
            if (f->nkeys == f->cap) {
                size_t cap = f->cap ? f->cap * 2 : 8;
                void *v = realloc(f->keys, cap * sizeof(*f->keys));
                if (v == NULL)
                    goto out;
                f->keys = v;
                f->cap = cap;
            }
            f->keys[f->nkeys].s = p + key_off;
            f->keys[f->nkeys++].len = key_len;
        }
    }
out:
    while (top >= 0)
        free(st[top--].keys);
    free(st);
}

/* Strict JSON (base/json_strict.h: the same rules on every json-c
 * version), then json-c in its lenient mode, which reads strict JSON as
 * RFC 8259 does. where (may be NULL): the path of the fault, else "". */
static struct json_object *parse_json(const char *data, size_t len, int depth,
                                      char *why, size_t whylen, char *where,
                                      size_t wherelen)
{
    char scratch[2];
    if (where == NULL) {
        where = scratch;
        wherelen = sizeof(scratch);
    }
    where[0] = '\0';
    struct json_strict_error jerr;
    size_t members = 0;
    char top = 0;
    if (json_strict_check(data, len, depth, &members, &top, &jerr) == -1) {
        utf8_copy(why, whylen, jerr.why);
        utf8_copy(where, wherelen, jerr.where);
        return NULL;
    }
    if (top != '{' && top != '[' && top != '"') {
        /* A bare number or literal: json-c would wait for more bytes. */
        snprintf(why, whylen, "not a JSON object");
        return NULL;
    }
    static _Thread_local struct jsontok slot;
    struct json_tokener *tok = jsontok_get(&slot, depth, 0);
    if (tok == NULL) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    struct json_object *root = json_tokener_parse_ex(tok, data, (int)len);
    if (root == NULL) {
        /* Strict JSON json-c cannot read: out of memory, in practice. */
        snprintf(why, whylen, "JSON not read: %s",
                 json_tokener_error_desc(json_tokener_get_error(tok)));
        return NULL;
    }
    if (members != tree_members(root)) {
        json_object_put(root);
        name_duplicate(data, len, depth, why, whylen, where, wherelen);
        return NULL;
    }
    return root;
}

static const struct fspec *media_spec(int64_t t)
{
    switch (t) {
    case MT_IMAGE:
        return image_msg_spec;
    case MT_FILE:
        return file_msg_spec;
    case MT_AUDIO:
        return audio_msg_spec;
    case MT_VIDEO:
        return video_msg_spec;
    default:
        return NULL;
    }
}

/* Checks a string that must hold serialized JSON laid out as spec. */
static int check_inner_json(struct ctx *c, struct json_object *s,
                            const struct fspec *spec, struct json_object **out)
{
    char why[160], where[96];
    struct json_object *inner = parse_json(
        json_object_get_string(s), (size_t)json_object_get_string_len(s),
        c->lim->max_depth, why, sizeof(why), where, sizeof(where));
    if (inner == NULL) {
        if (where[0])
            push_name(c, where);
        return fail(c, ZIM_CODE_BAD_PARAM, "must be a JSON string: %s", why);
    }
    if (!json_object_is_type(inner, json_type_object)) {
        json_object_put(inner);
        return fail(c, ZIM_CODE_BAD_PARAM,
                    "must be a string holding a JSON object");
    }
    if (walk(c, inner, spec) == -1) {
        json_object_put(inner);
        return -1;
    }
    if (out)
        *out = inner;
    else
        json_object_put(inner);
    return 0;
}

static int check_searched(struct ctx *c, struct json_object *obj, int64_t type)
{
    struct json_object *v = get(obj, "SearchedContent");
    if (v == NULL)
        return 0;
    size_t old = push_name(c, "SearchedContent");
    if (type != MT_CUSTOM)
        return fail(c, ZIM_CODE_BAD_PARAM,
                    "only allowed with custom messages (type 200)");
    struct fspec f = {"SearchedContent",
                      FT_STR,
                      0,
                      0,
                      (int64_t)c->lim->max_searched_bytes,
                      NULL,
                      0};
    if (check_value(c, v, &f) == -1)
        return -1;
    pop(c, old);
    return 0;
}

static int check_multi(struct ctx *c, struct json_object *msg)
{
    struct json_object *inner = NULL;
    if (check_inner_json(c, msg, multi_msg_spec, &inner) == -1)
        return -1;
    int rc = -1;
    size_t old = push_name(c, "MultiMsg");
    struct json_object *arr = get(inner, "MultiMsg");
    if (!json_object_is_type(arr, json_type_array)) {
        fail(c, ZIM_CODE_BAD_PARAM, "must be an array of objects");
        goto out;
    }
    size_t n = json_object_array_length(arr);
    if (n == 0 || n > 20) {
        fail(c, ZIM_CODE_BAD_PARAM, "%zu items; 1 to 20 are allowed", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t iold = push_index(c, i);
        struct json_object *item = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(item, json_type_object)) {
            fail(c, ZIM_CODE_BAD_PARAM, "must be an object");
            goto out;
        }
        if (walk(c, item, multi_item_spec) == -1)
            goto out;
        int64_t t = json_object_get_int64(get(item, "MsgType"));
        size_t fold = push_name(c, "MsgType");
        if (!(t == MT_TEXT || t == MT_CUSTOM || media_spec(t))) {
            fail(c, ZIM_CODE_BAD_PARAM,
                 "%lld is not an item type (1, 11, 12, 13, 14 or 200)",
                 (long long)t);
            goto out;
        }
        pop(c, fold);
        if (t == MT_CUSTOM && get(item, "SubMsgType") == NULL) {
            push_name(c, "SubMsgType");
            fail(c, ZIM_CODE_BAD_PARAM, "is required for custom items");
            goto out;
        }
        if (check_searched(c, item, t) == -1)
            goto out;
        if (media_spec(t)) {
            fold = push_name(c, "Msg");
            if (check_inner_json(c, get(item, "Msg"), media_spec(t), NULL) ==
                -1)
                goto out;
            pop(c, fold);
        }
        pop(c, iold);
    }
    rc = 0;
out:
    pop(c, old);
    json_object_put(inner);
    return rc;
}

static int check_body(struct ctx *c, struct json_object *body, int64_t type)
{
    const struct fspec *spec =
        type == MT_COMMAND ? command_body_spec : body_spec;
    if (walk(c, body, spec) == -1)
        return -1;

    struct json_object *ext = get(body, "ExtendedData");
    if (ext) {
        size_t old = push_name(c, "ExtendedData");
        struct fspec f = {"ExtendedData",
                          FT_STR,
                          0,
                          0,
                          (int64_t)c->lim->max_extended_bytes,
                          NULL,
                          ZIM_CODE_TOO_LARGE};
        if (check_value(c, ext, &f) == -1)
            return -1;
        pop(c, old);
    }

    struct json_object *msg = get(body, "Message");
    size_t old = push_name(c, "Message");
    if (!json_object_is_type(msg, json_type_string))
        return fail(c, ZIM_CODE_BAD_PARAM, "must be a string");
    const char *s = json_object_get_string(msg);
    size_t n = (size_t)json_object_get_string_len(msg);
    if (n == 0)
        return fail(c, ZIM_CODE_BAD_PARAM, "must not be empty");
    size_t limit = type == MT_MULTI ? c->lim->max_multi_message_bytes
                                    : c->lim->max_message_bytes;
    struct json_object *b64 = get(body, "IsBase64");
    if (b64 && json_object_get_int64(b64) == 1) {
        /* The limit applies to the decoded payload (§4.3). */
        int64_t dn = base64_decoded_len(s, n);
        if (dn < 0)
            return fail(c, ZIM_CODE_BAD_BASE64,
                        "IsBase64 is 1 but this is not valid base64");
        if ((size_t)dn > limit)
            return fail(c, ZIM_CODE_TOO_LARGE,
                        "%lld bytes decoded, over the limit of %zu",
                        (long long)dn, limit);
    } else if (n > limit) {
        return fail(c, ZIM_CODE_TOO_LARGE, "%zu bytes, over the limit of %zu",
                    n, limit);
    }
    if (type == MT_MULTI) {
        if (check_multi(c, msg) == -1)
            return -1;
    } else if (media_spec(type)) {
        if (check_inner_json(c, msg, media_spec(type), NULL) == -1)
            return -1;
    }
    pop(c, old);
    return 0;
}

/* A field spec does not name. At an event's root (kind >= 0), a field of
 * another action is never "unknown", whatever event.unknown_fields says:
 * a peer event on the broadcast topic (or replayed into it) would
 * otherwise be a valid SendMessageToAllUsers, and a private message would
 * go to every user. Checked only for the fields the event's own spec
 * lacks, so a valid event pays nothing for it. */
static int stray_field(struct ctx *c, const char *key, int kind)
{
    unsigned kinds = kind >= 0 ? action_fields_of(key) : 0;
    for (int k = 0; k < ZB_ACTION_COUNT; k++) {
        if (!(kinds & (1u << k)))
            continue;
        size_t old = push_name(c, key);
        int rc = fail(c, ZIM_CODE_BAD_PARAM,
                      "a field of %s, not of %s (an event for another "
                      "topic?)",
                      action_of((enum event_kind)k)->spec->what,
                      action_of((enum event_kind)kind)->spec->what);
        pop(c, old);
        return rc;
    }
    if (c->lim->allow_unknown_fields)
        return 0;
    size_t old = push_name(c, key);
    int rc = fail(c, ZB_CODE_UNKNOWN_FIELD,
                  "unknown field (names are case-sensitive)");
    pop(c, old);
    return rc;
}

/* Who the event goes to: no message to self, each recipient once (peer);
 * the group or room. */
static int check_target(struct ctx *c, struct event *ev)
{
    struct json_object *root = ev->root;
    if (ev->kind == EVENT_GROUP)
        ev->group_id = json_object_get_string(get(root, "GroupId"));
    if (ev->kind == EVENT_ROOM)
        ev->room_id = json_object_get_string(get(root, "RoomId"));
    if (ev->kind != EVENT_PEER)
        return 0;
    ev->to = get(root, "ToUserId");
    size_t n = json_object_array_length(ev->to);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(json_object_get_string(json_object_array_get_idx(ev->to, i)),
                   ev->from) == 0) {
            push_name(c, "ToUserId");
            push_index(c, i);
            return fail(c, ZIM_CODE_SEND_TO_SELF,
                        "must not contain FromUserId (no messages to "
                        "self)");
        }
    }
    return 0;
}

/* MessageBody fields rooms do not take (reference §2.5). */
static int check_room_body(struct ctx *c, struct json_object *body)
{
    if (get(body, "HasReceipt")) {
        push_name(c, "HasReceipt");
        return fail(c, ZIM_CODE_ROOM_NO_RECEIPT,
                    "room messages do not support receipts");
    }
    if (get(body, "OfflinePush")) {
        push_name(c, "OfflinePush");
        return fail(c, ZIM_CODE_BAD_PARAM,
                    "not applicable to room messages (only users online in "
                    "the room get them)");
    }
    return 0;
}

/* Whether from matches one entry of list (comma-separated; "x*": any ID
 * that starts with x, and "*" any ID at all). */
static bool allowed(const char *list, const char *from)
{
    size_t fl = strlen(from);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        const char *e = p;
        size_t el = n;
        while (el > 0 && (*e == ' ' || *e == '\t'))
            e++, el--;
        while (el > 0 && (e[el - 1] == ' ' || e[el - 1] == '\t'))
            el--;
        if (el > 0 && e[el - 1] == '*') {
            if (fl >= el - 1 && memcmp(from, e, el - 1) == 0)
                return true;
        } else if (el > 0 && el == fl && memcmp(from, e, el) == 0) {
            return true;
        }
        p += n + (p[n] == ',');
    }
    return false;
}

/* The operator's sender policy for the action (event_limits). */
static int check_policy(struct ctx *c, const struct event *ev)
{
    const char *list = c->lim->allowed_from[ev->kind];
    int maxp = c->lim->max_priority[ev->kind];
    const char *key;
    if (list && !allowed(list, ev->from)) {
        key = event_kind_name(ev->kind); /* only for the error */
        push_name(c, "FromUserId");
        return fail(c, ZB_CODE_SENDER_POLICY,
                    "this sender may not send %s messages (%s.allowed_from)",
                    key, key);
    }
    if (maxp > 0 && ev->priority > maxp) {
        key = event_kind_name(ev->kind);
        push_name(c, "Priority");
        return fail(c, ZB_CODE_PRIORITY_POLICY,
                    "%d is above %s.max_priority (%d)", ev->priority, key,
                    maxp);
    }
    return 0;
}

static int check_event(struct ctx *c, struct event *ev)
{
    struct json_object *root = ev->root;
    const struct event_spec *spec = action_of(ev->kind)->spec;
    if (walk_kind(c, root, spec->root, (int)ev->kind) == -1)
        return -1;

    int64_t type = json_object_get_int64(get(root, "MessageType"));
    if (check_type(c, ev->kind, type) == -1)
        return -1;
    if (type == MT_CUSTOM && get(root, "SubMsgType") == NULL) {
        push_name(c, "SubMsgType");
        return fail(c, ZIM_CODE_BAD_PARAM,
                    "is required for custom messages (type 200)");
    }
    if (check_searched(c, root, type) == -1)
        return -1;

    ev->from = json_object_get_string(get(root, "FromUserId"));
    ev->message_type = (int)type;
    if (spec->priority)
        ev->priority = (int)json_object_get_int64(get(root, "Priority"));
    if (check_policy(c, ev) == -1 || check_target(c, ev) == -1)
        return -1;

    size_t old = push_name(c, "MessageBody");
    struct json_object *body = get(root, "MessageBody");
    if ((spec->room_body && check_room_body(c, body) == -1) ||
        check_body(c, body, type) == -1)
        return -1;
    pop(c, old);
    return 0;
}

int event_parse(struct event *ev, enum event_kind kind, const char *data,
                size_t len, const struct event_limits *lim,
                struct event_error *err)
{
    struct ctx c = {.lim = lim, .err = err, .path = "", .plen = 0};
    memset(ev, 0, sizeof(*ev));
    memset(err, 0, sizeof(*err));
    ev->kind = kind;
    if (data == NULL || len == 0)
        return fail(&c, ZB_CODE_UNREADABLE, "empty record");
    if (len > lim->max_record_bytes)
        return fail(&c, ZB_CODE_UNREADABLE,
                    "record is %zu bytes, over the limit of %zu", len,
                    lim->max_record_bytes);
    char why[160], where[96];
    ev->root = parse_json(data, len, lim->max_depth, why, sizeof(why), where,
                          sizeof(where));
    if (ev->root == NULL) {
        if (where[0])
            push_name(&c, where);
        return fail(&c, ZB_CODE_UNREADABLE, "%s", why);
    }
    if (!json_object_is_type(ev->root, json_type_object)) {
        event_free(ev);
        return fail(&c, ZB_CODE_UNREADABLE, "record must be a JSON object");
    }
    if (check_event(&c, ev) == -1) {
        event_free(ev);
        return -1;
    }
    return 0;
}

void event_free(struct event *ev)
{
    if (ev->root)
        json_object_put(ev->root);
    memset(ev, 0, sizeof(*ev));
}

void event_limits_from_config(const struct config *cfg,
                              struct event_limits *lim)
{
    lim->max_record_bytes = (size_t)cfg->max_record_bytes;
    lim->max_message_bytes = (size_t)cfg->max_message_bytes;
    lim->max_multi_message_bytes = (size_t)cfg->max_multi_message_bytes;
    lim->max_extended_bytes = (size_t)cfg->max_extended_bytes;
    lim->max_searched_bytes = (size_t)cfg->max_searched_bytes;
    lim->max_depth = (int)cfg->max_json_depth;
    lim->allow_unknown_fields = cfg->unknown_fields == 1;
    lim->max_recipients = (size_t)cfg->max_recipients;
    for (int k = 0; k < ZB_ACTION_COUNT; k++) {
        lim->allowed_from[k] = cfg->allowed_from[k];
        lim->max_priority[k] = (int)cfg->max_priority[k];
    }
}
