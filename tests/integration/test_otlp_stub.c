/* test_otlp_stub.c - the OTLP/HTTP exporter (io/otlp.h) against a stub
 * backend (libmicrohttpd, over real sockets, HTTP and HTTPS) that answers
 * from a script: 503 with Retry-After, 429, 400, 413, 502 until the
 * attempts run out, a partial success, a hang past the timeout. Asserts
 * the retry rules (what is sent again, after how long, how often), the
 * counters, that every span submitted is accounted for (exported +
 * dropped = submitted), the headers, the TLS rules, and the flush on
 * close within its deadline. */
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "config.h"
#include "metrics.h"
#include "otlp.h"
#include "trace.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the stub ---- */

#define MAX_STEPS 16
#define MAX_REQS  64

struct step {
    unsigned status;
    const char *retry_after; /* NULL: none */
    const char *body;        /* NULL: "{}" */
    int hang_ms;             /* answer after this long */
};

struct req {
    int64_t at_ms;
    int spans; /* in the body, parsed with json-c; -1: not valid JSON */
    char api_key[64], content_type[64];
    bool has_chinese;
};

struct stub {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    struct step steps[MAX_STEPS];
    int n_steps, next; /* after the script: 200 */
    struct req reqs[MAX_REQS];
    int n_reqs;
};

struct upload {
    struct buf body;
};

static int count_spans(const char *data)
{
    struct json_object *root = json_tokener_parse(data);
    if (root == NULL)
        return -1;
    int n = 0;
    struct json_object *rs, *ss, *spans;
    if (json_object_object_get_ex(root, "resourceSpans", &rs))
        for (size_t i = 0; i < json_object_array_length(rs); i++)
            if (json_object_object_get_ex(json_object_array_get_idx(rs, i),
                                          "scopeSpans", &ss))
                for (size_t k = 0; k < json_object_array_length(ss); k++)
                    if (json_object_object_get_ex(
                            json_object_array_get_idx(ss, k), "spans", &spans))
                        n += (int)json_object_array_length(spans);
    json_object_put(root);
    return n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    (void)url, (void)method, (void)version;
    struct stub *st = cls;
    struct upload *u = *con_cls;
    if (u == NULL) {
        u = calloc(1, sizeof(*u));
        buf_init(&u->body, 32 << 20);
        *con_cls = u;
        return MHD_YES;
    }
    if (*size) {
        buf_append(&u->body, data, *size);
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&st->mu);
    struct step s = {.status = 200};
    if (st->next < st->n_steps)
        s = st->steps[st->next++];
    if (st->n_reqs < MAX_REQS) {
        struct req *r = &st->reqs[st->n_reqs++];
        r->at_ms = clock_mono_ms();
        r->spans = count_spans(u->body.data ? u->body.data : "");
        const char *k =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-api-key");
        const char *ct =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        snprintf(r->api_key, sizeof(r->api_key), "%s", k ? k : "");
        snprintf(r->content_type, sizeof(r->content_type), "%s", ct ? ct : "");
        r->has_chinese = u->body.data && strstr(u->body.data, "会话") != NULL;
    }
    pthread_mutex_unlock(&st->mu);
    if (s.hang_ms)
        usleep((useconds_t)s.hang_ms * 1000);
    const char *body = s.body ? s.body : "{}";
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (s.retry_after)
        MHD_add_response_header(resp, "Retry-After", s.retry_after);
    enum MHD_Result rc = MHD_queue_response(c, s.status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    struct upload *u = *con_cls;
    if (u) {
        buf_free(&u->body);
        free(u);
    }
    *con_cls = NULL;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char data[3][16384];
    static int k;
    char *out = data[k++ % 3];
    size_t n = fread(out, 1, sizeof(data[0]) - 1, f);
    out[n] = '\0';
    fclose(f);
    return out;
}

/* tls_dir: HTTPS with its srv.key/srv.crt; NULL: HTTP. */
static void stub_start(struct stub *st, const struct step *steps, int n,
                       const char *tls_dir)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_init(&st->mu, NULL);
    if (n)
        memcpy(st->steps, steps, sizeof(*steps) * (size_t)n);
    st->n_steps = n;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    char key[512], crt[512];
    if (tls_dir) {
        flags |= MHD_USE_TLS;
        snprintf(key, sizeof(key), "%s/srv.key", tls_dir);
        snprintf(crt, sizeof(crt), "%s/srv.crt", tls_dir);
    }
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, tls_dir ? read_file(key) : NULL},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, tls_dir ? read_file(crt) : NULL},
        {MHD_OPTION_END, 0, NULL}};
    struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    st->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, st, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_done, st, MHD_OPTION_ARRAY,
        tls_dir ? tls : none, MHD_OPTION_END);
    assert_non_null(st->d);
    st->port = MHD_get_daemon_info(st->d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void stub_stop(struct stub *st)
{
    MHD_stop_daemon(st->d);
    pthread_mutex_destroy(&st->mu);
}

/* ---- the exporter under test ---- */

static const char *const topics[TOPIC_ROLE_COUNT] = {
    "zim.peer", "zim.group", "zim.broadcast",
    "zim.room", "zim.reply", "zim.dlq"};

struct counters {
    uint64_t exported, full, rejected, failed, retries;
};

static uint64_t metric(const char *text, const char *name)
{
    const char *p = text;
    size_t n = strlen(name);
    while ((p = strstr(p, name))) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtoull(p + n + 1, NULL, 10);
        p += n;
    }
    fail_msg("metric %s missing", name);
    return 0;
}

static struct counters counters(struct metrics *m)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(metrics_render(m, &b), 0);
    struct counters c = {
        metric(b.data, "zimbridge_otel_spans_exported_total"),
        metric(b.data,
               "zimbridge_otel_spans_dropped_total{reason=\"queue_full\"}"),
        metric(b.data,
               "zimbridge_otel_spans_dropped_total{reason=\"rejected\"}"),
        metric(b.data, "zimbridge_otel_spans_dropped_total{reason=\"failed\"}"),
        metric(b.data, "zimbridge_otel_export_retries_total")};
    buf_free(&b);
    return c;
}

struct run {
    struct metrics *m;
    struct otlp *x;
    int submitted;
};

static void start(struct run *r, const char *url, const char *ca, int64_t queue,
                  int64_t batch, int64_t flush_ms, int64_t timeout_ms,
                  const char *headers)
{
    static const struct trace_attr res[] = {
        {.key = "service.name", .type = TRACE_ATTR_STRING, .s = "测试-stub"}};
    memset(r, 0, sizeof(*r));
    r->m = metrics_new(topics);
    assert_non_null(r->m);
    const struct otlp_conf c = {.url = url,
                                .headers = headers,
                                .ca_file = ca,
                                .resource = res,
                                .n_resource = 1,
                                .scope = "zimbridge",
                                .version = "test",
                                .queue_max = queue,
                                .batch_max = batch,
                                .flush_ms = flush_ms,
                                .timeout_ms = timeout_ms};
    char err[256];
    r->x = otlp_new(&c, r->m, err, sizeof(err));
    if (r->x == NULL)
        fail_msg("otlp_new: %s", err);
}

static void submit(struct run *r, int n)
{
    static const struct trace_attr a[] = {{.key = "messaging.destination.name",
                                           .type = TRACE_ATTR_STRING,
                                           .s = "会话-😀-محادثة"}};
    for (int i = 0; i < n; i++) {
        struct trace_span sp = {.name = "process zim.peer",
                                .kind = TRACE_KIND_CONSUMER,
                                .start_ns = 1,
                                .end_ns = 2,
                                .attrs = a,
                                .n_attrs = 1};
        sp.trace_id[0] = 1;
        sp.span_id[7] = (uint8_t)(i + 1);
        otlp_submit(r->x, &sp);
        r->submitted++;
    }
}

/* Closes (with deadline_ms from now), checks that every span is
 * accounted for, and returns the counters. */
static struct counters finish(struct run *r, int64_t deadline_ms)
{
    otlp_close(r->x, clock_mono_ms() + deadline_ms);
    struct counters c = counters(r->m);
    assert_int_equal(c.exported + c.full + c.rejected + c.failed,
                     (uint64_t)r->submitted);
    metrics_destroy(r->m);
    return c;
}

static void url_of(const struct stub *st, const char *scheme, char *out,
                   size_t n)
{
    snprintf(out, n, "%s://127.0.0.1:%d/v1/traces", scheme, st->port);
}

/* Waits until the stub has seen n requests (or 20 s). */
static void wait_reqs(struct stub *st, int n)
{
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&st->mu);
        int k = st->n_reqs;
        pthread_mutex_unlock(&st->mu);
        if (k >= n)
            return;
        usleep(10000);
    }
    fail_msg("the stub saw %d requests, not %d", st->n_reqs, n);
}

/* ---- the cases ---- */

/* 503 with Retry-After: 1, then 200: the same 5 spans again after >= 1 s;
 * the body is OTLP/JSON with the non-ASCII attribute intact, and the
 * configured headers go along, percent-decoded. */
static void test_retry_after(void **state)
{
    (void)state;
    const struct step steps[] = {{.status = 503, .retry_after = "1"}};
    struct stub st;
    stub_start(&st, steps, 1, NULL);
    char url[128];
    url_of(&st, "http", url, sizeof(url));
    struct run r;
    start(&r, url, NULL, 64, 512, 50, 5000, "x-api-key=k%3Dv%2C1 , x-b=2");
    submit(&r, 5);
    wait_reqs(&st, 2);
    struct counters c = finish(&r, 2000);
    assert_int_equal(st.n_reqs, 2);
    assert_int_equal(st.reqs[0].spans, 5);
    assert_int_equal(st.reqs[1].spans, 5);
    assert_true(st.reqs[1].at_ms - st.reqs[0].at_ms >= 950);
    assert_string_equal(st.reqs[0].api_key, "k=v,1");
    assert_string_equal(st.reqs[0].content_type, "application/json");
    assert_true(st.reqs[0].has_chinese);
    assert_int_equal(c.exported, 5);
    assert_int_equal(c.retries, 1);
    stub_stop(&st);
}

/* 429 with no Retry-After: sent again after the first backoff (1 s). A
 * Retry-After as an HTTP date in the past: at once. */
static void test_429_backoff(void **state)
{
    (void)state;
    const struct step steps[] = {
        {.status = 429},
        {.status = 504, .retry_after = "Wed, 21 Oct 2015 07:28:00 GMT"}};
    struct stub st;
    stub_start(&st, steps, 2, NULL);
    char url[128];
    url_of(&st, "http", url, sizeof(url));
    struct run r;
    start(&r, url, NULL, 64, 512, 50, 5000, NULL);
    submit(&r, 3);
    wait_reqs(&st, 3);
    struct counters c = finish(&r, 2000);
    assert_int_equal(st.n_reqs, 3);
    assert_true(st.reqs[1].at_ms - st.reqs[0].at_ms >= 950);
    assert_true(st.reqs[2].at_ms - st.reqs[1].at_ms < 900);
    assert_int_equal(c.exported, 3);
    assert_int_equal(c.retries, 2);
    stub_stop(&st);
}

/* 400 and 413 are not sent again: dropped as rejected, one request each;
 * 500 is not retryable either (dropped as failed). */
static void test_not_retried(void **state)
{
    (void)state;
    const struct step steps[] = {
        {.status = 400}, {.status = 413}, {.status = 500}};
    struct stub st;
    stub_start(&st, steps, 3, NULL);
    char url[128];
    url_of(&st, "http", url, sizeof(url));
    struct run r;
    start(&r, url, NULL, 64, 4, 50, 5000, NULL);
    submit(&r, 4);
    wait_reqs(&st, 1);
    submit(&r, 4);
    wait_reqs(&st, 2);
    submit(&r, 4);
    wait_reqs(&st, 3);
    submit(&r, 2);
    wait_reqs(&st, 4);
    struct counters c = finish(&r, 2000);
    assert_int_equal(st.n_reqs, 4);
    assert_int_equal(c.rejected, 8);
    assert_int_equal(c.failed, 4);
    assert_int_equal(c.exported, 2);
    assert_int_equal(c.retries, 0);
    stub_stop(&st);
}

/* 502 every time: OTLP_MAX_ATTEMPTS requests, then dropped as failed. */
static void test_attempts_run_out(void **state)
{
    (void)state;
    struct step steps[OTLP_MAX_ATTEMPTS];
    for (int i = 0; i < OTLP_MAX_ATTEMPTS; i++)
        steps[i] = (struct step){.status = 502, .retry_after = "0"};
    struct stub st;
    stub_start(&st, steps, OTLP_MAX_ATTEMPTS, NULL);
    char url[128];
    url_of(&st, "http", url, sizeof(url));
    struct run r;
    start(&r, url, NULL, 64, 512, 50, 5000, NULL);
    submit(&r, 7);
    wait_reqs(&st, OTLP_MAX_ATTEMPTS);
    usleep(200000);
    struct counters c = finish(&r, 2000);
    assert_int_equal(st.n_reqs, OTLP_MAX_ATTEMPTS);
    assert_int_equal(c.failed, 7);
    assert_int_equal(c.retries, OTLP_MAX_ATTEMPTS - 1);
    stub_stop(&st);
}

/* A partial success: the rejected spans are counted, the rest exported;
 * nothing is sent again. A rejectedSpans larger than the batch (hostile)
 * counts the batch, no more. */
static void test_partial_success(void **state)
{
    (void)state;
    const struct step steps[] = {
        {.status = 200,
         .body = "{\"partialSuccess\":{\"rejectedSpans\":\"2\","
                 "\"errorMessage\":\"too old\"}}"},
        {.status = 200,
         .body = "{\"partialSuccess\":{\"rejectedSpans\":99999}}"}};
    struct stub st;
    stub_start(&st, steps, 2, NULL);
    char url[128];
    url_of(&st, "http", url, sizeof(url));
    struct run r;
    start(&r, url, NULL, 64, 5, 50, 5000, NULL);
    submit(&r, 5);
    wait_reqs(&st, 1);
    submit(&r, 3);
    wait_reqs(&st, 2);
    struct counters c = finish(&r, 2000);
    assert_int_equal(st.n_reqs, 2);
    assert_int_equal(c.exported, 3);
    assert_int_equal(c.rejected, 5);
    stub_stop(&st);
}

/* A backend that hangs: the export ends at its timeout (dropped, failed)
 * while submitting never waits: a full queue drops, counted. Closing
 * during a hang returns by its deadline. */
static void test_hang(void **state)
{
    (void)state;
    const struct step steps[] = {{.status = 200, .hang_ms = 3000},
                                 {.status = 200, .hang_ms = 3000}};
    struct stub st;
    stub_start(&st, steps, 2, NULL);
    char url[128];
    url_of(&st, "http", url, sizeof(url));
    struct run r;
    start(&r, url, NULL, 16, 8, 50, 500, NULL);
    submit(&r, 8);
    wait_reqs(&st, 1);
    /* The thread is in the hung request: 16 fit, the rest are dropped. */
    submit(&r, 100);
    struct counters mid = counters(r.m);
    assert_int_equal(mid.full, 100 - 16);
    /* The timeout (500 ms) ends the first request; the next batch hangs
     * too; close with 300 ms left cuts it short. */
    wait_reqs(&st, 2);
    int64_t t0 = clock_mono_ms();
    struct counters c = finish(&r, 300);
    assert_true(clock_mono_ms() - t0 < 2000);
    assert_int_equal(c.exported, 0);
    assert_int_equal(c.full, 100 - 16);
    assert_int_equal(c.failed, 8 + 16);
    stub_stop(&st);
}

/* Closing exports what is queued at once (no waiting for flush_ms). */
static void test_flush_on_close(void **state)
{
    (void)state;
    struct stub st;
    stub_start(&st, NULL, 0, NULL);
    char url[128];
    url_of(&st, "http", url, sizeof(url));
    struct run r;
    start(&r, url, NULL, 2048, 512, 60000, 5000, NULL);
    submit(&r, 1000);
    struct counters c = finish(&r, 3000);
    assert_int_equal(c.exported, 1000);
    assert_int_equal(st.n_reqs, 2); /* 512 + 488 */
    stub_stop(&st);
}

/* HTTPS: verification is on; the CA file makes the stub's certificate
 * trusted; without it, the export fails (dropped, failed). */
static void test_tls(void **state)
{
    (void)state;
    char dir[256], ca[512];
    testenv_make_certs(dir, sizeof(dir));
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    struct stub st;
    stub_start(&st, NULL, 0, dir);
    char url[128];
    url_of(&st, "https", url, sizeof(url));
    struct run r;
    start(&r, url, ca, 64, 512, 50, 5000, NULL);
    submit(&r, 4);
    wait_reqs(&st, 1);
    struct counters c = finish(&r, 2000);
    assert_int_equal(c.exported, 4);
    start(&r, url, NULL, 64, 512, 50, 5000, NULL);
    submit(&r, 4);
    struct counters d = finish(&r, 2000);
    assert_int_equal(d.exported, 0);
    assert_int_equal(d.failed, 4);
    assert_int_equal(st.n_reqs, 1); /* the handshake failed: no request */
    stub_stop(&st);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Headers that would inject a line, or are not key=value, are refused at
 * start, and the message does not quote them (they may be credentials). */
static void test_bad_headers(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(topics);
    const struct otlp_conf c = {.url = "http://127.0.0.1:1/v1/traces",
                                .headers = "x-api-key=secret%0D%0AHost: evil",
                                .scope = "s",
                                .version = "v",
                                .queue_max = 16,
                                .batch_max = 8,
                                .flush_ms = 100,
                                .timeout_ms = 1000};
    char err[256];
    assert_null(otlp_new(&c, m, err, sizeof(err)));
    assert_non_null(strstr(err, "otel.headers"));
    assert_null(strstr(err, "secret"));
    metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_retry_after, testenv_teardown),
        cmocka_unit_test_teardown(test_429_backoff, testenv_teardown),
        cmocka_unit_test_teardown(test_not_retried, testenv_teardown),
        cmocka_unit_test_teardown(test_attempts_run_out, testenv_teardown),
        cmocka_unit_test_teardown(test_partial_success, testenv_teardown),
        cmocka_unit_test_teardown(test_hang, testenv_teardown),
        cmocka_unit_test_teardown(test_flush_on_close, testenv_teardown),
        cmocka_unit_test_teardown(test_tls, testenv_teardown),
        cmocka_unit_test_teardown(test_bad_headers, testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
