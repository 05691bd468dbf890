/* history.c - rebuild the broadcast window from the reply topic. */
#define _GNU_SOURCE   /* memmem */
#define LOG_COMPONENT "history"
#include "history.h"

#include "action.h"
#include "clock.h"
#include "kafka_conf.h"
#include "log.h"
#include "topic_scan.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_TIMEOUT_MS 30000

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The action with a daily quota (core/action.h: broadcast's 100 a day). */
static enum event_kind daily_kind(void)
{
    for (int k = 0; k < ZB_ACTION_COUNT; k++)
        if (action_of((enum event_kind)k)->daily)
            return (enum event_kind)k;
    return EVENT_BROADCAST;
}

static bool is_sent(const rd_kafka_message_t *m, const char *action, size_t len)
{
    static const char sent[] = "\"status\":\"sent\"";
    return m->payload && memmem(m->payload, m->len, action, len) &&
           memmem(m->payload, m->len, sent, sizeof(sent) - 1);
}

/* Appends t to the growing array *ts. 0 or -1 (out of memory). */
static int push(int64_t **ts, size_t *n, size_t *cap, int64_t t)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 128;
        int64_t *v = realloc(*ts, c * sizeof(**ts));
        if (v == NULL)
            return -1;
        *ts = v;
        *cap = c;
    }
    (*ts)[(*n)++] = t;
    return 0;
}

int history_broadcasts(const struct config *cfg, struct window *w, char *err,
                       size_t errlen)
{
    if (cfg->broadcast_daily <= 0)
        return 0;
    const char *topic = cfg->topic[TOPIC_REPLY];
    int64_t since = clock_wall_ms() - cfg->broadcast_window_ms;
    int64_t *ts = NULL;
    size_t n_ts = 0, cap = 0;
    int rc = -1;
    rd_kafka_conf_t *conf =
        kafka_conf_new(cfg, KAFKA_CONF_CONSUMER, err, errlen);
    struct topic_scan *scan =
        conf ? topic_scan_new(conf, topic, TOPIC_SCAN_TIME, since, err, errlen)
             : NULL;
    if (scan == NULL)
        return -1;
    char action[96];
    int alen = snprintf(action, sizeof(action), "\"action\":\"%s\"",
                        event_kind_action(daily_kind()));
    int64_t deadline = clock_mono_ms() + HISTORY_TIMEOUT_MS;
    while (!topic_scan_done(scan) && clock_mono_ms() < deadline) {
        rd_kafka_message_t *m = topic_scan_next(scan, 100);
        if (m == NULL)
            continue;
        rd_kafka_timestamp_type_t tt;
        int64_t t = rd_kafka_message_timestamp(m, &tt);
        int full = t >= since && is_sent(m, action, (size_t)alen) &&
                   push(&ts, &n_ts, &cap, t) == -1;
        rd_kafka_message_destroy(m);
        if (full) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (!topic_scan_done(scan)) {
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
    free(ts);
    topic_scan_destroy(scan);
    return rc;
}
