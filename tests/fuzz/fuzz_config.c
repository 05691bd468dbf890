/* fuzz_config.c - the config file reader on arbitrary bytes, then the
 * effective settings printed as --check-config prints them. Asserts that
 * a rejected file always says why, and that a secret set in the file
 * is printed as [redacted]. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *in = fmemopen((void *)data, size, "r");
    if (in == NULL)
        return 0;
    struct config cfg;
    char err[512] = "";
    config_init(&cfg);
    int rc = config_load_stream(&cfg, in, "fuzz.conf", err, sizeof(err));
    fclose(in);
    if (rc == -1 && err[0] == '\0')
        abort();
    char *out = NULL;
    size_t out_len = 0;
    FILE *dump = open_memstream(&out, &out_len);
    if (dump) {
        config_dump(&cfg, dump);
        fclose(dump);
        /* The secret's own line is redacted. (Its text may occur inside
         * another value the file set, such as a path: that is not a leak.) */
        const char *line = strstr(out, "zim.server_secret = ");
        if (cfg.secret && cfg.secret[0] &&
            (line == NULL ||
             strncmp(line, "zim.server_secret = [redacted]\n", 31) != 0))
            abort();
        free(out);
    }
    config_free(&cfg);
    return 0;
}
