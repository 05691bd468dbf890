/* call.c - a ZIM call's jobs, body and answer parts. */
#include "call.h"

#include "outcome.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define CALL_BODY_MAX (1 << 20) /* far above any packed body */

void call_reset(struct call *c, enum event_kind kind)
{
    c->kind = kind;
    c->n_jobs = 0;
    /* A reused call keeps nothing of its last recipients: its body is
     * built from these. */
    memset(&c->pc, 0, sizeof(c->pc));
    c->whole = false;
    c->sent_ms = 0;
    if (c->body.limit == 0)
        buf_init(&c->body, CALL_BODY_MAX);
    buf_reset(&c->body);
}

void call_free(struct call *c)
{
    if (c)
        buf_free(&c->body);
}

/* The recipients of j's next part. */
static const char *const *part_ids(const struct job *j)
{
    return j->to + j->chunk_off;
}

bool call_add(struct call *c, struct job *j)
{
    if (c->n_jobs == 0) {
        /* Its part's recipients, each once (validation refuses an event
         * that names a user twice): never a count without its IDs. */
        if (j->n_to && !pack_add(&c->pc, part_ids(j), j->chunk_n))
            return false;
        c->jobs[c->n_jobs++] = j;
        c->whole = j->chunk_off == 0 && j->chunk_n == j->n_to;
        return true;
    }
    const struct job *first = c->jobs[0];
    if (c->n_jobs == PACK_MAX_RECIPIENTS || j->rest == NULL ||
        first->rest == NULL || j->rest_len != first->rest_len ||
        memcmp(j->rest, first->rest, j->rest_len) != 0 ||
        !pack_add(&c->pc, part_ids(j), j->chunk_n))
        return false;
    c->jobs[c->n_jobs++] = j;
    c->whole = false;
    return true;
}

int call_body(struct call *c, const char **data, size_t *len)
{
    const struct job *j = c->jobs[0];
    if (c->whole) {
        *data = j->body; /* the request as it came */
        *len = j->body_len;
        return 0;
    }
    buf_reset(&c->body);
    if (pack_body(j->rest, j->rest_len, &c->pc, &c->body) == -1)
        return -1;
    *data = c->body.data;
    *len = c->body.len;
    return 0;
}

void call_part(const struct call *c, const struct job *j,
               const struct zim_result *res, struct zim_result *part)
{
    (void)c;
    const char *const *ids = part_ids(j);
    part->curl_rc = res->curl_rc;
    part->sent = res->sent;
    part->http = res->http;
    part->parsed = res->parsed;
    part->code = res->code;
    memcpy(part->message, res->message, sizeof(part->message));
    memcpy(part->request_id, res->request_id, sizeof(part->request_id));
    memcpy(part->error, res->error, sizeof(part->error));
    memcpy(part->msg_id, res->msg_id, sizeof(part->msg_id));
    part->msg_seq = res->msg_seq;
    if (!res->parsed || (part->root = json_object_new_object()) == NULL)
        return;
    struct json_object *succ = pack_filter(res->succ_list, ids, j->chunk_n);
    struct json_object *errs = pack_filter(res->error_list, ids, j->chunk_n);
    json_object_object_add(part->root, "SuccList", succ);
    json_object_object_add(part->root, "ErrorList", errs);
    if (res->audit_infos)
        json_object_object_add(part->root, "AuditInfos",
                               json_object_get(res->audit_infos));
    part->succ_list = succ;
    part->error_list = errs;
    part->audit_infos = res->audit_infos;
    part->n_audit = res->n_audit;
    part->n_failed = errs ? json_object_array_length(errs) : 0;
    if (res->code == 0 && part->n_failed > 0 && succ &&
        json_object_array_length(succ) == 0) {
        part->code = outcome_recipients_code(errs);
        if (part->code == 0)
            part->code = ZIM_CODE_BAD_PARAM;
        snprintf(part->message, sizeof(part->message),
                 "all %zu recipients failed", part->n_failed);
    }
}
