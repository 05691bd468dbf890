/* offsets.h - where a partition's commit stands, what Kafka knows has
 * finished, and what the commit window lets be sent. Pure: no Kafka, no
 * clock.
 *
 * Records of a partition finish out of order. struct offsets keeps the
 * offsets handed out and not yet committed, in order, as a ring, each with
 * a done and a sent flag. The offset to commit is the lowest one not done.
 * The finished offsets above it travel in the same commit, as its
 * metadata (offsets_commit_point(): a bounded run-length list, as
 * Confluent's Parallel Consumer does), so a restart or the partition's
 * next owner skips them (offsets_skip). A record counts as recorded once
 * a commit holding it (below the offset, or in the metadata) succeeded;
 * an offset leaves the ring once the committed offset passes it.
 *
 * The commit window (at most commit.window, paced by struct offsets_limit)
 * bounds the records sent to ZIM and not recorded: what a crash would
 * send again. A record may be sent while the
 * window has room; the records that hold back their partition's commit
 * (each partition's oldest record not done) may use all of it, the others
 * leave one slot per assigned partition to them (at most half the window,
 * at least one). A retry is in the window already and always goes. */
#ifndef ZB_OFFSETS_H
#define ZB_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the metadata: below Kafka's offset.metadata.max.bytes (4096). */
#define OFFSETS_META_MAX 4000

struct offsets_slot;

struct offsets {
    struct offsets_slot *ring;
    size_t cap, head, n, ndone; /* the first ndone are done */
    int64_t window;             /* slots sent and not recorded */
    uint64_t done_gen;          /* counts offsets_done() calls */
};

void offsets_init(struct offsets *o);
void offsets_free(struct offsets *o);
/* Starts tracking off, which must be above every offset tracked, polled
 * at now_ms (wall clock). 0 or -1 (no memory). */
int offsets_track(struct offsets *o, int64_t off, int64_t now_ms);
/* Marks off sent to ZIM. True the first time (the window grew by one);
 * false if it was sent before or is not tracked. */
bool offsets_sent(struct offsets *o, int64_t off);
/* True if off is the oldest offset not done: the one the commit waits
 * for. */
bool offsets_holds_commit(const struct offsets *o, int64_t off);
/* Marks off done (its outcome is in Kafka). True if the commit point
 * (offset or metadata) changed. */
bool offsets_done(struct offsets *o, int64_t off);

/* A commit to make: the offset (the lowest not done; the last done + 1
 * when all are; -1 with nothing tracked) and, as metadata, a time and the
 * finished offsets above it: "zb2:<ms>", then ":" and alternating runs of
 * offsets not done and done when some are ("zb2:<ms>:2,3" for
 * base+2..base+4 done), cut to fit max bytes: offsets above `covered` are
 * left out, never an offset that did not finish put in.
 *
 * The time (since_ms) is when the lowest offset not done was tracked, or
 * now_ms when all are done: every outcome record of an offset at or above
 * the commit was written at or after it, so the next owner reads the
 * reply and DLQ topics from there (the ledger, bridge/ledger.h). */
struct offsets_commit {
    int64_t offset;
    int64_t covered;  /* the highest offset the metadata speaks for */
    int64_t since_ms; /* -1 with nothing tracked */
    uint64_t gen;     /* done_gen when it was made */
    char meta[OFFSETS_META_MAX + 1];
    size_t meta_len;
};
void offsets_commit_point(const struct offsets *o, size_t max, int64_t now_ms,
                          struct offsets_commit *c);
/* A commit of an idle partition (nothing tracked) at offset, the one
 * already committed, made again for its time: every outcome above it will
 * be written after now_ms. Keeps the next owner's ledger scan short when
 * records come after a long pause. */
void offsets_commit_idle(int64_t offset, int64_t now_ms,
                         struct offsets_commit *c);
/* The commit c succeeded: forgets the offsets below it and counts as
 * recorded the done ones it names. Returns by how much the window shrank
 * (negative if it grew: a later, shorter metadata no longer names some). */
int64_t offsets_committed(struct offsets *o, const struct offsets_commit *c);

/* Finished offsets read back from a commit's metadata. */
struct offsets_skip {
    int64_t base;     /* the committed offset the metadata was written with */
    int64_t since_ms; /* the commit's time, -1: none ("zb1:", damaged) */
    int64_t *runs;    /* alternating runs: not done, done, not done, ... */
    size_t n;
};
/* Decodes meta written with committed offset base ("zb2:" or the older
 * "zb1:" with runs only). Anything else (no metadata, another writer's,
 * damaged) decodes to nothing to skip. 0, or -1 (no memory). Free with
 * offsets_skip_free(). */
int offsets_skip_decode(struct offsets_skip *s, int64_t base, const char *meta,
                        size_t len);
bool offsets_skip_has(const struct offsets_skip *s, int64_t off);
/* The last offset s names as finished, or -1. */
int64_t offsets_skip_last(const struct offsets_skip *s);
void offsets_skip_free(struct offsets_skip *s);

/* The window's limit, paced by Kafka: it starts at floor (the calls that
 * may be in flight), grows by what each successful commit records (so it
 * may double per commit round trip) up to cap (commit.window), and falls
 * back to floor when nothing was recorded for stall_ms while records were
 * waiting. Then a crash while Kafka does not take outcomes (the producer
 * not ready at start, a broker away) sends again about a floor's worth,
 * not a cap's, while a steady stream still gets the whole window. */
struct offsets_limit {
    int64_t floor, cap, limit;
    int64_t progress_ms; /* when a commit last recorded something */
};
void offsets_limit_init(struct offsets_limit *l, int64_t floor, int64_t cap,
                        int64_t now_ms);
/* A commit recorded n records (n > 0) while used were waiting: the limit
 * grows by n when the window was at least half full (it was what held
 * sending back), as TCP grows its window only when it is the limit. */
void offsets_limit_recorded(struct offsets_limit *l, int64_t n, int64_t used,
                            int64_t now_ms);
/* Checks for a stall: used records wait to be recorded. */
void offsets_limit_tick(struct offsets_limit *l, int64_t used, int64_t now_ms,
                        int64_t stall_ms);

/* The commit window, across all assigned partitions. */
struct offsets_window {
    int64_t used;       /* records sent and not recorded */
    int64_t max;        /* its limit now (struct offsets_limit) */
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
