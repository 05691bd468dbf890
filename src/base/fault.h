/* fault.h - allocation failures on demand, for tests only.
 *
 * Builds with ZB_FAULT_INJECTION (those with ZB_TESTS; never the image or
 * a release built with ZB_TESTS=OFF) read ZB_FAULTS once:
 * "point:after:count[,point:after:count...]": the point's calls after the
 * first `after` fail `count` times (then succeed again). Points name where
 * the bridge allocates per record: job (job_new), track (the offset
 * ring), sched (the scheduler's key queue), prepare (job_prepare_peer);
 * and one deterministic failure: rest (the request of a peer event, less
 * its ToUserId, is over its bound when json-c writes it again; json-c
 * never wrote a valid event longer in our probes, so only this reaches
 * that path).
 * Without ZB_FAULT_INJECTION fault_fail() is a constant false: no cost,
 * and no variable that changes what a production bridge does. */
#ifndef ZB_FAULT_H
#define ZB_FAULT_H

#include <stdbool.h>

enum fault_point {
    FAULT_JOB,
    FAULT_TRACK,
    FAULT_SCHED,
    FAULT_PREPARE,
    FAULT_REST,
    FAULT_POINT_COUNT
};

#ifdef ZB_FAULT_INJECTION
/* Whether this call at p must fail as if out of memory. */
bool fault_fail(enum fault_point p);
/* Parses spec (ZB_FAULTS' form) into the counters; for unit tests. 0, or
 * -1 for a malformed spec (nothing is then armed). */
int fault_arm(const char *spec);
#else
static inline bool fault_fail(enum fault_point p)
{
    (void)p;
    return false;
}
#endif

#endif
