/* topic_scan.c - bounded reads of a topic. */
#define LOG_COMPONENT "topic_scan"
#include "topic_scan.h"

#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SCAN_TIMEOUT_MS 10000

struct topic_scan {
    rd_kafka_t *rk;
    int n_parts;
    int64_t *end; /* per partition: the end offset seen at start */
    bool *done;   /* per partition: read up to end */
    int live;     /* partitions not done */
};

static int partition_count(rd_kafka_t *rk, const char *topic, char *err,
                           size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int n = -1;
    if (rkt &&
        rd_kafka_metadata(rk, 0, rkt, &md, SCAN_TIMEOUT_MS) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1 && md->topics[0].err == 0)
        n = md->topics[0].partition_cnt;
    else
        snprintf(err, errlen, "topic %s: no metadata", topic);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    return n;
}

/* Where each partition starts: its committed or timed offset, at least
 * its low watermark; a partition with nothing after it starts at its end.
 * 0, or -1 with err filled. */
static int start_offsets(struct topic_scan *ts, const char *topic,
                         rd_kafka_topic_partition_list_t *parts,
                         enum topic_scan_from from, char *err, size_t errlen)
{
    /* A topic just created, or a partition changing leader, answers "not
     * leader" for a moment: ask again, for up to about 5 s. */
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int tries = 0; tries < 25; tries++) {
        e = from == TOPIC_SCAN_TIME
                ? rd_kafka_offsets_for_times(ts->rk, parts, SCAN_TIMEOUT_MS)
                : rd_kafka_committed(ts->rk, parts, SCAN_TIMEOUT_MS);
        if (e != RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION &&
            e != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE &&
            e != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
            e != RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS &&
            e != RD_KAFKA_RESP_ERR__TRANSPORT)
            break;
        usleep(200000);
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "%s: %s",
                 from == TOPIC_SCAN_TIME ? "offsets for times"
                                         : "committed offsets",
                 rd_kafka_err2str(e));
        return -1;
    }
    for (int p = 0; p < ts->n_parts; p++) {
        int64_t lo = 0, hi = 0;
        e = rd_kafka_query_watermark_offsets(ts->rk, topic, p, &lo, &hi,
                                             SCAN_TIMEOUT_MS);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(err, errlen, "%s[%d] watermarks: %s", topic, p,
                     rd_kafka_err2str(e));
            return -1;
        }
        ts->end[p] = hi;
        int64_t *off = &parts->elems[p].offset;
        if (from == TOPIC_SCAN_TIME && *off < 0)
            *off = hi; /* nothing that recent */
        if (*off < lo)
            *off = lo;
        ts->done[p] = *off >= hi;
        ts->live += !ts->done[p];
    }
    return 0;
}

struct topic_scan *topic_scan_new(rd_kafka_conf_t *conf, const char *topic,
                                  enum topic_scan_from from, int64_t since_ms,
                                  char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    struct topic_scan *ts = calloc(1, sizeof(*ts));
    if (ts == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* Assigned, never subscribed: nothing is committed by the reader. The
     * end of a partition shows as an EOF event too, since the last offsets
     * may be transaction markers that are never delivered. */
    if (rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, errlen) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, errlen) !=
            RD_KAFKA_CONF_OK ||
        /* The end is known: a fetch that finds nothing new need not wait
         * for more (500 ms by default). And a full prefetch queue (the
         * bridge's 4 MB) stops fetching for 1 s each time: the ledger's
         * scan of 130,000 records took 1.1 s, now 0.2 s. 32 MB, for the
         * scan's short life; where librdkafka has the setting (2.1+), the
         * pause is cut to 10 ms as well. */
        rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", err, errlen) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "queued.max.messages.kbytes", "32768", err,
                          errlen) != RD_KAFKA_CONF_OK)
        goto fail;
    char ignored[128]; /* librdkafka before 2.1 does not know it */
    rd_kafka_conf_set(conf, "fetch.queue.backoff.ms", "10", ignored,
                      sizeof(ignored));
    if ((ts->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen)) == NULL)
        goto fail;
    conf = NULL; /* now owned by ts->rk */
    if ((ts->n_parts = partition_count(ts->rk, topic, err, errlen)) < 0)
        goto fail;
    parts = rd_kafka_topic_partition_list_new(ts->n_parts);
    if (parts == NULL ||
        (ts->end = calloc((size_t)ts->n_parts + 1, sizeof(*ts->end))) == NULL ||
        (ts->done = calloc((size_t)ts->n_parts + 1, sizeof(*ts->done))) ==
            NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int p = 0; p < ts->n_parts; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = since_ms;
    if (start_offsets(ts, topic, parts, from, err, errlen) == -1)
        goto fail;
    rd_kafka_resp_err_t e = rd_kafka_assign(ts->rk, parts);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "assign %s: %s", topic, rd_kafka_err2str(e));
        goto fail;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return ts;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    topic_scan_destroy(ts);
    return NULL;
}

void topic_scan_destroy(struct topic_scan *ts)
{
    if (ts == NULL)
        return;
    if (ts->rk) {
        rd_kafka_assign(ts->rk, NULL);
        rd_kafka_destroy(ts->rk);
    }
    free(ts->end);
    free(ts->done);
    free(ts);
}

/* Marks partition p read once position (the next offset) reaches its end. */
static void reached(struct topic_scan *ts, int32_t p, int64_t position)
{
    if (p >= 0 && p < ts->n_parts && !ts->done[p] && position >= ts->end[p]) {
        ts->done[p] = true;
        ts->live--;
    }
}

rd_kafka_message_t *topic_scan_next(struct topic_scan *ts, int timeout_ms)
{
    if (ts->live == 0)
        return NULL;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(ts->rk, timeout_ms);
    if (m == NULL)
        return NULL;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        reached(ts, m->partition, m->offset);
    else if (m->err)
        log_warnx("read: %s", rd_kafka_message_errstr(m));
    /* Records written since the scan began are not part of it. */
    if (m->err || m->partition < 0 || m->partition >= ts->n_parts ||
        ts->done[m->partition] || m->offset >= ts->end[m->partition]) {
        rd_kafka_message_destroy(m);
        return NULL;
    }
    reached(ts, m->partition, m->offset + 1);
    return m;
}

bool topic_scan_done(const struct topic_scan *ts)
{
    return ts->live == 0;
}

rd_kafka_t *topic_scan_consumer(struct topic_scan *ts)
{
    return ts->rk;
}
