/* main.c - zimbridge's entry point: dispatches the subcommands. */
#include "buf.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "replay.h"
#include "service.h"
#include "zim_sign.h"

#include <curl/curl.h>
#include <signal.h>
#include <unistd.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

#ifndef ZB_VERSION
#define ZB_VERSION "0.0.0-dev"
#endif

static const char usage_main[] =
    "usage: zimbridge <command> [options]\n"
    "\n"
    "Bridges chat-send events from Kafka to the ZEGOCLOUD ZIM server API.\n"
    "\n"
    "commands:\n"
    "  run        consume events, call ZIM, publish replies and dead letters\n"
    "  replay     publish dead-letter records back to their topics\n"
    "  validate   check JSON Lines events against the ZIM contract\n"
    "  sign       print a ZIM request signature\n"
    "  config-example  print an example config with every key documented\n"
    "\n"
    "  zimbridge <command> --help   options of one command\n"
    "  zimbridge --version          print the version\n";

static const char usage_validate[] =
    "usage: zimbridge validate --kind peer|group|broadcast [options] "
    "[FILE|-]\n"
    "\n"
    "Reads one event per line (JSON Lines) and prints one JSON object per\n"
    "line: {\"line\":N,\"valid\":true} or {\"line\":N,\"valid\":false,\n"
    "\"field\":...,\"code\":...,\"error\":...}. Exit 0 if all are valid,\n"
    "1 if any is invalid, 2 on usage or I/O errors.\n"
    "\n"
    "options (each sets the config key named, with its range):\n"
    "  -k, --kind KIND                      peer, group or broadcast\n"
    "  -c, --config FILE                    take event.* limits from FILE\n"
    "      --max-message-bytes N            event.max_message_bytes\n"
    "      --max-multi-message-bytes N      event.max_multi_message_bytes\n"
    "      --max-extended-data-bytes N      event.max_extended_data_bytes\n"
    "      --max-searched-content-bytes N   "
    "event.max_searched_content_bytes\n"
    "      --max-record-bytes N             event.max_record_bytes\n"
    "      --unknown-fields reject|pass     event.unknown_fields\n";

static const char usage_sign[] =
    "usage: zimbridge sign --app-id N --nonce HEX --timestamp T "
    "[--secret-file F]\n"
    "\n"
    "Prints md5(AppId + SignatureNonce + ServerSecret + Timestamp) as 32\n"
    "lowercase hex. The secret comes from the file given, or else from the\n"
    "environment variable ZIM_SERVER_SECRET; never from the command line.\n";

static int cmd_validate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"kind", required_argument, NULL, 'k'},
        {"config", required_argument, NULL, 'c'},
        {"max-message-bytes", required_argument, NULL, 1},
        {"max-multi-message-bytes", required_argument, NULL, 2},
        {"max-extended-data-bytes", required_argument, NULL, 3},
        {"max-searched-content-bytes", required_argument, NULL, 4},
        {"max-record-bytes", required_argument, NULL, 5},
        {"unknown-fields", required_argument, NULL, 6},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static const char *const keys[] = {NULL,
                                       "event.max_message_bytes",
                                       "event.max_multi_message_bytes",
                                       "event.max_extended_data_bytes",
                                       "event.max_searched_content_bytes",
                                       "event.max_record_bytes",
                                       "event.unknown_fields"};
    struct config cfg;
    enum event_kind kind = EVENT_PEER;
    int have_kind = 0, c, rc = 2;
    char err[512];
    FILE *in = NULL;
    char *line = NULL;
    size_t cap = 0;
    struct buf out;

    config_init(&cfg);
    buf_init(&out, 1 << 16);
    while ((c = getopt_long(argc, argv, "k:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (event_kind_parse(optarg, &kind) == -1) {
                fprintf(stderr,
                        "validate: --kind: '%s' is not peer, group "
                        "or broadcast\n",
                        optarg);
                goto out;
            }
            have_kind = 1;
            break;
        case 'c':
            if (config_load_file(&cfg, optarg, err, sizeof(err)) == -1) {
                fprintf(stderr, "validate: %s\n", err);
                goto out;
            }
            break;
        case 'h':
            fputs(usage_validate, stdout);
            rc = 0;
            goto out;
        default:
            if (c >= 1 && c <= 6) {
                if (config_set(&cfg, keys[c], optarg, err, sizeof(err)) == -1) {
                    fprintf(stderr, "validate: %s\n", err);
                    goto out;
                }
                break;
            }
            fputs(usage_validate, stderr);
            goto out;
        }
    }
    if (!have_kind || argc - optind > 1) {
        fputs(usage_validate, stderr);
        goto out;
    }
    const char *path = optind < argc ? argv[optind] : "-";
    in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (in == NULL) {
        fprintf(stderr, "validate: %s: %s\n", path, strerror(errno));
        goto out;
    }

    struct event_limits lim;
    config_event_limits(&cfg, &lim);
    int any_invalid = 0;
    ssize_t n;
    long lineno = 0;
    while ((n = getline(&line, &cap, in)) != -1) {
        lineno++;
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n')
            len--;
        struct event ev;
        struct event_error e;
        buf_reset(&out);
        if (event_parse(&ev, kind, line, len, &lim, &e) == 0) {
            buf_printf(&out, "{\"line\":%ld,\"valid\":true}\n", lineno);
            event_free(&ev);
        } else {
            any_invalid = 1;
            buf_printf(&out,
                       "{\"line\":%ld,\"valid\":false,\"field\":", lineno);
            buf_json_str(&out, e.field, strlen(e.field));
            buf_printf(&out, ",\"code\":%lld,\"error\":", (long long)e.code);
            buf_json_str(&out, e.message, strlen(e.message));
            buf_puts(&out, "}\n");
        }
        fwrite(out.data, 1, out.len, stdout);
    }
    if (ferror(in)) {
        fprintf(stderr, "validate: %s: read error\n", path);
        goto out;
    }
    rc = fflush(stdout) == 0 ? any_invalid : 2;
out:
    if (in && in != stdin)
        fclose(in);
    free(line);
    buf_free(&out);
    config_free(&cfg);
    return rc;
}

static int parse_u64(const char *s, unsigned long long max,
                     unsigned long long *out)
{
    char *end = NULL;
    errno = 0;
    if (s[0] == '-' || s[0] == '\0')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* First line of path, trimmed, into out. 0 or -1. */
static int read_secret(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int rc = fgets(out, (int)n, f) ? 0 : -1;
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return rc == 0 && out[0] ? 0 : -1;
}

static int cmd_sign(int argc, char **argv)
{
    static const struct option opts[] = {
        {"app-id", required_argument, NULL, 'a'},
        {"nonce", required_argument, NULL, 'n'},
        {"timestamp", required_argument, NULL, 't'},
        {"secret-file", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *app = NULL, *nonce = NULL, *ts = NULL, *sfile = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            app = optarg;
            break;
        case 'n':
            nonce = optarg;
            break;
        case 't':
            ts = optarg;
            break;
        case 's':
            sfile = optarg;
            break;
        case 'h':
            fputs(usage_sign, stdout);
            return 0;
        default:
            fputs(usage_sign, stderr);
            return 2;
        }
    }
    unsigned long long appv, tsv;
    if (!app || !nonce || !ts || optind != argc) {
        fputs(usage_sign, stderr);
        return 2;
    }
    if (parse_u64(app, UINT32_MAX, &appv) == -1 || appv == 0) {
        fprintf(stderr, "sign: --app-id must be 1..4294967295\n");
        return 2;
    }
    if (parse_u64(ts, INT64_MAX, &tsv) == -1) {
        fprintf(stderr, "sign: --timestamp must be Unix seconds\n");
        return 2;
    }
    if (nonce[0] == '\0' || strlen(nonce) > 64) {
        fprintf(stderr, "sign: --nonce must be 1..64 characters\n");
        return 2;
    }
    char secret[512], sig[ZIM_SIG_LEN + 1];
    if (sfile) {
        if (read_secret(sfile, secret, sizeof(secret)) == -1) {
            fprintf(stderr, "sign: cannot read a secret from %s\n", sfile);
            return 2;
        }
    } else {
        const char *env = getenv("ZIM_SERVER_SECRET");
        if (env == NULL || env[0] == '\0' || strlen(env) >= sizeof(secret)) {
            fprintf(stderr, "sign: set ZIM_SERVER_SECRET or give "
                            "--secret-file\n");
            return 2;
        }
        snprintf(secret, sizeof(secret), "%s", env);
    }
    int rc = zim_sign((uint32_t)appv, nonce, secret, (int64_t)tsv, sig);
    memset(secret, 0, sizeof(secret));
    if (rc == -1) {
        fprintf(stderr, "sign: input too long\n");
        return 2;
    }
    printf("%s\n", sig);
    return 0;
}

static const char usage_run[] =
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

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    if (stop_requested)
        _exit(EXIT_FAILURE); /* second signal: the operator insists */
    stop_requested = sig;
}

static int cmd_run(int argc, char **argv)
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
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'C':
            check = 1;
            break;
        case 'h':
            fputs(usage_run, stdout);
            rc = 0;
            goto out;
        default:
            fputs(usage_run, stderr);
            goto out;
        }
    }
    if (optind != argc) {
        fputs(usage_run, stderr);
        goto out;
    }
    if ((path && config_load_file(&cfg, path, err, sizeof(err)) == -1) ||
        config_load_env(&cfg, environ, err, sizeof(err)) == -1 ||
        config_finish(&cfg, err, sizeof(err)) == -1) {
        fprintf(stderr, "zimbridge: configuration: %s\n", err);
        goto out;
    }
    if (check) {
        config_dump(&cfg, stdout);
        rc = 0;
        goto out;
    }
    log_setup((enum log_level)cfg.log_level, (enum log_format)cfg.log_format);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = service_run(&cfg, &stop_requested);
    curl_global_cleanup();
out:
    config_free(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("zimbridge %s\n", ZB_VERSION);
        return 0;
    }
    /* Subcommands parse their own options from argv[1] on. */
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "sign") == 0)
        return cmd_sign(argc - 1, argv + 1);
    if (strcmp(cmd, "config-example") == 0) {
        config_write_example(stdout);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "replay") == 0)
        return replay_main(argc - 1, argv + 1);
    fprintf(stderr, "zimbridge: unknown command '%s'\n\n%s", cmd, usage_main);
    return 2;
}
