/* http_server.c - /metrics, /healthz, /readyz on libmicrohttpd.
 *
 * The listener must answer the kubelet's probes while anyone who can
 * reach the port misbehaves (a slowloris trickling headers, floods of big
 * requests): a connection that sends nothing for IDLE_S seconds is closed,
 * one source address may hold PER_IP connections and all sources MAX_CONN,
 * and a request's headers must fit in REQUEST_BYTES. An attacker with one
 * address holds PER_IP connections and the probes, from the node's address,
 * still get in. The chart's NetworkPolicy admits only the probe and scrape
 * sources in the first place. */
#define LOG_COMPONENT "http"
#include "http_server.h"

#include "buf.h"
#include "clock.h"
#include "httpd.h"
#include "log.h"
#include "net.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IDLE_S        3
#define PER_IP        16
#define MAX_CONN      256
#define REQUEST_BYTES (16 * 1024)

struct http_server {
    struct MHD_Daemon *d;
    struct metrics *m;
    int64_t stall_ms;
    int port;
};

/* libmicrohttpd's own lines (one per refused or broken connection) go
 * through our logger and its per-site rate limit (10 per 10 s). */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    log_warnx("listener: %s", line); /* a peer's text: the logger escapes it */
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
                             const char *ctype, const struct buf *b)
{
    return httpd_reply(c, status, ctype, b->data, b->len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    (void)version;
    (void)upload;
    struct http_server *h = cls;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (*req_cls == NULL && get) {
        *req_cls = h; /* first call: headers only */
        return MHD_YES;
    }
    if (*upload_size) { /* a GET with a body: not read, not kept */
        *upload_size = 0;
        return MHD_YES;
    }
    struct buf b;
    buf_init(&b, (size_t)1 << 22);
    unsigned status = 200;
    const char *ctype = "text/plain; charset=utf-8";
    if (!get) { /* answered before any body is read */
        status = 405;
        buf_puts(&b, "GET only\n");
    } else if (strcmp(url, "/metrics") == 0) {
        metrics_render(h->m, &b);
        ctype = "text/plain; version=0.0.4; charset=utf-8";
    } else if (strcmp(url, "/healthz") == 0) {
        bool live = metrics_live(h->m, clock_mono_ms(), h->stall_ms);
        status = live ? 200 : 503;
        buf_puts(&b, live ? "ok\n" : "main loop stalled\n");
    } else if (strcmp(url, "/readyz") == 0) {
        char why[160];
        status = metrics_ready(h->m, why, sizeof(why)) ? 200 : 503;
        buf_printf(&b, "%s\n", why);
    } else {
        status = 404;
        buf_puts(&b, "not found: try /metrics, /healthz, /readyz\n");
    }
    enum MHD_Result rc = reply(c, status, ctype, &b);
    buf_free(&b);
    return rc;
}

struct http_server *http_server_new(struct metrics *m, const char *listen,
                                    int64_t stall_ms, char *err, size_t errlen)
{
    struct http_server *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->m = m;
    h->stall_ms = stall_ms;
    char host[64];
    int ipv6 = 0;
    int fd =
        net_listen(listen, host, sizeof(host), &h->port, &ipv6, err, errlen);
    if (fd < 0) {
        free(h);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h,    /* the logger first: it */
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, /* applies from there on */
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)IDLE_S, MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONN,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)REQUEST_BYTES,
        MHD_OPTION_END);
    if (h->d == NULL) {
        close(fd);
        snprintf(err, errlen, "http.listen %s: libmicrohttpd failed", listen);
        free(h);
        return NULL;
    }
    return h;
}

void http_server_destroy(struct http_server *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}

int http_server_port(const struct http_server *h)
{
    return h->port;
}
