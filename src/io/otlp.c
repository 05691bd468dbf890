/* otlp.c - the OTLP/HTTP JSON span exporter (see otlp.h). */
#define LOG_COMPONENT "otlp"
#include "otlp.h"

#include "buf.h"
#include "clock.h"
#include "http_tls.h"
#include "log.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SPAN_JSON_MAX  (256 * 1024) /* one span, 100 links: ~12 KB */
#define ANSWER_MAX     (64 * 1024)
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

struct item {
    char *json;
    size_t len;
};

struct otlp {
    struct metrics *m;
    char *url, *ca_file;
    struct curl_slist *hdrs;
    struct buf head; /* the request's start, up to the spans */
    int64_t batch_max, flush_ms, timeout_ms;
    CURL *easy;
    struct buf body, answer, enc;
    long retry_after_ms; /* from the last answer, -1: none */
    pthread_t thread;
    bool started;
    /* Shared with the submitting thread, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct item *ring;
    size_t cap, first, n;
    /* n == cap, readable without the lock: spans are not even built
     * while the queue is full (a backend that is down costs nothing). */
    atomic_bool full;
    bool stop;
    int64_t deadline_ms; /* when stopping: exports end by then */
};

static void count(struct otlp *x, enum metrics_otel what, uint64_t n)
{
    if (n)
        metrics_otel(x->m, what, n);
}

/* ---- the request ---- */

static int add_header(void *ctx, const char *k, const char *v)
{
    struct otlp *x = ctx;
    struct buf line;
    buf_init(&line, 8192);
    buf_printf(&line, "%s: %s", k, v);
    struct curl_slist *l =
        buf_failed(&line) ? NULL : curl_slist_append(x->hdrs, line.data);
    /* The line may be a credential: wiped before it is freed. */
    if (line.data)
        memset(line.data, 0, line.cap);
    buf_free(&line);
    if (l == NULL)
        return -1;
    x->hdrs = l;
    return 0;
}

static size_t on_answer(char *p, size_t sz, size_t n, void *ud)
{
    struct buf *b = ud;
    return buf_append(b, p, sz * n) == 0 ? sz * n : 0;
}

/* Retry-After: delta-seconds or an HTTP date (RFC 9110 10.2.3). */
static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct otlp *x = ud;
    size_t len = sz * n;
    static const char name[] = "retry-after:";
    if (len > sizeof(name) - 1 && len < 128 &&
        strncasecmp(p, name, sizeof(name) - 1) == 0) {
        char v[128];
        memcpy(v, p + sizeof(name) - 1, len - (sizeof(name) - 1));
        v[len - (sizeof(name) - 1)] = '\0';
        char *s = v + strspn(v, " \t"), *end = NULL;
        long secs = strtol(s, &end, 10);
        if (end != s && strspn(end, " \t\r\n") == strlen(end) && secs >= 0) {
            x->retry_after_ms = secs * 1000;
        } else {
            s[strcspn(s, "\r\n")] = '\0';
            time_t at = curl_getdate(s, NULL);
            if (at > 0)
                x->retry_after_ms =
                    at > time(NULL) ? (long)(at - time(NULL)) * 1000 : 0;
        }
    }
    return len;
}

/* Ends an export in progress once the stop deadline has passed. */
static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
                       curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    struct otlp *x = ud;
    pthread_mutex_lock(&x->mu);
    bool late = x->stop && clock_mono_ms() >= x->deadline_ms;
    pthread_mutex_unlock(&x->mu);
    return late;
}

static int setup_curl(struct otlp *x)
{
    CURL *e = x->easy = curl_easy_init();
    if (e == NULL)
        return -1;
    curl_easy_setopt(e, CURLOPT_URL, x->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &x->answer);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    http_tls_setup(e, x->ca_file); /* the ZIM client's rules */
    return 0;
}

/* ---- one batch ---- */

/* How many spans a 2xx answer's partialSuccess says were rejected (0:
 * none, or no such field). Hostile input: a bad answer rejects none. */
static int64_t rejected_of(const struct buf *answer, int64_t n)
{
    if (answer->len == 0)
        return 0;
    struct json_object *root = json_tokener_parse(answer->data);
    struct json_object *ps = NULL, *r = NULL;
    int64_t v = 0;
    if (root && json_object_object_get_ex(root, "partialSuccess", &ps) &&
        json_object_object_get_ex(ps, "rejectedSpans", &r)) {
        /* int64 as a string in OTLP/JSON, a number from some servers. */
        errno = 0;
        v = json_object_is_type(r, json_type_string)
                ? strtoll(json_object_get_string(r), NULL, 10)
                : json_object_get_int64(r);
        if (errno || v < 0)
            v = 0;
        if (v > n)
            v = n;
    }
    json_object_put(root);
    return v;
}

/* Waits on cv until the mono time until (mu held). */
static void wait_until(struct otlp *x, int64_t until)
{
    int64_t d = until - clock_mono_ms();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + (d > 0 ? d : 1) * 1000000;
    ts.tv_sec += ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    pthread_cond_timedwait(&x->cv, &x->mu, &ts);
}

/* Waits up to ms, or until stopping past the deadline. false: the stop
 * deadline comes first. */
static bool wait_ms(struct otlp *x, int64_t ms)
{
    int64_t until = clock_mono_ms() + ms;
    pthread_mutex_lock(&x->mu);
    bool ok = true;
    for (;;) {
        int64_t now = clock_mono_ms();
        if (x->stop && x->deadline_ms <= until) {
            ok = false;
            break;
        }
        if (now >= until)
            break;
        wait_until(x, until);
    }
    pthread_mutex_unlock(&x->mu);
    return ok;
}

/* The timeout of the next request: timeout_ms, or less when stopping. */
static long request_timeout(struct otlp *x)
{
    pthread_mutex_lock(&x->mu);
    int64_t t = x->timeout_ms;
    if (x->stop) {
        int64_t left = x->deadline_ms - clock_mono_ms();
        t = left < t ? left : t;
    }
    pthread_mutex_unlock(&x->mu);
    return t > 1 ? (long)t : 1L;
}

/* Posts the body of n spans until it is taken or given up. Returns the
 * backoff before the next export (0 unless the transport failed). */
static int64_t export_body(struct otlp *x, int64_t n, int64_t backoff)
{
    for (int attempt = 1;; attempt++) {
        buf_reset(&x->answer);
        x->retry_after_ms = -1;
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body.data);
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)x->body.len);
        curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, request_timeout(x));
        CURLcode rc = curl_easy_perform(x->easy);
        long http = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &http);
        if (rc == CURLE_OK && http >= 200 && http < 300) {
            int64_t rej = rejected_of(&x->answer, n);
            count(x, METRICS_OTEL_EXPORTED, (uint64_t)(n - rej));
            count(x, METRICS_OTEL_DROPPED_REJECTED, (uint64_t)rej);
            if (rej)
                log_warnx("OTLP endpoint rejected %" PRId64 " of %" PRId64
                          " spans (partial success)",
                          rej, n);
            return 0;
        }
        bool retry = rc == CURLE_OK &&
                     (http == 429 || http == 502 || http == 503 || http == 504);
        if (rc != CURLE_OK) {
            count(x, METRICS_OTEL_DROPPED_FAILED, (uint64_t)n);
            log_debug("OTLP export of %" PRId64 " spans failed: %s", n,
                      curl_easy_strerror(rc));
            backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
            return backoff < BACKOFF_MAX_MS ? backoff : BACKOFF_MAX_MS;
        }
        if (!retry) {
            /* 400, 413 and the other 4xx: refused; anything else: failed. */
            count(x,
                  http >= 400 && http < 500 ? METRICS_OTEL_DROPPED_REJECTED
                                            : METRICS_OTEL_DROPPED_FAILED,
                  (uint64_t)n);
            log_warnx("OTLP endpoint answered HTTP %ld: %" PRId64
                      " spans dropped",
                      http, n);
            return 0;
        }
        if (attempt >= OTLP_MAX_ATTEMPTS) {
            count(x, METRICS_OTEL_DROPPED_FAILED, (uint64_t)n);
            log_warnx("OTLP endpoint answered HTTP %ld %d times: %" PRId64
                      " spans dropped",
                      http, attempt, n);
            return 0;
        }
        int64_t wait = x->retry_after_ms >= 0
                           ? x->retry_after_ms
                           : (int64_t)BACKOFF_MIN_MS << (attempt - 1);
        if (wait > BACKOFF_MAX_MS * 2)
            wait = BACKOFF_MAX_MS * 2;
        count(x, METRICS_OTEL_RETRIES, 1);
        if (!wait_ms(x, wait)) {
            count(x, METRICS_OTEL_DROPPED_FAILED, (uint64_t)n);
            return 0;
        }
    }
}

/* ---- the thread ---- */

/* Takes up to batch_max spans into the body; the caller holds mu. */
static int64_t take_batch(struct otlp *x)
{
    buf_reset(&x->body);
    buf_append(&x->body, x->head.data, x->head.len);
    int64_t n = 0;
    while (x->n && n < x->batch_max) {
        struct item *it = &x->ring[x->first];
        if (n)
            buf_puts(&x->body, ",");
        buf_append(&x->body, it->json, it->len);
        free(it->json);
        it->json = NULL;
        x->first = (x->first + 1) % x->cap;
        x->n--;
        n++;
    }
    atomic_store(&x->full, false);
    trace_otlp_tail(&x->body);
    return n;
}

/* Exports a batch when batch_max spans are queued (no sooner than the
 * backoff after the last export) or flush_ms after the last export (or
 * the backoff, if longer); when stopping, at once until empty. */
static void *run(void *arg)
{
    struct otlp *x = arg;
    int64_t backoff = 0, last = clock_mono_ms();
    pthread_mutex_lock(&x->mu);
    for (;;) {
        int64_t now = clock_mono_ms();
        if (x->stop && (x->n == 0 || now >= x->deadline_ms))
            break;
        if (!x->stop) {
            int64_t flush_at =
                last + (backoff > x->flush_ms ? backoff : x->flush_ms);
            int64_t at = x->n >= (size_t)x->batch_max ? last + backoff
                         : x->n                       ? flush_at
                                                      : now + x->flush_ms;
            if (now < at) {
                wait_until(x, at);
                continue;
            }
        }
        int64_t n = take_batch(x);
        pthread_mutex_unlock(&x->mu);
        if (n > 0 && buf_failed(&x->body))
            count(x, METRICS_OTEL_DROPPED_FAILED, (uint64_t)n);
        else if (n > 0)
            backoff = export_body(x, n, backoff);
        last = clock_mono_ms();
        pthread_mutex_lock(&x->mu);
    }
    /* Past the deadline: what is left is dropped. */
    uint64_t left = x->n;
    while (x->n) {
        free(x->ring[x->first].json);
        x->ring[x->first].json = NULL;
        x->first = (x->first + 1) % x->cap;
        x->n--;
    }
    pthread_mutex_unlock(&x->mu);
    count(x, METRICS_OTEL_DROPPED_FAILED, left);
    return NULL;
}

/* ---- the API ---- */

static void otlp_free(struct otlp *x)
{
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->hdrs);
    for (size_t i = 0; x->ring && i < x->cap; i++)
        free(x->ring[i].json);
    free(x->ring);
    buf_free(&x->head);
    buf_free(&x->body);
    buf_free(&x->answer);
    buf_free(&x->enc);
    free(x->url);
    free(x->ca_file);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv);
    free(x);
}

struct otlp *otlp_new(const struct otlp_conf *c, struct metrics *m, char *err,
                      size_t errlen)
{
    struct otlp *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    x->m = m;
    x->batch_max = c->batch_max;
    x->flush_ms = c->flush_ms;
    x->timeout_ms = c->timeout_ms;
    x->cap = (size_t)c->queue_max;
    x->ring = calloc(x->cap, sizeof(*x->ring));
    x->url = strdup(c->url);
    x->ca_file = c->ca_file ? strdup(c->ca_file) : NULL;
    buf_init(&x->head, 64 * 1024);
    buf_init(&x->body, (size_t)c->batch_max * SPAN_JSON_MAX + 65536);
    buf_init(&x->answer, ANSWER_MAX);
    buf_init(&x->enc, SPAN_JSON_MAX);
    x->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    char why[256];
    if (!x->ring || !x->url || (c->ca_file && !x->ca_file) || !x->hdrs ||
        trace_otlp_head(c->resource, c->n_resource, c->scope, c->version,
                        &x->head) == -1 ||
        setup_curl(x) == -1) {
        snprintf(err, errlen, "out of memory");
        otlp_free(x);
        return NULL;
    }
    if (trace_kv_parse(c->headers, add_header, x, why, sizeof(why)) == -1) {
        snprintf(err, errlen, "otel.headers: %s", why);
        otlp_free(x);
        return NULL;
    }
    if (pthread_create(&x->thread, NULL, run, x) != 0) {
        snprintf(err, errlen, "cannot start the exporter thread");
        otlp_free(x);
        return NULL;
    }
    x->started = true;
    return x;
}

int otlp_submit(struct otlp *x, const struct trace_span *sp)
{
    buf_reset(&x->enc);
    char *copy = NULL;
    if (trace_span_json(sp, &x->enc) == 0)
        copy = malloc(x->enc.len);
    if (copy == NULL) {
        count(x, METRICS_OTEL_DROPPED_FAILED, 1);
        return -1;
    }
    memcpy(copy, x->enc.data, x->enc.len);
    pthread_mutex_lock(&x->mu);
    bool room = x->n < x->cap && !x->stop;
    if (room) {
        x->ring[(x->first + x->n) % x->cap] = (struct item){copy, x->enc.len};
        x->n++;
        if (x->n == (size_t)x->batch_max)
            pthread_cond_signal(&x->cv);
        if (x->n == x->cap)
            atomic_store(&x->full, true);
    }
    pthread_mutex_unlock(&x->mu);
    if (!room) {
        free(copy);
        count(x, METRICS_OTEL_DROPPED_FULL, 1);
        return -1;
    }
    return 0;
}

bool otlp_full(struct otlp *x, uint64_t n)
{
    if (!atomic_load(&x->full))
        return false;
    count(x, METRICS_OTEL_DROPPED_FULL, n);
    return true;
}

void otlp_close(struct otlp *x, int64_t deadline_ms)
{
    if (x == NULL)
        return;
    pthread_mutex_lock(&x->mu);
    x->stop = true;
    x->deadline_ms = deadline_ms;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
    if (x->started)
        pthread_join(x->thread, NULL);
    otlp_free(x);
}
