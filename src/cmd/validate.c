/* validate.c - `zimbridge validate`: JSON Lines events checked against the
 * ZIM contract, without Kafka. */
#include "cmd.h"

#include "buf.h"
#include "config.h"
#include "event.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: zimbridge validate --kind KIND [options] [FILE|-]\n"
    "\n"
    "Reads one event per line (JSON Lines) and prints one JSON object per\n"
    "line: {\"line\":N,\"valid\":true} or {\"line\":N,\"valid\":false,\n"
    "\"field\":...,\"code\":...,\"error\":...}. Exit 0 if all are valid,\n"
    "1 if any is invalid, 2 on usage or I/O errors.\n"
    "\n"
    "options (each sets the config key named, with its range):\n"
    "  -k, --kind KIND                      peer, group, broadcast or room\n"
    "  -c, --config FILE                    take event.* limits from FILE\n"
    "      --max-message-bytes N            event.max_message_bytes\n"
    "      --max-multi-message-bytes N      event.max_multi_message_bytes\n"
    "      --max-extended-data-bytes N      event.max_extended_data_bytes\n"
    "      --max-searched-content-bytes N   "
    "event.max_searched_content_bytes\n"
    "      --max-record-bytes N             event.max_record_bytes\n"
    "      --unknown-fields reject|pass     event.unknown_fields\n"
    "      --max-recipients N               peer.max_recipients\n";

/* The options that set a config key, by name. */
static const struct {
    const char *option, *key;
} keyed[] = {
    {"max-message-bytes", "event.max_message_bytes"},
    {"max-multi-message-bytes", "event.max_multi_message_bytes"},
    {"max-extended-data-bytes", "event.max_extended_data_bytes"},
    {"max-searched-content-bytes", "event.max_searched_content_bytes"},
    {"max-record-bytes", "event.max_record_bytes"},
    {"unknown-fields", "event.unknown_fields"},
    {"max-recipients", "peer.max_recipients"},
};
#define N_KEYED (sizeof(keyed) / sizeof(keyed[0]))

/* Fills cfg and *kind from argv; *path gets the input. 0 to go on, 1
 * after --help, 2 on a usage error (said on stderr). */
static int parse_args(int argc, char **argv, struct config *cfg,
                      enum event_kind *kind, const char **path)
{
    struct option opts[N_KEYED + 4];
    for (size_t i = 0; i < N_KEYED; i++)
        opts[i] = (struct option){keyed[i].option, required_argument, NULL,
                                  (int)i + 1};
    opts[N_KEYED] = (struct option){"kind", required_argument, NULL, 'k'};
    opts[N_KEYED + 1] = (struct option){"config", required_argument, NULL, 'c'};
    opts[N_KEYED + 2] = (struct option){"help", no_argument, NULL, 'h'};
    opts[N_KEYED + 3] = (struct option){NULL, 0, NULL, 0};
    char err[512];
    int c, have_kind = 0;
    while ((c = getopt_long(argc, argv, "k:c:h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return 1;
        }
        if (c == 'k' && event_kind_parse(optarg, kind) == -1) {
            fprintf(stderr, "validate: --kind: '%s' is not %s\n", optarg,
                    event_kind_list());
            return 2;
        }
        have_kind |= c == 'k';
        if ((c == 'c' && config_load_file(cfg, optarg, err, sizeof(err))) ||
            (c >= 1 && c <= (int)N_KEYED &&
             config_set(cfg, keyed[c - 1].key, optarg, err, sizeof(err)))) {
            fprintf(stderr, "validate: %s\n", err);
            return 2;
        }
        if (c == '?' || c == ':') {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!have_kind || argc - optind > 1) {
        fputs(usage, stderr);
        return 2;
    }
    *path = optind < argc ? argv[optind] : "-";
    return 0;
}

/* One line's verdict as a JSON line into out. 1 if invalid. */
static int check_line(enum event_kind kind, const char *line, size_t len,
                      long lineno, const struct event_limits *lim,
                      struct buf *out)
{
    struct event ev;
    struct event_error e;
    buf_reset(out);
    if (event_parse(&ev, kind, line, len, lim, &e) == 0) {
        buf_printf(out, "{\"line\":%ld,\"valid\":true}\n", lineno);
        event_free(&ev);
        return 0;
    }
    buf_printf(out, "{\"line\":%ld,\"valid\":false,\"field\":", lineno);
    buf_json_str(out, e.field, strlen(e.field));
    buf_printf(out, ",\"code\":%lld,\"error\":", (long long)e.code);
    buf_json_str(out, e.message, strlen(e.message));
    buf_puts(out, "}\n");
    return 1;
}

int cmd_validate(int argc, char **argv)
{
    struct config cfg;
    enum event_kind kind = EVENT_PEER;
    const char *path = NULL;
    FILE *in = NULL;
    char *line = NULL;
    size_t cap = 0;
    struct buf out;
    config_init(&cfg);
    buf_init(&out, 1 << 16); /* fields and messages are short: it fits */
    int rc = parse_args(argc, argv, &cfg, &kind, &path);
    if (rc != 0) {
        rc = rc == 1 ? 0 : 2;
        goto out;
    }
    rc = 2;
    in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (in == NULL) {
        fprintf(stderr, "validate: %s: %s\n", path, strerror(errno));
        goto out;
    }
    struct event_limits lim;
    event_limits_from_config(&cfg, &lim);
    int any_invalid = 0;
    ssize_t n;
    long lineno = 0;
    while ((n = getline(&line, &cap, in)) != -1) {
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n')
            len--;
        any_invalid |= check_line(kind, line, len, ++lineno, &lim, &out);
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
