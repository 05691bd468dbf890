/* fuzz_config.c - the config file reader on arbitrary bytes, then the
 * effective settings printed as --check-config prints them. Asserts that
 * a rejected file always says why, and that a secret set in the file
 * is printed as [redacted]. */
#include "config.h"
#include "fuzz_dump.h"

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
    fuzz_check_dump(&cfg);
    config_free(&cfg);
    return 0;
}
