/* test_ops.c - what operators see: /metrics after real traffic (counters
 * equal to what was sent, and accepted by Prometheus' own promtool),
 * /healthz, /readyz turning not-ready while the breaker is open, JSON
 * logs, and the secret nowhere in any of it. */
#include "event_kind.h"
#include "fileio.h"
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long metric(const char *text, const char *series)
{
    const char *p = strstr(text, series);
    if (p == NULL)
        fail_msg("no series %s in /metrics", series);
    return strtol(p + strlen(series), NULL, 10);
}

static long get(int port, const char *path, struct buf *out)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    return testenv_http("GET", url, NULL, NULL, out);
}

static void wait_status(int port, const char *path, long want)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    long st = 0;
    for (int i = 0; i < 300 && st != want; i++) {
        st = get(port, path, &b);
        if (st != want)
            usleep(100000);
    }
    buf_free(&b);
    if (st != want)
        fail_msg("%s stayed %ld, want %ld", path, st, want);
}

/* Every metric the dashboard and the alerts query is in this scrape of
 * a running bridge, so a renamed metric fails here and not on an
 * operator's screen; and each action has its series. */
static void check_queried_metrics(const char *scrape)
{
    static const char *const files[] = {
        "deploy/grafana/zimbridge.json",
        "deploy/base/prometheusrule.yaml",
        "deploy/helm/zimbridge/templates/prometheusrule.yaml",
    };
    const char *src = getenv("ZB_SOURCE_DIR");
    assert_non_null(src);
    int names = 0;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[512], name[128], line[160];
        snprintf(path, sizeof(path), "%s/%s", src, files[i]);
        size_t len = 0;
        char *text = file_read(path, 1 << 20, &len);
        if (text == NULL)
            fail_msg("cannot read %s", path);
        for (const char *p = strstr(text, "zimbridge_"); p;
             p = strstr(p, "zimbridge_")) {
            size_t n = 0;
            while (n + 1 < sizeof(name) &&
                   (islower((unsigned char)p[n]) ||
                    isdigit((unsigned char)p[n]) || p[n] == '_'))
                name[n] = p[n], n++;
            name[n] = '\0';
            p += n;
            snprintf(line, sizeof(line), "\n%s{", name);
            const char *hit = strstr(scrape, line);
            if (hit == NULL) {
                snprintf(line, sizeof(line), "\n%s ", name);
                hit = strstr(scrape, line);
            }
            if (hit == NULL)
                fail_msg("%s queries %s, which the bridge does not export",
                         files[i], name);
            names++;
        }
        free(text);
    }
    assert_true(names >= 15);
    for (int k = 0; k < ZB_ACTION_COUNT; k++) {
        char series[160];
        snprintf(series, sizeof(series),
                 "zimbridge_quota_waits_total{action=\"%s\"} ",
                 event_kind_action((enum event_kind)k));
        if (strstr(scrape, series) == NULL)
            fail_msg("no series %s", series);
    }
}

static void test_metrics_probes_logs(void **state)
{
    (void)state;
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    const char *const args[] = {"--qps-peer", "0", NULL};
    testenv_zimsim_start(&zs, "u1 u2", NULL, args);
    testenv_topics(&t, 3);
    testenv_bridge_start(&b, &zs, &t,
                         "quota.peer_per_s = 0\nlog.format = json\n"
                         "breaker.probe_ms = 500\n");
    int port = testenv_bridge_port(&b);
    wait_status(port, "/healthz", 200);
    wait_status(port, "/readyz", 200);

    rd_kafka_t *p = testenv_producer();
    char val[256];
    for (int i = 0; i < 38; i++) {
        const char *to = i >= 35 ? "\"u2\",\"ghost\"" : "\"u2\"";
        int prio = i >= 30 && i < 35 ? 9 : 1;
        snprintf(val, sizeof(val),
                 "{\"FromUserId\":\"u1\",\"ToUserId\":[%s],\"MessageType\":1,"
                 "\"Priority\":%d,\"MessageBody\":{\"Message\":\"m%d\"}}",
                 to, prio, i);
        testenv_produce(p, t.peer, "k", val, NULL);
    }
    testenv_flush(p);
    struct recs r;
    testenv_read_topic(t.reply, 38, 0, 60000, &r);
    assert_int_equal(r.n, 38);
    testenv_recs_free(&r);
    usleep(500000); /* the last delivery reports reach the counters */

    struct buf m;
    buf_init(&m, 1 << 20);
    assert_int_equal(get(port, "/metrics", &m), 200);
    char series[256];
    snprintf(series, sizeof(series),
             "zimbridge_events_consumed_total{topic=\"%s\"} ", t.peer);
    assert_int_equal(metric(m.data, series), 38);
    assert_int_equal(
        metric(m.data, "zimbridge_outcomes_total{action=\"SendPeerMessage\","
                       "status=\"sent\",code=\"0\"} "),
        30);
    assert_int_equal(
        metric(m.data, "zimbridge_outcomes_total{action=\"SendPeerMessage\","
                       "status=\"failed\",code=\"660000002\"} "),
        5);
    assert_int_equal(
        metric(m.data, "zimbridge_outcomes_total{action=\"SendPeerMessage\","
                       "status=\"partial\",code=\"0\"} "),
        3);
    assert_int_equal(
        metric(m.data, "zimbridge_zim_request_duration_seconds_count{action="
                       "\"SendPeerMessage\"} "),
        33);
    /* One key: each event alone, 30 calls to one recipient, 3 to two. */
    assert_int_equal(metric(m.data, "\nzimbridge_call_recipients_count "), 33);
    assert_int_equal(metric(m.data, "\nzimbridge_call_recipients_sum "), 36);
    assert_int_equal(
        metric(m.data, "\nzimbridge_call_recipients_bucket{le=\"1\"} "), 30);
    assert_int_equal(metric(m.data, "\nzimbridge_events_packed_total "), 0);
    snprintf(series, sizeof(series),
             "zimbridge_records_produced_total{topic=\"%s\"} ", t.reply);
    assert_int_equal(metric(m.data, series), 38);
    snprintf(series, sizeof(series),
             "zimbridge_records_produced_total{topic=\"%s\"} ", t.dlq);
    assert_int_equal(metric(m.data, series), 8);
    assert_int_equal(metric(m.data, "\nzimbridge_breaker_open "), 0);
    assert_non_null(strstr(m.data, "zimbridge_build_info{version="));
    /* Lag is sampled every 5 s from librdkafka's cached watermarks. */
    for (int i = 0; i < 70 && !strstr(m.data, "zimbridge_consumer_lag{"); i++) {
        usleep(100000);
        get(port, "/metrics", &m);
    }
    snprintf(series, sizeof(series),
             "zimbridge_consumer_lag{topic=\"%s\",partition=", t.peer);
    assert_non_null(strstr(m.data, series));
    /* Prometheus' own linter accepts the exposition. */
    char path[256], cmd[600];
    snprintf(path, sizeof(path), "/tmp/zbmetrics.%ld", (long)getpid());
    FILE *f = fopen(path, "w");
    fwrite(m.data, 1, m.len, f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
    assert_int_equal(system(cmd), 0);
    unlink(path);
    check_queried_metrics(m.data);

    /* Credentials refused: the breaker opens, /readyz says not ready; it
     * comes back once ZIM accepts calls again. */
    testenv_zimsim_control(&zs, "{\"force_code\":100000005,"
                                "\"force_ms\":3000}");
    testenv_produce(p, t.peer, "k",
                    "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                    "{\"Message\":\"during\"}}",
                    NULL);
    testenv_flush(p);
    rd_kafka_destroy(p);
    wait_status(port, "/readyz", 503);
    assert_int_equal(get(port, "/metrics", &m), 200);
    assert_int_equal(metric(m.data, "\nzimbridge_breaker_open "), 1);
    wait_status(port, "/readyz", 200);
    testenv_read_topic(t.reply, 39, 0, 30000, &r);
    assert_int_equal(r.n, 39);
    testenv_recs_free(&r);
    assert_int_equal(get(port, "/nope", &m), 404);

    /* The secret appears in no output: metrics, probes, logs, records. */
    assert_int_equal(get(port, "/metrics", &m), 200);
    assert_null(strstr(m.data, TESTENV_SECRET));
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    f = fopen(b.log, "r");
    char line[4096];
    int lines = 0;
    while (f && fgets(line, sizeof(line), f)) {
        assert_null(strstr(line, TESTENV_SECRET));
        if (line[0] != '{')
            continue; /* librdkafka's own lines */
        struct json_object *o = json_tokener_parse(line);
        if (o == NULL)
            fail_msg("log line is not JSON: %s", line);
        struct json_object *v = NULL;
        assert_true(json_object_object_get_ex(o, "time", &v));
        assert_true(json_object_object_get_ex(o, "level", &v));
        assert_true(json_object_object_get_ex(o, "component", &v));
        assert_true(json_object_object_get_ex(o, "message", &v));
        json_object_put(o);
        lines++;
    }
    if (f)
        fclose(f);
    assert_true(lines > 10);
    struct recs all;
    testenv_read_topic(t.dlq, 0, 1000, 5000, &all);
    for (size_t i = 0; i < all.n; i++)
        assert_null(strstr(all.v[i].value, TESTENV_SECRET));
    testenv_recs_free(&all);
    buf_free(&m);
    testenv_zimsim_stop(&zs);
}

/* Credentials in URLs: the endpoint's userinfo (user:pass@) and a proxy's
 * from libcurl's http_proxy variable reach no log line, reply or DLQ
 * record; the failures they cause are still said. */
static void test_url_credentials(void **state)
{
    (void)state;
    static const char endpoint_pw[] = "EndpointPw9xQ",
                      proxy_pw[] = "ProxyPw7xQ";
    struct zimsim zs;
    struct topics t;
    struct bridge b;
    const char *const args[] = {"--qps-peer", "0", NULL};
    testenv_zimsim_start(&zs, NULL, NULL, args);
    testenv_topics(&t, 1);
    char conf[512];
    snprintf(conf, sizeof(conf),
             "quota.peer_per_s = 0\nlog.level = debug\n"
             "zim.endpoint = http://zimuser:%s@%s\n",
             endpoint_pw, strstr(zs.url, "://") + 3);
    testenv_bridge_start(&b, &zs, &t, conf);
    testenv_produce_peers(t.peer, 0, 5, 5, "cred-");
    struct recs r;
    testenv_read_topic(t.reply, 5, 0, 30000, &r);
    assert_int_equal(r.n, 5);
    for (size_t i = 0; i < r.n; i++) {
        assert_non_null(strstr(r.v[i].value, "\"status\":\"sent\""));
        assert_null(strstr(r.v[i].value, endpoint_pw));
    }
    testenv_recs_free(&r);
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    assert_int_equal(testenv_file_count(b.log, endpoint_pw), 0);
    assert_true(testenv_file_count(b.log, "[redacted]@") >= 1);

    /* A proxy that is not there: every call fails on it. */
    char proxy[128];
    snprintf(proxy, sizeof(proxy), "http://proxyuser:%s@127.0.0.1:1", proxy_pw);
    setenv("http_proxy", proxy, 1);
    testenv_bridge_start(&b, &zs, &t,
                         "quota.peer_per_s = 0\nlog.level = debug\n"
                         "retry.max_attempts = 1\nbreaker.failures = 1000\n");
    unsetenv("http_proxy");
    testenv_produce_peers(t.peer, 5, 8, 5, "cred-");
    testenv_read_topic(t.reply, 5 + 3, 0, 30000, &r);
    assert_int_equal(r.n, 8);
    struct recs d;
    testenv_read_topic(t.dlq, 3, 0, 30000, &d);
    assert_int_equal(d.n, 3);
    for (size_t i = 0; i < d.n; i++) {
        const char *why = testenv_header(&d.v[i], "zim.error.message");
        assert_non_null(why);
        assert_non_null(strstr(why, "port 1")); /* the proxy's failure */
        assert_null(strstr(why, proxy_pw));
        assert_null(strstr(d.v[i].value, proxy_pw));
    }
    for (size_t i = 0; i < r.n; i++)
        assert_null(strstr(r.v[i].value, proxy_pw));
    assert_int_equal(testenv_bridge_stop(&b, SIGTERM), 0);
    assert_int_equal(testenv_file_count(b.log, proxy_pw), 0);
    testenv_recs_free(&r);
    testenv_recs_free(&d);
    testenv_zimsim_stop(&zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_metrics_probes_logs, testenv_teardown),
        cmocka_unit_test_teardown(test_url_credentials, testenv_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
