/* kafka_in.h - the consumer: one group subscribed to the three input
 * topics, offsets committed only for records whose outcome is delivered,
 * and pause/resume for back-pressure.
 *
 * Records of a partition finish out of order, so each assigned partition
 * keeps the offsets it handed out (core/offsets.h). Each commit carries
 * the lowest offset not done and, as its metadata, the finished offsets
 * above it; on assignment those are read back and their records skipped,
 * so a crash or a rebalance does not send them again.
 * kafka_in_commit_tick() commits asynchronously, one commit at a time;
 * revocation and close commit synchronously.
 *
 * The records sent to ZIM and not yet recorded by a commit
 * (kafka_in_window()) are what a crash would send again. */
#ifndef ZB_KAFKA_IN_H
#define ZB_KAFKA_IN_H

#include "config.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kafka_in;

/* Names a tracked record for kafka_in_done(); stale after a revoke. */
struct kafka_in_ticket {
    int topic; /* enum topic_role of the input topic */
    int32_t partition;
    int64_t offset;
    uint64_t gen; /* assignment generation of the partition */
};

/* Told about partitions about to be revoked (after their done offsets are
 * committed), so queued work for them can be dropped. */
typedef void (*kafka_in_revoke_fn)(void *opaque, int topic, int32_t partition);

/* Told that partitions are about to be given up in an orderly rebalance
 * (not lost), before their done offsets are committed: it may finish
 * their work in flight and mark it done (kafka_in_revoking() names the
 * partitions), so the hand-over commit covers it. It must not poll the
 * consumer. */
typedef void (*kafka_in_drain_fn)(void *opaque);

/* A newly assigned partition, for the ledger: its outcome records since
 * its last commit may be in the reply and DLQ topics. */
struct kafka_in_recovery {
    int topic; /* enum topic_role */
    int32_t partition;
    int64_t committed; /* -1: no commit (then nothing to recover) */
    int64_t since_ms;  /* the commit's time (offsets.h), -1: none known */
};

/* Told, on assignment and before any record of them is polled, about the
 * newly assigned partitions: it may name, with kafka_in_finished(), the
 * records above their commits whose outcome is in Kafka already. Those
 * are skipped as finished. It runs inside the rebalance: it must not poll
 * the consumer. */
typedef void (*kafka_in_recover_fn)(void *opaque, struct kafka_in *ki,
                                    const struct kafka_in_recovery *parts,
                                    size_t n);

struct kafka_in *kafka_in_new(const struct config *cfg, int wake_fd,
                              kafka_in_drain_fn drain,
                              kafka_in_revoke_fn revoke, void *opaque,
                              char *err, size_t errlen);
void kafka_in_destroy(struct kafka_in *ki); /* NULL: no-op; no close */

/* Sets the ledger's callback (before the first poll). */
void kafka_in_set_recover(struct kafka_in *ki, kafka_in_recover_fn fn);
/* Inside kafka_in_recover_fn only: the record at offset of the partition
 * has an outcome in Kafka (offsets below the commit are ignored). */
void kafka_in_finished(struct kafka_in *ki, int topic, int32_t partition,
                       int64_t offset);

/* The next record, or NULL. Never waits. Errors are logged and skipped;
 * a fatal consumer error sets kafka_in_fatal(). Records that finished
 * before this member got their partition are skipped (and counted). The
 * caller owns rkm. */
rd_kafka_message_t *kafka_in_poll(struct kafka_in *ki);
/* Records skipped so far as finished before assignment (named by the
 * commit's metadata or found in the ledger). */
int64_t kafka_in_skipped(const struct kafka_in *ki);
/* Starts tracking rkm's offset. 0, KAFKA_IN_NOT_OURS (its partition is
 * not assigned: drop it, its owner gets it) or KAFKA_IN_NO_MEMORY (try
 * again: nothing was tracked). */
#define KAFKA_IN_NOT_OURS  (-1)
#define KAFKA_IN_NO_MEMORY (-2)
int kafka_in_track(struct kafka_in *ki, const rd_kafka_message_t *rkm,
                   struct kafka_in_ticket *t);
/* Whether t's partition is being given up (only inside the drain
 * callback). */
bool kafka_in_revoking(struct kafka_in *ki, const struct kafka_in_ticket *t);
/* Marks a tracked record as sent to ZIM (once; later calls no-op). */
void kafka_in_sent(struct kafka_in *ki, const struct kafka_in_ticket *t);
/* True if t is its partition's oldest record not done: the one the
 * partition's commit waits for. */
bool kafka_in_holds_commit(struct kafka_in *ki,
                           const struct kafka_in_ticket *t);
/* Records sent to ZIM that no successful commit records as finished. */
int64_t kafka_in_window(const struct kafka_in *ki);
/* How many the window may hold now: from http.max_inflight up to
 * commit.window, paced by commits (offsets.h, struct offsets_limit). */
int64_t kafka_in_window_limit(const struct kafka_in *ki);
/* Serves commit results and, when a commit point moved since the last
 * commit and none is in flight, starts one. Never waits. */
void kafka_in_commit_tick(struct kafka_in *ki);
/* Marks a tracked record done (its outcome is in Kafka): the next commit
 * includes it. */
void kafka_in_done(struct kafka_in *ki, const struct kafka_in_ticket *t);
/* Which input topic (enum topic_role) rkm came from, or -1. */
int kafka_in_topic_role(const struct kafka_in *ki,
                        const rd_kafka_message_t *rkm);

/* Pauses the input topics whose bit (1 << enum topic_role) is set in
 * mask and resumes the others; partitions assigned later follow. */
void kafka_in_set_paused(struct kafka_in *ki, unsigned mask);
unsigned kafka_in_paused(const struct kafka_in *ki);
int kafka_in_assigned(const struct kafka_in *ki); /* partitions */
/* True once after each rebalance (then shares should be recomputed). */
bool kafka_in_rebalanced(struct kafka_in *ki);
/* This member's share of a topic: assigned partitions / partitions. */
double kafka_in_share(struct kafka_in *ki, int role);
/* Commits every partition's commit point now (synchronously). */
void kafka_in_commit(struct kafka_in *ki);
/* Commits and leaves the group. */
void kafka_in_close(struct kafka_in *ki);
int kafka_in_fatal(const struct kafka_in *ki);
/* Calls fn with each assigned partition's lag: the cached high watermark
 * minus the committed offset. Never waits. */
void kafka_in_lags(struct kafka_in *ki,
                   void (*fn)(void *opaque, int role, int32_t partition,
                              int64_t lag),
                   void *opaque);

/* A new SASL password for the consumer's next authentication. 0, or -1
 * with err filled. */
int kafka_in_credentials(struct kafka_in *ki, const struct config *cfg,
                         const char *password, char *err, size_t errlen);

#endif
