/* ledger.h - the reply and DLQ topics read back, on assignment, as the
 * ledger of what finished. Every outcome record is acknowledged by Kafka
 * before its input offset is marked done, and carries a claim naming that
 * offset (record_mac.h, zim.record.claim). A commit carries the time
 * after which every outcome above it was written (offsets.h). So the new
 * owner of a partition, after a crash or a hand-over, reads both topics
 * from that time (minus recovery.margin_ms) and skips the records that
 * already have their outcome there: only what was truly in flight is sent
 * again.
 *
 * An input record counts as finished when a genuine reply names it and,
 * if that reply says it failed, a genuine DLQ record names it too (both
 * are written before its offset is done). Only claims that verify under
 * key (this AppID's, for this consumer group) count: a record anyone else
 * wrote is ignored. The scan is bounded (recovery.max_records,
 * recovery.timeout_ms); a scan that fails or stops at a bound uses what
 * it found and says so, and the rest is sent again as before. */
#ifndef ZB_LEDGER_H
#define ZB_LEDGER_H

#include "config.h"
#include "kafka_in.h"
#include "metrics.h"
#include "record_mac.h"

#include <stddef.h>

/* What one recovery read and found, for the log and the tests. */
struct ledger_stats {
    size_t read;    /* records read from both topics */
    size_t ignored; /* records with no valid claim */
    size_t found;   /* input records found finished */
    bool complete;  /* both topics read to their end */
};

/* A kafka_in_recover_fn's work: marks, with kafka_in_finished(), the
 * records of parts whose outcome is in the reply and DLQ topics. Logs a
 * line per partition and counts zimbridge_assignment_recovered_total. */
void ledger_recover(const struct config *cfg,
                    const struct record_claim_key *key, struct kafka_in *ki,
                    const struct kafka_in_recovery *parts, size_t n,
                    struct metrics *m, struct ledger_stats *st);

#endif
