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
#include "replay.h"

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "dlq.h"
#include "log.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
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
    "Publishes dead-letter records back to the topic they came from.\n"
    "\n"
    "selection (records must match every flag given):\n"
    "  --failure-class C[,C]   validation, api, exhausted, partial\n"
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
    "  --to TOPIC              publish here instead of zim.source.topic\n"
    "  --dry-run               change nothing; list what would be replayed\n"
    "  --format table|json     dry-run output (default table)\n"
    "  --max-replays N         skip records replayed N times (default 3)\n"
    "  --group G               consumer group for resuming (default:\n"
    "                          zimbridge-replay-<hash of the selection>)\n"
    "  --rate N                at most N records/s (default unlimited)\n"
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

static long skipped(const struct stats *st)
{
    return st->skipped_loop + st->skipped_no_source + st->skipped_cut;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    if (interrupted)
        _exit(3);
    interrupted = sig;
}

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
    printf("%3" PRId32 "/%-8" PRId64
           " %-20.20s %-10s %-10s %-40.40s %.*s%s%s\n",
           m->partition, m->offset, s ? s : "-", c ? c : "-", k ? k : "-",
           e ? e : "-", (int)(m->key_len > 40 ? 40 : m->key_len),
           m->key ? (const char *)m->key : "", note ? "  skip: " : "",
           note ? note : "");
}

/* The record as it goes back: failure headers out, replay headers in. */
static rd_kafka_headers_t *replay_headers(rd_kafka_headers_t *in,
                                          const char *from, int32_t part,
                                          int64_t off, long count)
{
    rd_kafka_headers_t *out = rd_kafka_headers_new(8);
    size_t idx = 0;
    const char *name;
    const void *v;
    size_t len;
    while (in && rd_kafka_header_get_all(in, idx++, &name, &v, &len) == 0) {
        if (dlq_is_failure_header(name) ||
            strcmp(name, "zim.replay.count") == 0 ||
            strcmp(name, "zim.replayed.from") == 0)
            continue;
        rd_kafka_header_add(out, name, -1, v, (ssize_t)len);
    }
    char buf[512];
    snprintf(buf, sizeof(buf), "%ld", count);
    rd_kafka_header_add(out, "zim.replay.count", -1, buf, -1);
    snprintf(buf, sizeof(buf), "%s/%" PRId32 "/%" PRId64, from, part, off);
    rd_kafka_header_add(out, "zim.replayed.from", -1, buf, -1);
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

static uint64_t fnv(const char *s, uint64_t h)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

int replay_main(int argc, char **argv)
{
    enum {
        O_CLASS = 1,
        O_CODE,
        O_SRC,
        O_KEY,
        O_SINCE,
        O_UNTIL,
        O_PART,
        O_OFROM,
        O_OTO,
        O_ALL,
        O_FROM,
        O_TO,
        O_DRY,
        O_FORMAT,
        O_MAXR,
        O_GROUP,
        O_RATE
    };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"failure-class", required_argument, NULL, O_CLASS},
        {"code", required_argument, NULL, O_CODE},
        {"source-topic", required_argument, NULL, O_SRC},
        {"key", required_argument, NULL, O_KEY},
        {"since", required_argument, NULL, O_SINCE},
        {"until", required_argument, NULL, O_UNTIL},
        {"partition", required_argument, NULL, O_PART},
        {"offset-from", required_argument, NULL, O_OFROM},
        {"offset-to", required_argument, NULL, O_OTO},
        {"all", no_argument, NULL, O_ALL},
        {"from", required_argument, NULL, O_FROM},
        {"to", required_argument, NULL, O_TO},
        {"dry-run", no_argument, NULL, O_DRY},
        {"format", required_argument, NULL, O_FORMAT},
        {"max-replays", required_argument, NULL, O_MAXR},
        {"group", required_argument, NULL, O_GROUP},
        {"rate", required_argument, NULL, O_RATE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct selection sel = {.since_ms = -1,
                            .until_ms = -1,
                            .partition = -1,
                            .offset_from = -1,
                            .offset_to = -1};
    const char *cfg_path = NULL, *from = NULL, *to = NULL, *group = NULL;
    bool all = false, dry = false, json = false;
    long max_replays = 3;
    double rate = 0;
    uint64_t selhash = 1469598103934665603ULL;
    int c, rc = 2;
    char err[512];
    struct config cfg;
    config_init(&cfg);
    rd_kafka_t *cons = NULL, *prod = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    int64_t *end = NULL;
    rd_kafka_consumer_group_metadata_t *cgmd = NULL;
    struct stats st = {0};

    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c >= O_CLASS && c <= O_OTO) {
            sel.any = true;
            selhash = fnv(opts[c].name, fnv(optarg, selhash));
        }
        switch (c) {
        case 'c':
            cfg_path = optarg;
            break;
        case O_CLASS: {
            char *dup = strdup(optarg), *save = NULL;
            for (char *t = strtok_r(dup, ",", &save); t;
                 t = strtok_r(NULL, ",", &save)) {
                if (strcmp(t, "validation") && strcmp(t, "api") &&
                    strcmp(t, "exhausted") && strcmp(t, "partial")) {
                    fprintf(stderr, "replay: --failure-class: '%s'?\n", t);
                    free(dup);
                    goto out;
                }
                if (sel.n_classes < MAX_LIST)
                    snprintf(sel.classes[sel.n_classes++], 16, "%s", t);
            }
            free(dup);
            break;
        }
        case O_CODE:
            if (sel.n_codes < MAX_LIST)
                sel.codes[sel.n_codes++] = strtoll(optarg, NULL, 10);
            break;
        case O_SRC:
            sel.source_topic = optarg;
            break;
        case O_KEY:
            sel.key = optarg;
            break;
        case O_SINCE:
        case O_UNTIL:
            if (dlq_parse_time(optarg, c == O_SINCE ? &sel.since_ms
                                                    : &sel.until_ms) == -1) {
                fprintf(stderr,
                        "replay: '%s' is not RFC 3339 or Unix "
                        "seconds\n",
                        optarg);
                goto out;
            }
            break;
        case O_PART:
            sel.partition = (int32_t)atoi(optarg);
            break;
        case O_OFROM:
            sel.offset_from = strtoll(optarg, NULL, 10);
            break;
        case O_OTO:
            sel.offset_to = strtoll(optarg, NULL, 10);
            break;
        case O_ALL:
            all = true;
            break;
        case O_FROM:
            from = optarg;
            break;
        case O_TO:
            to = optarg;
            break;
        case O_DRY:
            dry = true;
            break;
        case O_FORMAT:
            if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
                fprintf(stderr, "replay: --format table or json\n");
                goto out;
            }
            json = strcmp(optarg, "json") == 0;
            break;
        case O_MAXR:
            max_replays = atol(optarg);
            break;
        case O_GROUP:
            group = optarg;
            break;
        case O_RATE:
            rate = atof(optarg);
            if (rate <= 0) {
                fprintf(stderr, "replay: --rate must be > 0\n");
                goto out;
            }
            break;
        case 'h':
            fputs(usage, stdout);
            rc = 0;
            goto out;
        default:
            fputs(usage, stderr);
            goto out;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        goto out;
    }
    if (!sel.any && !all && !dry) {
        fprintf(stderr, "replay: no selection given; to replay every record "
                        "pass --all (or look first with --dry-run)\n");
        goto out;
    }
    if ((cfg_path && config_load_file(&cfg, cfg_path, err, sizeof(err))) ||
        config_load_env(&cfg, environ, err, sizeof(err))) {
        fprintf(stderr, "replay: configuration: %s\n", err);
        goto out;
    }
    if (config_kafka_get(&cfg, "bootstrap.servers") == NULL) {
        fprintf(stderr, "replay: kafka.bootstrap.servers is required\n");
        goto out;
    }
    log_setup((enum log_level)cfg.log_level, (enum log_format)cfg.log_format);
    if (from == NULL)
        from = cfg.topic[TOPIC_DLQ];
    char gbuf[128];
    if (group == NULL) {
        selhash = fnv(from, selhash);
        snprintf(gbuf, sizeof(gbuf), "zimbridge-replay-%08llx",
                 (unsigned long long)(selhash & 0xffffffffULL));
        group = gbuf;
    }
    rc = 3;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* The reader: assigned partitions from the group's committed offsets
     * to the end offsets seen now. It never joins the group. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < cfg.n_kafka; i++)
        rd_kafka_conf_set(conf, cfg.kafka[i].key, cfg.kafka[i].value, err,
                          sizeof(err));
    rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_conf_set(conf, "isolation.level", "read_committed", err,
                      sizeof(err));
    if ((cons = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err))) ==
        NULL) {
        log_error("consumer: %s", err);
        goto out;
    }
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(cons, from, NULL);
    if (rd_kafka_metadata(cons, 0, rkt, &md, 10000) != 0 ||
        md->topic_cnt != 1 || md->topics[0].err) {
        log_error("topic %s: no metadata", from);
        if (md)
            rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        goto out;
    }
    int np = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    parts = rd_kafka_topic_partition_list_new(np);
    end = calloc((size_t)np, sizeof(*end));
    for (int p = 0; p < np; p++)
        rd_kafka_topic_partition_list_add(parts, from, p);
    if (rd_kafka_committed(cons, parts, 10000) != 0) {
        log_error("reading the committed offsets of group %s failed", group);
        goto out;
    }
    int live = 0;
    for (int p = 0; p < np; p++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_query_watermark_offsets(cons, from, p, &lo, &hi, 10000);
        end[p] = hi;
        if (parts->elems[p].offset < lo)
            parts->elems[p].offset = lo;
        live += parts->elems[p].offset < hi;
    }
    rd_kafka_assign(cons, parts);

    if (!dry) {
        conf = rd_kafka_conf_new();
        for (size_t i = 0; i < cfg.n_kafka; i++)
            rd_kafka_conf_set(conf, cfg.kafka[i].key, cfg.kafka[i].value, err,
                              sizeof(err));
        char txid[200];
        /* One transactional id per group: a second replay of the same
         * selection fences the first instead of racing it. */
        snprintf(txid, sizeof(txid), "%s-tx", group);
        if (rd_kafka_conf_set(conf, "transactional.id", txid, err,
                              sizeof(err)) != RD_KAFKA_CONF_OK ||
            (prod = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err))) ==
                NULL) {
            log_error("producer: %s", err);
            goto out;
        }
        if (kerr(rd_kafka_init_transactions(prod, 30000), "init transactions"))
            goto out;
        cgmd = rd_kafka_consumer_group_metadata(cons);
    }
    if (dry && !json)
        printf("%-12s %-20s %-10s %-10s %-40s %s\n", "part/offset",
               "source topic", "class", "code", "error", "key");

    bool tty = isatty(STDERR_FILENO);
    int64_t t0 = clock_mono_ms(), last_progress = t0, batch_start = 0;
    double next_slot = (double)t0;
    int in_batch = 0;      /* records produced in the open transaction */
    bool txn_open = false; /* offsets (and maybe records) to commit */
    rd_kafka_topic_partition_list_t *pos =
        rd_kafka_topic_partition_list_new(np);
    while (live > 0 && !interrupted) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 200);
        int64_t now = clock_mono_ms();
        if (m && !m->err && m->partition < np) {
            st.scanned++;
            rd_kafka_headers_t *h = NULL;
            rd_kafka_message_headers(m, &h);
            if (matches(&sel, m, h)) {
                char b1[32], b2[32], b3[32], b4[32], src[256];
                const char *cls =
                    dlq_header(h, "zim.failure.class", b1, sizeof(b1));
                const char *code =
                    dlq_header(h, "zim.error.code", b2, sizeof(b2));
                const char *dest =
                    to ? to
                       : dlq_header(h, "zim.source.topic", src, sizeof(src));
                const char *cnt =
                    dlq_header(h, "zim.replay.count", b3, sizeof(b3));
                long count = cnt ? atol(cnt) : 0;
                const char *skip = NULL;
                st.selected++;
                count_by(&st, cls ? cls : "-",
                         code ? strtoll(code, NULL, 10) : 0);
                if (count >= max_replays) {
                    skip = "replayed --max-replays times already";
                    st.skipped_loop++;
                } else if (dest == NULL) {
                    skip = "no zim.source.topic header (use --to)";
                    st.skipped_no_source++;
                } else if (dlq_header(h, "zim.value.truncated", b4,
                                      sizeof(b4))) {
                    /* Only the first bytes are here: publishing them would
                     * turn an oversized event into a broken one. */
                    skip = "value cut in the DLQ (zim.value.truncated); "
                           "republish the original from zim.source.*";
                    st.skipped_cut++;
                }
                if (dry || skip)
                    print_row(m, h, json && dry, skip);
                if (!dry && !skip) {
                    if (rate > 0) { /* --rate: pace, do not burst */
                        double wait = next_slot - (double)clock_mono_ms();
                        if (wait > 0)
                            usleep((useconds_t)(wait * 1000));
                        next_slot = (next_slot > (double)clock_mono_ms()
                                         ? next_slot
                                         : (double)clock_mono_ms()) +
                                    1000.0 / rate;
                    }
                    if (!txn_open) {
                        if (kerr(rd_kafka_begin_transaction(prod), "begin"))
                            goto out;
                        batch_start = clock_mono_ms();
                        txn_open = true;
                    }
                    rd_kafka_resp_err_t e = rd_kafka_producev(
                        prod, RD_KAFKA_V_TOPIC(dest),
                        RD_KAFKA_V_KEY(m->key, m->key_len),
                        RD_KAFKA_V_VALUE(m->payload, m->len),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_HEADERS(replay_headers(
                            h, from, m->partition, m->offset, count + 1)),
                        RD_KAFKA_V_END);
                    if (e) {
                        log_error("produce to %s: %s", dest,
                                  rd_kafka_err2str(e));
                        rd_kafka_message_destroy(m);
                        goto out;
                    }
                    in_batch++;
                    st.replayed++;
                }
            }
            /* The group's position moves past every scanned record. */
            rd_kafka_topic_partition_t *tp =
                rd_kafka_topic_partition_list_find(pos, from, m->partition);
            if (tp == NULL)
                tp = rd_kafka_topic_partition_list_add(pos, from, m->partition);
            tp->offset = m->offset + 1;
            if (m->offset + 1 >= end[m->partition])
                live--;
            if (!dry && !txn_open) {
                /* Only skipped records so far: their position commits in
                 * a transaction of its own. */
                if (kerr(rd_kafka_begin_transaction(prod), "begin"))
                    goto out;
                batch_start = clock_mono_ms();
                txn_open = true;
            }
        }
        if (m)
            rd_kafka_message_destroy(m);
        bool flush_now =
            txn_open && (in_batch >= BATCH_MAX || live == 0 ||
                         clock_mono_ms() - batch_start >= BATCH_MS);
        if (!dry && flush_now && !interrupted) {
            if (kerr(rd_kafka_send_offsets_to_transaction(prod, pos, cgmd,
                                                          30000),
                     "send offsets") ||
                kerr(rd_kafka_commit_transaction(prod, 60000), "commit"))
                goto out;
            in_batch = 0;
            txn_open = false;
        }
        if (now - last_progress >= (tty ? 200 : 5000) || live == 0) {
            double secs = (double)(clock_mono_ms() - t0) / 1000.0;
            fprintf(stderr,
                    tty ? "\rselected %ld  replayed %ld  skipped %ld  "
                          "%.1f/s   "
                        : "progress: selected %ld replayed %ld skipped %ld "
                          "rate %.1f/s\n",
                    st.selected, st.replayed, skipped(&st),
                    secs > 0 ? (double)st.replayed / secs : 0.0);
            last_progress = now;
        }
    }
    rd_kafka_topic_partition_list_destroy(pos);
    if (tty)
        fputc('\n', stderr);
    if (interrupted) {
        if (prod && txn_open)
            kerr(rd_kafka_abort_transaction(prod, 30000), "abort");
        fprintf(stderr, "replay: interrupted; this batch was rolled back, "
                        "run the same command to resume\n");
        goto out;
    }
    fprintf(dry && !json ? stdout : stderr,
            "\n%s: scanned %ld, selected %ld, %s %ld, skipped %ld "
            "(max replays %ld, no source topic %ld, value cut %ld); "
            "group %s\n",
            dry ? "dry run" : "replay", st.scanned, st.selected,
            dry ? "would replay" : "replayed",
            dry ? st.selected - skipped(&st) : st.replayed, skipped(&st),
            st.skipped_loop, st.skipped_no_source, st.skipped_cut, group);
    for (int i = 0; i < st.n_by; i++)
        fprintf(dry && !json ? stdout : stderr, "  %-12s %-10lld %ld\n",
                st.by[i].cls, (long long)st.by[i].code, st.by[i].n);
    rc = skipped(&st) ? 1 : 0;
out:
    if (cgmd)
        rd_kafka_consumer_group_metadata_destroy(cgmd);
    if (prod) {
        rd_kafka_flush(prod, 10000);
        rd_kafka_destroy(prod);
    }
    if (cons) {
        rd_kafka_assign(cons, NULL);
        rd_kafka_destroy(cons);
    }
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    free(end);
    config_free(&cfg);
    return rc;
}
