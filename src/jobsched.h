/* jobsched.h - which job goes next (architecture.md, "Scheduler").
 *
 * Per key, a FIFO: only its head may be ready or in flight, and a head
 * waiting to retry blocks the records behind it, so a conversation reaches
 * ZIM in partition order. Different keys run concurrently. Ready heads
 * wait in one heap per action, highest Priority first, then oldest: when a
 * quota is the bottleneck, urgent messages go first without reordering
 * any key. ordering=partition uses the partition as the key; none gives
 * every record its own. Records without a key are ordered per partition.
 * Pure: no clock, no I/O. */
#ifndef ZB_JOBSCHED_H
#define ZB_JOBSCHED_H

#include "job.h"

#include <stdbool.h>
#include <stddef.h>

enum ordering { ORDER_KEY = 0, ORDER_PARTITION, ORDER_NONE };

struct jobsched;

struct jobsched *jobsched_new(enum ordering ord);
void jobsched_destroy(struct jobsched *s); /* the jobs are not its to free */

/* A new valid job: appended to its key's FIFO, ready if it is the head. */
int jobsched_add(struct jobsched *s, struct job *j); /* 0 or -1 (no memory) */
/* The best ready job of action, taken off the heap (it stays its key's
 * head until jobsched_remove). NULL when none is ready. */
struct job *jobsched_pop(struct jobsched *s, enum event_kind action);
/* Takes j off the ready heap, as jobsched_pop() would; false if j is not
 * ready. */
bool jobsched_take(struct jobsched *s, struct job *j);
bool jobsched_has_ready(const struct jobsched *s, enum event_kind action);
size_t jobsched_ready_count(const struct jobsched *s, enum event_kind action);
/* A head back from a retry wait: ready again, ahead of younger jobs. */
void jobsched_requeue(struct jobsched *s, struct job *j);
/* The job is finished or dropped: out of its FIFO (and the heap); the
 * next job of its key becomes ready. */
void jobsched_remove(struct jobsched *s, struct job *j);
/* Calls fn for every job the scheduler holds that is not in flight or
 * waiting (queued behind a head, or ready); fn may jobsched_remove it. */
void jobsched_foreach_held(struct jobsched *s, void (*fn)(void *, struct job *),
                           void *opaque);

#endif
