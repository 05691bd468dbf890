/* offsets.h - where a partition's commit stands, and what the commit
 * window lets be sent. Pure: no Kafka, no clock.
 *
 * Records of a partition finish out of order. struct offsets keeps the
 * offsets handed out and not yet committed, in order, as a ring, each with
 * a done and a sent flag. The offset to commit is the lowest one not done
 * (or the last done + 1); an offset leaves the ring once a commit covering
 * it succeeds. So the records sent to ZIM and not committed are known:
 * they are what a crash would send again.
 *
 * The commit window (commit.window) bounds that number. A record may be
 * sent while the window has room; the records that hold back their
 * partition's commit (each partition's oldest record not done) may use
 * all of it, the others leave one slot per assigned partition to them (at
 * most half the window, at least one). A retry is in the window already
 * and always goes. So whatever fills the window, each partition's commit
 * can move. */
#ifndef ZB_OFFSETS_H
#define ZB_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct offsets_slot;

struct offsets {
    struct offsets_slot *ring;
    size_t cap, head, n, ndone; /* the first ndone are done */
    int64_t nsent;              /* slots sent to ZIM */
};

void offsets_init(struct offsets *o);
void offsets_free(struct offsets *o);
/* Starts tracking off, which must be above every offset tracked. 0 or -1
 * (no memory). */
int offsets_track(struct offsets *o, int64_t off);
/* Marks off sent to ZIM. True the first time (the window grew by one);
 * false if it was sent before or is not tracked. */
bool offsets_sent(struct offsets *o, int64_t off);
/* True if off is the oldest offset not done: the one the commit waits
 * for. */
bool offsets_holds_commit(const struct offsets *o, int64_t off);
/* Marks off done. Returns the offset to commit if that moved, else -1. */
int64_t offsets_done(struct offsets *o, int64_t off);
/* A commit of `committed` succeeded: forgets the done offsets below it.
 * Returns how many of them had been sent (the window shrank by that). */
int64_t offsets_release(struct offsets *o, int64_t committed);

/* The commit window, across all assigned partitions. */
struct offsets_window {
    int64_t used;       /* records sent and not committed */
    int64_t max;        /* commit.window */
    int64_t partitions; /* assigned */
};

/* What the window needs to know of a ready record. */
struct offsets_cand {
    bool sent_before;  /* a retry: already counted in the window */
    bool holds_commit; /* its partition's oldest record not done */
};

/* Slots kept for the records that hold back commits. */
int64_t offsets_reserved(const struct offsets_window *w);
bool offsets_may_send(const struct offsets_window *w, struct offsets_cand c);
/* Which of the ready records (best first) to send: the first the window
 * lets go, or -1 for none. Not just the best: a retry waiting behind
 * records the window holds back would otherwise never be sent, and its
 * partition never commit again. */
ptrdiff_t offsets_choose(const struct offsets_window *w,
                         const struct offsets_cand *c, size_t n);

#endif
