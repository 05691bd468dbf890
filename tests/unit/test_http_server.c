/* test_http_server.c - the ops listener stays reachable for probes while
 * a slowloris holds connections open, refuses big requests, and serves
 * nothing but metrics and probes. Real sockets on loopback: the attacker
 * connects from 127.0.0.2 (a pod), the probes from 127.0.0.1 (the
 * kubelet on the node). */
#include "clock.h"
#include "http_server.h"
#include "metrics.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SLOW 64

static struct metrics *m;
static struct http_server *h;

static int setup(void **s)
{
    (void)s;
    const char *topics[TOPIC_ROLE_COUNT];
    for (int i = 0; i < TOPIC_ROLE_COUNT; i++)
        topics[i] = "t";
    char err[256];
    m = metrics_new(topics);
    assert_non_null(m);
    metrics_heartbeat(m, clock_mono_ms());
    h = http_server_new(m, "127.0.0.1:0", 30000, err, sizeof(err));
    assert_non_null(h);
    return 0;
}

static int teardown(void **s)
{
    (void)s;
    http_server_destroy(h);
    metrics_destroy(m);
    return 0;
}

/* A TCP connection from src to the listener, or -1. */
static int dial(const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &a.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1) {
        close(fd);
        return -1;
    }
    a.sin_port = htons((uint16_t)http_server_port(h));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends req from 127.0.0.1 and reads the status code of the answer,
 * waiting at most ms; -1 if none came. */
static int ask(const char *req, int ms)
{
    int fd = dial("127.0.0.1");
    if (fd < 0)
        return -1;
    int64_t end = clock_mono_ms() + ms;
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
        close(fd);
        return -1;
    }
    char buf[256];
    size_t n = 0;
    int code = -1;
    while (n < sizeof(buf) - 1) {
        int left = (int)(end - clock_mono_ms());
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) != 1)
            break;
        ssize_t r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        if (strchr(buf, '\n')) {
            sscanf(buf, "HTTP/1.%*d %d", &code);
            break;
        }
    }
    close(fd);
    return code;
}

static void test_slowloris(void **s)
{
    (void)s;
    int slow[SLOW], open_n = 0;
    for (int i = 0; i < SLOW; i++)
        if ((slow[i] = dial("127.0.0.2")) >= 0)
            open_n++;
    assert_int_equal(open_n, SLOW); /* the kernel accepts them all */
    const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    int answered = 0;
    /* One byte every 2 s on every connection, for 8 s; probes between. */
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < SLOW; i++)
            if (slow[i] >= 0)
                send(slow[i], req + round, 1, MSG_NOSIGNAL);
        int64_t t0 = clock_mono_ms();
        int hz = ask("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1000);
        int rz = ask("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", 1000);
        int64_t took = clock_mono_ms() - t0;
        print_message("round %d: /healthz %d, /readyz %d in %lld ms\n", round,
                      hz, rz, (long long)took);
        assert_int_equal(hz, 200);
        assert_int_equal(rz, 503); /* no partitions: answered, not ready */
        answered += 2;
        usleep((useconds_t)(2000 - took > 0 ? 2000 - took : 0) * 1000);
        metrics_heartbeat(m, clock_mono_ms());
    }
    assert_int_equal(answered, 8);
    /* One source holds at most 16 connections: the rest were closed. */
    int closed = 0;
    for (int i = 0; i < SLOW; i++) {
        char c;
        struct pollfd p = {.fd = slow[i], .events = POLLIN};
        if (poll(&p, 1, 0) == 1 && recv(slow[i], &c, 1, MSG_DONTWAIT) <= 0)
            closed++;
    }
    print_message("%d of %d slow connections closed by the listener\n", closed,
                  SLOW);
    assert_int_equal(closed, SLOW - 16);
    for (int i = 0; i < SLOW; i++)
        if (slow[i] >= 0)
            close(slow[i]);
}

/* Headers past the request size limit are refused, not buffered. */
static void test_request_size(void **s)
{
    (void)s;
    static char req[64 * 1024];
    int n = snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'a', sizeof(req) - (size_t)n - 5);
    memcpy(req + sizeof(req) - 5, "\r\n\r\n", 5);
    int code = ask(req, 2000);
    assert_true(code == 431 || code == 413 || code == -1);
    assert_int_not_equal(code, 200);
    /* And the listener still answers. */
    assert_int_equal(ask("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1000),
                     200);
}

/* Nothing but metrics and probes: other paths 404, other methods 405. */
static void test_only_ops(void **s)
{
    (void)s;
    assert_int_equal(ask("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 1000),
                     200);
    assert_int_equal(ask("GET /_sim/stats HTTP/1.1\r\nHost: x\r\n\r\n", 1000),
                     404);
    assert_int_equal(
        ask("GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 1000), 404);
    assert_int_equal(
        ask("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
            1000),
        405);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_ops),
        cmocka_unit_test(test_request_size),
        cmocka_unit_test(test_slowloris),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
