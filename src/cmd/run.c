/* run.c - `zimbridge run`: the bridge itself (bridge/service.c), after its
 * configuration is read and checked. */
#include "cmd.h"

#include "config.h"
#include "kafka_conf.h"
#include "log.h"
#include "service.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>

extern char **environ;

static const char usage[] =
    "usage: zimbridge run [--config FILE] [--check-config]\n"
    "\n"
    "Consumes the peer, group and broadcast topics, calls ZIM, and writes\n"
    "one reply record per event and one dead-letter record per failure.\n"
    "Settings come from FILE (key = value) and ZIMBRIDGE_* environment\n"
    "variables, which win; see config/zimbridge.conf.example.\n"
    "\n"
    "  -c, --config FILE   the configuration file (optional)\n"
    "      --check-config  validate, print the effective settings with\n"
    "                      secrets [redacted], and exit (0 valid, 2 not)\n"
    "\n"
    "SIGTERM or SIGINT: drain in-flight calls (shutdown.drain_ms), commit,\n"
    "and exit; a second signal exits at once.\n";

/* What start-up would refuse beyond config_finish: every kafka.* key and
 * value as librdkafka takes them (for the consumer and the producer, with
 * the SASL password file read), and zim.endpoint as libcurl parses it.
 * --check-config runs it too, so a config it passes starts. 0 or -1. */
static int check_deep(const struct config *cfg, char *err, size_t errlen)
{
    for (int role = KAFKA_CONF_CONSUMER; role <= KAFKA_CONF_PRODUCER; role++) {
        rd_kafka_conf_t *conf =
            kafka_conf_new(cfg, (enum kafka_conf_role)role, err, errlen);
        if (conf == NULL)
            return -1;
        rd_kafka_conf_destroy(conf);
    }
    CURLU *u = curl_url();
    CURLUcode uc = u ? curl_url_set(u, CURLUPART_URL, cfg->endpoint, 0)
                     : CURLUE_OUT_OF_MEMORY;
    curl_url_cleanup(u);
    if (uc != CURLUE_OK) {
        char shown[256]; /* cut: the message must keep curl's reason */
        config_url_redact(cfg->endpoint, shown, sizeof(shown));
        snprintf(err, errlen, "zim.endpoint '%.256s' is not a URL: %s", shown,
                 curl_url_strerror(uc));
        return -1;
    }
    return 0;
}

int cmd_run(int argc, char **argv, volatile sig_atomic_t *stop)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int check = 0, c, rc = 2;
    char err[512];
    struct config cfg;
    config_init(&cfg);
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
        } else if (c == 'C') {
            check = 1;
        } else {
            fputs(usage, c == 'h' ? stdout : stderr);
            rc = c == 'h' ? 0 : 2;
            goto out;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        goto out;
    }
    if ((path && config_load_file(&cfg, path, err, sizeof(err)) == -1) ||
        config_load_env(&cfg, environ, err, sizeof(err)) == -1 ||
        config_finish(&cfg, err, sizeof(err)) == -1 ||
        check_deep(&cfg, err, sizeof(err)) == -1) {
        fprintf(stderr, "zimbridge: configuration: %s\n", err);
        goto out;
    }
    if (check) {
        config_dump(&cfg, stdout);
        rc = 0;
        goto out;
    }
    log_setup((enum log_level)cfg.log_level, (enum log_format)cfg.log_format);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = service_run(&cfg, stop);
    curl_global_cleanup();
out:
    config_free(&cfg);
    return rc;
}
