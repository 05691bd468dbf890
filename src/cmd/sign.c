/* sign.c - `zimbridge sign`: a ZIM request signature, for checking a
 * signature by hand. The secret never comes from the command line. */
#include "cmd.h"

#include "buf.h"
#include "event_kind.h"
#include "fileio.h"
#include "zim_sign.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: zimbridge sign --app-id N --nonce HEX --timestamp T "
    "[--secret-file F] [--action A]\n"
    "\n"
    "Prints md5(AppId + SignatureNonce + ServerSecret + Timestamp) as 32\n"
    "lowercase hex. The secret comes from the file given, or else from the\n"
    "environment variable ZIM_SERVER_SECRET; never from the command line.\n"
    "With --action (peer, group, broadcast, room, or the ZIM action name),\n"
    "also the signed request target for it, to try a call by hand:\n"
    "/?Action=SendRoomMessage&AppId=...&Signature=... (the nonce must then\n"
    "be 16 hex characters, as the bridge sends).\n";

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

struct sign_args {
    const char *app, *nonce, *ts, *secret_file, *action;
};

/* 0 to go on, 1 after --help, 2 on a usage error (said on stderr). */
static int parse_args(int argc, char **argv, struct sign_args *a)
{
    static const struct option opts[] = {
        {"app-id", required_argument, NULL, 'a'},
        {"nonce", required_argument, NULL, 'n'},
        {"timestamp", required_argument, NULL, 't'},
        {"secret-file", required_argument, NULL, 's'},
        {"action", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        const char **dst = c == 'a'   ? &a->app
                           : c == 'n' ? &a->nonce
                           : c == 't' ? &a->ts
                           : c == 's' ? &a->secret_file
                           : c == 'A' ? &a->action
                                      : NULL;
        if (dst) {
            *dst = optarg;
            continue;
        }
        fputs(usage, c == 'h' ? stdout : stderr);
        return c == 'h' ? 1 : 2;
    }
    if (!a->app || !a->nonce || !a->ts || optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    return 0;
}

/* The secret from --secret-file or ZIM_SERVER_SECRET. NULL after saying
 * why. The caller frees it with file_free_secret(). */
static char *load_secret(const char *file)
{
    char *secret = NULL, err[512];
    if (file) {
        if (file_read_secret(file, &secret, err, sizeof(err)) == -1)
            fprintf(stderr, "sign: cannot read a secret from %s\n", err);
        return secret;
    }
    const char *env = getenv("ZIM_SERVER_SECRET");
    if (env == NULL || env[0] == '\0') {
        fprintf(stderr, "sign: set ZIM_SERVER_SECRET or give --secret-file\n");
        return NULL;
    }
    if ((secret = strdup(env)) == NULL)
        fprintf(stderr, "sign: out of memory\n");
    return secret;
}

/* The action --action names: a short name or a ZIM action name. -1. */
static int action_named(const char *s)
{
    enum event_kind k;
    if (event_kind_parse(s, &k) == 0)
        return (int)k;
    return event_kind_of_action(s);
}

/* 16 hex characters into 8 bytes. 0 or -1. */
static int nonce_bytes(const char *hex, unsigned char out[ZIM_NONCE_BYTES])
{
    if (strlen(hex) != ZIM_NONCE_LEN)
        return -1;
    for (int i = 0; i < ZIM_NONCE_BYTES; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char h = hex[2 * i + k];
            int d = h >= '0' && h <= '9'   ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                           : -1;
            if (d < 0)
                return -1;
            v = v * 16 + (unsigned)d;
        }
        out[i] = (unsigned char)v;
    }
    return 0;
}

/* --action: the signed request target on a line of its own. 0 or 2. */
static int print_target(const struct sign_args *a, uint32_t app,
                        const char *secret, int64_t ts)
{
    int kind = action_named(a->action); /* both checked by cmd_sign */
    unsigned char rnd[ZIM_NONCE_BYTES];
    if (kind < 0 || nonce_bytes(a->nonce, rnd) == -1)
        return 2;
    struct buf url;
    buf_init(&url, 2048);
    int rc = zim_sign_url(&url, "/", event_kind_action((enum event_kind)kind),
                          app, secret, rnd, ts);
    if (rc == 0)
        printf("%s\n", url.data);
    buf_free(&url);
    return rc == 0 ? 0 : 2;
}

int cmd_sign(int argc, char **argv)
{
    struct sign_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    unsigned long long appv, tsv;
    if (parse_u64(a.app, UINT32_MAX, &appv) == -1 || appv == 0) {
        fprintf(stderr, "sign: --app-id must be 1..4294967295\n");
        return 2;
    }
    if (parse_u64(a.ts, INT64_MAX, &tsv) == -1) {
        fprintf(stderr, "sign: --timestamp must be Unix seconds\n");
        return 2;
    }
    if (a.nonce[0] == '\0' || strlen(a.nonce) > 64) {
        fprintf(stderr, "sign: --nonce must be 1..64 characters\n");
        return 2;
    }
    unsigned char rnd[ZIM_NONCE_BYTES];
    if (a.action &&
        (action_named(a.action) < 0 || nonce_bytes(a.nonce, rnd) == -1)) {
        fprintf(stderr,
                "sign: --action takes %s (or the ZIM action name), with a "
                "--nonce of 16 lowercase hex characters\n",
                event_kind_list());
        return 2;
    }
    char sig[ZIM_SIG_LEN + 1], *secret = load_secret(a.secret_file);
    if (secret == NULL)
        return 2;
    rc = zim_sign((uint32_t)appv, a.nonce, secret, (int64_t)tsv, sig);
    if (rc == -1) {
        file_free_secret(secret);
        fprintf(stderr, "sign: input too long\n");
        return 2;
    }
    printf("%s\n", sig);
    rc = a.action ? print_target(&a, (uint32_t)appv, secret, (int64_t)tsv) : 0;
    file_free_secret(secret);
    return rc;
}
