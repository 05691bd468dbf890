/* fuzz_dlq_headers.c - the DLQ record's headers as the replay tool reads
 * them, on arbitrary bytes: lines "name=value" become headers (values may
 * hold any byte but a newline), then every failure header is read back
 * into small buffers, zim.failed.at is parsed as a time and
 * zim.replay.count as a count, and every value is escaped for a terminal
 * as replay prints it. Asserts that reads stay in their buffers and are
 * terminated, that a count is -1 or what its digits say, that a time in
 * Unix seconds is that many seconds, and that what reaches a terminal is
 * valid UTF-8 with no control character. */
#include "dlq.h"
#include "utf8.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {
        "zim.error.code",   "zim.error.message",        "zim.failure.class",
        "zim.attempts",     "zim.source.topic",         "zim.failed.at",
        "zim.replay.count", "kafka_dlt-original-offset"};
    rd_kafka_headers_t *h = rd_kafka_headers_new(8);
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *eq = memchr(p, '=', (size_t)(line_end - p));
        if (eq) {
            char name[64];
            size_t n = (size_t)(eq - p) < sizeof(name) - 1 ? (size_t)(eq - p)
                                                           : sizeof(name) - 1;
            memcpy(name, p, n);
            name[n] = '\0';
            rd_kafka_header_add(h, name, -1, eq + 1,
                                (ssize_t)(line_end - eq - 1));
            (void)dlq_is_failure_header(name);
        }
        p = line_end + 1;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char buf[24];
        const char *v = dlq_header(h, names[i], buf, sizeof(buf));
        if (v && (v != buf || memchr(buf, '\0', sizeof(buf)) == NULL))
            abort();
        char big[512];
        v = dlq_header(h, names[i], big, sizeof(big));
        int64_t ms = 0;
        size_t n = v ? strlen(v) : 0;
        bool digits = v && n > 0 && strspn(v, "0123456789") == n;
        if (v && strcmp(names[i], "zim.failed.at") == 0 &&
            dlq_parse_time(v, &ms) == 0 && digits && n < 12 &&
            ms != strtoll(v, NULL, 10) * 1000)
            abort();
        if (strcmp(names[i], "zim.replay.count") == 0) {
            long c = dlq_replay_count(v);
            if (v == NULL
                    ? c != 0
                    : (digits && n <= 6 ? c != strtol(v, NULL, 10) : c != -1))
                abort();
        }
        char shown[256];
        utf8_terminal(shown, sizeof(shown), v ? v : "", n);
        if (!utf8_valid(shown, strlen(shown), NULL, NULL))
            abort();
        for (const unsigned char *c = (const unsigned char *)shown; *c; c++)
            if (*c < 0x20 || *c == 0x7f ||
                (*c == 0xc2 && c[1] >= 0x80 && c[1] < 0xa0))
                abort(); /* C0, DEL, C1 reach the terminal */
    }
    rd_kafka_headers_destroy(h);
    return 0;
}
