/* testjob.c - jobs from bytes (see testjob.h). */
#include "testjob.h"

#include "config.h"

#include <stdlib.h>
#include <string.h>

struct job *testjob_new(const char *data, size_t len, enum event_kind kind,
                        const struct event_limits *lim, bool pack,
                        struct event_error *err)
{
    struct event_error scratch;
    rd_kafka_message_t *rkm = calloc(1, sizeof(*rkm));
    char *copy = malloc(len ? len : 1);
    if (rkm == NULL || copy == NULL) {
        free(rkm);
        free(copy);
        return NULL;
    }
    memcpy(copy, data, len);
    rkm->payload = copy;
    rkm->len = len;
    struct job *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        free(copy);
        free(rkm);
        return NULL;
    }
    j->rkm = rkm;
    j->kind = kind;
    j->body = copy;
    j->body_len = len;
    j->sn.heap_idx = -1;
    zim_result_init(&j->res);
    if (event_parse(&j->ev, kind, copy, len, lim, err ? err : &scratch) != 0 ||
        (j->valid = true, kind == EVENT_PEER && job_prepare_peer(j, pack))) {
        testjob_free(j);
        return NULL;
    }
    return j;
}

void testjob_free(struct job *j)
{
    if (j == NULL)
        return;
    rd_kafka_message_t *rkm = j->rkm;
    j->rkm = NULL; /* ours, not librdkafka's */
    job_destroy(NULL, j);
    if (rkm)
        free(rkm->payload);
    free(rkm);
}

struct event_limits testjob_limits(size_t max_recipients)
{
    struct config cfg;
    struct event_limits lim;
    config_init(&cfg);
    event_limits_from_config(&cfg, &lim);
    config_free(&cfg);
    lim.max_recipients = max_recipients;
    return lim;
}
