/* test_metrics.c - the metrics and probes served by http_server on
 * libmicrohttpd's thread while the main thread keeps updating them, as
 * the bridge does. Checks the answers, and under ThreadSanitizer
 * (scripts/tsan) that the two threads share nothing unsynchronised. */
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "http_server.h"
#include "metrics.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    buf_append(ud, p, sz * n);
    return sz * n;
}

static long get(int port, const char *path, struct buf *out)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    buf_reset(out);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    long status = 0;
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    return status;
}

struct reader {
    int port, n, ok_metrics, ready, not_ready;
};

static void *read_loop(void *arg)
{
    struct reader *r = arg;
    struct buf b;
    buf_init(&b, 1 << 20);
    for (int i = 0; i < r->n; i++) {
        if (get(r->port, "/metrics", &b) == 200 &&
            strstr(b.data, "zimbridge_zim_requests_in_flight") != NULL)
            r->ok_metrics++;
        long s = get(r->port, "/readyz", &b);
        r->ready += s == 200;
        r->not_ready += s == 503;
    }
    buf_free(&b);
    return NULL;
}

static void test_served_while_updated(void **state)
{
    (void)state;
    const char *topics[TOPIC_ROLE_COUNT] = {"p", "g", "b", "room", "r", "d"};
    char err[256];
    struct metrics *m = metrics_new(topics);
    assert_non_null(m);
    struct http_server *h =
        http_server_new(m, "127.0.0.1:0", 30000, err, sizeof(err));
    assert_non_null(h);
    struct reader r = {.port = http_server_port(h), .n = 200};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_loop, &r), 0);
    /* The main loop's writes, as fast as it can, while the reader reads. */
    for (int i = 0; i < 20000; i++) {
        metrics_heartbeat(m, clock_mono_ms());
        metrics_inflight(m, i % 64);
        metrics_assigned(m, 6);
        metrics_producer_ok(m, true);
        metrics_breaker(m, i % 1000 < 500);
        metrics_outcome(m, i % 3, "sent", 0);
        metrics_latency(m, i % 3, (double)(i % 50));
        metrics_consumed(m, i % 3);
        metrics_produced(m, 3);
        if (i % 100 == 0) {
            metrics_lag_begin(m);
            for (int p = 0; p < 6; p++)
                metrics_lag_set(m, 0, p, i);
            metrics_lag_commit(m);
        }
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    printf("%d of %d /metrics answers complete; /readyz: %d ready, %d not "
           "(the breaker flips)\n",
           r.ok_metrics, r.n, r.ready, r.not_ready);
    assert_int_equal(r.ok_metrics, r.n);
    assert_int_equal(r.ready + r.not_ready, r.n);
    struct buf b;
    buf_init(&b, 1 << 20);
    metrics_breaker(m, false);
    /* Each status under its own name: "may have been sent" is no
     * "failed". */
    metrics_outcome(m, 2, "unknown", 900000012);
    metrics_outcome(m, 0, "failed", 660500002);
    assert_int_equal(get(r.port, "/metrics", &b), 200);
    assert_non_null(strstr(b.data, "action=\"SendMessageToAllUsers\","
                                   "status=\"unknown\",code=\"900000012\"} 1"));
    assert_non_null(strstr(b.data, "action=\"SendPeerMessage\",status="
                                   "\"failed\",code=\"660500002\"} 1"));
    assert_int_equal(get(r.port, "/readyz", &b), 200);
    assert_int_equal(get(r.port, "/healthz", &b), 200);
    assert_int_equal(get(r.port, "/metrics", &b), 200);
    assert_non_null(strstr(b.data, "zimbridge_zim_requests_in_flight"));
    assert_int_equal(get(r.port, "/nope", &b), 404);
    buf_free(&b);
    http_server_destroy(h);
    metrics_destroy(m);
}

/* Metrics for topics all named "t". */
static struct metrics *new_metrics(void)
{
    const char *topics[TOPIC_ROLE_COUNT];
    for (int i = 0; i < TOPIC_ROLE_COUNT; i++)
        topics[i] = "t";
    struct metrics *m = metrics_new(topics);
    assert_non_null(m);
    return m;
}

/* A hostile endpoint answering 1,000 made-up codes cannot fill the
 * label table: they are one "other" row, and real codes still count. */
static void test_unknown_codes_fold(void **s)
{
    (void)s;
    struct metrics *m = new_metrics();
    for (int i = 0; i < 1000; i++)
        metrics_outcome(m, 0, "failed", 123456 + i);
    metrics_outcome(m, 0, "failed", 660000002);
    metrics_outcome(m, 3, "rejected", 660300001);
    struct buf b;
    buf_init(&b, 1 << 20);
    metrics_render(m, &b);
    assert_non_null(strstr(b.data, "action=\"SendPeerMessage\",status="
                                   "\"failed\",code=\"other\"} 1000\n"));
    assert_non_null(strstr(b.data, "action=\"SendPeerMessage\",status="
                                   "\"failed\",code=\"660000002\"} 1\n"));
    assert_non_null(strstr(b.data, "action=\"SendRoomMessage\",status="
                                   "\"rejected\",code=\"660300001\"} 1\n"));
    assert_null(strstr(b.data, "code=\"123456\""));
    assert_non_null(strstr(b.data, "\nzimbridge_insecure_transport 0\n"));
    metrics_insecure_transport(m);
    buf_reset(&b);
    metrics_render(m, &b);
    assert_non_null(strstr(b.data, "\nzimbridge_insecure_transport 1\n"));
    buf_free(&b);
    metrics_destroy(m);
}

/* Requests that cannot be signed stall sending: counted, and /readyz
 * says so until a request is signed again. */
static void test_sign_failures(void **s)
{
    (void)s;
    struct metrics *m = new_metrics();
    metrics_assigned(m, 4);
    metrics_producer_ok(m, true);
    char why[160];
    assert_true(metrics_ready(m, why, sizeof(why)));
    metrics_sign_failed(m, true);
    metrics_sign_failed(m, true);
    assert_false(metrics_ready(m, why, sizeof(why)));
    assert_string_equal(why, "cannot sign ZIM requests");
    struct buf b;
    buf_init(&b, 1 << 20);
    metrics_render(m, &b);
    assert_non_null(strstr(b.data, "\nzimbridge_sign_failures_total 2\n"));
    metrics_sign_failed(m, false);
    assert_true(metrics_ready(m, why, sizeof(why)));
    buf_free(&b);
    metrics_destroy(m);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_served_while_updated),
        cmocka_unit_test(test_unknown_codes_fold),
        cmocka_unit_test(test_sign_failures),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
