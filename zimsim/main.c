/* zimsim_main.c - zimsim, the ZIM server simulator used by tests, the
 * demo and the benchmarks. Prints its base URL as the first stdout line. */
#define LOG_COMPONENT "zimsim"
#include "fileio.h"
#include "log.h"
#include "sim.h"
#include "sim_http.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: zimsim --app-id N --secret-file F [options]\n"
    "\n"
    "Simulates the ZEGOCLOUD ZIM server API (SendPeerMessage,\n"
    "SendGroupMessage, SendMessageToAllUsers, SendRoomMessage) over HTTP or\n"
    "HTTPS. The first line on stdout is the base URL. SIGTERM or SIGINT\n"
    "stops it.\n"
    "\n"
    "  --listen HOST:PORT        address (default 127.0.0.1:0, a free port)\n"
    "  --app-id N                the AppId requests must carry (required)\n"
    "  --secret-file F           the ServerSecret, first line (required)\n"
    "  --users F                 registered users, one per line\n"
    "                            (default: every user exists)\n"
    "  --groups F                groups, 'groupid: member member ...'\n"
    "                            (default: every group exists)\n"
    "  --rooms F                 rooms, 'roomid' or 'roomid: user1,user2'\n"
    "                            (the users online in it; default: every\n"
    "                            room exists, every user is online in it)\n"
    "  --banned-words F          words failing moderation (AuditInfos)\n"
    "  --qps-peer N              SendPeerMessage limit/s (20; 0 = off)\n"
    "  --qps-group N             SendGroupMessage limit/s (10; 0 = off)\n"
    "  --qps-broadcast N         SendMessageToAllUsers limit/s (1; 0 = off)\n"
    "  --qps-room N              SendRoomMessage limit/s (10; 0 = off)\n"
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
    "fail_next {code,count,match}, fail_clear, secret, users_add,\n"
    "users_remove, groups_add, rooms_add {id: [online users] or null},\n"
    "success_message and audit_reason (the words\n"
    "of answers, in any language), garble_next {count,match,body}: deliver,\n"
    "then answer 200 with body instead of JSON).\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    if (stop_requested)
        _exit(EXIT_FAILURE);
    stop_requested = sig;
}

/* The command line, as one table: each flag's type, range and field. */
struct args {
    struct sim_options so;
    const char *listen, *secret_file, *cert_file, *key_file;
    uint32_t threads;
    enum log_level level;
};

enum ftype { F_STR = 0, F_U32, F_I64, F_U64, F_DBL, F_LEVEL };

struct flag {
    const char *name;
    enum ftype type;
    double lo, hi;
    size_t off;
};

#define A(m) offsetof(struct args, m)
static const struct flag flags[] = {
    {"listen", F_STR, 0, 0, A(listen)},
    {"app-id", F_U32, 1, 4294967295.0, A(so.app_id)},
    {"secret-file", F_STR, 0, 0, A(secret_file)},
    {"users", F_STR, 0, 0, A(so.users_file)},
    {"groups", F_STR, 0, 0, A(so.groups_file)},
    {"rooms", F_STR, 0, 0, A(so.rooms_file)},
    {"banned-words", F_STR, 0, 0, A(so.banned_file)},
    {"qps-peer", F_DBL, 0, 1e6, A(so.qps[EVENT_PEER])},
    {"qps-group", F_DBL, 0, 1e6, A(so.qps[EVENT_GROUP])},
    {"qps-broadcast", F_DBL, 0, 1e6, A(so.qps[EVENT_BROADCAST])},
    {"qps-room", F_DBL, 0, 1e6, A(so.qps[EVENT_ROOM])},
    {"broadcast-daily", F_I64, 0, 1e7, A(so.broadcast_daily)},
    {"broadcast-window-ms", F_I64, 1, 1e10, A(so.broadcast_window_ms)},
    {"max-message-bytes", F_I64, 1, 1 << 20, A(so.max_message_bytes)},
    {"tls-cert", F_STR, 0, 0, A(cert_file)},
    {"tls-key", F_STR, 0, 0, A(key_file)},
    {"latency-ms", F_I64, 0, 600000, A(so.latency_ms)},
    {"jitter-ms", F_I64, 0, 600000, A(so.jitter_ms)},
    {"fail-rate", F_DBL, 0, 1, A(so.busy_rate)},
    {"http-error-rate", F_DBL, 0, 1, A(so.http_error_rate)},
    {"drop-rate", F_DBL, 0, 1, A(so.drop_rate)},
    {"threads", F_U32, 1, 64, A(threads)},
    {"max-log", F_I64, 0, 1e9, A(so.max_log_entries)},
    {"seed", F_U64, 0, 1e18, A(so.seed)},
    {"log-level", F_LEVEL, 0, 0, A(level)},
};
#define N_FLAGS (sizeof(flags) / sizeof(flags[0]))

/* Stores v into the flag's field. 0, or -1 after saying why. */
static int set_flag(struct args *a, const struct flag *f, const char *v)
{
    void *dst = (char *)a + f->off;
    if (f->type == F_STR) {
        *(const char **)dst = v;
        return 0;
    }
    if (f->type == F_LEVEL) {
        if (log_level_parse(v, dst) == 0)
            return 0;
        fprintf(stderr, "zimsim: --%s: '%s'?\n", f->name, v);
        return -1;
    }
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || d < f->lo || d > f->hi) {
        fprintf(stderr, "zimsim: --%s: '%s' is not in [%g, %g]\n", f->name, v,
                f->lo, f->hi);
        return -1;
    }
    if (f->type == F_U32)
        *(uint32_t *)dst = (uint32_t)d;
    else if (f->type == F_I64)
        *(int64_t *)dst = (int64_t)d;
    else if (f->type == F_U64)
        *(uint64_t *)dst = (uint64_t)d;
    else
        *(double *)dst = d;
    return 0;
}

/* Fills a from argv. 0 to run, 1 after --help, 2 on a usage error. */
static int parse_args(int argc, char **argv, struct args *a)
{
    struct option opts[N_FLAGS + 2];
    for (size_t i = 0; i < N_FLAGS; i++)
        opts[i] =
            (struct option){flags[i].name, required_argument, NULL, (int)i + 1};
    opts[N_FLAGS] = (struct option){"help", no_argument, NULL, 'h'};
    opts[N_FLAGS + 1] = (struct option){NULL, 0, NULL, 0};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return 1;
        }
        if (c < 1 || c > (int)N_FLAGS) {
            fputs(usage, stderr);
            return 2;
        }
        if (set_flag(a, &flags[c - 1], optarg) == -1)
            return 2;
    }
    if (a->so.app_id == 0 || a->secret_file == NULL || optind != argc ||
        (!a->cert_file != !a->key_file)) {
        fputs(usage, stderr);
        return 2;
    }
    return 0;
}

/* Serves until a signal. 0, or 1 on a failure (logged). */
static int serve(struct sim *s, const struct args *a, const char *cert,
                 const char *key)
{
    char err[512];
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct sim_http *h =
        sim_http_new(s, a->listen, cert, key, a->threads, err, sizeof(err));
    if (h == NULL) {
        fprintf(stderr, "zimsim: %s\n", err);
        return 1;
    }
    printf("%s\n", sim_http_url(h));
    fflush(stdout);
    log_info("listening on %s app_id=%u", sim_http_url(h), a->so.app_id);
    int rc = 0;
    while (!stop_requested && rc == 0) {
        if (sim_http_tick(h, err, sizeof(err)) == -1) {
            log_error("%s", err);
            rc = 1;
        }
        usleep(10000);
    }
    if (rc == 0)
        log_info("stopping on signal %d", (int)stop_requested);
    sim_http_destroy(h);
    return rc;
}

int main(int argc, char **argv)
{
    struct args a = {
        .so = {.qps = {[EVENT_PEER] = 20,
                       [EVENT_GROUP] = 10,
                       [EVENT_BROADCAST] = 1,
                       [EVENT_ROOM] = 10},
               .broadcast_daily = 100,
               .broadcast_window_ms = 86400000,
               .max_message_bytes = 2048,
               .max_log_entries = 2000000},
        .listen = "127.0.0.1:0",
        .threads = 2,
        .level = LOG_INFO,
    };
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    log_setup(a.level, LOG_FORMAT_TEXT);
    char err[512], *secret = NULL, *cert = NULL, *key = NULL;
    struct sim *s = NULL;
    rc = 2;
    if (file_read_secret(a.secret_file, &secret, err, sizeof(err)) == -1) {
        fprintf(stderr, "zimsim: --secret-file %s\n", err);
        goto out;
    }
    if (a.cert_file &&
        ((cert = file_read(a.cert_file, 1 << 20, NULL)) == NULL ||
         (key = file_read(a.key_file, 1 << 20, NULL)) == NULL)) {
        fprintf(stderr, "zimsim: cannot read --tls-cert/--tls-key: %s\n",
                strerror(errno));
        goto out;
    }
    a.so.secret = secret;
    s = sim_new(&a.so, err, sizeof(err));
    if (s == NULL) {
        fprintf(stderr, "zimsim: %s\n", err);
        rc = 1;
        goto out;
    }
    rc = serve(s, &a, cert, key);
out:
    sim_destroy(s);
    file_free_secret(secret);
    free(cert);
    file_free_secret(key);
    return rc;
}
