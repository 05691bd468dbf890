/* zim_proto.h - ZIM's JSON answers, read defensively: the endpoint is
 * external input, so any body (huge, wrong types, no Code, MsgId as a
 * string or a number) must be survived. Large IDs are kept as their exact
 * digits, never passed through a double. */
#ifndef ZB_ZIM_PROTO_H
#define ZB_ZIM_PROTO_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

#define ZIM_RESPONSE_MAX (1 << 20) /* larger bodies are not ZIM answers */

struct zim_result {
    int curl_rc; /* CURLcode; 0 when the transfer worked */
    bool sent;   /* the request went out whole (so ZIM may have acted) */
    long http;   /* HTTP status, 0 when there was none */
    bool parsed; /* a JSON object with an integer Code */
    int64_t code;
    char message[256];
    char request_id[64];
    char error[256];               /* transport or parse problem, for humans */
    struct json_object *root;      /* owned */
    struct json_object *succ_list; /* borrowed arrays, or NULL */
    struct json_object *error_list;
    struct json_object *audit_infos;
    size_t n_failed; /* ErrorList entries with a UserId */
    size_t n_audit;
    char msg_id[32]; /* exact digits; "" when absent */
    int64_t msg_seq; /* -1 when absent */
    /* The request target (path and signed query) the client sent:
     * borrowed, valid only during zim_done_fn (tracing reads it). */
    const char *target;
};

void zim_result_init(struct zim_result *res);
/* Reads a 200 body. Sets parsed and the fields; never fails hard. */
void zim_proto_parse(struct zim_result *res, const char *body, size_t len);
void zim_result_free(struct zim_result *res);

#endif
