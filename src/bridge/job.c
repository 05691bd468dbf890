/* job.c - job lifetime. */
#include "job.h"

#include <stdlib.h>
#include <string.h>

struct job *job_new(rd_kafka_message_t *rkm, enum event_kind kind,
                    int64_t now_ms)
{
    struct job *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        rd_kafka_message_destroy(rkm);
        return NULL;
    }
    job->rkm = rkm;
    job->kind = kind;
    job->received_ms = now_ms;
    job->sn.heap_idx = -1; /* not scheduled */
    zim_result_init(&job->res);
    return job;
}

void job_destroy(struct job *job)
{
    if (job == NULL)
        return;
    if (job->valid)
        event_free(&job->ev);
    zim_result_free(&job->res);
    for (int i = 0; i < job->n_out; i++) {
        buf_free(&job->out[i].value);
        if (job->out[i].hdrs)
            rd_kafka_headers_destroy(job->out[i].hdrs);
    }
    rd_kafka_message_destroy(job->rkm);
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
