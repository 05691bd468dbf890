/* test_log.c - repeated lines are rate-limited per call site, and the
 * suppressed count is reported; JSON lines are JSON. */
#include "log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *capture(void (*fn)(void))
{
    char path[] = "/tmp/zblogXXXXXX";
    int fd = mkstemp(path);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    char *buf = calloc(1, 1 << 16);
    ssize_t n = read(fd, buf, (1 << 16) - 1);
    (void)n;
    close(fd);
    unlink(path);
    return buf;
}

static void flood(void)
{
    for (int i = 0; i < 50; i++)
        log_warnx("ZIM unreachable: attempt %d", i);
    log_info("a different line");
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void test_repeats_limited(void **st)
{
    (void)st;
    log_setup(LOG_INFO, LOG_FORMAT_TEXT);
    char *out = capture(flood);
    assert_int_equal(count(out, "ZIM unreachable"), 10);
    assert_int_equal(count(out, "a different line"), 1);
    assert_non_null(strstr(out, "level=warn component=main"));
    free(out);
}

static void json_line(void)
{
    log_info("quote \" and newline \n here");
}

static void test_json_format(void **st)
{
    (void)st;
    log_setup(LOG_INFO, LOG_FORMAT_JSON);
    char *out = capture(json_line);
    assert_non_null(strstr(out, "\"level\":\"info\",\"component\":\"main\","
                                "\"message\":\"quote \\\" and newline "
                                "\\u000a here\"}\n"));
    assert_int_equal(out[0], '{');
    free(out);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeats_limited),
        cmocka_unit_test(test_json_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
