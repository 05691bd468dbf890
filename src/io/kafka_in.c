/* kafka_in.c - consumer, offset tracking, pause/resume. */
#define LOG_COMPONENT "kafka_in"
#include "kafka_in.h"

#include "fault.h"

#include "clock.h"
#include "kafka_conf.h"
#include "log.h"
#include "offsets.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Nothing recorded for this long while records wait: the window's limit
 * falls back to its floor (offsets.h). Commits normally take 5-15 ms. */
#define STALL_MS 1000
/* An idle partition's commit is made again this often, for its time: the
 * ledger reads from a partition's commit time after a crash (offsets.h). */
#define REFRESH_MS 10000

/* One assigned partition and its offsets not yet committed. */
struct ptrack {
    int topic;
    int32_t partition;
    uint64_t gen;
    struct offsets offs;
    struct offsets_skip skip; /* finished before we were assigned it */
    int64_t *found; /* the same, from the ledger: sorted once recovered */
    size_t n_found, cap_found;
    bool fresh; /* assigned in this rebalance, not yet recovered */
    struct offsets_commit pending; /* the commit in flight, if in_commit */
    int64_t committed;             /* the last offset committed, -1: none yet */
    int64_t committed_ms;          /* when (monotonic) */
    bool dirty; /* its commit point moved since the last commit */
    bool in_commit;
    bool refresh;  /* idle: commit the same offset again, for its time */
    bool revoking; /* being given up: see kafka_in_drain_fn */
    struct ptrack *next;
};

struct kafka_in {
    rd_kafka_t *rk;
    char *topics[ZB_ACTION_COUNT]; /* the input topics, by action */
    struct ptrack *parts;
    int n_parts;
    uint64_t gen;
    unsigned paused; /* bit per topic role */
    bool rebalanced;
    int fatal;
    kafka_in_drain_fn drain;
    kafka_in_revoke_fn revoke;
    kafka_in_recover_fn recover;
    void *opaque;
    rd_kafka_queue_t *cq; /* commit results */
    bool committing;      /* one commit in flight at a time */
    bool dirty;           /* some partition's commit point moved */
    int64_t skipped;      /* records skipped: finished before assignment */
    struct offsets_limit limit; /* of the window */
    int64_t window;             /* sent and not committed, all partitions */
    int64_t next_refresh_ms;    /* refresh_idle's next look */
};

static int role_of(const struct kafka_in *ki, const char *topic)
{
    for (int i = 0; i < ZB_ACTION_COUNT; i++)
        if (strcmp(ki->topics[i], topic) == 0)
            return i;
    return -1;
}

static struct ptrack *find(struct kafka_in *ki, int topic, int32_t partition)
{
    for (struct ptrack *p = ki->parts; p; p = p->next)
        if (p->topic == topic && p->partition == partition)
            return p;
    return NULL;
}

static void ptrack_free(struct kafka_in *ki, struct ptrack *p)
{
    ki->window -= p->offs.window;
    offsets_free(&p->offs);
    offsets_skip_free(&p->skip);
    free(p->found);
    free(p);
}

static void set_paused(struct kafka_in *ki,
                       rd_kafka_topic_partition_list_t *parts, bool paused)
{
    if (parts->cnt == 0)
        return;
    rd_kafka_resp_err_t e = paused ? rd_kafka_pause_partitions(ki->rk, parts)
                                   : rd_kafka_resume_partitions(ki->rk, parts);
    if (e)
        log_warnx("%s partitions: %s", paused ? "pause" : "resume",
                  rd_kafka_err2str(e));
}

/* The finished offsets above each newly assigned partition's committed
 * offset, from the commit's metadata (offsets.h): those records are not
 * processed again. Without an answer, nothing is skipped (safe: they are
 * only sent again). */
static void read_finished(struct kafka_in *ki,
                          const rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_copy(parts);
    if (l == NULL)
        return;
    rd_kafka_resp_err_t e = rd_kafka_committed(ki->rk, l, 10000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warnx("reading committed offsets: %s; finished records above them "
                  "will be processed again",
                  rd_kafka_err2str(e));
    for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < l->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &l->elems[i];
        int role = role_of(ki, tp->topic);
        struct ptrack *p = role < 0 ? NULL : find(ki, role, tp->partition);
        if (p == NULL || tp->err || tp->offset < 0)
            continue;
        offsets_skip_free(&p->skip);
        if (offsets_skip_decode(&p->skip, tp->offset, tp->metadata,
                                tp->metadata_size) == -1)
            continue;
        p->committed = tp->offset;
        int64_t last = offsets_skip_last(&p->skip);
        if (last >= 0)
            log_info("%s[%d]: records up to offset %" PRId64 " finished "
                     "above the committed %" PRId64 " are skipped",
                     tp->topic, (int)tp->partition, last, tp->offset);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static int cmp_off(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The end offsets of the newly assigned partitions with a commit, in one
 * ListOffsets round trip; NULL when they could not be had (then every one
 * is recovered, which is only slower). */
static rd_kafka_topic_partition_list_t *ends_of_fresh(struct kafka_in *ki)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (struct ptrack *p = ki->parts; l && p; p = p->next)
        if (p->fresh && p->committed >= 0)
            rd_kafka_topic_partition_list_add(l, ki->topics[p->topic],
                                              p->partition)
                ->offset = RD_KAFKA_OFFSET_END; /* the latest offset */
    if (l && l->cnt > 0 &&
        rd_kafka_offsets_for_times(ki->rk, l, 5000) ==
            RD_KAFKA_RESP_ERR_NO_ERROR)
        return l;
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    return NULL;
}

/* True if p's commit is at its end: no record above it, nothing to find.
 * Skipping these keeps an idle partition's old commit from stretching the
 * scan back. */
static bool nothing_above(struct kafka_in *ki,
                          const rd_kafka_topic_partition_list_t *ends,
                          const struct ptrack *p)
{
    const rd_kafka_topic_partition_t *e =
        ends ? rd_kafka_topic_partition_list_find(ends, ki->topics[p->topic],
                                                  p->partition)
             : NULL;
    return e && !e->err && e->offset >= 0 && e->offset <= p->committed;
}

/* Asks the ledger which records of the newly assigned partitions have an
 * outcome in Kafka already (kafka_in_recover_fn), before any is sent. */
static void recover(struct kafka_in *ki)
{
    size_t n = 0;
    for (struct ptrack *p = ki->parts; p; p = p->next)
        n += p->fresh;
    struct kafka_in_recovery *r = n ? calloc(n, sizeof(*r)) : NULL;
    size_t k = 0;
    rd_kafka_topic_partition_list_t *ends = ends_of_fresh(ki);
    for (struct ptrack *p = ki->parts; r && p; p = p->next)
        if (p->fresh && !nothing_above(ki, ends, p))
            r[k++] = (struct kafka_in_recovery){.topic = p->topic,
                                                .partition = p->partition,
                                                .committed = p->committed,
                                                .since_ms = p->skip.since_ms};
    if (ends)
        rd_kafka_topic_partition_list_destroy(ends);
    if (k && ki->recover)
        ki->recover(ki->opaque, ki, r, k);
    else if (n && r == NULL)
        log_warnx("no memory to read the ledger: records of %zu newly "
                  "assigned partitions above their commits may be sent again",
                  n);
    free(r);
    for (struct ptrack *p = ki->parts; p; p = p->next) {
        p->fresh = false;
        if (p->n_found < 2)
            continue;
        qsort(p->found, p->n_found, sizeof(*p->found), cmp_off);
        size_t u = 1;
        for (size_t i = 1; i < p->n_found; i++)
            if (p->found[i] != p->found[u - 1])
                p->found[u++] = p->found[i];
        p->n_found = u;
    }
}

void kafka_in_finished(struct kafka_in *ki, int topic, int32_t partition,
                       int64_t offset)
{
    struct ptrack *p = find(ki, topic, partition);
    if (p == NULL || !p->fresh || offset < p->committed ||
        offsets_skip_has(&p->skip, offset))
        return;
    if (p->n_found == p->cap_found) {
        size_t cap = p->cap_found ? p->cap_found * 2 : 256;
        int64_t *f = realloc(p->found, cap * sizeof(*f));
        if (f == NULL)
            return; /* not skipped: only sent again */
        p->found = f;
        p->cap_found = cap;
    }
    p->found[p->n_found++] = offset;
}

void kafka_in_set_recover(struct kafka_in *ki, kafka_in_recover_fn fn)
{
    ki->recover = fn;
}

static void on_assign(struct kafka_in *ki,
                      rd_kafka_topic_partition_list_t *parts, bool coop)
{
    for (int i = 0; i < parts->cnt; i++) {
        int role = role_of(ki, parts->elems[i].topic);
        if (role < 0 || find(ki, role, parts->elems[i].partition))
            continue;
        struct ptrack *p = calloc(1, sizeof(*p));
        if (p == NULL)
            continue; /* kafka_in_track() will refuse its records */
        p->topic = role;
        p->partition = parts->elems[i].partition;
        p->gen = ++ki->gen;
        p->committed = -1;
        p->committed_ms = clock_mono_ms();
        p->fresh = true;
        offsets_init(&p->offs);
        p->next = ki->parts;
        ki->parts = p;
        ki->n_parts++;
    }
    read_finished(ki, parts);
    recover(ki);
    rd_kafka_error_t *err = NULL;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (coop)
        err = rd_kafka_incremental_assign(ki->rk, parts);
    else
        e = rd_kafka_assign(ki->rk, parts);
    if (err) {
        log_error("assign: %s", rd_kafka_error_string(err));
        rd_kafka_error_destroy(err);
    } else if (e) {
        log_error("assign: %s", rd_kafka_err2str(e));
    }
    if (ki->paused) {
        rd_kafka_topic_partition_list_t *l =
            rd_kafka_topic_partition_list_new(parts->cnt);
        for (int i = 0; i < parts->cnt; i++) {
            int role = role_of(ki, parts->elems[i].topic);
            if (role >= 0 && (ki->paused & (1u << role)))
                rd_kafka_topic_partition_list_add(l, parts->elems[i].topic,
                                                  parts->elems[i].partition);
        }
        set_paused(ki, l, true);
        rd_kafka_topic_partition_list_destroy(l);
    }
    ki->rebalanced = true;
    log_info("assigned %d partitions (now %d)", parts->cnt, ki->n_parts);
}

static void on_revoke(struct kafka_in *ki,
                      rd_kafka_topic_partition_list_t *parts, bool coop)
{
    /* Work in flight is finished and the done offsets are committed
     * before the partitions change owner, unless they are already lost
     * (then the commit would be refused). */
    if (rd_kafka_assignment_lost(ki->rk)) {
        log_warnx("assignment lost (session timed out or fenced): work in "
                  "flight for %d partitions will be redone by their next "
                  "owner",
                  parts->cnt);
    } else {
        if (ki->drain) {
            for (int i = 0; i < parts->cnt; i++) {
                int role = role_of(ki, parts->elems[i].topic);
                struct ptrack *p =
                    role < 0 ? NULL : find(ki, role, parts->elems[i].partition);
                if (p)
                    p->revoking = true;
            }
            ki->drain(ki->opaque);
        }
        kafka_in_commit(ki);
    }
    for (int i = 0; i < parts->cnt; i++) {
        int role = role_of(ki, parts->elems[i].topic);
        for (struct ptrack **pp = &ki->parts; role >= 0 && *pp;
             pp = &(*pp)->next) {
            struct ptrack *p = *pp;
            if (p->topic != role || p->partition != parts->elems[i].partition)
                continue;
            *pp = p->next;
            ki->n_parts--;
            if (ki->revoke)
                ki->revoke(ki->opaque, role, p->partition);
            ptrack_free(ki, p);
            break;
        }
    }
    if (coop) {
        rd_kafka_error_t *err = rd_kafka_incremental_unassign(ki->rk, parts);
        if (err)
            rd_kafka_error_destroy(err);
    } else {
        rd_kafka_assign(ki->rk, NULL);
    }
    ki->rebalanced = true;
    log_info("revoked %d partitions (now %d)", parts->cnt, ki->n_parts);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct kafka_in *ki = opaque;
    bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        on_assign(ki, parts, coop);
    else
        on_revoke(ki, parts, coop);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct kafka_in *ki = opaque;
    if (kafka_conf_error(rk, err, reason, "consumer"))
        ki->fatal = 1;
}

struct kafka_in *kafka_in_new(const struct config *cfg, int wake_fd,
                              kafka_in_drain_fn drain,
                              kafka_in_revoke_fn revoke, void *opaque,
                              char *err, size_t errlen)
{
    struct kafka_in *ki = calloc(1, sizeof(*ki));
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_topic_partition_list_t *sub = NULL;
    if (ki == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    ki->drain = drain;
    ki->revoke = revoke;
    ki->opaque = opaque;
    offsets_limit_init(&ki->limit, cfg->max_inflight, cfg->commit_window,
                       clock_mono_ms());
    for (int i = 0; i < ZB_ACTION_COUNT; i++)
        if ((ki->topics[i] = strdup(cfg->topic[i])) == NULL) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    /* At-least-once: we store offsets ourselves, after delivery. */
    if ((conf = kafka_conf_new(cfg, KAFKA_CONF_CONSUMER, err, errlen)) ==
            NULL ||
        kafka_conf_set(conf, "enable.auto.offset.store", "false", err,
                       errlen) == -1 ||
        kafka_conf_set(conf, "enable.auto.commit", "false", err, errlen) ==
            -1 ||
        kafka_conf_set(conf, "enable.partition.eof", "false", err, errlen) ==
            -1)
        goto fail;
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, ki);
    if ((ki->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen)) == NULL)
        goto fail;
    conf = NULL;
    rd_kafka_poll_set_consumer(ki->rk);
    if ((ki->cq = rd_kafka_queue_new(ki->rk)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (wake_fd >= 0) {
        rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(ki->rk);
        rd_kafka_queue_io_event_enable(q, wake_fd, "c", 1);
        rd_kafka_queue_destroy(q);
        rd_kafka_queue_io_event_enable(ki->cq, wake_fd, "k", 1);
    }
    sub = rd_kafka_topic_partition_list_new(ZB_ACTION_COUNT);
    for (int i = 0; i < ZB_ACTION_COUNT; i++)
        rd_kafka_topic_partition_list_add(sub, ki->topics[i],
                                          RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(ki->rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) {
        snprintf(err, errlen, "subscribe: %s", rd_kafka_err2str(e));
        goto fail;
    }
    return ki;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    kafka_in_destroy(ki);
    return NULL;
}

void kafka_in_destroy(struct kafka_in *ki)
{
    if (ki == NULL)
        return;
    /* The service behind the callbacks may be half gone by now. */
    ki->drain = NULL;
    ki->revoke = NULL;
    if (ki->cq)
        rd_kafka_queue_destroy(ki->cq);
    if (ki->rk)
        rd_kafka_destroy(ki->rk);
    while (ki->parts) {
        struct ptrack *p = ki->parts;
        ki->parts = p->next;
        ptrack_free(ki, p);
    }
    for (int i = 0; i < ZB_ACTION_COUNT; i++)
        free(ki->topics[i]);
    free(ki);
}

/* Whether off is in the ledger's finds (sorted); they are forgotten once
 * the partition is past them all. */
static bool found_has(struct ptrack *p, int64_t off)
{
    if (p->n_found == 0)
        return false;
    if (off > p->found[p->n_found - 1]) {
        free(p->found);
        p->found = NULL;
        p->n_found = p->cap_found = 0;
        return false;
    }
    return bsearch(&off, p->found, p->n_found, sizeof(off), cmp_off) != NULL;
}

/* True if rkm finished before this member was assigned its partition
 * (named in the commit's metadata, or found in the ledger): it is
 * tracked as done at once. */
static bool finished_before(struct kafka_in *ki, const rd_kafka_message_t *rkm)
{
    int role = kafka_in_topic_role(ki, rkm);
    struct ptrack *p = role < 0 ? NULL : find(ki, role, rkm->partition);
    if (p == NULL || (p->skip.n == 0 && p->n_found == 0))
        return false;
    bool skip = false;
    if (p->skip.n && rkm->offset > offsets_skip_last(&p->skip))
        offsets_skip_free(&p->skip); /* past them all */
    else if (p->skip.n)
        skip = offsets_skip_has(&p->skip, rkm->offset);
    if (!found_has(p, rkm->offset) && !skip)
        return false;
    if (offsets_track(&p->offs, rkm->offset, clock_wall_ms()) == -1)
        return false;
    if (offsets_done(&p->offs, rkm->offset))
        p->dirty = ki->dirty = true;
    ki->skipped++;
    return true;
}

rd_kafka_message_t *kafka_in_poll(struct kafka_in *ki)
{
    for (int i = 0; i < 100; i++) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(ki->rk, 0);
        if (rkm == NULL)
            return NULL;
        if (!rkm->err && !finished_before(ki, rkm))
            return rkm;
        if (rkm->err == RD_KAFKA_RESP_ERR__FATAL)
            ki->fatal = 1;
        if (rkm->err && rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            log_warnx("consume: %s", rd_kafka_message_errstr(rkm));
        rd_kafka_message_destroy(rkm);
    }
    return NULL;
}

int64_t kafka_in_skipped(const struct kafka_in *ki)
{
    return ki->skipped;
}

int kafka_in_topic_role(const struct kafka_in *ki,
                        const rd_kafka_message_t *rkm)
{
    return role_of(ki, rd_kafka_topic_name(rkm->rkt));
}

/* The partition of a ticket, or NULL (revoked since). */
static struct ptrack *part_of(struct kafka_in *ki,
                              const struct kafka_in_ticket *t)
{
    struct ptrack *p = find(ki, t->topic, t->partition);
    return p && p->gen == t->gen ? p : NULL;
}

int kafka_in_track(struct kafka_in *ki, const rd_kafka_message_t *rkm,
                   struct kafka_in_ticket *t)
{
    int role = kafka_in_topic_role(ki, rkm);
    struct ptrack *p = role < 0 ? NULL : find(ki, role, rkm->partition);
    if (p == NULL)
        return KAFKA_IN_NOT_OURS;
    if (fault_fail(FAULT_TRACK) ||
        offsets_track(&p->offs, rkm->offset, clock_wall_ms()) == -1)
        return KAFKA_IN_NO_MEMORY;
    *t = (struct kafka_in_ticket){.topic = role,
                                  .partition = rkm->partition,
                                  .offset = rkm->offset,
                                  .gen = p->gen};
    return 0;
}

void kafka_in_sent(struct kafka_in *ki, const struct kafka_in_ticket *t)
{
    struct ptrack *p = part_of(ki, t);
    if (p && offsets_sent(&p->offs, t->offset))
        ki->window++;
}

bool kafka_in_holds_commit(struct kafka_in *ki, const struct kafka_in_ticket *t)
{
    struct ptrack *p = part_of(ki, t);
    return p && offsets_holds_commit(&p->offs, t->offset);
}

int64_t kafka_in_window(const struct kafka_in *ki)
{
    return ki->window;
}

int64_t kafka_in_window_limit(const struct kafka_in *ki)
{
    return ki->limit.limit;
}

bool kafka_in_revoking(struct kafka_in *ki, const struct kafka_in_ticket *t)
{
    struct ptrack *p = find(ki, t->topic, t->partition);
    return p && p->gen == t->gen && p->revoking;
}

void kafka_in_done(struct kafka_in *ki, const struct kafka_in_ticket *t)
{
    struct ptrack *p = part_of(ki, t);
    if (p && offsets_done(&p->offs, t->offset))
        p->dirty = ki->dirty = true;
}

/* A commit of p's pending point succeeded: the window shrinks by what it
 * recorded, and its limit may grow. */
static void committed(struct kafka_in *ki, struct ptrack *p)
{
    int64_t used = ki->window, n = offsets_committed(&p->offs, &p->pending);
    ki->window -= n;
    if (n > 0)
        offsets_limit_recorded(&ki->limit, n, used, clock_mono_ms());
    p->committed = p->pending.offset;
    p->committed_ms = clock_mono_ms();
    p->in_commit = false;
}

/* Serves a commit's result: each partition's pending point is recorded,
 * or is made again next time. */
static void commit_result(struct kafka_in *ki, rd_kafka_resp_err_t err,
                          const rd_kafka_topic_partition_list_t *offsets)
{
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        log_warnx("commit: %s (retrying)", rd_kafka_err2str(err));
    log_debug("commit of %d partitions: %s", offsets ? offsets->cnt : 0,
              rd_kafka_err2str(err));
    for (int i = 0; offsets && i < offsets->cnt; i++) {
        const rd_kafka_topic_partition_t *e = &offsets->elems[i];
        int role = role_of(ki, e->topic);
        struct ptrack *p = role < 0 ? NULL : find(ki, role, e->partition);
        if (p == NULL || !p->in_commit)
            continue; /* revoked since */
        if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
            p->in_commit = false; /* nothing was there to commit */
        } else if (err || e->err) {
            if (e->err)
                log_warnx("commit %s[%d]@%" PRId64 ": %s (retrying)", e->topic,
                          (int)e->partition, e->offset,
                          rd_kafka_err2str(e->err));
            p->in_commit = false;
            p->dirty = ki->dirty = true;
        } else {
            committed(ki, p);
        }
    }
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    struct kafka_in *ki = opaque;
    ki->committing = false;
    commit_result(ki, err, offsets);
}

/* The commit points of the partitions whose point moved: the offset and
 * the finished offsets above it, as metadata. NULL when none moved. */
static rd_kafka_topic_partition_list_t *commit_list(struct kafka_in *ki)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    for (struct ptrack *p = ki->parts; p; p = p->next) {
        if (!p->dirty)
            continue;
        offsets_commit_point(&p->offs, OFFSETS_META_MAX, clock_wall_ms(),
                             &p->pending);
        if (p->pending.offset < 0 && p->refresh && p->committed >= 0)
            offsets_commit_idle(p->committed, clock_wall_ms(), &p->pending);
        p->dirty = p->refresh = false;
        if (p->pending.offset < 0)
            continue;
        if (l == NULL && (l = rd_kafka_topic_partition_list_new(8)) == NULL)
            break;
        rd_kafka_topic_partition_t *e = rd_kafka_topic_partition_list_add(
            l, ki->topics[p->topic], p->partition);
        e->offset = p->pending.offset;
        if (p->pending.meta_len &&
            (e->metadata = malloc(p->pending.meta_len)) != NULL) {
            memcpy(e->metadata, p->pending.meta, p->pending.meta_len);
            e->metadata_size = p->pending.meta_len;
        } else if (p->pending.meta_len) { /* no memory: no metadata */
            p->pending.covered = p->pending.offset - 1;
            p->pending.meta_len = 0;
        }
        p->in_commit = true;
    }
    return l;
}

/* Marks the idle partitions whose commit is older than REFRESH_MS (looks
 * once a second). */
static void refresh_idle(struct kafka_in *ki, int64_t now)
{
    if (now < ki->next_refresh_ms)
        return;
    ki->next_refresh_ms = now + 1000;
    for (struct ptrack *p = ki->parts; p; p = p->next)
        if (p->offs.n == 0 && p->committed >= 0 && !p->in_commit &&
            now - p->committed_ms >= REFRESH_MS) {
            p->refresh = p->dirty = ki->dirty = true;
            p->committed_ms = now; /* once per REFRESH_MS, even if refused */
        }
}

void kafka_in_commit_tick(struct kafka_in *ki)
{
    rd_kafka_queue_poll_callback(ki->cq, 0);
    int64_t now = clock_mono_ms();
    offsets_limit_tick(&ki->limit, ki->window, now, STALL_MS);
    refresh_idle(ki, now);
    /* One at a time: several in flight loaded the broker's CPU so much
     * that throughput halved (2,014 vs 4,175 events/s, scripts/bench). */
    if (!ki->dirty || ki->committing || ki->n_parts == 0)
        return;
    ki->dirty = false;
    rd_kafka_topic_partition_list_t *l = commit_list(ki);
    if (l == NULL)
        return;
    rd_kafka_resp_err_t e =
        rd_kafka_commit_queue(ki->rk, l, ki->cq, on_commit, ki);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        ki->committing = true;
    else
        commit_result(ki, e, l);
    rd_kafka_topic_partition_list_destroy(l);
}

void kafka_in_set_paused(struct kafka_in *ki, unsigned mask)
{
    unsigned change = ki->paused ^ mask;
    if (change == 0)
        return;
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(ki->rk, &l) == RD_KAFKA_RESP_ERR_NO_ERROR && l) {
        rd_kafka_topic_partition_list_t *on =
            rd_kafka_topic_partition_list_new(l->cnt);
        rd_kafka_topic_partition_list_t *off =
            rd_kafka_topic_partition_list_new(l->cnt);
        for (int i = 0; i < l->cnt; i++) {
            int role = role_of(ki, l->elems[i].topic);
            if (role < 0 || !(change & (1u << role)))
                continue;
            rd_kafka_topic_partition_list_add((mask & (1u << role)) ? on : off,
                                              l->elems[i].topic,
                                              l->elems[i].partition);
        }
        set_paused(ki, on, true);
        set_paused(ki, off, false);
        rd_kafka_topic_partition_list_destroy(on);
        rd_kafka_topic_partition_list_destroy(off);
        rd_kafka_topic_partition_list_destroy(l);
    }
    ki->paused = mask;
}

unsigned kafka_in_paused(const struct kafka_in *ki)
{
    return ki->paused;
}

bool kafka_in_rebalanced(struct kafka_in *ki)
{
    bool r = ki->rebalanced;
    ki->rebalanced = false;
    return r;
}

double kafka_in_share(struct kafka_in *ki, int role)
{
    int mine = 0;
    for (struct ptrack *p = ki->parts; p; p = p->next)
        mine += p->topic == role;
    if (mine == 0)
        return 0;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(ki->rk, ki->topics[role], NULL);
    double share = 1;
    if (rkt &&
        rd_kafka_metadata(ki->rk, 0, rkt, &md, 5000) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1 && md->topics[0].partition_cnt > 0)
        share = (double)mine / md->topics[0].partition_cnt;
    else
        log_warnx("no partition count for %s: assuming a share of 1",
                  ki->topics[role]);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    return share > 1 ? 1 : share;
}

int kafka_in_assigned(const struct kafka_in *ki)
{
    return ki->n_parts;
}

static void on_commit_sync(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *offsets,
                           void *opaque)
{
    (void)rk;
    commit_result(opaque, err, offsets);
}

void kafka_in_commit(struct kafka_in *ki)
{
    for (struct ptrack *p = ki->parts; p; p = p->next)
        p->dirty = true; /* everything, in case a commit in flight fails */
    ki->dirty = false;
    rd_kafka_topic_partition_list_t *l = commit_list(ki);
    if (l == NULL)
        return;
    /* No queue: waits for the result and calls on_commit_sync itself. */
    rd_kafka_resp_err_t e =
        rd_kafka_commit_queue(ki->rk, l, NULL, on_commit_sync, ki);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        commit_result(ki, e, l);
    rd_kafka_topic_partition_list_destroy(l);
}

void kafka_in_close(struct kafka_in *ki)
{
    kafka_in_commit(ki);
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(ki->rk);
    if (e)
        log_warnx("consumer close: %s", rd_kafka_err2str(e));
}

int kafka_in_fatal(const struct kafka_in *ki)
{
    return ki->fatal;
}

void kafka_in_lags(struct kafka_in *ki,
                   void (*fn)(void *opaque, int role, int32_t partition,
                              int64_t lag),
                   void *opaque)
{
    for (struct ptrack *p = ki->parts; p; p = p->next) {
        int64_t lo = -1, hi = -1;
        if (rd_kafka_get_watermark_offsets(ki->rk, ki->topics[p->topic],
                                           p->partition, &lo, &hi) != 0 ||
            hi < 0)
            continue;
        int64_t done = p->committed >= 0 ? p->committed : lo;
        fn(opaque, p->topic, p->partition, hi > done ? hi - done : 0);
    }
}

int kafka_in_credentials(struct kafka_in *ki, const struct config *cfg,
                         const char *password, char *err, size_t errlen)
{
    return kafka_conf_credentials(ki->rk, cfg, password, err, errlen);
}
