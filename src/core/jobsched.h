/* jobsched.h - which job goes next (architecture.md, "Scheduler").
 *
 * Per key, a FIFO: only its head may be ready or out (in flight, waiting
 * to retry), and a head waiting to retry blocks the records behind it, so
 * a conversation reaches ZIM in partition order. Different keys run
 * concurrently. Ready heads wait in one heap per action, highest Priority
 * first, then oldest: when a quota is the bottleneck, urgent messages go
 * first without reordering any key. ordering=partition uses the partition
 * as the key; none gives every record its own. Records without a key are
 * ordered per partition.
 *
 * Pure: no clock, no I/O. It schedules nodes embedded in the caller's
 * objects (struct job), and knows of each only its action, Priority and
 * the key it is ordered by. */
#ifndef ZB_JOBSCHED_H
#define ZB_JOBSCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ordering { ORDER_KEY = 0, ORDER_PARTITION, ORDER_NONE };

struct jobsched;
struct jobsched_keyq;
struct jobsched_group;

/* The scheduler's bookkeeping, embedded in what it schedules. */
struct jobsched_node {
    int action;   /* which heap: enum event_kind */
    int priority; /* higher goes first */
    uint64_t seq; /* arrival order */
    int heap_idx; /* in the ready heap, or -1 */
    bool out;     /* taken: in flight or waiting, neither ready nor held */
    struct jobsched_keyq *kq; /* its key's FIFO, NULL when unordered */
    struct jobsched_node *kq_next, *kq_prev;
    uint64_t group; /* nodes that may share a call (core/pack.h); 0: none */
    struct jobsched_group *grp; /* while ready: its group's list */
    struct jobsched_node *grp_next, *grp_prev;
};

/* What a node is ordered by: its topic (enum topic_role), partition and
 * Kafka key (NULL or empty: none). */
struct jobsched_key {
    int topic;
    int32_t partition;
    const void *key;
    size_t key_len;
};

struct jobsched *jobsched_new(enum ordering ord);
void jobsched_destroy(struct jobsched *s); /* the nodes are not its to free */

/* A new node: appended to its key's FIFO, ready if it is the head. group
 * (0: none) names the nodes that could share a call. 0 or -1 (no
 * memory). */
int jobsched_add(struct jobsched *s, struct jobsched_node *n, int action,
                 int priority, uint64_t group, const struct jobsched_key *k);
/* The best ready node of action, taken (it stays its key's head until
 * jobsched_remove). NULL when none is ready. */
struct jobsched_node *jobsched_pop(struct jobsched *s, int action);
/* Takes n as jobsched_pop() would; false if n is not ready. */
bool jobsched_take(struct jobsched *s, struct jobsched_node *n);
bool jobsched_is_ready(const struct jobsched_node *n);
bool jobsched_has_ready(const struct jobsched *s, int action);
size_t jobsched_ready_count(const struct jobsched *s, int action);
/* A taken head back (from a retry wait, or not sent after all): ready
 * again, ahead of younger nodes. */
void jobsched_requeue(struct jobsched *s, struct jobsched_node *n);
/* The node is finished or dropped: out of its FIFO (and the heap); the
 * next node of its key becomes ready. */
void jobsched_remove(struct jobsched *s, struct jobsched_node *n);
/* The ready nodes of group, oldest first: the first, then each next (NULL
 * at the end). Take a node only after asking for its next. */
struct jobsched_node *jobsched_group_first(const struct jobsched *s,
                                           uint64_t group);
struct jobsched_node *jobsched_group_next(const struct jobsched_node *n);
/* Calls fn for every node held and not taken (queued behind a head, or
 * ready); fn may jobsched_remove it. */
void jobsched_foreach_held(struct jobsched *s,
                           void (*fn)(void *, struct jobsched_node *),
                           void *opaque);

#endif
