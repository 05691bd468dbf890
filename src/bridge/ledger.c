/* ledger.c - which records of newly assigned partitions already have their
 * outcome in the reply and DLQ topics. */
#define LOG_COMPONENT "ledger"
#include "ledger.h"

#include "action.h"
#include "clock.h"
#include "dlq.h"
#include "kafka_conf.h"
#include "log.h"
#include "topic_scan.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

/* What the two topics say about one input record. */
enum {
    SEEN_OK = 1,     /* a reply: it did not fail */
    SEEN_FAILED = 2, /* a reply: it failed (a DLQ record goes with it) */
    SEEN_DLQ = 4,    /* its DLQ record */
};

struct seen {
    uint32_t part; /* index in the parts being recovered */
    uint8_t what;
    int64_t offset;
};

struct scan_state {
    const struct config *cfg;
    const struct record_claim_key *key;
    const struct kafka_in_recovery *parts;
    size_t n;
    int64_t *from_ms; /* per part: claims older than this are not its own */
    struct seen *seen;
    size_t n_seen, cap_seen;
    bool no_memory;
    struct ledger_stats *st;
};

static int cmp_seen(const void *a, const void *b)
{
    const struct seen *x = a, *y = b;
    if (x->part != y->part)
        return x->part < y->part ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The part c names, or -1: not one being recovered, or below its commit,
 * or older than its commit's time (another incarnation of the topic). */
static long part_of(const struct scan_state *s, const struct record_claim *c)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct kafka_in_recovery *p = &s->parts[i];
        const char *t = s->cfg->topic[p->topic];
        if (p->partition == c->partition && strlen(t) == c->topic_len &&
            memcmp(t, c->topic, c->topic_len) == 0)
            return c->offset >= p->committed && c->ms >= s->from_ms[i] ? (long)i
                                                                       : -1;
    }
    return -1;
}

static void note(struct scan_state *s, const rd_kafka_message_t *m, int role)
{
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t len = 0;
    struct record_claim c;
    s->st->read++;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, RECORD_CLAIM_HEADER, &v, &len) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        !record_claim_verify(s->key, dlq_mac_kind(role), v, len, &c)) {
        s->st->ignored++;
        return;
    }
    long part = part_of(s, &c);
    if (part < 0)
        return;
    if (s->n_seen == s->cap_seen) {
        size_t cap = s->cap_seen ? s->cap_seen * 2 : 1024;
        struct seen *n = realloc(s->seen, cap * sizeof(*n));
        if (n == NULL) {
            s->no_memory = true;
            return;
        }
        s->seen = n;
        s->cap_seen = cap;
    }
    s->seen[s->n_seen++] = (struct seen){.part = (uint32_t)part,
                                         .what = role == TOPIC_DLQ ? SEEN_DLQ
                                                 : c.failed        ? SEEN_FAILED
                                                                   : SEEN_OK,
                                         .offset = c.offset};
}

/* Reads the reply and DLQ topics from since_ms, side by side, within the
 * bounds. False if either could not be read to its end. */
static bool scan(struct scan_state *s, int64_t since_ms, char *err,
                 size_t errlen)
{
    static const int roles[] = {TOPIC_REPLY, TOPIC_DLQ};
    struct topic_scan *ts[2] = {NULL, NULL};
    bool ok = true;
    for (int i = 0; i < 2 && ok; i++) {
        rd_kafka_conf_t *conf =
            kafka_conf_new(s->cfg, KAFKA_CONF_CONSUMER, err, errlen);
        ts[i] = conf ? topic_scan_new(conf, s->cfg->topic[roles[i]],
                                      TOPIC_SCAN_TIME, since_ms, err, errlen)
                     : NULL;
        ok = ts[i] != NULL;
    }
    int64_t deadline = clock_mono_ms() + s->cfg->recovery_timeout_ms;
    while (ok && !(topic_scan_done(ts[0]) && topic_scan_done(ts[1]))) {
        if (clock_mono_ms() >= deadline) {
            snprintf(err, errlen,
                     "took over recovery.timeout_ms (%" PRId64 " ms)",
                     s->cfg->recovery_timeout_ms);
            ok = false;
        } else if (s->st->read >= (size_t)s->cfg->recovery_max_records) {
            snprintf(err, errlen, "read recovery.max_records (%" PRId64 ")",
                     s->cfg->recovery_max_records);
            ok = false;
        } else if (s->no_memory) {
            snprintf(err, errlen, "out of memory");
            ok = false;
        }
        if (!ok)
            break;
        /* What either has at hand, then a short wait on one. */
        bool got = false;
        for (int i = 0; i < 2; i++) {
            rd_kafka_message_t *m = NULL;
            for (int k = 0; k < 1000 && !topic_scan_done(ts[i]) &&
                            (m = topic_scan_next(ts[i], 0)) != NULL;
                 k++) {
                note(s, m, roles[i]);
                rd_kafka_message_destroy(m);
                got = true;
            }
        }
        int w = topic_scan_done(ts[0]) ? 1 : 0;
        rd_kafka_message_t *m = got ? NULL : topic_scan_next(ts[w], 20);
        if (m) {
            note(s, m, roles[w]);
            rd_kafka_message_destroy(m);
        }
    }
    topic_scan_destroy(ts[0]);
    topic_scan_destroy(ts[1]);
    return ok;
}

/* Marks the finished ones, logs a line per partition; returns how many. */
static size_t apply(struct scan_state *s, struct kafka_in *ki, int64_t took_ms)
{
    if (s->n_seen > 1)
        qsort(s->seen, s->n_seen, sizeof(*s->seen), cmp_seen);
    size_t *per = calloc(s->n, sizeof(*per)), total = 0;
    for (size_t i = 0; i < s->n_seen;) {
        size_t j = i;
        uint8_t what = 0;
        for (; j < s->n_seen && cmp_seen(&s->seen[j], &s->seen[i]) == 0; j++)
            what |= s->seen[j].what;
        /* A failure is finished only with its DLQ record in Kafka too. */
        if ((what & SEEN_OK) || ((what & SEEN_FAILED) && (what & SEEN_DLQ))) {
            const struct kafka_in_recovery *p = &s->parts[s->seen[i].part];
            kafka_in_finished(ki, p->topic, p->partition, s->seen[i].offset);
            total++;
            if (per)
                per[s->seen[i].part]++;
        }
        i = j;
    }
    for (size_t i = 0; per && i < s->n; i++) {
        const struct kafka_in_recovery *p = &s->parts[i];
        if (p->committed < 0 || p->since_ms < 0)
            continue;
        char at[40];
        clock_rfc3339(s->from_ms[i], at, sizeof(at));
        log_info("%s[%d]: %zu records above the committed offset %" PRId64
                 " have their outcome in Kafka already: not sent again "
                 "(ledger read from %s, %zu records in %" PRId64 " ms)",
                 s->cfg->topic[p->topic], (int)p->partition, per[i],
                 p->committed, at, s->st->read, took_ms);
    }
    free(per);
    return total;
}

void ledger_recover(const struct config *cfg,
                    const struct record_claim_key *key, struct kafka_in *ki,
                    const struct kafka_in_recovery *parts, size_t n,
                    struct metrics *m, struct ledger_stats *st)
{
    struct ledger_stats local;
    if (st == NULL)
        st = &local;
    *st = (struct ledger_stats){0};
    if (!cfg->recovery_scan || n == 0)
        return;
    struct scan_state s = {
        .cfg = cfg, .key = key, .parts = parts, .n = n, .st = st};
    int64_t since = INT64_MAX;
    size_t with_time = 0;
    if ((s.from_ms = calloc(n, sizeof(*s.from_ms))) == NULL) {
        log_warnx("no memory to read the ledger: records above the commits "
                  "of %zu partitions may be sent again",
                  n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct kafka_in_recovery *p = &parts[i];
        s.from_ms[i] = INT64_MAX; /* nothing is its own */
        if (p->committed < 0)
            continue; /* nothing committed: nothing was recorded either */
        if (p->since_ms < 0) {
            log_info("%s[%d]: its commit carries no time (written by an "
                     "older zimbridge): records above offset %" PRId64
                     " that finished may be sent again",
                     cfg->topic[p->topic], (int)p->partition, p->committed);
            continue;
        }
        s.from_ms[i] = p->since_ms - cfg->recovery_margin_ms;
        since = s.from_ms[i] < since ? s.from_ms[i] : since;
        with_time++;
    }
    if (with_time == 0) {
        free(s.from_ms);
        return;
    }
    char err[256] = "";
    int64_t t0 = clock_mono_ms();
    st->complete = scan(&s, since, err, sizeof(err));
    int64_t took = clock_mono_ms() - t0;
    if (!st->complete)
        log_warnx("ledger: %s after %zu records of %s and %s: what was found "
                  "is used; other records above the commits of %zu "
                  "partitions may be sent again",
                  err, st->read, cfg->topic[TOPIC_REPLY], cfg->topic[TOPIC_DLQ],
                  with_time);
    st->found = apply(&s, ki, took);
    if (st->ignored)
        log_info("ledger: ignored %zu records of %s and %s without a valid "
                 "%s for this AppID and group (written by others, or before "
                 "the ledger)",
                 st->ignored, cfg->topic[TOPIC_REPLY], cfg->topic[TOPIC_DLQ],
                 RECORD_CLAIM_HEADER);
    if (m && st->found)
        metrics_recovered(m, st->found);
    free(s.seen);
    free(s.from_ms);
}
