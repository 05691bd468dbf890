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

/* A broadcast the reply topic holds: when, and its MAC's first bytes. */
struct sent {
    int64_t ms;
    uint64_t mac;
};

static int cmp_sent(const void *a, const void *b)
{
    const struct sent *x = a, *y = b;
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    return x->mac < y->mac ? -1 : x->mac > y->mac;
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

/* Appends v to the growing array *a. 0 or -1 (out of memory). */
static int push(struct sent **a, size_t *n, size_t *cap, struct sent v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 128;
        struct sent *p = realloc(*a, c * sizeof(**a));
        if (p == NULL)
            return -1;
        *a = p;
        *cap = c;
    }
    (*a)[(*n)++] = v;
    return 0;
}

/* Whether m is a genuine record (see history.h); then *v is filled. */
static bool genuine(const rd_kafka_message_t *m,
                    const struct record_mac_key *key, struct sent *v)
{
    rd_kafka_headers_t *h = NULL;
    const void *mac = NULL;
    size_t len = 0;
    return rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
           rd_kafka_header_get_last(h, RECORD_MAC_HEADER, &mac, &len) ==
               RD_KAFKA_RESP_ERR_NO_ERROR &&
           record_mac_verify(key, "reply", mac, len, m->payload, m->len, &v->ms,
                             &v->mac);
}

int history_broadcasts(const struct config *cfg,
                       const struct record_mac_key *key, struct window *w,
                       char *err, size_t errlen)
{
    if (cfg->broadcast_daily <= 0)
        return 0;
    const char *topic = cfg->topic[TOPIC_REPLY];
    int64_t since = clock_wall_ms() - cfg->broadcast_window_ms;
    struct sent *ts = NULL;
    size_t n_ts = 0, cap = 0, forged = 0;
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
        struct sent v;
        bool full = false;
        if (is_sent(m, action, (size_t)alen)) {
            if (!genuine(m, key, &v))
                forged++;
            else if (v.ms >= since)
                full = push(&ts, &n_ts, &cap, v) == -1;
        }
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
        qsort(ts, n_ts, sizeof(*ts), cmp_sent);
    size_t counted = 0, copies = 0;
    for (size_t i = 0; i < n_ts; i++) {
        if (i > 0 && cmp_sent(&ts[i], &ts[i - 1]) == 0) {
            copies++; /* the same record written again */
            continue;
        }
        window_add(w, ts[i].ms);
        counted++;
    }
    log_info("broadcast window rebuilt from %s: %zu sent in the last %lld s",
             topic, counted, (long long)(cfg->broadcast_window_ms / 1000));
    if (forged || copies)
        log_warnx("broadcast history: ignored %zu sent-broadcast records of %s "
                  "without a valid %s (not written by this bridge under the "
                  "current ServerSecret) and %zu copies of genuine ones",
                  forged, topic, RECORD_MAC_HEADER, copies);
    rc = 0;
out:
    free(ts);
    topic_scan_destroy(scan);
    return rc;
}
