/* sign.c - `zimbridge sign`: a ZIM request signature, for checking a
 * signature by hand. The secret never comes from the command line. */
#include "cmd.h"

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
    "[--secret-file F]\n"
    "\n"
    "Prints md5(AppId + SignatureNonce + ServerSecret + Timestamp) as 32\n"
    "lowercase hex. The secret comes from the file given, or else from the\n"
    "environment variable ZIM_SERVER_SECRET; never from the command line.\n";

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
    const char *app, *nonce, *ts, *secret_file;
};

/* 0 to go on, 1 after --help, 2 on a usage error (said on stderr). */
static int parse_args(int argc, char **argv, struct sign_args *a)
{
    static const struct option opts[] = {
        {"app-id", required_argument, NULL, 'a'},
        {"nonce", required_argument, NULL, 'n'},
        {"timestamp", required_argument, NULL, 't'},
        {"secret-file", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        const char **dst = c == 'a'   ? &a->app
                           : c == 'n' ? &a->nonce
                           : c == 't' ? &a->ts
                           : c == 's' ? &a->secret_file
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
    char sig[ZIM_SIG_LEN + 1], *secret = load_secret(a.secret_file);
    if (secret == NULL)
        return 2;
    rc = zim_sign((uint32_t)appv, a.nonce, secret, (int64_t)tsv, sig);
    file_free_secret(secret);
    if (rc == -1) {
        fprintf(stderr, "sign: input too long\n");
        return 2;
    }
    printf("%s\n", sig);
    return 0;
}
