/* test_fileio.c - whole small files, and the one reading of a secret file
 * that the bridge, `sign` and zimsim share. */
#include "fileio.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static void write_file(const char *content, size_t n)
{
    snprintf(path, sizeof(path), "/tmp/zb-fileio.%ld", (long)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, n, f), n);
    fclose(f);
}

static void test_secret_table(void **st)
{
    (void)st;
    static const struct {
        const char *content;
        const char *want; /* NULL: refused */
    } t[] = {
        {"s3cret\n", "s3cret"},
        {"s3cret", "s3cret"},                       /* no newline */
        {"  s3cret \t\r\nsecond line\n", "s3cret"}, /* first line, trimmed */
        {"a b\n", "a b"},                           /* inner space kept */
        {"\n", NULL},                               /* empty */
        {"   \n", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        write_file(t[i].content, strlen(t[i].content));
        char *got = NULL, err[256] = "";
        int rc = file_read_secret(path, &got, err, sizeof(err));
        if (t[i].want == NULL) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err, "is empty"));
            assert_non_null(strstr(err, path));
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(got, t[i].want);
            assert_null(strstr(err, t[i].want)); /* never in a message */
        }
        file_free_secret(got);
    }
    unlink(path);
    char *got = NULL, err[256];
    assert_int_equal(file_read_secret(path, &got, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));
}

static void test_read_bound(void **st)
{
    (void)st;
    write_file("0123456789", 10);
    size_t n = 0;
    char *s = file_read(path, 10, &n);
    assert_non_null(s);
    assert_int_equal(n, 10);
    assert_string_equal(s, "0123456789");
    free(s);
    errno = 0;
    assert_null(file_read(path, 9, &n)); /* longer than allowed */
    assert_int_equal(errno, EFBIG);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_table),
        cmocka_unit_test(test_read_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
