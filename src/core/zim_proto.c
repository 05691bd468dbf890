/* zim_proto.c - parse ZIM answers. */
#include "zim_proto.h"

#include "json_strict.h"
#include "jsontok.h"
#include "utf8.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define ZIM_ANSWER_DEPTH 16

void zim_result_init(struct zim_result *res)
{
    memset(res, 0, sizeof(*res));
    res->msg_seq = -1;
}

void zim_result_free(struct zim_result *res)
{
    json_object_put(res->root);
    zim_result_init(res);
}

static struct json_object *get(struct json_object *o, const char *k,
                               enum json_type t)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, t))
        return NULL;
    return v;
}

/* ZIM's text, cut between characters if it is longer than dst. */
static void copy_str(char *dst, size_t n, struct json_object *v)
{
    utf8_copy(dst, n, v ? json_object_get_string(v) : "");
}

/* MsgId: a number (group, as documented) or a string (peer). Keep the
 * digits exactly: json-c holds integers as int64/uint64, never double. */
static void read_msg_id(struct zim_result *res, struct json_object *v)
{
    if (json_object_is_type(v, json_type_int)) {
        const char *s = json_object_to_json_string_ext(v, 0);
        if (strspn(s, "0123456789") == strlen(s))
            snprintf(res->msg_id, sizeof(res->msg_id), "%s", s);
    } else if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        size_t n = strlen(s);
        if (n > 0 && n < sizeof(res->msg_id) && strspn(s, "0123456789") == n)
            memcpy(res->msg_id, s, n + 1);
    }
}

void zim_proto_parse(struct zim_result *res, const char *body, size_t len)
{
    /* Strict JSON first (base/json_strict.h): json-c 0.18's own strict
     * mode refuses every non-ASCII byte, so an answer whose Message is
     * "成功" would count as not JSON, and be sent again. */
    struct json_strict_error jerr;
    char top = 0;
    if (json_strict_check(body, len, ZIM_ANSWER_DEPTH, NULL, &top, &jerr) ==
            -1 ||
        top != '{') {
        snprintf(res->error, sizeof(res->error),
                 "answer is not a JSON object (%zu bytes)%s%s", len,
                 top == '{' ? ": " : "", top == '{' ? jerr.why : "");
        utf8_trim_tail(res->error);
        return;
    }
    static _Thread_local struct jsontok slot;
    struct json_tokener *tok = jsontok_get(&slot, ZIM_ANSWER_DEPTH, 0);
    if (tok == NULL)
        return;
    res->root = json_tokener_parse_ex(tok, body, (int)len);
    if (!json_object_is_type(res->root, json_type_object)) {
        snprintf(res->error, sizeof(res->error),
                 "answer is not a JSON object (%zu bytes)", len);
        return;
    }
    struct json_object *code = get(res->root, "Code", json_type_int);
    if (code == NULL) {
        snprintf(res->error, sizeof(res->error), "answer has no integer Code");
        return;
    }
    res->parsed = true;
    res->code = json_object_get_int64(code);
    copy_str(res->message, sizeof(res->message),
             get(res->root, "Message", json_type_string));
    copy_str(res->request_id, sizeof(res->request_id),
             get(res->root, "RequestId", json_type_string));
    res->succ_list = get(res->root, "SuccList", json_type_array);
    res->error_list = get(res->root, "ErrorList", json_type_array);
    res->audit_infos = get(res->root, "AuditInfos", json_type_array);
    res->n_audit =
        res->audit_infos ? json_object_array_length(res->audit_infos) : 0;
    for (size_t i = 0;
         res->error_list && i < json_object_array_length(res->error_list);
         i++) {
        struct json_object *e = json_object_array_get_idx(res->error_list, i);
        if (json_object_is_type(e, json_type_object) &&
            get(e, "UserId", json_type_string))
            res->n_failed++;
    }
    struct json_object *v = NULL;
    if (json_object_object_get_ex(res->root, "MsgId", &v))
        read_msg_id(res, v);
    if ((v = get(res->root, "MsgSeq", json_type_int)) != NULL)
        res->msg_seq = json_object_get_int64(v);
}
