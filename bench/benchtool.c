/* benchtool.c - load and measurement helpers for scripts/bench.
 *
 *   benchtool produce BOOT TOPIC N KEYS [RATE]
 *       N peer events keyed over KEYS conversations, as fast as possible
 *       or at RATE/s; each Message carries its produce time "t=<us>".
 *   benchtool fanout BOOT TOPIC N
 *       N copies of one notice, each to its own user (user_<i>, keyed by
 *       the user): a fan-out, which packs.
 *   benchtool wait BOOT TOPIC N TIMEOUT_S
 *       waits until the topic holds N records; prints the seconds waited
 *       and the seconds until the first record was there.
 *   benchtool latency FILE
 *       FILE: zimsim's /_sim/messages; prints p50/p99/p99.9 (ms) of
 *       produce -> zimsim arrival as JSON.
 *   benchtool dups FILE
 *       FILE: zimsim's /_sim/messages; prints how many deliveries, how
 *       many distinct events (by "seq=.. t=..") and the difference.
 *   benchtool replylat BOOT TOPIC N [SINCE_MS]
 *       reads N reply records; prints p50/p99/p99.9 (ms) of the input
 *       record's timestamp -> the reply record's timestamp as JSON,
 *       leaving out inputs older than SINCE_MS (Unix ms: a warm-up). */
#include "buf.h"
#include "clock.h"

#include <json-c/json.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static rd_kafka_t *client(rd_kafka_type_t type, const char *boot,
                          const char *group, const char *linger)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", boot, err, sizeof(err));
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set(c, "linger.ms", linger, err, sizeof(err));
        /* As producers of events usually are (the Java client's default
         * since Kafka 3.0); it also has the broker's transaction
         * coordinator loaded before the first contender starts. */
        rd_kafka_conf_set(c, "enable.idempotence", "true", err, sizeof(err));
        rd_kafka_conf_set(c, "queue.buffering.max.messages", "1000000", err,
                          sizeof(err));
    } else {
        rd_kafka_conf_set(c, "group.id", group, err, sizeof(err));
        rd_kafka_conf_set(c, "auto.offset.reset", "earliest", err, sizeof(err));
        rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof(err));
    }
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "benchtool: %s\n", err);
        exit(2);
    }
    return rk;
}

/* Produces one record, waiting while the local queue is full. */
static void put(rd_kafka_t *rk, const char *topic, const char *key,
                const char *val, size_t len)
{
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                             RD_KAFKA_V_KEY(key, strlen(key)),
                             RD_KAFKA_V_VALUE((void *)val, len),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 10);
}

/* The chat text of the multilingual test corpus, each escaped for the
 * inside of a JSON string: the benchmark's messages are what users write
 * (Chinese, Arabic, emoji...), not ASCII alone. */
#define MAX_TEXTS 64
static char texts[MAX_TEXTS][1024];
static size_t n_texts;

static void load_texts(void)
{
    FILE *f = fopen(ZB_CORPUS, "r");
    char line[8192];
    if (f == NULL) {
        fprintf(stderr, "benchtool: cannot open %s\n", ZB_CORPUS);
        exit(2);
    }
    while (n_texts < MAX_TEXTS && fgets(line, sizeof(line), f)) {
        struct json_object *o = json_tokener_parse(line), *t = NULL;
        if (json_object_object_get_ex(o, "text", &t)) {
            struct buf b;
            buf_init(&b, sizeof(texts[0]) - 1);
            buf_json_str(&b, json_object_get_string(t),
                         (size_t)json_object_get_string_len(t));
            if (!buf_failed(&b) && b.len > 2) { /* without the quotes */
                memcpy(texts[n_texts], b.data + 1, b.len - 2);
                texts[n_texts++][b.len - 2] = '\0';
            }
            buf_free(&b);
        }
        json_object_put(o);
    }
    fclose(f);
    if (n_texts == 0) {
        fprintf(stderr, "benchtool: no texts in %s\n", ZB_CORPUS);
        exit(2);
    }
}

static int produce(const char *boot, const char *topic, long n, long keys,
                   double rate)
{
    /* Paced runs measure latency: send each event at once, no batching. */
    rd_kafka_t *rk =
        client(RD_KAFKA_PRODUCER, boot, NULL, rate > 0 ? "0" : "20");
    char key[32], val[2048];
    load_texts();
    int64_t t0 = clock_mono_us();
    for (long i = 0; i < n; i++) {
        if (rate > 0) {
            int64_t due = t0 + (int64_t)((double)i * 1e6 / rate);
            int64_t now = clock_mono_us();
            if (due > now)
                usleep((useconds_t)(due - now));
        }
        snprintf(key, sizeof(key), "conv-%ld", i % keys);
        int len = snprintf(
            val, sizeof(val),
            "{\"FromUserId\":\"bench_sender\",\"ToUserId\":[\"user_%ld\"],"
            "\"MessageType\":1,\"Priority\":1,\"MessageBody\":{\"Message\":"
            "\"seq=%ld t=%lld %s\"}}",
            i % keys, i, (long long)clock_wall_us(),
            texts[(size_t)i % n_texts]);
        put(rk, topic, key, val, (size_t)len);
        rd_kafka_poll(rk, 0);
    }
    int rc = rd_kafka_flush(rk, 120000) == 0 ? 0 : 1;
    rd_kafka_destroy(rk);
    return rc;
}

static int fanout(const char *boot, const char *topic, long n)
{
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, boot, NULL, "20");
    char key[32], val[512];
    for (long i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "user_%ld", i);
        int len = snprintf(
            val, sizeof(val),
            "{\"FromUserId\":\"notice-bot\",\"ToUserId\":[\"user_%ld\"],"
            "\"MessageType\":1,\"Priority\":1,\"MessageBody\":{\"Message\":"
            "\"Scheduled maintenance tonight at 02:00 UTC / "
            "今晚 02:00 (UTC) 系统维护，服务将短暂中断 🔧\"}}",
            i);
        put(rk, topic, key, val, (size_t)len);
    }
    int rc = rd_kafka_flush(rk, 120000) == 0 ? 0 : 1;
    rd_kafka_destroy(rk);
    return rc;
}

static long count(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    long total = 0;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == 0 && md->topic_cnt == 1) {
        for (int p = 0; p < md->topics[0].partition_cnt; p++) {
            int64_t lo = 0, hi = 0;
            rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000);
            total += (long)(hi - lo);
        }
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return total;
}

static int wait_for(const char *boot, const char *topic, long n, double timeout)
{
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, boot, NULL, "20");
    int64_t t0 = clock_mono_us(), first = -1;
    long have = 0;
    while ((have = count(rk, topic)) < n &&
           (double)(clock_mono_us() - t0) / 1e6 < timeout) {
        if (have > 0 && first < 0)
            first = clock_mono_us();
        usleep(20000);
    }
    int64_t end = clock_mono_us();
    if (first < 0)
        first = end;
    printf("%.3f %.3f\n", (double)(end - t0) / 1e6, (double)(first - t0) / 1e6);
    rd_kafka_destroy(rk);
    return have >= n ? 0 : 1;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void quantiles(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_d);
    if (n == 0) {
        printf("{\"n\":0}\n");
        return;
    }
    printf("{\"n\":%zu,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
           "\"p999_ms\":%.3f,\"p9999_ms\":%.3f,\"max_ms\":%.3f}\n",
           n, v[n / 2], v[(size_t)((double)n * 0.9)],
           v[(size_t)((double)n * 0.99)], v[(size_t)((double)n * 0.999)],
           v[(size_t)((double)n * 0.9999)], v[n - 1]);
}

static int latency(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 2;
    size_t cap = 1 << 16, n = 0;
    double *v = malloc(cap * sizeof(*v));
    char line[8192];
    while (fgets(line, sizeof(line), f)) {
        const char *t = strstr(line, " t=");
        const char *a = strstr(line, "\"arrival_us\":");
        if (!t || !a)
            continue;
        double d = (double)(atoll(a + 13) - atoll(t + 3)) / 1000.0;
        if (n == cap)
            v = realloc(v, (cap *= 2) * sizeof(*v));
        v[n++] = d;
    }
    fclose(f);
    quantiles(v, n);
    free(v);
    return 0;
}

static int replylat(const char *boot, const char *topic, long want,
                    int64_t since_ms)
{
    char gid[64];
    snprintf(gid, sizeof(gid), "benchtool-%ld", (long)getpid());
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, boot, gid, NULL);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *s = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(s, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, s);
    rd_kafka_topic_partition_list_destroy(s);
    double *v = malloc((size_t)want * sizeof(*v));
    size_t n = 0;
    long read = 0;
    int idle = 0;
    while (read < want && idle < 100) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL) {
            idle++;
            continue;
        }
        idle = 0;
        const char *ts =
            m->payload ? strstr(m->payload, "\"timestamp\":") : NULL;
        if (!m->err && ts) {
            rd_kafka_timestamp_type_t tt;
            int64_t reply_ms = rd_kafka_message_timestamp(m, &tt);
            int64_t in_ms = atoll(ts + 12);
            read++;
            if (in_ms >= since_ms)
                v[n++] = (double)(reply_ms - in_ms);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    quantiles(v, n);
    free(v);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dups(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 2;
    size_t cap = 1 << 16, n = 0;
    char **ids = malloc(cap * sizeof(*ids)), line[8192];
    while (fgets(line, sizeof(line), f)) {
        /* An event is "seq=<n> t=<us>": the id ends with t's digits. */
        const char *s = strstr(line, "seq="), *e = s ? strstr(s, " t=") : 0;
        if (s == NULL || e == NULL)
            continue;
        e += 3;
        while (*e >= '0' && *e <= '9')
            e++;
        if (n == cap)
            ids = realloc(ids, (cap *= 2) * sizeof(*ids));
        ids[n++] = strndup(s, (size_t)(e - s));
    }
    fclose(f);
    qsort(ids, n, sizeof(*ids), cmp_str);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        distinct += i == 0 || strcmp(ids[i], ids[i - 1]) != 0;
    printf("{\"deliveries\":%zu,\"distinct\":%zu,\"dups\":%zu}\n", n, distinct,
           n - distinct);
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && strcmp(argv[1], "produce") == 0)
        return produce(argv[2], argv[3], atol(argv[4]), atol(argv[5]),
                       argc > 6 ? atof(argv[6]) : 0);
    if (argc == 6 && strcmp(argv[1], "wait") == 0)
        return wait_for(argv[2], argv[3], atol(argv[4]), atof(argv[5]));
    if (argc == 3 && strcmp(argv[1], "latency") == 0)
        return latency(argv[2]);
    if (argc == 5 && strcmp(argv[1], "fanout") == 0)
        return fanout(argv[2], argv[3], atol(argv[4]));
    if (argc == 3 && strcmp(argv[1], "dups") == 0)
        return dups(argv[2]);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "replylat") == 0)
        return replylat(argv[2], argv[3], atol(argv[4]),
                        argc == 6 ? atoll(argv[5]) : 0);
    fprintf(stderr, "usage: see the comment at the top of bench/benchtool.c\n");
    return 2;
}
