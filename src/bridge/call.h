/* call.h - one ZIM call and the jobs it carries. Most calls carry one
 * event whole: its record's bytes go as they came, and the answer is the
 * event's. A SendPeerMessage call may also carry several events that are
 * identical but for ToUserId (core/pack.h), or one part of an event that
 * names more than 100 recipients; then its body is built, and each job
 * gets back only its own recipients' part of the answer. */
#ifndef ZB_CALL_H
#define ZB_CALL_H

#include "buf.h"
#include "job.h"
#include "pack.h"
#include "zim_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct call {
    enum event_kind kind;
    struct job *jobs[PACK_MAX_RECIPIENTS];
    size_t n_jobs;
    struct pack_call pc; /* its recipients (peer calls) */
    bool whole;          /* one job, all of its recipients: the raw bytes */
    struct buf body;     /* a built body (packed or split) */
    int64_t sent_ms;
    int64_t sent_us;   /* wall clock, when tracing */
    struct call *next; /* on the service's free list */
};

/* Empties c for a new call of kind (its memory is kept). */
void call_reset(struct call *c, enum event_kind kind);
void call_free(struct call *c); /* its memory; NULL: no-op */

/* Adds j's next part (job.h: chunk_off, chunk_n). The first job goes if
 * its part names each recipient once (false otherwise: then the call is
 * empty and must not be sent); another only if its request but ToUserId
 * equals the first's byte for byte and its recipients fit and are new to
 * the call. */
bool call_add(struct call *c, struct job *j);
/* The body to send and its length. -1 if it could not be built (it would
 * be larger than a record: cannot be, as parts are bounded). */
int call_body(struct call *c, const char **data, size_t *len);

/* Job j's part of the call's answer res, into part (init'ed by the
 * caller): ZIM's Code, Message and RequestId, and of its lists only the
 * entries of j's recipients in this call (AuditInfos apply to all). When
 * the call succeeded for others but every one of j's recipients failed,
 * part's Code is the first one's SubCode: its status is computed from its
 * own recipients. */
void call_part(const struct call *c, const struct job *j,
               const struct zim_result *res, struct zim_result *part);

#endif
