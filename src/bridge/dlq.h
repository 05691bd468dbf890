/* dlq.h - the records an outcome produces: the reply record (every event)
 * and the dead-letter record (failed and partial events). Formats are in
 * the README ("Reply records", "Dead-letter records"). */
#ifndef ZB_DLQ_H
#define ZB_DLQ_H

#include "config.h"
#include "job.h"
#include "record_mac.h"

#include <librdkafka/rdkafka.h>
#include <stdint.h>

struct json_object;

/* Sets the finished job's code and message (and, for a partial or an
 * ambiguous outcome, its error text) from its failure and ZIM's answer:
 * what the reply and DLQ record say. Every text is valid UTF-8, cut
 * between characters. */
void dlq_describe(struct job *j);
/* The reply value (JSON) and its headers (reply.copy_headers copied from
 * the input). A reply too large for value is built again without ZIM's
 * lists (lists_omitted). 0, or -1 when it could not be built: then value
 * is poisoned and must not be produced. *hdrs is the caller's. */
int dlq_reply(const struct job *job, const struct config *cfg,
              struct buf *value, rd_kafka_headers_t **hdrs);
/* Adds this bridge's zim.record.mac (core/record_mac.h) for the value as
 * it goes to topic (TOPIC_REPLY or TOPIC_DLQ), written at now_wall_ms,
 * replacing any such header copied from the input. 0 or -1. The bridge
 * signs the replies of broadcasts (service.c); a reply or DLQ record
 * never carries the input's header of that name. */
int dlq_stamp(rd_kafka_headers_t *hdrs, const struct record_mac_key *key,
              int topic, int64_t now_wall_ms, const struct buf *value);
/* The kind the MAC covers for topic: "reply" or "dlq". */
const char *dlq_mac_kind(int topic);
/* The replayable DLQ value (the original bytes, or for a partial the
 * event narrowed to the failed recipients) and its headers: the input's,
 * plus zim.* and Spring's kafka_dlt-* failure context. 0, or -1 when it
 * could not be built (then it must not be produced). *hdrs is the
 * caller's. */
int dlq_record(const struct job *job, const struct config *cfg,
               int64_t now_wall_ms, struct buf *value,
               rd_kafka_headers_t **hdrs);
/* The event with ToUserId narrowed to those of its recipients that
 * error_list (ZIM's ErrorList) names, in the event's order, as JSON into
 * out. 0 or -1 (out is then poisoned, or event has no ToUserId). */
int dlq_narrow(struct json_object *event, struct json_object *error_list,
               struct buf *out);
/* The DLQ topic refused the record as too large: halves its value and
 * marks it (zim.value.truncated: the input's size), so that the next
 * attempt is smaller. -1 when there is nothing left to cut. */
int dlq_cut(struct buf *value, rd_kafka_headers_t *hdrs, size_t input_len);
/* True if header name is one of the failure headers dlq_record() adds
 * (the replay tool strips these). */
int dlq_is_failure_header(const char *name);

/* Reading DLQ records back. The header's last value as a NUL-terminated
 * string in buf (cut to n - 1 bytes), or NULL if absent. */
const char *dlq_header(rd_kafka_headers_t *h, const char *name, char *buf,
                       size_t n);
/* zim.replay.count (NULL: absent, 0): digits only, at most 6 of them;
 * -1 for anything else (a forged "-1" or "1e9" must not disable replay's
 * loop guard). */
long dlq_replay_count(const char *v);
/* zim.failed.at and --since/--until: RFC 3339 (Z or +hh:mm, optional
 * fraction) or Unix seconds, to Unix ms. 0 or -1. */
int dlq_parse_time(const char *s, int64_t *ms);

#endif
