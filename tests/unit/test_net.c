/* test_net.c - "host:port" as the metrics listener and zimsim read it. */
#include "net.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

static void test_split_table(void **st)
{
    (void)st;
    static const struct {
        const char *in;
        int ok;
        const char *host;
        int port;
    } t[] = {
        {"127.0.0.1:9464", 1, "127.0.0.1", 9464},
        {"0.0.0.0:0", 1, "0.0.0.0", 0},
        {":8080", 1, "", 8080},
        {"[::1]:443", 1, "::1", 443},
        {"localhost:65535", 1, "localhost", 65535},
        {"localhost:65536", 0, "", 0},
        {"localhost", 0, "", 0},
        {"localhost:", 0, "", 0},
        {"localhost:80x", 0, "", 0},
        {"host:-1", 0, "", 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char host[64] = "", err[128] = "";
        int port = -1;
        int rc = net_split_hostport(t[i].in, host, sizeof(host), &port, err,
                                    sizeof(err));
        if (!t[i].ok) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err, t[i].in));
            continue;
        }
        assert_int_equal(rc, 0);
        assert_string_equal(host, t[i].host);
        assert_int_equal(port, t[i].port);
    }
    char small[4], err[128];
    int port;
    assert_int_equal(net_split_hostport("example.org:1", small, sizeof(small),
                                        &port, err, sizeof(err)),
                     -1); /* the host does not fit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
