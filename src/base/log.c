/* log.c - stderr logging, logfmt or JSON lines. */
#include "log.h"

#include "buf.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static _Atomic int cur_level = LOG_INFO;
static _Atomic int cur_format = LOG_FORMAT_TEXT;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* Repeats: a call site (its format string) may log LOG_BURST lines per
 * LOG_WINDOW_MS; the rest are counted and summed up in one line when the
 * window ends, so an outage cannot flood the logs. Debug is not limited. */
#define LOG_SITES     64
#define LOG_BURST     10
#define LOG_WINDOW_MS 10000
static struct {
    const char *fmt;
    int64_t window_start;
    int n, suppressed;
} sites[LOG_SITES];
static pthread_mutex_t sites_mu = PTHREAD_MUTEX_INITIALIZER;

/* 0: log it; >0: log it after a note of that many suppressed; -1: drop. */
static int admit(const char *fmt, int64_t now_ms)
{
    int rc = 0;
    pthread_mutex_lock(&sites_mu);
    int slot = -1;
    for (int i = 0; i < LOG_SITES; i++) {
        if (sites[i].fmt == fmt || sites[i].fmt == NULL) {
            slot = i;
            break;
        }
    }
    if (slot >= 0) {
        if (sites[slot].fmt == NULL ||
            now_ms - sites[slot].window_start >= LOG_WINDOW_MS) {
            rc = sites[slot].suppressed;
            sites[slot].fmt = fmt;
            sites[slot].window_start = now_ms;
            sites[slot].n = 0;
            sites[slot].suppressed = 0;
        }
        if (++sites[slot].n > LOG_BURST) {
            sites[slot].suppressed++;
            rc = -1;
        }
    }
    pthread_mutex_unlock(&sites_mu);
    return rc;
}

void log_setup(enum log_level level, enum log_format format)
{
    atomic_store(&cur_level, (int)level);
    atomic_store(&cur_format, (int)format);
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = 0; i <= LOG_DEBUG; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

int log_enabled(enum log_level level)
{
    return (int)level <= atomic_load(&cur_level);
}

void log_emit(enum log_level level, const char *component, int with_errno,
              const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    int saved = errno;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    int suppressed = 0;
    if (level != LOG_DEBUG &&
        (suppressed =
             admit(fmt, (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000)) < 0) {
        errno = saved;
        return;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (with_errno) {
        size_t n = strlen(msg);
        snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
    }
    if (suppressed > 0) {
        size_t n = strlen(msg);
        snprintf(msg + n, sizeof(msg) - n,
                 " (%d similar lines suppressed in the last %d s)", suppressed,
                 LOG_WINDOW_MS / 1000);
    }
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[40];
    size_t tl = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + tl, sizeof(ts) - tl, ".%03dZ", (int)(tv.tv_usec / 1000));

    /* Room for msg with every byte escaped (6 each), so a line is never
     * lost to the bound. */
    struct buf b;
    buf_init(&b, 6 * sizeof(msg) + 256);
    if (atomic_load(&cur_format) == LOG_FORMAT_JSON) {
        buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"component\":", ts,
                   level_names[level]);
        buf_json_str(&b, component, strlen(component));
        buf_puts(&b, ",\"message\":");
        buf_json_str(&b, msg, strlen(msg));
        buf_puts(&b, "}\n");
    } else {
        buf_printf(&b, "time=%s level=%s component=%s msg=", ts,
                   level_names[level], component);
        buf_json_str(&b, msg, strlen(msg));
        buf_puts(&b, "\n");
    }
    if (b.data) {
        /* One write() per line so concurrent lines never interleave. */
        ssize_t w = write(STDERR_FILENO, b.data, b.len);
        (void)w;
    }
    buf_free(&b);
    errno = saved;
}
