/* fuzz_env.c - the environment as the bridge reads it (config_load_env),
 * on arbitrary bytes: each line is one NAME=value variable, as a
 * container runtime or Kubernetes (service links included) hands them
 * over. Asserts that a refusal always says why, in valid UTF-8 (it is
 * logged), that no value of a sensitive setting appears in the error
 * (unless another variable holds the same text),
 * that the service links are recognised the same way whatever their
 * order, and that the secret is [redacted] in the settings' dump. */
#include "config.h"
#include "fuzz_dump.h"
#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VARS 64

static const char *const secrets[] = {
    "ZIMBRIDGE_ZIM_SERVER_SECRET=", "ZIMBRIDGE_KAFKA_SASL_PASSWORD=",
    "ZIMBRIDGE_KAFKA_SSL_KEY_PASSWORD="};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *env[MAX_VARS + 1];
    size_t n = 0;
    for (char *p = copy; *p && n < MAX_VARS;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        env[n++] = p;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    env[n] = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(env[i], '=');
        if (eq) /* pure: the same answer twice */
            if (config_is_service_link(env[i], (size_t)(eq - env[i]), eq + 1) !=
                config_is_service_link(env[i], (size_t)(eq - env[i]), eq + 1))
                abort();
    }
    struct config cfg;
    char err[512] = "";
    config_init(&cfg);
    int rc = config_load_env(&cfg, env, err, sizeof(err));
    if (rc == -1) {
        if (err[0] == '\0' || !utf8_valid(err, strlen(err), NULL, NULL))
            abort();
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < sizeof(secrets) / sizeof(secrets[0]); k++) {
                size_t pl = strlen(secrets[k]);
                const char *v = env[i] + pl;
                if (strncmp(env[i], secrets[k], pl) != 0 || strlen(v) < 8 ||
                    !strstr(err, v))
                    continue;
                /* Not a leak if another variable holds the same text (an
                 * error may quote that one's name or value). */
                bool elsewhere = false;
                for (size_t j = 0; j < n && !elsewhere; j++)
                    elsewhere = j != i && strstr(env[j], v) != NULL;
                if (!elsewhere)
                    abort(); /* a secret in an error message */
            }
    }
    fuzz_check_dump(&cfg);
    config_free(&cfg);
    free(copy);
    return 0;
}
