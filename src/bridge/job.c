/* job.c - job lifetime. */
#include "job.h"

#include "fault.h"

#include "pack.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

void jl_push(struct jlist *l, struct job *j)
{
    j->next = NULL;
    j->prev = l->tail;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
    l->n++;
}

void jl_remove(struct jlist *l, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        l->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        l->tail = j->prev;
    j->next = j->prev = NULL;
    l->n--;
}

void job_pool_free(struct job_pool *pool)
{
    while (pool->head) {
        struct job *j = pool->head;
        pool->head = j->next;
        free(j);
    }
    pool->n = 0;
}

struct job *job_new(struct job_pool *pool, rd_kafka_message_t *rkm,
                    enum event_kind kind, int64_t now_ms)
{
    struct job *job;
    if (fault_fail(FAULT_JOB))
        return NULL;
    if (pool && pool->head) {
        job = pool->head;
        pool->head = job->next;
        pool->n--;
        memset(job, 0, sizeof(*job));
    } else if ((job = calloc(1, sizeof(*job))) == NULL) {
        return NULL;
    }
    job->rkm = rkm;
    job->kind = kind;
    job->received_ms = now_ms;
    job->sn.heap_idx = -1; /* not scheduled */
    zim_result_init(&job->res);
    return job;
}

void job_destroy(struct job_pool *pool, struct job *job)
{
    if (job == NULL)
        return;
    if (job->valid)
        event_free(&job->ev);
    zim_result_free(&job->res);
    free(job->to);
    free(job->rest);
    if (job->kept_succ)
        json_object_put(job->kept_succ);
    if (job->kept_err)
        json_object_put(job->kept_err);
    for (int i = 0; i < job->n_out; i++) {
        buf_free(&job->out[i].value);
        if (job->out[i].hdrs)
            rd_kafka_headers_destroy(job->out[i].hdrs);
    }
    if (job->rkm) /* NULL only in tests that made their own record */
        rd_kafka_message_destroy(job->rkm);
    if (pool && pool->n < pool->max) {
        job->next = pool->head;
        pool->head = job;
        pool->n++;
        return;
    }
    free(job);
}

struct job *job_of(struct jobsched_node *n)
{
    return n ? (struct job *)(void *)((char *)n - offsetof(struct job, sn))
             : NULL;
}

struct jobsched_key job_key(const struct job *job)
{
    return (struct jobsched_key){.topic = job->ticket.topic,
                                 .partition = job->ticket.partition,
                                 .key = job->rkm->key,
                                 .key_len = job->rkm->key_len};
}

int job_prepare_peer(struct job *job, bool pack)
{
    size_t n = json_object_array_length(job->ev.to);
    if (fault_fail(FAULT_PREPARE) ||
        (job->to = calloc(n ? n : 1, sizeof(*job->to))) == NULL)
        return JOB_PREP_NO_MEMORY;
    for (size_t i = 0; i < n; i++)
        job->to[i] =
            json_object_get_string(json_object_array_get_idx(job->ev.to, i));
    job->n_to = n;
    job->chunk_off = 0;
    job->chunk_n = pack_chunk(n, 0);
    if (!pack && !job_split(job))
        return 0;
    struct buf rest;
    buf_init(&rest, job->rkm->len + 64); /* the record, less its ToUserId */
    int rc = fault_fail(FAULT_REST) ? -1 : pack_rest(job->ev.root, &rest);
    if (rc != 0) {
        buf_free(&rest);
        if (rc == -2) { /* unprepared, to be prepared again */
            free(job->to);
            job->to = NULL;
            job->n_to = 0;
            return JOB_PREP_NO_MEMORY;
        }
        /* A lone event can do without; a split one cannot be sent. */
        return job_split(job) ? JOB_PREP_TOO_LARGE : 0;
    }
    job->rest = rest.data;
    job->rest_len = rest.len;
    return 0;
}

bool job_split(const struct job *job)
{
    return job->n_to > PACK_MAX_RECIPIENTS;
}

/* Appends the entries of from (NULL: none) to *to, made on demand. */
static void keep(struct json_object **to, struct json_object *from)
{
    if (*to == NULL)
        *to = json_object_new_array();
    for (size_t i = 0; *to && from && i < json_object_array_length(from); i++)
        json_object_array_add(
            *to, json_object_get(json_object_array_get_idx(from, i)));
}

bool job_next_part(struct job *job)
{
    keep(&job->kept_succ, job->res.succ_list);
    keep(&job->kept_err, job->res.error_list);
    if (job->attempts > job->attempts_max)
        job->attempts_max = job->attempts;
    job->chunk_off += job->chunk_n;
    job->chunk_n = pack_chunk(job->n_to, job->chunk_off);
    return job->chunk_n > 0;
}

enum outcome job_settle(struct job *job, enum outcome last, bool fail_rest)
{
    struct zim_result *r = &job->res;
    if (job->attempts > job->attempts_max)
        job->attempts_max = job->attempts;
    job->attempts = job->attempts_max;
    if (!fail_rest) /* every part was answered, and kept */
        job->chunk_off = job->n_to;
    keep(&job->kept_succ, NULL);
    keep(&job->kept_err, NULL);
    int64_t code = outcome_code(r);
    for (size_t i = job->chunk_off; job->kept_err && i < job->n_to; i++) {
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "UserId", json_object_new_string(job->to[i]));
        json_object_object_add(e, "SubCode", json_object_new_int64(code));
        json_object_array_add(job->kept_err, e);
    }
    size_t n_succ =
        job->kept_succ ? json_object_array_length(job->kept_succ) : 0;
    size_t n_err = job->kept_err ? json_object_array_length(job->kept_err) : 0;
    /* The whole answer: the parts' lists, the last call's code and words;
     * ZIM's Code is 0 when at least one recipient got the message. */
    struct json_object *root = json_object_new_object();
    if (root) {
        json_object_object_add(root, "SuccList", job->kept_succ);
        json_object_object_add(root, "ErrorList", job->kept_err);
        if (r->audit_infos)
            json_object_object_add(root, "AuditInfos",
                                   json_object_get(r->audit_infos));
        if (r->root)
            json_object_put(r->root);
        r->root = root;
        r->succ_list = job->kept_succ;
        r->error_list = job->kept_err;
        r->n_failed = n_err;
        job->kept_succ = job->kept_err = NULL;
    }
    if (n_succ == 0)
        return last == OUTCOME_SENT || last == OUTCOME_PARTIAL ? OUTCOME_FAILED
                                                               : last;
    r->parsed = true;
    r->code = 0;
    r->curl_rc = 0;
    r->http = 200;
    return n_err ? OUTCOME_PARTIAL : OUTCOME_SENT;
}
