/* test_kafka_conf.c - every Kafka secret may come from a file:
 * kafka.<property>_file, or ZIMBRIDGE_KAFKA_<PROPERTY>_FILE; librdkafka
 * gets the file's first line as the property, and a missing file is a
 * configuration error naming the setting. */
#include "config.h"
#include "kafka_conf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void expect_prop(rd_kafka_conf_t *conf, const char *prop,
                        const char *want)
{
    char got[256];
    size_t n = sizeof(got);
    assert_int_equal(rd_kafka_conf_get(conf, prop, got, &n), RD_KAFKA_CONF_OK);
    assert_string_equal(got, want);
}

static void test_secret_files(void **s)
{
    (void)s;
    char dir[] = "/tmp/zbkconf.XXXXXX", a[64], b[64], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(a, sizeof(a), "%s/key-password", dir);
    snprintf(b, sizeof(b), "%s/oauth-config", dir);
    write_file(a, "  kp 秘密 \nsecond line ignored\n");
    write_file(b, "principal=用户😀\n");
    struct config cfg;
    config_init(&cfg);
    assert_int_equal(
        config_set(&cfg, "kafka.ssl.key.password_file", a, err, sizeof(err)),
        0);
    char env[128];
    snprintf(env, sizeof(env),
             "ZIMBRIDGE_KAFKA_SASL_OAUTHBEARER_CONFIG_FILE=%s", b);
    char *envp[] = {env, NULL};
    assert_int_equal(config_load_env(&cfg, envp, err, sizeof(err)), 0);
    for (int role = KAFKA_CONF_CONSUMER; role <= KAFKA_CONF_PRODUCER; role++) {
        rd_kafka_conf_t *conf =
            kafka_conf_new(&cfg, (enum kafka_conf_role)role, err, sizeof(err));
        if (conf == NULL)
            fail_msg("%s", err);
        expect_prop(conf, "ssl.key.password", "kp 秘密");
        expect_prop(conf, "sasl.oauthbearer.config", "principal=用户😀");
        rd_kafka_conf_destroy(conf);
    }
    /* A missing file names the setting. */
    unlink(a);
    assert_null(kafka_conf_new(&cfg, KAFKA_CONF_CONSUMER, err, sizeof(err)));
    assert_non_null(strstr(err, "kafka.ssl.key.password_file"));
    assert_non_null(strstr(err, a));
    config_free(&cfg);
    unlink(b);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
