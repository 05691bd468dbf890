/* main.c - zimbridge's entry point: dispatches the subcommands (cmd.h) and
 * owns the process: the signal handlers, and the exit status. */
#include "cmd.h"

#include "config.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <librdkafka/rdkafka.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef ZB_VERSION
#define ZB_VERSION "0.0.0-dev"
#endif

static const char usage[] =
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
    "  zimbridge --version          print the version and the libraries'\n";

static volatile sig_atomic_t stop_requested;
static int insist_status; /* the exit status on a second signal */

static void on_signal(int sig)
{
    if (stop_requested)
        _exit(insist_status); /* second signal: the operator insists */
    stop_requested = sig;     /* the command sees it within one poll */
}

/* SIGTERM and SIGINT ask a long-running command to stop; SIGPIPE is
 * ignored (a closed socket is an error return, not a death). */
static void install_signals(int insist)
{
    insist_status = insist;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* zimbridge's version, then the libraries' it runs with (not built with:
 * the image and the host may differ). */
static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    printf("zimbridge %s\nlibrdkafka %s\nlibcurl %s\njson-c %s\n%s\n",
           ZB_VERSION, rd_kafka_version_str(), cv->version, json_c_version(),
           OpenSSL_version(OPENSSL_VERSION));
    return 0;
}

static int cmd_config_example(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    config_write_example(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } simple[] = {{"validate", cmd_validate},
                  {"sign", cmd_sign},
                  {"config-example", cmd_config_example},
                  {"--version", cmd_version},
                  {"version", cmd_version}};
    /* Every command may hold a secret (the ServerSecret, Kafka's
     * passwords): no core dump, and no ptrace or /proc/PID/mem from other
     * users, including the same uid in another container. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
        perror("zimbridge: prctl(PR_SET_DUMPABLE)");
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    /* Subcommands parse their own options from argv[1] on. */
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
        if (strcmp(cmd, simple[i].name) == 0)
            return simple[i].fn(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0) {
        install_signals(EXIT_FAILURE);
        return cmd_run(argc - 1, argv + 1, &stop_requested);
    }
    if (strcmp(cmd, "replay") == 0) {
        install_signals(3);
        return cmd_replay(argc - 1, argv + 1, &stop_requested);
    }
    fprintf(stderr, "zimbridge: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
