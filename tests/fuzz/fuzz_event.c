/* fuzz_event.c - event_parse on arbitrary bytes. The first byte picks the
 * kind (peer, group, broadcast) and the unknown-field mode; the rest is
 * the record. Asserts the contract of the result: a rejection always has a
 * code and a message, an accepted event always has its fields. */
#include "config.h"
#include "event.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct event_limits lim;
    static int ready;
    if (!ready) {
        struct config cfg;
        config_init(&cfg);
        event_limits_from_config(&cfg, &lim);
        config_free(&cfg);
        ready = 1;
    }
    if (size < 1)
        return 0;
    struct event_limits l = lim;
    l.allow_unknown_fields = (data[0] & 4) != 0;
    enum event_kind kind = (enum event_kind)(data[0] % EVENT_KIND_COUNT);
    struct event ev;
    struct event_error err;
    if (event_parse(&ev, kind, (const char *)data + 1, size - 1, &l, &err) ==
        0) {
        if (ev.root == NULL || ev.from == NULL || ev.from[0] == '\0')
            abort();
        if (kind == EVENT_PEER && ev.to == NULL)
            abort();
        if (kind == EVENT_GROUP && ev.group_id == NULL)
            abort();
        event_free(&ev);
    } else {
        if (err.code == 0 || err.message[0] == '\0' || ev.root != NULL)
            abort();
    }
    return 0;
}
