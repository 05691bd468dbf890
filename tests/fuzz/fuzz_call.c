/* fuzz_call.c - from bytes to ZIM calls, as the bridge builds them: the
 * input is up to 16 records (one per line), each read as a peer event
 * (peer.max_recipients 300, packing on), made a job, and sent in calls as
 * bridge/send.c does: one call reused from the pool each time, its first
 * ready event, then the others that may share it; each call answered, and
 * each event moving to its next part. For every call it asserts that the
 * body is JSON and that its ToUserId names each recipient once, every one
 * of them belongs to the current part of an event the call carries, and
 * all of those parts' recipients are there; a call of one whole event
 * goes with the record's own bytes. Run under ASan: a recipient list built
 * from memory that is not the call's own shows up here. */
#include "call.h"
#include "config.h"
#include "testjob.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS 16

/* The call's body against the parts of the events it carries. */
static void check_call(struct call *c)
{
    const char *body = NULL;
    size_t len = 0;
    if (call_body(c, &body, &len) == -1)
        abort(); /* parts are bounded: a body always fits */
    if (c->whole) {
        const struct job *j = c->jobs[0];
        if (c->n_jobs != 1 || len != j->rkm->len ||
            memcmp(body, j->rkm->payload, len) != 0)
            abort();
        return;
    }
    struct json_object *o = json_tokener_parse(body), *to = NULL;
    if (o == NULL || !json_object_object_get_ex(o, "ToUserId", &to))
        abort();
    size_t n = json_object_array_length(to), want = 0;
    for (size_t k = 0; k < c->n_jobs; k++)
        want += c->jobs[k]->chunk_n;
    if (n != want || n > PACK_MAX_RECIPIENTS)
        abort();
    for (size_t i = 0; i < n; i++) {
        const char *id =
            json_object_get_string(json_object_array_get_idx(to, i));
        for (size_t p = 0; p < i; p++)
            if (strcmp(id, json_object_get_string(
                               json_object_array_get_idx(to, p))) == 0)
                abort(); /* named twice */
        size_t owners = 0;
        for (size_t k = 0; k < c->n_jobs; k++) {
            const struct job *j = c->jobs[k];
            for (size_t r = j->chunk_off; r < j->chunk_off + j->chunk_n; r++)
                owners += strcmp(j->to[r], id) == 0;
        }
        if (owners != 1)
            abort(); /* not its events', or two events' */
    }
    json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct event_limits lim;
    static int ready;
    if (!ready) {
        struct config cfg;
        config_init(&cfg);
        event_limits_from_config(&cfg, &lim);
        config_free(&cfg);
        lim.max_recipients = 300;
        ready = 1;
    }
    struct job *jobs[MAX_EVENTS];
    bool left[MAX_EVENTS];
    size_t n = 0;
    for (size_t off = 0; off < size && n < MAX_EVENTS;) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
        jobs[n] = testjob_new((const char *)data + off, len, EVENT_PEER, &lim,
                              true, NULL);
        if (jobs[n])
            left[n++] = true;
        off += len + 1;
    }
    struct call c;
    memset(&c, 0, sizeof(c));
    for (;;) {
        call_reset(&c, EVENT_PEER); /* the pooled call, reused */
        size_t first = 0;
        while (first < n && !left[first])
            first++;
        if (first == n)
            break;
        if (!call_add(&c, jobs[first]))
            abort(); /* valid events never name a user twice */
        for (size_t k = first + 1; k < n; k++)
            if (left[k] && jobs[k]->rest && call_add(&c, jobs[k]))
                left[k] = false; /* taken: answered below */
        check_call(&c);
        for (size_t k = 0; k < c.n_jobs; k++) {
            struct job *j = c.jobs[k];
            size_t idx = 0;
            while (jobs[idx] != j)
                idx++;
            left[idx] = job_next_part(j);
        }
    }
    call_free(&c);
    for (size_t k = 0; k < n; k++)
        testjob_free(jobs[k]);
    return 0;
}
