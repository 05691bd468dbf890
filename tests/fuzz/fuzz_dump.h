/* fuzz_dump.h - the check fuzz_config and fuzz_env share: the settings'
 * dump (--check-config) shows the ServerSecret's line as [redacted]. (Its
 * text may occur inside another value the input set, such as a path:
 * that is not a leak.) Aborts otherwise. */
#ifndef ZB_FUZZ_DUMP_H
#define ZB_FUZZ_DUMP_H

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void fuzz_check_dump(const struct config *cfg)
{
    char *out = NULL;
    size_t out_len = 0;
    FILE *dump = open_memstream(&out, &out_len);
    if (dump == NULL)
        return;
    config_dump(cfg, dump);
    fclose(dump);
    const char *line = strstr(out, "zim.server_secret = ");
    if (cfg->secret && cfg->secret[0] &&
        (line == NULL ||
         strncmp(line, "zim.server_secret = [redacted]\n", 31) != 0))
        abort();
    free(out);
}

#endif
