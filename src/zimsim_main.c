/* zimsim_main.c - zimsim, the ZIM server simulator used by tests, the
 * demo and the benchmarks. Prints its base URL as the first stdout line. */
#define LOG_COMPONENT "zimsim"
#include "log.h"
#include "sim.h"
#include "sim_http.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: zimsim --app-id N --secret-file F [options]\n"
    "\n"
    "Simulates the ZEGOCLOUD ZIM server API (SendPeerMessage,\n"
    "SendGroupMessage, SendMessageToAllUsers) over HTTP or HTTPS. The first\n"
    "line on stdout is the base URL. SIGTERM or SIGINT stops it.\n"
    "\n"
    "  --listen HOST:PORT        address (default 127.0.0.1:0, a free port)\n"
    "  --app-id N                the AppId requests must carry (required)\n"
    "  --secret-file F           the ServerSecret, first line (required)\n"
    "  --users F                 registered users, one per line\n"
    "                            (default: every user exists)\n"
    "  --groups F                groups, 'groupid: member member ...'\n"
    "                            (default: every group exists)\n"
    "  --banned-words F          words failing moderation (AuditInfos)\n"
    "  --qps-peer N              SendPeerMessage limit/s (20; 0 = off)\n"
    "  --qps-group N             SendGroupMessage limit/s (10; 0 = off)\n"
    "  --qps-broadcast N         SendMessageToAllUsers limit/s (1; 0 = off)\n"
    "  --broadcast-daily N       broadcasts per window (100; 0 = off)\n"
    "  --broadcast-window-ms N   the broadcast window (86400000 = 24 h)\n"
    "  --max-message-bytes N     Message limit (2048)\n"
    "  --tls-cert F --tls-key F  serve HTTPS with this PEM pair\n"
    "  --latency-ms N            added latency per API call (0)\n"
    "  --jitter-ms N             plus a random 0..N ms (0)\n"
    "  --fail-rate P             share of calls answered Code 1 (0..1)\n"
    "  --http-error-rate P       share answered HTTP 503 (0..1)\n"
    "  --drop-rate P             share whose connection is closed unanswered\n"
    "  --threads N               epoll thread pool size (2)\n"
    "  --max-log N               entries kept per log (2000000)\n"
    "  --seed N                  randomness for the fault rates\n"
    "  --log-level L             error|warn|info|debug (info)\n"
    "\n"
    "Test endpoints: GET /_sim/messages, GET /_sim/requests (JSON Lines),\n"
    "GET /_sim/stats, POST /_sim/reset, POST /_sim/control (JSON: latency_ms,\n"
    "jitter_ms, busy_rate, http_error_rate, http_error_status, drop_rate,\n"
    "down refuse|hang|up with down_ms, force_code with force_ms,\n"
    "fail_next {code,count,match}, users_add, users_remove, groups_add).\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    if (stop_requested)
        _exit(EXIT_FAILURE);
    stop_requested = sig;
}

static char *slurp(const char *path, size_t max)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *s = calloc(1, max + 1);
    size_t n = s ? fread(s, 1, max, f) : 0;
    fclose(f);
    if (s)
        s[n] = '\0';
    return s;
}

static int num(const char *opt, const char *v, double lo, double hi,
               double *out)
{
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || d < lo || d > hi) {
        fprintf(stderr, "zimsim: --%s: '%s' is not in [%g, %g]\n", opt, v, lo,
                hi);
        return -1;
    }
    *out = d;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"app-id", required_argument, NULL, 'a'},
        {"secret-file", required_argument, NULL, 's'},
        {"users", required_argument, NULL, 'u'},
        {"groups", required_argument, NULL, 'g'},
        {"banned-words", required_argument, NULL, 'b'},
        {"qps-peer", required_argument, NULL, 1},
        {"qps-group", required_argument, NULL, 2},
        {"qps-broadcast", required_argument, NULL, 3},
        {"broadcast-daily", required_argument, NULL, 4},
        {"broadcast-window-ms", required_argument, NULL, 5},
        {"max-message-bytes", required_argument, NULL, 6},
        {"tls-cert", required_argument, NULL, 7},
        {"tls-key", required_argument, NULL, 8},
        {"latency-ms", required_argument, NULL, 9},
        {"jitter-ms", required_argument, NULL, 10},
        {"fail-rate", required_argument, NULL, 11},
        {"http-error-rate", required_argument, NULL, 12},
        {"drop-rate", required_argument, NULL, 13},
        {"threads", required_argument, NULL, 14},
        {"max-log", required_argument, NULL, 15},
        {"seed", required_argument, NULL, 16},
        {"log-level", required_argument, NULL, 17},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct sim_options so = {
        .qps = {20, 10, 1},
        .broadcast_daily = 100,
        .broadcast_window_ms = 86400000,
        .max_message_bytes = 2048,
        .max_log_entries = 2000000,
    };
    const char *listen = "127.0.0.1:0", *secret_file = NULL;
    const char *cert_file = NULL, *key_file = NULL;
    double app = 0, d = 0, threads = 2;
    enum log_level level = LOG_INFO;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case 'a':
            bad = num("app-id", optarg, 1, 4294967295.0, &app);
            break;
        case 's':
            secret_file = optarg;
            break;
        case 'u':
            so.users_file = optarg;
            break;
        case 'g':
            so.groups_file = optarg;
            break;
        case 'b':
            so.banned_file = optarg;
            break;
        case 1:
        case 2:
        case 3:
            bad = num(opts[c + 5].name, optarg, 0, 1e6, &so.qps[c - 1]);
            break;
        case 4:
            bad = num("broadcast-daily", optarg, 0, 1e7, &d);
            so.broadcast_daily = (int64_t)d;
            break;
        case 5:
            bad = num("broadcast-window-ms", optarg, 1, 1e10, &d);
            so.broadcast_window_ms = (int64_t)d;
            break;
        case 6:
            bad = num("max-message-bytes", optarg, 1, 1 << 20, &d);
            so.max_message_bytes = (int64_t)d;
            break;
        case 7:
            cert_file = optarg;
            break;
        case 8:
            key_file = optarg;
            break;
        case 9:
            bad = num("latency-ms", optarg, 0, 600000, &d);
            so.latency_ms = (int64_t)d;
            break;
        case 10:
            bad = num("jitter-ms", optarg, 0, 600000, &d);
            so.jitter_ms = (int64_t)d;
            break;
        case 11:
            bad = num("fail-rate", optarg, 0, 1, &so.busy_rate);
            break;
        case 12:
            bad = num("http-error-rate", optarg, 0, 1, &so.http_error_rate);
            break;
        case 13:
            bad = num("drop-rate", optarg, 0, 1, &so.drop_rate);
            break;
        case 14:
            bad = num("threads", optarg, 1, 64, &threads);
            break;
        case 15:
            bad = num("max-log", optarg, 0, 1e9, &d);
            so.max_log_entries = (int64_t)d;
            break;
        case 16:
            bad = num("seed", optarg, 0, 1e18, &d);
            so.seed = (uint64_t)d;
            break;
        case 17:
            if (log_level_parse(optarg, &level) == -1) {
                fprintf(stderr, "zimsim: --log-level: '%s'?\n", optarg);
                bad = 1;
            }
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
        if (bad)
            return 2;
    }
    if (app == 0 || secret_file == NULL || optind != argc ||
        (!cert_file != !key_file)) {
        fputs(usage, stderr);
        return 2;
    }
    log_setup(level, LOG_FORMAT_TEXT);
    so.app_id = (uint32_t)app;
    char *secret = slurp(secret_file, 1024);
    if (secret == NULL) {
        fprintf(stderr, "zimsim: %s: %s\n", secret_file, strerror(errno));
        return 2;
    }
    secret[strcspn(secret, "\r\n")] = '\0';
    so.secret = secret;
    char *cert = cert_file ? slurp(cert_file, 1 << 20) : NULL;
    char *key = key_file ? slurp(key_file, 1 << 20) : NULL;
    if (cert_file && (!cert || !key)) {
        fprintf(stderr, "zimsim: cannot read --tls-cert/--tls-key\n");
        return 2;
    }

    char err[512];
    int rc = 1;
    struct sim_http *h = NULL;
    struct sim *s = sim_new(&so, err, sizeof(err));
    memset(secret, 0, strlen(secret));
    free(secret);
    if (s == NULL) {
        fprintf(stderr, "zimsim: %s\n", err);
        goto out;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((h = sim_http_new(s, listen, cert, key, (unsigned)threads, err,
                          sizeof(err))) == NULL) {
        fprintf(stderr, "zimsim: %s\n", err);
        goto out;
    }
    printf("%s\n", sim_http_url(h));
    fflush(stdout);
    log_info("listening on %s app_id=%u", sim_http_url(h), so.app_id);
    while (!stop_requested) {
        if (sim_http_tick(h, err, sizeof(err)) == -1) {
            log_error("%s", err);
            goto out;
        }
        usleep(10000);
    }
    log_info("stopping on signal %d", (int)stop_requested);
    rc = 0;
out:
    sim_http_destroy(h);
    sim_destroy(s);
    free(cert);
    if (key)
        memset(key, 0, strlen(key));
    free(key);
    return rc;
}
