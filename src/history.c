/* history.c - rebuild the broadcast window from the reply topic. */
#define _GNU_SOURCE   /* memmem */
#define LOG_COMPONENT "history"
#include "history.h"

#include "clock.h"
#include "log.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_TIMEOUT_MS 30000

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static bool is_sent_broadcast(const rd_kafka_message_t *m)
{
    static const char action[] = "\"action\":\"SendMessageToAllUsers\"";
    static const char sent[] = "\"status\":\"sent\"";
    return m->payload &&
           memmem(m->payload, m->len, action, sizeof(action) - 1) &&
           memmem(m->payload, m->len, sent, sizeof(sent) - 1);
}

int history_broadcasts(const struct config *cfg, struct window *w, char *err,
                       size_t errlen)
{
    if (cfg->broadcast_daily <= 0)
        return 0;
    int rc = -1;
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_t *rkt = NULL;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    int64_t *ts = NULL, *end = NULL;
    size_t n_ts = 0, cap = 0;
    const char *topic = cfg->topic[TOPIC_REPLY];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < cfg->n_kafka; i++)
        if (rd_kafka_conf_set(conf, cfg->kafka[i].key, cfg->kafka[i].value, err,
                              errlen) != RD_KAFKA_CONF_OK)
            goto out;
    /* Assigned, not subscribed: this reader never joins the group. */
    if (rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, errlen) !=
        RD_KAFKA_CONF_OK)
        goto out;
    if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen)) == NULL)
        goto out;
    conf = NULL;
    rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != 0 || md->topic_cnt != 1 ||
        md->topics[0].err) {
        snprintf(err, errlen, "no metadata for %s", topic);
        goto out;
    }
    int np = md->topics[0].partition_cnt;
    int64_t wall = clock_wall_ms(), since = wall - cfg->broadcast_window_ms;
    parts = rd_kafka_topic_partition_list_new(np);
    end = calloc((size_t)np, sizeof(*end));
    for (int p = 0; p < np; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = since;
    if (rd_kafka_offsets_for_times(rk, parts, 10000) != 0) {
        snprintf(err, errlen, "offsets for times failed on %s", topic);
        goto out;
    }
    int live = 0;
    for (int p = 0; p < np; p++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        end[p] = hi;
        if (parts->elems[p].offset < 0) /* nothing that recent */
            parts->elems[p].offset = hi;
        live += parts->elems[p].offset < hi;
    }
    rd_kafka_assign(rk, parts);
    int64_t deadline = clock_mono_ms() + HISTORY_TIMEOUT_MS;
    while (live > 0 && clock_mono_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (!m->err && m->partition < np) {
            rd_kafka_timestamp_type_t tt;
            int64_t t = rd_kafka_message_timestamp(m, &tt);
            if (t >= since && is_sent_broadcast(m)) {
                if (n_ts == cap) {
                    cap = cap ? cap * 2 : 128;
                    int64_t *v = realloc(ts, cap * sizeof(*ts));
                    if (v == NULL) {
                        rd_kafka_message_destroy(m);
                        break;
                    }
                    ts = v;
                }
                ts[n_ts++] = t;
            }
            if (m->offset + 1 >= end[m->partition])
                live--;
        }
        rd_kafka_message_destroy(m);
    }
    if (live > 0) {
        snprintf(err, errlen, "reading %s took over %d ms", topic,
                 HISTORY_TIMEOUT_MS);
        goto out;
    }
    if (n_ts > 1)
        qsort(ts, n_ts, sizeof(*ts), cmp_i64);
    for (size_t i = 0; i < n_ts; i++)
        window_add(w, ts[i]);
    log_info("broadcast window rebuilt from %s: %zu sent in the last %lld s",
             topic, n_ts, (long long)(cfg->broadcast_window_ms / 1000));
    rc = 0;
out:
    if (conf)
        rd_kafka_conf_destroy(conf);
    free(ts);
    free(end);
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    return rc;
}
