/* replay.c - `zimbridge replay` for dead-letter topics.
 *
 * It reads the DLQ from where its consumer group (--group) left off up to
 * the end offsets seen at start, selects records by the filters, and
 * publishes each selected record's key, value and headers (less the zim.*
 * and kafka_dlt-* failure headers, plus zim.replay.count and
 * zim.replayed.from) to its source topic. Output and the group's DLQ
 * offsets commit in one Kafka transaction per batch, so an interrupted
 * replay resumes without sending anything twice. */
#define _GNU_SOURCE
#define LOG_COMPONENT "replay"
#include "cmd.h"

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "dlq.h"
#include "kafka_conf.h"
#include "log.h"
#include "topic_scan.h"
#include "utf8.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_LIST  16
#define BATCH_MAX 500
#define BATCH_MS  1000

static const char usage[] =
    "usage: zimbridge replay [--config FILE] [selection] [options]\n"
    "\n"
    "Publishes dead-letter records back to the input topic of their action\n"
    "(zim.action: SendPeerMessage to topics.peer, ...).\n"
    "\n"
    "selection (records must match every flag given):\n"
    "  --failure-class C[,C]   validation, api, exhausted, partial,\n"
    "                          ambiguous (may have been sent)\n"
    "  --code N                zim.error.code (repeatable)\n"
    "  --source-topic T        zim.source.topic\n"
    "  --key K                 the record key\n"
    "  --since TIME --until TIME  zim.failed.at within [since, until];\n"
    "                          RFC 3339 (2026-11-22T10:00:00Z) or Unix s\n"
    "  --partition P --offset-from O --offset-to O   DLQ positions\n"
    "  --all                   everything (required when no other flag)\n"
    "\n"
    "options:\n"
    "  --from TOPIC            read this topic (default topics.dlq)\n"
    "  --to TOPIC              publish to this input topic (one of\n"
    "                          topics.*) instead of the action's own\n"
    "  --to-any-topic          let --to name any topic\n"
    "  --dry-run               change nothing; list what would be replayed\n"
    "  --format table|json     dry-run output (default table)\n"
    "  --max-replays N         skip records replayed N times (default 3)\n"
    "  --group G               consumer group for resuming (default:\n"
    "                          zimbridge-replay-<hash of the selection>)\n"
    "  --rate N                at most N records/s, up to 100000 (default\n"
    "                          unlimited)\n"
    "\n"
    "Exit status: 0 all selected records replayed, 1 some skipped, 2 usage\n"
    "or configuration error, 3 interrupted or a Kafka error.\n";

struct selection {
    char classes[MAX_LIST][16];
    int n_classes;
    int64_t codes[MAX_LIST];
    int n_codes;
    const char *source_topic, *key;
    int64_t since_ms, until_ms; /* -1: open */
    int32_t partition;          /* -1: any */
    int64_t offset_from, offset_to;
    bool any; /* at least one selection flag */
};

struct stats {
    long scanned, selected, replayed, skipped_loop, skipped_no_source,
        skipped_cut;
    struct {
        char cls[32];
        int64_t code;
        long n;
    } by[64];
    int n_by;
};

/* Everything the command line says. */
struct replay_opts {
    struct selection sel;
    const char *cfg_path, *from, *to, *group;
    bool all, dry, json, to_any;
    int64_t max_replays;
    double rate;      /* records/s, 0: unlimited */
    uint64_t selhash; /* names the default group */
};

static long skipped(const struct stats *st)
{
    return st->skipped_loop + st->skipped_no_source + st->skipped_cut;
}

/* ---- the command line: one table ---- */

enum otype {
    O_STR = 0, /* const char * */
    O_I64,     /* int64_t, >= 0 */
    O_I32,     /* int32_t, >= 0 */
    O_RATE,    /* double > 0 */
    O_TRUE,    /* bool, no argument */
    O_CLASSES, /* --failure-class list */
    O_CODE,    /* --code, repeatable */
    O_TIME,    /* RFC 3339 or Unix seconds, to ms */
    O_FORMAT,  /* table|json */
};

static const struct ropt {
    const char *name;
    enum otype type;
    size_t off;
    bool selects; /* a selection flag: part of the default group's name */
} ropts[] = {
#define R(m) offsetof(struct replay_opts, m)
    {"config", O_STR, R(cfg_path), false},
    {"failure-class", O_CLASSES, R(sel), true},
    {"code", O_CODE, R(sel), true},
    {"source-topic", O_STR, R(sel.source_topic), true},
    {"key", O_STR, R(sel.key), true},
    {"since", O_TIME, R(sel.since_ms), true},
    {"until", O_TIME, R(sel.until_ms), true},
    {"partition", O_I32, R(sel.partition), true},
    {"offset-from", O_I64, R(sel.offset_from), true},
    {"offset-to", O_I64, R(sel.offset_to), true},
    {"all", O_TRUE, R(all), false},
    {"from", O_STR, R(from), false},
    {"to", O_STR, R(to), false},
    {"to-any-topic", O_TRUE, R(to_any), false},
    {"dry-run", O_TRUE, R(dry), false},
    {"format", O_FORMAT, R(json), false},
    {"max-replays", O_I64, R(max_replays), false},
    {"group", O_STR, R(group), false},
    {"rate", O_RATE, R(rate), false},
#undef R
};
#define N_ROPTS (sizeof(ropts) / sizeof(ropts[0]))

/* --rate's bound, records/s. */
#define REPLAY_MAX_RATE 100000.0

static uint64_t fnv(const char *s, uint64_t h)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int set_classes(struct selection *sel, const char *v)
{
    char *dup = strdup(v), *save = NULL;
    if (dup == NULL)
        return -1;
    int rc = 0;
    for (char *t = strtok_r(dup, ",", &save); t && rc == 0;
         t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "validation") && strcmp(t, "api") &&
            strcmp(t, "exhausted") && strcmp(t, "partial") &&
            strcmp(t, "ambiguous"))
            rc = -1;
        else if (sel->n_classes < MAX_LIST)
            snprintf(sel->classes[sel->n_classes++], 16, "%s", t);
    }
    free(dup);
    return rc;
}

static int parse_i64(const char *v, int64_t max, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < 0 || n > max)
        return -1;
    *out = n;
    return 0;
}

/* Stores one option's value. 0, or -1 when v is not valid for it. */
static int set_opt(struct replay_opts *o, const struct ropt *r, const char *v)
{
    void *dst = (char *)o + r->off;
    int64_t n = 0;
    switch (r->type) {
    case O_STR:
        *(const char **)dst = v;
        return 0;
    case O_I64:
        return parse_i64(v, INT64_MAX, (int64_t *)dst);
    case O_I32:
        if (parse_i64(v, INT32_MAX, &n) == -1)
            return -1;
        *(int32_t *)dst = (int32_t)n;
        return 0;
    case O_RATE: {
        char *end = NULL;
        errno = 0;
        double d = strtod(v, &end);
        /* NaN and inf fail both tests; above REPLAY_MAX_RATE is a typo. */
        if (errno || end == v || *end || !(d > 0) || !(d <= REPLAY_MAX_RATE))
            return -1;
        *(double *)dst = d;
        return 0;
    }
    case O_TRUE:
        *(bool *)dst = true;
        return 0;
    case O_CLASSES:
        return set_classes(dst, v);
    case O_CODE:
        if (parse_i64(v, INT64_MAX, &n) == -1)
            return -1;
        if (o->sel.n_codes < MAX_LIST)
            o->sel.codes[o->sel.n_codes++] = n;
        return 0;
    case O_TIME:
        return dlq_parse_time(v, (int64_t *)dst);
    case O_FORMAT:
        *(bool *)dst = strcmp(v, "json") == 0;
        return strcmp(v, "json") && strcmp(v, "table") ? -1 : 0;
    }
    return -1;
}

/* Fills o from argv. 0 to go on, 1 after --help, 2 on a usage error
 * (said on stderr). */
static int parse_args(int argc, char **argv, struct replay_opts *o)
{
    struct option opts[N_ROPTS + 2];
    for (size_t i = 0; i < N_ROPTS; i++)
        opts[i] = (struct option){ropts[i].name,
                                  ropts[i].type == O_TRUE ? no_argument
                                                          : required_argument,
                                  NULL, (int)i + 1};
    opts[N_ROPTS] = (struct option){"help", no_argument, NULL, 'h'};
    opts[N_ROPTS + 1] = (struct option){NULL, 0, NULL, 0};
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c')
            c = 1; /* -c is --config */
        if (c < 1 || c > (int)N_ROPTS) {
            fputs(usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? 1 : 2;
        }
        const struct ropt *r = &ropts[c - 1];
        if (set_opt(o, r, optarg) == -1) {
            fprintf(stderr, "replay: --%s: '%s' is not valid here\n", r->name,
                    optarg);
            return 2;
        }
        if (r->selects) {
            o->sel.any = true;
            o->selhash = fnv(r->name, fnv(optarg, o->selhash));
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    /* Another destination is another replay: its own default group. */
    if (o->to)
        o->selhash = fnv("to", fnv(o->to, o->selhash));
    if (!o->sel.any && !o->all && !o->dry) {
        fprintf(stderr, "replay: no selection given; to replay every record "
                        "pass --all (or look first with --dry-run)\n");
        return 2;
    }
    return 0;
}

/* ---- reading and selecting ---- */

static bool matches(const struct selection *sel, rd_kafka_message_t *m,
                    rd_kafka_headers_t *h)
{
    char b[512];
    if (sel->partition >= 0 && m->partition != sel->partition)
        return false;
    if (sel->offset_from >= 0 && m->offset < sel->offset_from)
        return false;
    if (sel->offset_to >= 0 && m->offset > sel->offset_to)
        return false;
    if (sel->n_classes) {
        const char *c = dlq_header(h, "zim.failure.class", b, sizeof(b));
        bool ok = false;
        for (int i = 0; c && i < sel->n_classes && !ok; i++)
            ok = strcmp(c, sel->classes[i]) == 0;
        if (!ok)
            return false;
    }
    if (sel->n_codes) {
        const char *c = dlq_header(h, "zim.error.code", b, sizeof(b));
        bool ok = false;
        for (int i = 0; c && i < sel->n_codes && !ok; i++)
            ok = strtoll(c, NULL, 10) == sel->codes[i];
        if (!ok)
            return false;
    }
    if (sel->source_topic) {
        const char *t = dlq_header(h, "zim.source.topic", b, sizeof(b));
        if (t == NULL || strcmp(t, sel->source_topic) != 0)
            return false;
    }
    if (sel->key && (m->key_len != strlen(sel->key) ||
                     memcmp(m->key, sel->key, m->key_len) != 0))
        return false;
    if (sel->since_ms >= 0 || sel->until_ms >= 0) {
        const char *at = dlq_header(h, "zim.failed.at", b, sizeof(b));
        int64_t t = 0;
        if (at == NULL || dlq_parse_time(at, &t) == -1)
            return false;
        if (sel->since_ms >= 0 && t < sel->since_ms)
            return false;
        if (sel->until_ms >= 0 && t > sel->until_ms)
            return false;
    }
    return true;
}

static void count_by(struct stats *st, const char *cls, int64_t code)
{
    for (int i = 0; i < st->n_by; i++) {
        if (st->by[i].code == code && strcmp(st->by[i].cls, cls) == 0) {
            st->by[i].n++;
            return;
        }
    }
    if (st->n_by < 64) {
        snprintf(st->by[st->n_by].cls, sizeof(st->by[0].cls), "%s", cls);
        st->by[st->n_by].code = code;
        st->by[st->n_by].n = 1;
        st->n_by++;
    }
}

static void print_row(rd_kafka_message_t *m, rd_kafka_headers_t *h, bool json,
                      const char *note)
{
    char src[256], cls[32], code[32], err[512];
    const char *s = dlq_header(h, "zim.source.topic", src, sizeof(src));
    const char *c = dlq_header(h, "zim.failure.class", cls, sizeof(cls));
    const char *k = dlq_header(h, "zim.error.code", code, sizeof(code));
    const char *e = dlq_header(h, "zim.error.message", err, sizeof(err));
    if (json) {
        struct buf b;
        buf_init(&b, 1 << 16);
        buf_printf(&b,
                   "{\"partition\":%" PRId32 ",\"offset\":%" PRId64
                   ",\"source_topic\":",
                   m->partition, m->offset);
        buf_json_str(&b, s ? s : "", s ? strlen(s) : 0);
        buf_puts(&b, ",\"failure_class\":");
        buf_json_str(&b, c ? c : "", c ? strlen(c) : 0);
        buf_printf(&b,
                   ",\"code\":%lld,\"error\":", k ? strtoll(k, NULL, 10) : 0LL);
        buf_json_str(&b, e ? e : "", e ? strlen(e) : 0);
        buf_puts(&b, ",\"key\":");
        buf_json_str(&b, m->key ? m->key : "", m->key_len);
        if (note) {
            buf_puts(&b, ",\"skip\":");
            buf_json_str(&b, note, strlen(note));
        }
        buf_puts(&b, "}\n");
        fputs(b.data, stdout);
        buf_free(&b);
        return;
    }
    /* Headers and keys are anyone's text: escaped before a terminal
     * reads an ESC sequence in them. */
    char ts[21], tc[4 * 32], tk[4 * 32], te[41], tkey[4 * 40];
    utf8_terminal(ts, sizeof(ts), s ? s : "-", s ? strlen(s) : 1);
    utf8_terminal(tc, sizeof(tc), c ? c : "-", c ? strlen(c) : 1);
    utf8_terminal(tk, sizeof(tk), k ? k : "-", k ? strlen(k) : 1);
    utf8_terminal(te, sizeof(te), e ? e : "-", e ? strlen(e) : 1);
    const char *key = m->key ? (const char *)m->key : "";
    utf8_terminal(tkey, sizeof(tkey), key, utf8_cut(key, m->key_len, 40));
    /* Columns cut between characters (utf8_terminal), padded in bytes. */
    printf("%3" PRId32 "/%-8" PRId64 " %-20s %-10s %-10s %-40s %s%s%s\n",
           m->partition, m->offset, ts, tc, tk, te, tkey,
           note ? "  skip: " : "", note ? note : "");
}

/* The record as it goes back: failure headers out, replay headers in.
 * NULL if Kafka's header API failed. */
static rd_kafka_headers_t *replay_headers(rd_kafka_headers_t *in,
                                          const char *from, int32_t part,
                                          int64_t off, long count)
{
    rd_kafka_headers_t *out = rd_kafka_headers_new(8);
    size_t idx = 0;
    const char *name;
    const void *v;
    size_t len;
    int bad = out == NULL;
    while (!bad && in &&
           rd_kafka_header_get_all(in, idx++, &name, &v, &len) == 0) {
        if (dlq_is_failure_header(name) ||
            strcmp(name, "zim.replay.count") == 0 ||
            strcmp(name, "zim.replayed.from") == 0)
            continue;
        bad |= rd_kafka_header_add(out, name, -1, v, (ssize_t)len) != 0;
    }
    char buf[512];
    snprintf(buf, sizeof(buf), "%ld", count);
    bad |= !out || rd_kafka_header_add(out, "zim.replay.count", -1, buf, -1);
    snprintf(buf, sizeof(buf), "%s/%" PRId32 "/%" PRId64, from, part, off);
    bad |= !out || rd_kafka_header_add(out, "zim.replayed.from", -1, buf, -1);
    if (bad && out) {
        rd_kafka_headers_destroy(out);
        out = NULL;
    }
    return out;
}

static bool kerr(rd_kafka_error_t *e, const char *what)
{
    if (e == NULL)
        return false;
    log_error("%s: %s", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return true;
}

/* ---- one replay run ---- */

struct replay {
    const struct replay_opts *o;
    const struct config *cfg;
    const char *from;
    char group[128];
    struct topic_scan *scan;
    rd_kafka_t *prod; /* transactional; NULL for a dry run */
    rd_kafka_consumer_group_metadata_t *cgmd;
    rd_kafka_topic_partition_list_t *pos; /* the group's next positions */
    struct stats st;
    int in_batch;  /* records produced in the open transaction */
    bool txn_open; /* a transaction holds positions (and maybe records) */
    int64_t batch_start;
    double next_slot; /* --rate: when the next record may go */
};

/* The reader (assigned from the group's committed offsets, up to the end
 * offsets seen now) and, unless a dry run, the transactional producer.
 * 0, or -1 after logging why. */
static int open_kafka(struct replay *r)
{
    char err[512], txid[200];
    rd_kafka_conf_t *conf =
        kafka_conf_new(r->cfg, KAFKA_CONF_CONSUMER, err, sizeof(err));
    if (conf == NULL ||
        kafka_conf_set(conf, "group.id", r->group, err, sizeof(err)) ||
        kafka_conf_set(conf, "isolation.level", "read_committed", err,
                       sizeof(err))) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        log_error("consumer: %s", err);
        return -1;
    }
    r->scan = topic_scan_new(conf, r->from, TOPIC_SCAN_COMMITTED, 0, err,
                             sizeof(err));
    if (r->scan == NULL) {
        log_error("reading %s: %s", r->from, err);
        return -1;
    }
    if (r->o->dry)
        return 0;
    /* One transactional id per group: a second replay of the same
     * selection fences the first instead of racing it. */
    snprintf(txid, sizeof(txid), "%s-tx", r->group);
    conf = kafka_conf_new(r->cfg, KAFKA_CONF_PRODUCER, err, sizeof(err));
    if (conf == NULL ||
        kafka_conf_set(conf, "transactional.id", txid, err, sizeof(err)) ||
        (r->prod = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err))) ==
            NULL) {
        if (conf && r->prod == NULL)
            rd_kafka_conf_destroy(conf);
        log_error("producer: %s", err);
        return -1;
    }
    if (kerr(rd_kafka_init_transactions(r->prod, 30000), "init transactions"))
        return -1;
    r->cgmd = rd_kafka_consumer_group_metadata(topic_scan_consumer(r->scan));
    return r->cgmd ? 0 : -1;
}

static int batch_begin(struct replay *r)
{
    if (r->txn_open)
        return 0;
    if (kerr(rd_kafka_begin_transaction(r->prod), "begin"))
        return -1;
    r->batch_start = clock_mono_ms();
    r->txn_open = true;
    return 0;
}

/* Commits the open batch (its records and the group's positions) when it
 * is full, old enough, or the scan is over. 0 or -1. */
static int batch_flush(struct replay *r)
{
    if (!r->txn_open || (r->in_batch < BATCH_MAX && !topic_scan_done(r->scan) &&
                         clock_mono_ms() - r->batch_start < BATCH_MS))
        return 0;
    if (kerr(rd_kafka_send_offsets_to_transaction(r->prod, r->pos, r->cgmd,
                                                  30000),
             "send offsets") ||
        kerr(rd_kafka_commit_transaction(r->prod, 60000), "commit"))
        return -1;
    r->in_batch = 0;
    r->txn_open = false;
    return 0;
}

/* --rate: waits for the record's slot; paces, does not burst. */
static void pace(struct replay *r)
{
    if (r->o->rate <= 0)
        return;
    double wait = r->next_slot - (double)clock_mono_ms();
    if (wait > 0)
        usleep((useconds_t)(wait * 1000));
    double now = (double)clock_mono_ms();
    r->next_slot =
        (r->next_slot > now ? r->next_slot : now) + 1000.0 / r->o->rate;
}

/* Why a selected record is not replayed, or NULL. */
static const char *skip_reason(struct replay *r, rd_kafka_headers_t *h,
                               const char *dest, long count)
{
    char b[32];
    if (count < 0) {
        r->st.skipped_loop++;
        return "zim.replay.count is not a count (forged?)";
    }
    if (count >= r->o->max_replays) {
        r->st.skipped_loop++;
        return "replayed --max-replays times already";
    }
    if (dest == NULL) {
        r->st.skipped_no_source++;
        return "no zim.action header naming an action (use --to)";
    }
    if (dlq_header(h, "zim.value.truncated", b, sizeof(b))) {
        /* Only the first bytes are here: publishing them would turn an
         * oversized event into a broken one. */
        r->st.skipped_cut++;
        return "value cut in the DLQ (zim.value.truncated); republish the "
               "original from zim.source.*";
    }
    return NULL;
}

/* Publishes m to dest in the open transaction. 0 or -1. */
static int publish(struct replay *r, rd_kafka_message_t *m,
                   rd_kafka_headers_t *h, const char *dest, long count)
{
    pace(r);
    if (batch_begin(r) == -1)
        return -1;
    rd_kafka_headers_t *out =
        replay_headers(h, r->from, m->partition, m->offset, count + 1);
    if (out == NULL) {
        log_error("out of memory building the headers of %s/%" PRId32
                  "/%" PRId64,
                  r->from, m->partition, m->offset);
        return -1;
    }
    rd_kafka_resp_err_t e = rd_kafka_producev(
        r->prod, RD_KAFKA_V_TOPIC(dest), RD_KAFKA_V_KEY(m->key, m->key_len),
        RD_KAFKA_V_VALUE(m->payload, m->len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(out),
        RD_KAFKA_V_END);
    if (e) {
        rd_kafka_headers_destroy(out); /* not taken on failure */
        log_error("produce to %s: %s", dest, rd_kafka_err2str(e));
        return -1;
    }
    r->in_batch++;
    r->st.replayed++;
    return 0;
}

/* Where a record goes back to: the configured input topic of its action
 * (zim.action), not a topic a header names, so a record written to the
 * DLQ cannot steer a replay elsewhere. NULL when it names no action. */
static const char *destination(const struct replay *r, rd_kafka_headers_t *h,
                               char *b, size_t n)
{
    const char *action = dlq_header(h, "zim.action", b, n);
    int kind = event_kind_of_action(action);
    return kind < 0 ? NULL : r->cfg->topic[kind];
}

/* One selected record: listed (dry run), skipped, or published. */
static int replay_selected(struct replay *r, rd_kafka_message_t *m,
                           rd_kafka_headers_t *h)
{
    char b1[32], b2[32], b3[32], src[256];
    const char *cls = dlq_header(h, "zim.failure.class", b1, sizeof(b1));
    const char *code = dlq_header(h, "zim.error.code", b2, sizeof(b2));
    const char *cnt = dlq_header(h, "zim.replay.count", b3, sizeof(b3));
    const char *dest =
        r->o->to ? r->o->to : destination(r, h, src, sizeof(src));
    long count = dlq_replay_count(cnt);
    r->st.selected++;
    count_by(&r->st, cls ? cls : "-", code ? strtoll(code, NULL, 10) : 0);
    const char *skip = skip_reason(r, h, dest, count);
    if (r->o->dry || skip)
        print_row(m, h, r->o->json && r->o->dry, skip);
    if (r->o->dry || skip)
        return 0;
    return publish(r, m, h, dest, count);
}

/* One record of the scan. The group's position moves past every scanned
 * record, selected or not. 0 or -1. */
static int replay_record(struct replay *r, rd_kafka_message_t *m)
{
    rd_kafka_headers_t *h = NULL;
    rd_kafka_message_headers(m, &h);
    r->st.scanned++;
    if (matches(&r->o->sel, m, h) && replay_selected(r, m, h) == -1)
        return -1;
    rd_kafka_topic_partition_t *tp =
        rd_kafka_topic_partition_list_find(r->pos, r->from, m->partition);
    if (tp == NULL)
        tp = rd_kafka_topic_partition_list_add(r->pos, r->from, m->partition);
    tp->offset = m->offset + 1;
    /* Only skipped records so far: their positions commit in a transaction
     * of their own. */
    return r->o->dry ? 0 : batch_begin(r);
}

static void progress(struct replay *r, bool tty, int64_t t0)
{
    double secs = (double)(clock_mono_ms() - t0) / 1000.0;
    fprintf(stderr,
            tty ? "\rselected %ld  replayed %ld  skipped %ld  %.1f/s   "
                : "progress: selected %ld replayed %ld skipped %ld "
                  "rate %.1f/s\n",
            r->st.selected, r->st.replayed, skipped(&r->st),
            secs > 0 ? (double)r->st.replayed / secs : 0.0);
}

/* Reads to the end offsets seen at start. 0, or 3 (interrupted or a Kafka
 * error). */
static int run_scan(struct replay *r, volatile sig_atomic_t *stop)
{
    bool tty = isatty(STDERR_FILENO);
    int64_t t0 = clock_mono_ms(), last = t0;
    while (!topic_scan_done(r->scan) && !*stop) {
        rd_kafka_message_t *m = topic_scan_next(r->scan, 200);
        int rc = m ? replay_record(r, m) : 0;
        if (m)
            rd_kafka_message_destroy(m);
        if (rc == -1 || (!r->o->dry && !*stop && batch_flush(r) == -1))
            return 3;
        int64_t now = clock_mono_ms();
        if (now - last >= (tty ? 200 : 5000) || topic_scan_done(r->scan)) {
            progress(r, tty, t0);
            last = now;
        }
    }
    if (tty)
        fputc('\n', stderr);
    if (*stop) {
        if (r->prod && r->txn_open)
            kerr(rd_kafka_abort_transaction(r->prod, 30000), "abort");
        fprintf(stderr, "replay: interrupted; this batch was rolled back, "
                        "run the same command to resume\n");
        return 3;
    }
    return 0;
}

static void summary(const struct replay *r)
{
    const struct stats *st = &r->st;
    bool dry = r->o->dry;
    FILE *out = dry && !r->o->json ? stdout : stderr;
    fprintf(out,
            "\n%s: scanned %ld, selected %ld, %s %ld, skipped %ld "
            "(max replays %ld, no action %ld, value cut %ld); "
            "group %s\n",
            dry ? "dry run" : "replay", st->scanned, st->selected,
            dry ? "would replay" : "replayed",
            dry ? st->selected - skipped(st) : st->replayed, skipped(st),
            st->skipped_loop, st->skipped_no_source, st->skipped_cut, r->group);
    for (int i = 0; i < st->n_by; i++) {
        char cls[4 * sizeof(st->by[i].cls)];
        utf8_terminal(cls, sizeof(cls), st->by[i].cls, strlen(st->by[i].cls));
        fprintf(out, "  %-12s %-10lld %ld\n", cls, (long long)st->by[i].code,
                st->by[i].n);
    }
}

static void replay_close(struct replay *r)
{
    if (r->cgmd)
        rd_kafka_consumer_group_metadata_destroy(r->cgmd);
    if (r->prod) {
        rd_kafka_flush(r->prod, 10000);
        rd_kafka_destroy(r->prod);
    }
    if (r->pos)
        rd_kafka_topic_partition_list_destroy(r->pos);
    topic_scan_destroy(r->scan);
}

/* The configuration: the file, then ZIMBRIDGE_* variables. 0 or -1. */
static int load_config(const struct replay_opts *o, struct config *cfg)
{
    char err[512];
    if ((o->cfg_path && config_load_file(cfg, o->cfg_path, err, sizeof(err))) ||
        config_load_env(cfg, environ, err, sizeof(err))) {
        fprintf(stderr, "replay: configuration: %s\n", err);
        return -1;
    }
    if (config_kafka_get(cfg, "bootstrap.servers") == NULL) {
        fprintf(stderr, "replay: kafka.bootstrap.servers is required\n");
        return -1;
    }
    /* A kafka.* key librdkafka refuses (a typo) is a configuration error
     * here as in `run`, before anything is read. */
    rd_kafka_conf_t *conf =
        kafka_conf_new(cfg, KAFKA_CONF_CONSUMER, err, sizeof(err));
    if (conf == NULL) {
        fprintf(stderr, "replay: configuration: %s\n", err);
        return -1;
    }
    rd_kafka_conf_destroy(conf);
    return 0;
}

static bool is_input_topic(const struct config *cfg, const char *t)
{
    for (int k = 0; k < ZB_ACTION_COUNT; k++)
        if (strcmp(cfg->topic[k], t) == 0)
            return true;
    return false;
}

int cmd_replay(int argc, char **argv, volatile sig_atomic_t *stop)
{
    struct replay_opts o = {.sel = {.since_ms = -1,
                                    .until_ms = -1,
                                    .partition = -1,
                                    .offset_from = -1,
                                    .offset_to = -1},
                            .max_replays = 3,
                            .selhash = 1469598103934665603ULL};
    struct config cfg;
    struct replay r = {.o = &o, .cfg = &cfg};
    config_init(&cfg);
    int rc = parse_args(argc, argv, &o);
    if (rc != 0 || load_config(&o, &cfg) == -1) {
        config_free(&cfg);
        return rc == 1 ? 0 : 2;
    }
    log_setup((enum log_level)cfg.log_level, (enum log_format)cfg.log_format);
    if (o.to && !o.to_any && !is_input_topic(&cfg, o.to)) {
        fprintf(stderr,
                "replay: --to: '%s' is not one of the input topics "
                "(topics.*); --to-any-topic allows any\n",
                o.to);
        config_free(&cfg);
        return 2;
    }
    r.from = o.from ? o.from : cfg.topic[TOPIC_DLQ];
    if (o.group)
        snprintf(r.group, sizeof(r.group), "%s", o.group);
    else
        snprintf(r.group, sizeof(r.group), "zimbridge-replay-%08llx",
                 (unsigned long long)(fnv(r.from, o.selhash) & 0xffffffffULL));
    rc = 3;
    if ((r.pos = rd_kafka_topic_partition_list_new(16)) == NULL ||
        open_kafka(&r) == -1)
        goto out;
    if (o.dry && !o.json)
        printf("%-12s %-20s %-10s %-10s %-40s %s\n", "part/offset",
               "source topic", "class", "code", "error", "key");
    if ((rc = run_scan(&r, stop)) != 0)
        goto out;
    summary(&r);
    rc = skipped(&r.st) ? 1 : 0;
out:
    replay_close(&r);
    config_free(&cfg);
    return rc;
}
