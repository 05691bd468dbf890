/* test_config.c - the settings table: types, ranges, file, environment,
 * redaction, required keys. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_defaults_and_ranges(void **s)
{
    (void)s;
    struct config cfg;
    char err[256];
    config_init(&cfg);
    assert_string_equal(cfg.endpoint, "https://zim-api.zego.im");
    assert_string_equal(cfg.topic[TOPIC_DLQ], "zim.dlq");
    assert_int_equal(cfg.max_inflight, 64);
    assert_string_equal(config_kafka_get(&cfg, "group.id"), "zimbridge");
    assert_int_equal(
        config_set(&cfg, "http.max_inflight", "1024", err, sizeof(err)), 0);
    assert_int_equal(
        config_set(&cfg, "http.max_inflight", "1025", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(
        config_set(&cfg, "http.max_inflight", "12x", err, sizeof(err)), -1);
    assert_int_equal(
        config_set(&cfg, "zim.app_id", "4294967295", err, sizeof(err)), 0);
    assert_int_equal(cfg.app_id, 4294967295u);
    assert_int_equal(
        config_set(&cfg, "zim.app_id", "4294967296", err, sizeof(err)), -1);
    assert_int_equal(config_set(&cfg, "log.level", "loud", err, sizeof(err)),
                     -1);
    assert_int_equal(config_set(&cfg, "zim.appid", "1", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown setting 'zim.appid'"));
    config_free(&cfg);
}

static void test_file_env_and_dump(void **s)
{
    (void)s;
    char path[] = "/tmp/zbcfgXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("# comment\n\n kafka.bootstrap.servers = 127.0.0.1:1 \n"
          "zim.app_id=42\nzim.server_secret = s3cr3t-value\n"
          "kafka.sasl.password = hunter2\ntopics.peer = a.b\n",
          f);
    fclose(f);
    struct config cfg;
    char err[256];
    config_init(&cfg);
    assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), 0);
    char *env[] = {"PATH=/bin", "ZIMBRIDGE_ZIM_APP_ID=77",
                   "ZIMBRIDGE_KAFKA_CLIENT_ID=zb-test",
                   "ZIMBRIDGE_TOPICS_PEER=from.env", NULL};
    assert_int_equal(config_load_env(&cfg, env, err, sizeof(err)), 0);
    assert_int_equal(cfg.app_id, 77);
    assert_string_equal(cfg.topic[EVENT_PEER], "from.env");
    assert_string_equal(config_kafka_get(&cfg, "client.id"), "zb-test");
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);

    char *dump = NULL;
    size_t dlen = 0;
    FILE *m = open_memstream(&dump, &dlen);
    config_dump(&cfg, m);
    fclose(m);
    assert_null(strstr(dump, "s3cr3t"));
    assert_null(strstr(dump, "hunter2"));
    assert_non_null(strstr(dump, "zim.server_secret = [redacted]"));
    assert_non_null(strstr(dump, "kafka.sasl.password = [redacted]"));
    assert_non_null(strstr(dump, "zim.app_id = 77"));
    free(dump);
    config_free(&cfg);

    char *bad[] = {"ZIMBRIDGE_ZIM_APPID=1", NULL};
    config_init(&cfg);
    assert_int_equal(config_load_env(&cfg, bad, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "ZIMBRIDGE_ZIM_APPID"));
    config_free(&cfg);

    f = fopen(path, "w");
    fputs("zim.app_id = 1\nnonsense line\n", f);
    fclose(f);
    config_init(&cfg);
    assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2:"));
    config_free(&cfg);
    unlink(path);
}

/* Kubernetes gives every pod variables for each Service in its namespace:
 * the chart's own "zimbridge-metrics" (and a "zimbridge-kafka" someone
 * else runs) must not stop the bridge. A typo of a real setting still
 * does, naming the setting meant. */
static void test_env_service_links(void **s)
{
    (void)s;
    struct config cfg;
    char err[512];
    char *env[] = {"ZIMBRIDGE_METRICS_SERVICE_HOST=10.96.12.7",
                   "ZIMBRIDGE_METRICS_SERVICE_PORT=9464",
                   "ZIMBRIDGE_METRICS_SERVICE_PORT_METRICS=9464",
                   "ZIMBRIDGE_METRICS_PORT=tcp://10.96.12.7:9464",
                   "ZIMBRIDGE_METRICS_PORT_9464_TCP=tcp://10.96.12.7:9464",
                   "ZIMBRIDGE_METRICS_PORT_9464_TCP_PROTO=tcp",
                   "ZIMBRIDGE_METRICS_PORT_9464_TCP_PORT=9464",
                   "ZIMBRIDGE_METRICS_PORT_9464_TCP_ADDR=10.96.12.7",
                   "ZIMBRIDGE_SERVICE_HOST=fd00::7",
                   "ZIMBRIDGE_PORT=udp://[fd00::7]:53",
                   "ZIMBRIDGE_PORT_53_UDP_PROTO=udp",
                   "ZIMBRIDGE_KAFKA_SERVICE_HOST=10.0.0.9",
                   "ZIMBRIDGE_KAFKA_PORT_9092_SCTP=sctp://10.0.0.9:9092",
                   "ZIMBRIDGE_ZIM_APP_ID=77",
                   NULL};
    config_init(&cfg);
    if (config_load_env(&cfg, env, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(cfg.app_id, 77);
    assert_int_equal(cfg.n_kafka, 6); /* the defaults only */
    config_free(&cfg);
    /* The shape is the value's too: these are settings gone wrong. */
    static const char *const not_links[] = {
        "ZIMBRIDGE_METRICS_PORT=9464",            /* not a URL */
        "ZIMBRIDGE_METRICS_SERVICE_HOST=my host", /* not an address */
        "ZIMBRIDGE_METRICS_PORT_X_TCP=tcp://1.2.3.4:5",
        "ZIMBRIDGE_METRICS_PORT_9464_HTTP=tcp://1.2.3.4:5",
        "ZIMBRIDGE_METRICS_SERVICE_PORT=http",
    };
    for (size_t i = 0; i < sizeof(not_links) / sizeof(not_links[0]); i++) {
        char *one[] = {(char *)not_links[i], NULL};
        config_init(&cfg);
        if (config_load_env(&cfg, one, err, sizeof(err)) != -1)
            fail_msg("%s accepted", not_links[i]);
        config_free(&cfg);
    }
    /* A typo names the nearest setting. */
    static const struct {
        const char *var, *want;
    } typos[] = {
        {"ZIMBRIDGE_ZIM_APP_IDD=1", "did you mean ZIMBRIDGE_ZIM_APP_ID "
                                    "(zim.app_id)?"},
        {"ZIMBRIDGE_TOPIC_PEER=x", "did you mean ZIMBRIDGE_TOPICS_PEER"},
        {"ZIMBRIDGE_HTTP_MAX_INFLIGTH=9", "ZIMBRIDGE_HTTP_MAX_INFLIGHT"},
        {"ZIMBRIDGE_WHATEVER_ELSE_ENTIRELY=1", "is not a setting"},
    };
    for (size_t i = 0; i < sizeof(typos) / sizeof(typos[0]); i++) {
        char *one[] = {(char *)typos[i].var, NULL};
        config_init(&cfg);
        assert_int_equal(config_load_env(&cfg, one, err, sizeof(err)), -1);
        if (strstr(err, typos[i].want) == NULL)
            fail_msg("%s: '%s'", typos[i].var, err);
        config_free(&cfg);
    }
    config_init(&cfg);
    assert_int_equal(config_set(&cfg, "zim.app_idd", "1", err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "did you mean 'zim.app_id'?"));
    config_free(&cfg);
}

static void test_finish_requires(void **s)
{
    (void)s;
    struct config cfg;
    char err[256];
    config_init(&cfg);
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "zim.app_id"));
    config_set(&cfg, "zim.app_id", "1", err, sizeof(err));
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bootstrap.servers"));
    config_set(&cfg, "kafka.bootstrap.servers", "x:1", err, sizeof(err));
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "secret"));
    config_set(&cfg, "zim.server_secret_file", "/nonexistent/zb", err,
               sizeof(err));
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/zb"));
    config_free(&cfg);

    config_init(&cfg);
    config_set(&cfg, "zim.app_id", "1", err, sizeof(err));
    config_set(&cfg, "kafka.bootstrap.servers", "x:1", err, sizeof(err));
    config_set(&cfg, "zim.server_secret", "s", err, sizeof(err));
    config_set(&cfg, "zim.endpoint", "ftp://x", err, sizeof(err));
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "zim.endpoint"));
    config_set(&cfg, "zim.endpoint", "https://", err, sizeof(err));
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
    config_set(&cfg, "zim.endpoint", "https://zim-api-fra.zego.im", err,
               sizeof(err));
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
    config_free(&cfg);
}

/* A config that passes config_finish, but for what the test sets. */
static void ready(struct config *cfg)
{
    char err[256];
    config_init(cfg);
    config_set(cfg, "zim.app_id", "1", err, sizeof(err));
    config_set(cfg, "kafka.bootstrap.servers", "x:1", err, sizeof(err));
    config_set(cfg, "zim.server_secret", "s", err, sizeof(err));
}

/* http:// only to loopback, unless zim.allow_insecure_http. */
static void test_plaintext_endpoint(void **s)
{
    (void)s;
    static const struct {
        const char *url;
        bool ok;
    } cases[] = {
        {"http://127.0.0.1:8080", true},
        {"http://127.9.8.7", true},
        {"http://localhost:1/zim", true},
        {"http://LOCALHOST", true},
        {"http://[::1]:9000", true},
        {"http://evil.example@127.0.0.1:80", true}, /* the host is 127.0.0.1 */
        {"https://zim-api.zego.im", true},
        {"https://10.1.2.3", true},
        {"http://zim-api.zego.im", false},
        {"http://10.1.2.3:80", false},
        {"http://128.0.0.1", false},
        {"http://127.0.0.1.evil.example", false},
        {"http://localhost.evil.example", false},
        {"http://127.0.0.1@evil.example", false}, /* user 127.0.0.1 */
        {"http://u:p@127.0.0.1@evil.example",
         false},                 /* host: after the last @ */
        {"http://127.1", false}, /* not a dotted quad */
        {"http://[::2]:80", false},
        {"http://[::ffff:127.0.0.1]", false},
        {"http://[::1", false},
    };
    char err[512];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config cfg;
        ready(&cfg);
        assert_int_equal(
            config_set(&cfg, "zim.endpoint", cases[i].url, err, sizeof(err)),
            0);
        int rc = config_finish(&cfg, err, sizeof(err));
        if (rc != (cases[i].ok ? 0 : -1))
            fail_msg("%s: rc %d (%s)", cases[i].url, rc, err);
        if (!cases[i].ok) {
            assert_non_null(strstr(err, "zim.endpoint"));
            assert_non_null(strstr(err, "zim.allow_insecure_http"));
            config_set(&cfg, "zim.allow_insecure_http", "true", err,
                       sizeof(err));
            assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
        }
        config_free(&cfg);
    }
}

/* Credentials in zim.endpoint (user:pass@) never show: not in
 * --check-config's dump, not in a configuration error. */
static void test_endpoint_credentials(void **s)
{
    (void)s;
    char out[256];
    config_url_redact("https://zb:s3cr3t@zim.example:8443/v1", out,
                      sizeof(out));
    assert_string_equal(out, "https://[redacted]@zim.example:8443/v1");
    config_url_redact("https://u:p@ss@zim.example/", out, sizeof(out));
    assert_string_equal(out, "https://[redacted]@zim.example/");
    config_url_redact("https://zim.example/a@b", out, sizeof(out));
    assert_string_equal(out, "https://zim.example/a@b"); /* a path's @ */
    struct config cfg;
    char err[512];
    ready(&cfg);
    config_set(&cfg, "zim.endpoint", "https://zb:s3cr3t@zim.example", err,
               sizeof(err));
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
    char *dump = NULL;
    size_t dlen = 0;
    FILE *f = open_memstream(&dump, &dlen);
    config_dump(&cfg, f);
    fclose(f);
    assert_null(strstr(dump, "s3cr3t"));
    assert_non_null(
        strstr(dump, "zim.endpoint = https://[redacted]@zim.example\n"));
    free(dump);
    config_set(&cfg, "zim.endpoint", "http://zb:s3cr3t@10.0.0.1", err,
               sizeof(err));
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
    assert_null(strstr(err, "s3cr3t"));
    assert_non_null(strstr(err, "http://[redacted]@10.0.0.1"));
    config_free(&cfg);
}

/* SASL over a plaintext listener only with kafka.allow_plaintext_sasl,
 * which is ours (from a file or the environment), not librdkafka's. */
static void test_plaintext_sasl(void **s)
{
    (void)s;
    struct config cfg;
    char err[512];
    ready(&cfg);
    config_set(&cfg, "kafka.security.protocol", "sasl_plaintext", err,
               sizeof(err));
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "kafka.allow_plaintext_sasl"));
    config_set(&cfg, "kafka.security.protocol", "SASL_SSL", err, sizeof(err));
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
    config_set(&cfg, "kafka.security.protocol", "SASL_PLAINTEXT", err,
               sizeof(err));
    char *env[] = {"ZIMBRIDGE_KAFKA_ALLOW_PLAINTEXT_SASL=true", NULL};
    assert_int_equal(config_load_env(&cfg, env, err, sizeof(err)), 0);
    assert_null(config_kafka_get(&cfg, "allow.plaintext.sasl"));
    assert_null(config_kafka_get(&cfg, "allow_plaintext_sasl"));
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
    config_free(&cfg);
}

/* The OpenTelemetry SDK's variables set the otel.* settings (a signal's
 * own variable wins over the general one, ZIMBRIDGE_OTEL_* over both);
 * the traces URL; the loopback rule of zim.endpoint; the ratio; only
 * http/json. */
static void test_otel(void **s)
{
    (void)s;
    char err[512], url[256];
    struct config cfg;
    ready(&cfg);
    assert_int_equal(config_otel_url(&cfg, url, sizeof(url)), 0);
    assert_string_equal(url, ""); /* off by default */
    char *env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318/",
                   "OTEL_SERVICE_NAME=聊天-bridge",
                   "OTEL_TRACES_SAMPLER=parentbased_traceidratio",
                   "OTEL_TRACES_SAMPLER_ARG=0.25",
                   "OTEL_EXPORTER_OTLP_HEADERS=api-key=a",
                   "OTEL_EXPORTER_OTLP_TRACES_HEADERS=api-key=b",
                   "OTEL_BSP_MAX_QUEUE_SIZE=4096",
                   "OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod",
                   "ZIMBRIDGE_OTEL_FLUSH_MS=250",
                   NULL};
    assert_int_equal(config_load_env(&cfg, env, err, sizeof(err)), 0);
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
    assert_int_equal(config_otel_url(&cfg, url, sizeof(url)), 0);
    assert_string_equal(url, "http://127.0.0.1:4318/v1/traces");
    assert_string_equal(cfg.otel_service_name, "聊天-bridge");
    assert_int_equal(cfg.otel_sampler, SAMPLER_PARENT_RATIO);
    assert_string_equal(cfg.otel_sampler_arg, "0.25");
    assert_string_equal(cfg.otel_headers, "api-key=b");
    assert_int_equal(cfg.otel_queue_size, 4096);
    assert_int_equal(cfg.otel_flush_ms, 250);
    /* The traces endpoint is used as it is. */
    char *env2[] = {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=https://otel.example/custom", NULL};
    assert_int_equal(config_load_env(&cfg, env2, err, sizeof(err)), 0);
    assert_int_equal(config_otel_url(&cfg, url, sizeof(url)), 0);
    assert_string_equal(url, "https://otel.example/custom");
    config_free(&cfg);
    static const struct {
        const char *key, *value, *says;
    } bad[] = {
        {"otel.endpoint", "http://collector.observability:4318",
         "otel.allow_insecure_http"},
        {"otel.endpoint", "grpc://127.0.0.1:4317", "https://"},
        {"otel.sampler_arg", "1.5", "otel.sampler_arg"},
        {"otel.sampler_arg", "nan", "otel.sampler_arg"},
        {"otel.sampler_arg", "half", "otel.sampler_arg"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ready(&cfg);
        config_set(&cfg, "otel.endpoint", "http://127.0.0.1:4318", err,
                   sizeof(err));
        assert_int_equal(
            config_set(&cfg, bad[i].key, bad[i].value, err, sizeof(err)), 0);
        if (config_finish(&cfg, err, sizeof(err)) != -1 ||
            strstr(err, bad[i].says) == NULL)
            fail_msg("%s = %s: taken or unclear (%s)", bad[i].key, bad[i].value,
                     err);
        config_free(&cfg);
    }
    ready(&cfg);
    char *proto[] = {"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", NULL};
    assert_int_equal(config_load_env(&cfg, proto, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "http/json"));
    char *sampler[] = {"OTEL_TRACES_SAMPLER=jaeger_remote", NULL};
    assert_int_equal(config_load_env(&cfg, sampler, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "OTEL_TRACES_SAMPLER"));
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_ranges),
        cmocka_unit_test(test_file_env_and_dump),
        cmocka_unit_test(test_finish_requires),
        cmocka_unit_test(test_env_service_links),
        cmocka_unit_test(test_plaintext_endpoint),
        cmocka_unit_test(test_otel),
        cmocka_unit_test(test_plaintext_sasl),
        cmocka_unit_test(test_endpoint_credentials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
