/* log.h - one line per event on stderr, logfmt or JSON.
 * log_warn() appends strerror(errno); log_warnx() does not. A file sets
 * LOG_COMPONENT before including this header to name itself in each line.
 * Callers must never pass secrets: nothing here can tell them apart. */
#ifndef ZB_LOG_H
#define ZB_LOG_H

#ifndef LOG_COMPONENT
#define LOG_COMPONENT "main"
#endif

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };

void log_setup(enum log_level level, enum log_format format);
int log_level_parse(const char *s, enum log_level *out); /* 0 or -1 */
int log_enabled(enum log_level level);
void log_emit(enum log_level level, const char *component, int with_errno,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_error(...) log_emit(LOG_ERROR, LOG_COMPONENT, 0, __VA_ARGS__)
#define log_warn(...)  log_emit(LOG_WARN, LOG_COMPONENT, 1, __VA_ARGS__)
#define log_warnx(...) log_emit(LOG_WARN, LOG_COMPONENT, 0, __VA_ARGS__)
#define log_info(...)  log_emit(LOG_INFO, LOG_COMPONENT, 0, __VA_ARGS__)
#define log_debug(...)                                                         \
    do {                                                                       \
        if (log_enabled(LOG_DEBUG))                                            \
            log_emit(LOG_DEBUG, LOG_COMPONENT, 0, __VA_ARGS__);                \
    } while (0)

#endif
