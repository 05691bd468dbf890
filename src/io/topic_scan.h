/* topic_scan.h - reads one topic from a start position up to the end
 * offsets seen when the scan starts, as an assigned consumer that never
 * joins a group. The broadcast history (from a time) and `replay` (from
 * its group's committed offsets) both read this way. */
#ifndef ZB_TOPIC_SCAN_H
#define ZB_TOPIC_SCAN_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct topic_scan;

enum topic_scan_from {
    TOPIC_SCAN_COMMITTED = 0, /* the conf's group.id's committed offsets */
    TOPIC_SCAN_TIME,          /* the first record at or after since_ms */
};

/* Consumes conf in every case. NULL with err filled on failure (no such
 * topic, the broker unreachable within the timeouts). */
struct topic_scan *topic_scan_new(rd_kafka_conf_t *conf, const char *topic,
                                  enum topic_scan_from from, int64_t since_ms,
                                  char *err, size_t errlen);
void topic_scan_destroy(struct topic_scan *ts); /* NULL: no-op */

/* The next record of the scan (the caller destroys it), or NULL when none
 * came within timeout_ms. Records of other errors are logged and skipped;
 * each partition counts as read once its end offset is passed. */
rd_kafka_message_t *topic_scan_next(struct topic_scan *ts, int timeout_ms);
/* True once every partition is read up to its end offset. */
bool topic_scan_done(const struct topic_scan *ts);
/* The consumer, for its group metadata (replay's transactions). */
rd_kafka_t *topic_scan_consumer(struct topic_scan *ts);

#endif
