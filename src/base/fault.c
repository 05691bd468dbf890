/* fault.c - ZB_FAULTS (see fault.h). Single-threaded: the main loop. */
#include "fault.h"

#ifdef ZB_FAULT_INJECTION
#define LOG_COMPONENT "fault"
#include "log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[FAULT_POINT_COUNT] = {"job", "track", "sched",
                                                     "prepare", "rest"};
static struct {
    int64_t calls, after, count;
} pts[FAULT_POINT_COUNT];
static bool loaded;

static bool number(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 9 || strspn(s, "0123456789") < n)
        return false;
    *out = strtoll(s, NULL, 10);
    return true;
}

int fault_arm(const char *spec)
{
    loaded = true;
    memset(pts, 0, sizeof(pts));
    for (const char *p = spec; p && *p;) {
        size_t n = strcspn(p, ","), a = strcspn(p, ":");
        const char *c1 = a < n ? p + a + 1 : NULL;
        size_t b = c1 ? strcspn(c1, ":") : 0;
        const char *c2 = c1 && c1 + b < p + n ? c1 + b + 1 : NULL;
        int k = 0;
        while (k < FAULT_POINT_COUNT &&
               (strlen(names[k]) != a || memcmp(p, names[k], a) != 0))
            k++;
        int64_t after, count;
        if (k == FAULT_POINT_COUNT || c2 == NULL || !number(c1, b, &after) ||
            !number(c2, (size_t)(p + n - c2), &count)) {
            memset(pts, 0, sizeof(pts));
            return -1;
        }
        pts[k].after = after;
        pts[k].count = count;
        p += n + (p[n] == ',');
    }
    return 0;
}

bool fault_fail(enum fault_point p)
{
    if (!loaded) {
        const char *spec = getenv("ZB_FAULTS");
        if (fault_arm(spec) == -1)
            log_warnx("ZB_FAULTS is malformed: no faults injected");
        else if (spec && *spec)
            log_warnx("ZB_FAULTS=%s: allocation failures injected (test "
                      "build)",
                      spec);
    }
    int64_t c = ++pts[p].calls;
    return c > pts[p].after && c <= pts[p].after + pts[p].count;
}
#else
/* ISO C: a translation unit is not empty. */
typedef int fault_unused;
#endif
