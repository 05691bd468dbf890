/* test_filewatch.c - a rewritten file, a swapped symlink (how Kubernetes
 * updates a mounted Secret), a file gone and back. */
#include "filewatch.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void put(const char *name, const char *text)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_changes(void **st)
{
    (void)st;
    snprintf(dir, sizeof(dir), "/tmp/zb-fw.XXXXXX");
    assert_non_null(mkdtemp(dir));
    put("a", "one\n");
    put("b", "two\n");
    char link[128], tmp[128], a[128], b[128];
    snprintf(link, sizeof(link), "%s/secret", dir);
    snprintf(tmp, sizeof(tmp), "%s/secret.tmp", dir);
    snprintf(a, sizeof(a), "%s/a", dir);
    snprintf(b, sizeof(b), "%s/b", dir);
    assert_int_equal(symlink(a, link), 0);
    struct filewatch w;
    assert_int_equal(filewatch_init(&w, link), 0);
    assert_false(filewatch_changed(&w)); /* as it was */
    /* Kubernetes: a new file, the link swapped in one rename. */
    assert_int_equal(symlink(b, tmp), 0);
    assert_int_equal(rename(tmp, link), 0);
    assert_true(filewatch_changed(&w));
    assert_false(filewatch_changed(&w)); /* once */
    put("b", "three, longer\n");         /* rewritten in place */
    assert_true(filewatch_changed(&w));
    unlink(link); /* gone: not a change, but its return is */
    assert_false(filewatch_changed(&w));
    assert_int_equal(symlink(a, link), 0);
    assert_true(filewatch_changed(&w));
    filewatch_retry(&w); /* a half-written read: look again */
    assert_true(filewatch_changed(&w));
    assert_false(filewatch_changed(&w));
    filewatch_free(&w);
    struct filewatch none;
    assert_int_equal(filewatch_init(&none, NULL), 0);
    assert_false(filewatch_changed(&none));
    filewatch_free(&none);
    unlink(link), unlink(a), unlink(b), rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
