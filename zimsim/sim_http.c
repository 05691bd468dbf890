/* sim_http.c - zimsim's libmicrohttpd server (see sim_http.h). */
#define LOG_COMPONENT "zimsim"
#include "sim_http.h"

#include "buf.h"
#include "clock.h"
#include "httpd.h"
#include "log.h"
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BODY_MAX       (1 << 20) /* larger request bodies get 413 */
#define REPLY_MAX      (1 << 20)
#define INTROSPECT_MAX ((size_t)1 << 31)

enum req_state { R_RECEIVING = 0, R_WAITING, R_READY };

struct req {
    struct buf body;
    struct sim_reply reply;
    enum req_state state;
    int64_t due_ms;
    struct MHD_Connection *conn;
    struct req *next; /* in the timer list while R_WAITING */
    bool too_big;
};

struct sim_http {
    struct sim *sim;
    struct MHD_Daemon *d;
    char host[64];
    int port;
    int family;
    char url[128];
    char *cert, *key;
    unsigned threads;
    /* delayed responses, sorted by due_ms */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct req *timers;
    pthread_t timer_thread;
    bool timer_started, stopping;
};

/* ---- delayed responses ---- */

static void *timer_main(void *arg)
{
    struct sim_http *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stopping) {
        int64_t now = clock_wall_ms();
        while (h->timers && h->timers->due_ms <= now) {
            struct req *rq = h->timers;
            h->timers = rq->next;
            rq->next = NULL;
            rq->state = R_READY;
            MHD_resume_connection(rq->conn);
        }
        if (h->timers == NULL) {
            pthread_cond_wait(&h->cv, &h->mu);
            continue;
        }
        int64_t due = h->timers->due_ms;
        struct timespec ts = {.tv_sec = (time_t)(due / 1000),
                              .tv_nsec = (long)(due % 1000) * 1000000L};
        pthread_cond_timedwait(&h->cv, &h->mu, &ts);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Caller holds no lock. Inserts from the tail side: most delays are equal,
 * so new entries usually go last. */
static void timer_add(struct sim_http *h, struct req *rq)
{
    pthread_mutex_lock(&h->mu);
    struct req **pp = &h->timers;
    while (*pp && (*pp)->due_ms <= rq->due_ms)
        pp = &(*pp)->next;
    rq->next = *pp;
    *pp = rq;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static void timer_remove(struct sim_http *h, struct req *rq)
{
    pthread_mutex_lock(&h->mu);
    for (struct req **pp = &h->timers; *pp; pp = &(*pp)->next) {
        if (*pp == rq) {
            *pp = rq->next;
            break;
        }
    }
    pthread_mutex_unlock(&h->mu);
}

/* ---- responses ---- */

static enum MHD_Result send_buf(struct MHD_Connection *conn, int status,
                                const char *ctype, const struct buf *b)
{
    return httpd_reply(conn, (unsigned)status, ctype, b->data, b->len);
}

static enum MHD_Result send_text(struct MHD_Connection *conn, int status,
                                 const char *text)
{
    return httpd_reply(conn, (unsigned)status, "text/plain", text,
                       strlen(text));
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct req *rq)
{
    if (rq->reply.action == SIM_DROP)
        return MHD_NO; /* MHD closes the connection, no response */
    const char *ctype =
        rq->reply.status == 200 ? "application/json" : "text/plain";
    return send_buf(conn, rq->reply.status, ctype, &rq->reply.body);
}

static const char *arg(struct MHD_Connection *conn, const char *k)
{
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, k);
}

static enum MHD_Result introspect(struct sim_http *h,
                                  struct MHD_Connection *conn, const char *url,
                                  const char *method, struct req *rq)
{
    struct buf out;
    char err[256];
    enum MHD_Result rc;
    buf_init(&out, INTROSPECT_MAX);
    bool get = strcmp(method, "GET") == 0, post = !get;
    if (get && strcmp(url, "/_sim/messages") == 0) {
        sim_messages(h->sim, &out);
        rc = send_buf(conn, 200, "application/x-ndjson", &out);
    } else if (get && strcmp(url, "/_sim/requests") == 0) {
        sim_requests(h->sim, &out);
        rc = send_buf(conn, 200, "application/x-ndjson", &out);
    } else if (get && strcmp(url, "/_sim/stats") == 0) {
        sim_stats(h->sim, &out);
        rc = send_buf(conn, 200, "application/json", &out);
    } else if (post && strcmp(url, "/_sim/reset") == 0) {
        sim_reset(h->sim);
        rc = send_text(conn, 200, "reset\n");
    } else if (post && strcmp(url, "/_sim/control") == 0) {
        if (sim_control(h->sim, rq->body.data ? rq->body.data : "",
                        rq->body.len, clock_wall_ms(), err, sizeof(err)) == 0)
            rc = send_text(conn, 200, "ok\n");
        else
            rc = send_text(conn, 400, err);
    } else {
        rc = send_text(conn, 404, "not found\n");
    }
    buf_free(&out);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    (void)version;
    struct sim_http *h = cls;
    struct req *rq = *req_cls;
    if (rq == NULL) {
        if ((rq = calloc(1, sizeof(*rq))) == NULL)
            return MHD_NO;
        buf_init(&rq->body, BODY_MAX);
        buf_init(&rq->reply.body, REPLY_MAX);
        rq->conn = conn;
        *req_cls = rq;
        sim_inflight(h->sim, 1);
        return MHD_YES;
    }
    if (*upload_size) {
        if (buf_append(&rq->body, upload, *upload_size) == -1)
            rq->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->state == R_READY)
        return send_reply(conn, rq);
    if (strncmp(url, "/_sim/", 6) == 0)
        return introspect(h, conn, url, method, rq);
    if (strcmp(url, "/") != 0)
        return send_text(conn, 404, "not found\n");
    if (strcmp(method, "POST") != 0)
        return send_text(conn, 405, "POST only\n");

    int64_t until = 0;
    int down = sim_down(h->sim, &until);
    if (down == 1 && clock_wall_ms() < until)
        return MHD_NO; /* being taken down: drop what is still connected */
    if (rq->too_big)
        return send_text(conn, 413, "request body too large\n");
    struct sim_query q = {
        .action = arg(conn, "Action"),
        .app_id = arg(conn, "AppId"),
        .nonce = arg(conn, "SignatureNonce"),
        .timestamp = arg(conn, "Timestamp"),
        .sig_version = arg(conn, "SignatureVersion"),
        .sig = arg(conn, "Signature"),
    };
    sim_handle(h->sim, &q, rq->body.data ? rq->body.data : "", rq->body.len,
               clock_wall_us(), &rq->reply);
    int64_t now = clock_wall_ms();
    rq->due_ms = now + rq->reply.delay_ms;
    if (down == 2 && until > rq->due_ms)
        rq->due_ms = until; /* "hang": answer only when ZIM is back */
    if (rq->due_ms <= now)
        return send_reply(conn, rq);
    rq->state = R_WAITING;
    MHD_suspend_connection(conn);
    timer_add(h, rq);
    return MHD_YES;
}

/* libmicrohttpd's own messages: a dropped connection (the drop_rate
 * fault) is reported as an "internal error" on every drop, so they go to
 * the debug log instead of stderr. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_debug("libmicrohttpd: %s", msg);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct sim_http *h = cls;
    struct req *rq = *req_cls;
    if (rq == NULL)
        return;
    if (rq->state == R_WAITING)
        timer_remove(h, rq);
    sim_inflight(h->sim, -1);
    buf_free(&rq->body);
    buf_free(&rq->reply.body);
    free(rq);
    *req_cls = NULL;
}

/* Answers every held request now; MHD cannot stop with suspended ones. */
static void flush_timers(struct sim_http *h)
{
    pthread_mutex_lock(&h->mu);
    for (struct req *rq = h->timers; rq; rq = rq->next) {
        rq->state = R_READY;
        MHD_resume_connection(rq->conn);
    }
    h->timers = NULL;
    pthread_mutex_unlock(&h->mu);
}

/* ---- listening ---- */

static int bind_socket(struct sim_http *h, char *err, size_t errlen)
{
    char hp[96], host[64];
    int ipv6 = 0;
    snprintf(hp, sizeof(hp), "[%s]:%d", h->host, h->port);
    int fd = net_listen(hp, host, sizeof(host), &h->port, &ipv6, err, errlen);
    h->family = ipv6 ? AF_INET6 : AF_INET;
    return fd;
}

static int start_daemon(struct sim_http *h, char *err, size_t errlen)
{
    int fd = bind_socket(h, err, errlen);
    if (fd < 0)
        return -1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (h->cert)
        flags |= MHD_USE_TLS;
    if (h->family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem tls[] = {{MHD_OPTION_HTTPS_MEM_KEY, 0, h->key},
                                   {MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert},
                                   {MHD_OPTION_END, 0, NULL}};
    struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_THREAD_POOL_SIZE, h->threads, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, h, MHD_OPTION_ARRAY, h->cert ? tls : none, MHD_OPTION_END);
    if (h->d == NULL) {
        close(fd);
        snprintf(err, errlen, "libmicrohttpd failed to start%s",
                 h->cert ? " (is the certificate/key valid PEM?)" : "");
        return -1;
    }
    return 0;
}

struct sim_http *sim_http_new(struct sim *sim, const char *listen,
                              const char *cert_pem, const char *key_pem,
                              unsigned threads, char *err, size_t errlen)
{
    struct sim_http *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->sim = sim;
    h->threads = threads ? threads : 2;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    char why[256];
    if (net_split_hostport(listen, h->host, sizeof(h->host), &h->port, why,
                           sizeof(why)) == -1) {
        snprintf(err, errlen, "--listen: %s", why);
        goto fail;
    }
    /* bind_socket() keeps h->port across restarts */
    if (cert_pem && key_pem) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "this libmicrohttpd has no TLS");
            goto fail;
        }
        h->cert = strdup(cert_pem);
        h->key = strdup(key_pem);
    }
    if (start_daemon(h, err, errlen) == -1)
        goto fail;
    snprintf(h->url, sizeof(h->url), "%s://%s%s%s:%d",
             h->cert ? "https" : "http", h->family == AF_INET6 ? "[" : "",
             h->host[0] ? h->host : "127.0.0.1",
             h->family == AF_INET6 ? "]" : "", h->port);
    if (pthread_create(&h->timer_thread, NULL, timer_main, h) != 0) {
        snprintf(err, errlen, "cannot start the timer thread");
        goto fail;
    }
    h->timer_started = true;
    return h;
fail:
    sim_http_destroy(h);
    return NULL;
}

const char *sim_http_url(const struct sim_http *h)
{
    return h->url;
}

int sim_http_tick(struct sim_http *h, char *err, size_t errlen)
{
    int64_t until = 0;
    int down = sim_down(h->sim, &until);
    int64_t now = clock_wall_ms();
    if (down == 1 && now < until && h->d) {
        log_info("down: refusing connections for %lld ms",
                 (long long)(until - now));
        flush_timers(h);
        MHD_stop_daemon(h->d); /* closes the socket: connections refused */
        h->d = NULL;
    } else if (down && now >= until) {
        sim_set_down(h->sim, 0, 0);
        if (h->d == NULL) {
            log_info("up again on port %d", h->port);
            return start_daemon(h, err, errlen);
        }
    }
    return 0;
}

void sim_http_destroy(struct sim_http *h)
{
    if (h == NULL)
        return;
    if (h->timer_started) {
        pthread_mutex_lock(&h->mu);
        h->stopping = true;
        pthread_cond_signal(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->timer_thread, NULL);
    }
    if (h->d) {
        flush_timers(h);
        MHD_stop_daemon(h->d);
    }
    free(h->cert);
    if (h->key)
        memset(h->key, 0, strlen(h->key));
    free(h->key);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
