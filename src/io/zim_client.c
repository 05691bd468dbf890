/* zim_client.c - libcurl multi client for the ZIM API. */
#define LOG_COMPONENT "zim_client"
#include "zim_client.h"

#include "fileio.h"
#include "http_tls.h"

#include "buf.h"
#include "log.h"
#include "rng.h"
#include "utf8.h"
#include "zim_sign.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot {
    CURL *easy;
    struct buf url, resp;
    size_t body_len; /* the request's body: sent whole, or not */
    void *opaque;
    bool busy;
    char errbuf[CURL_ERROR_SIZE];
};

struct zim_client {
    CURLM *multi;
    struct curl_slist *hdrs;
    struct slot *slots;
    int n_slots, inflight;
    char *endpoint, *secret;
    char *path; /* the endpoint's path: the signed query is appended to it */
    uint32_t app_id;
    zim_done_fn done;
    void *ctx;
    /* Nonce bytes drawn 64 requests at a time: OpenSSL's DRBG per request
     * cost 1.6 % of the bridge's CPU. Each byte is used once. */
    unsigned char nonces[64 * ZIM_NONCE_BYTES];
    size_t nonce_off;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct buf *b = ud;
    /* A body over ZIM_RESPONSE_MAX aborts the transfer (CURLE_WRITE_ERROR):
     * no ZIM answer is that large, so it is a broken endpoint. */
    return buf_append(b, p, sz * n) == 0 ? sz * n : 0;
}

/* zc->path: the endpoint's path, as curl reads the endpoint. 0 or -1. */
static int endpoint_path(struct zim_client *zc, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *path = NULL;
    int rc = -1;
    if (u && curl_url_set(u, CURLUPART_URL, zc->endpoint, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
        (zc->path = strdup(path)) != NULL)
        rc = 0;
    else
        snprintf(err, errlen, "zim client: zim.endpoint '%s' is not a URL",
                 zc->endpoint);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

struct zim_client *zim_client_new(const struct config *cfg, zim_done_fn done,
                                  void *ctx, char *err, size_t errlen)
{
    struct zim_client *zc = calloc(1, sizeof(*zc));
    if (zc == NULL)
        goto oom;
    zc->done = done;
    zc->ctx = ctx;
    zc->app_id = cfg->app_id;
    zc->endpoint = strdup(cfg->endpoint);
    zc->secret = strdup(cfg->secret);
    zc->n_slots = (int)cfg->max_inflight;
    zc->nonce_off = sizeof(zc->nonces); /* drawn at the first request */
    zc->slots = calloc((size_t)zc->n_slots, sizeof(*zc->slots));
    zc->multi = curl_multi_init();
    zc->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    if (!zc->endpoint || !zc->secret || !zc->slots || !zc->multi || !zc->hdrs)
        goto oom;
    if (endpoint_path(zc, err, errlen) == -1) {
        zim_client_destroy(zc);
        return NULL;
    }
    /* One connection per in-flight request at most, all kept alive. */
    curl_multi_setopt(zc->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      (long)zc->n_slots);
    curl_multi_setopt(zc->multi, CURLMOPT_MAXCONNECTS, (long)zc->n_slots);
    for (int i = 0; i < zc->n_slots; i++) {
        struct slot *s = &zc->slots[i];
        buf_init(&s->url, 2048);
        buf_init(&s->resp, ZIM_RESPONSE_MAX);
        if ((s->easy = curl_easy_init()) == NULL)
            goto oom;
        CURL *e = s->easy;
        /* The URL is the endpoint for good; each request's signed query
         * goes in its request target (zim_client_send). curl 7.88 copies
         * a URL byte by byte several times per request (curl_url_get and
         * its printf): with the ~200-byte signed query in it, that was a
         * fifth of the instructions per event. The target is copied once.
         * Through a proxy, the target is only right in a CONNECT tunnel
         * (as https:// always is): so http:// tunnels too. */
        curl_easy_setopt(e, CURLOPT_URL, zc->endpoint);
        curl_easy_setopt(e, CURLOPT_HTTPPROXYTUNNEL, 1L);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, zc->hdrs);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &s->resp);
        curl_easy_setopt(e, CURLOPT_PRIVATE, s);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)cfg->connect_timeout_ms);
        http_tls_setup(e, cfg->ca_file);
    }
    return zc;
oom:
    snprintf(err, errlen, "zim client: out of memory");
    zim_client_destroy(zc);
    return NULL;
}

void zim_client_destroy(struct zim_client *zc)
{
    if (zc == NULL)
        return;
    for (int i = 0; zc->slots && i < zc->n_slots; i++) {
        struct slot *s = &zc->slots[i];
        if (s->easy) {
            if (s->busy)
                curl_multi_remove_handle(zc->multi, s->easy);
            curl_easy_cleanup(s->easy);
        }
        buf_free(&s->url);
        buf_free(&s->resp);
    }
    free(zc->slots);
    if (zc->multi)
        curl_multi_cleanup(zc->multi);
    curl_slist_free_all(zc->hdrs);
    file_free_secret(zc->secret); /* wiped: no dead-store elimination */
    free(zc->endpoint);
    free(zc->path);
    free(zc);
}

/* The next request's nonce bytes. 0 or -1. */
static int next_nonce(struct zim_client *zc, unsigned char *out)
{
    if (zc->nonce_off + ZIM_NONCE_BYTES > sizeof(zc->nonces)) {
        if (rng_secure(zc->nonces, sizeof(zc->nonces)) == -1)
            return -1;
        zc->nonce_off = 0;
    }
    memcpy(out, zc->nonces + zc->nonce_off, ZIM_NONCE_BYTES);
    memset(zc->nonces + zc->nonce_off, 0, ZIM_NONCE_BYTES);
    zc->nonce_off += ZIM_NONCE_BYTES;
    return 0;
}

int zim_client_send(struct zim_client *zc, const char *action, const char *body,
                    size_t len, void *opaque)
{
    struct slot *s = NULL;
    for (int i = 0; i < zc->n_slots && !s; i++)
        if (!zc->slots[i].busy)
            s = &zc->slots[i];
    if (s == NULL)
        return -1;
    unsigned char rnd[ZIM_NONCE_BYTES];
    buf_reset(&s->url);
    buf_reset(&s->resp);
    /* Signed last, just before sending: ZIM allows 10 minutes of skew. */
    if (next_nonce(zc, rnd) == -1 ||
        zim_sign_url(&s->url, zc->path, action, zc->app_id, zc->secret, rnd,
                     (int64_t)time(NULL)) == -1)
        return ZIM_CLIENT_UNSIGNED;
    curl_easy_setopt(s->easy, CURLOPT_REQUEST_TARGET, s->url.data);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, body);
    s->body_len = len;
    s->errbuf[0] = '\0';
    s->opaque = opaque;
    if (curl_multi_add_handle(zc->multi, s->easy) != CURLM_OK)
        return -1;
    s->busy = true;
    zc->inflight++;
    return 0;
}

int zim_client_set_secret(struct zim_client *zc, const char *secret)
{
    char *s = strdup(secret);
    if (s == NULL)
        return -1;
    file_free_secret(zc->secret); /* the old one leaves no copy */
    zc->secret = s;
    return 0;
}

int zim_client_inflight(const struct zim_client *zc)
{
    return zc->inflight;
}

int zim_client_capacity(const struct zim_client *zc)
{
    return zc->n_slots - zc->inflight;
}

static void complete(struct zim_client *zc, CURLMsg *m)
{
    struct slot *s = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
    struct zim_result res;
    zim_result_init(&res);
    res.curl_rc = (int)m->data.result;
    res.target = s->url.data;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &res.http);
    curl_multi_remove_handle(zc->multi, s->easy);
    /* Whether ZIM may have acted: the whole body went out (a timeout
     * after that is ambiguous; a refused connect is not). */
    curl_off_t up = 0;
    res.sent =
        res.curl_rc == CURLE_OK ||
        (curl_easy_getinfo(s->easy, CURLINFO_SIZE_UPLOAD_T, &up) == CURLE_OK &&
         up >= (curl_off_t)s->body_len);
    if (res.curl_rc != CURLE_OK) {
        /* curl's words first; cut (between characters) if too long. */
        int w = snprintf(res.error, sizeof(res.error), "%s%s",
                         s->errbuf[0] ? s->errbuf
                                      : curl_easy_strerror(m->data.result),
                         res.sent ? " (after the request was sent)" : "");
        if (w < 0 || (size_t)w >= sizeof(res.error))
            utf8_trim_tail(res.error);
    } else if (res.http == 200) {
        zim_proto_parse(&res, s->resp.data ? s->resp.data : "", s->resp.len);
    } else {
        snprintf(res.error, sizeof(res.error), "HTTP %ld from ZIM", res.http);
    }
    void *opaque = s->opaque;
    s->busy = false;
    s->opaque = NULL;
    zc->inflight--;
    zc->done(zc->ctx, opaque, &res);
    zim_result_free(&res);
}

void zim_client_start(struct zim_client *zc)
{
    int running = 0;
    curl_multi_perform(zc->multi, &running);
}

/* Drives transfers and completes the finished ones. */
static void drive(struct zim_client *zc)
{
    int running = 0;
    curl_multi_perform(zc->multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(zc->multi, &left)))
        if (m->msg == CURLMSG_DONE)
            complete(zc, m);
}

int zim_client_poll(struct zim_client *zc, int timeout_ms, const int *extra_fds,
                    int n_extra)
{
    struct curl_waitfd wfd[4];
    int n = n_extra < 4 ? n_extra : 4;
    for (int i = 0; i < n; i++)
        wfd[i] = (struct curl_waitfd){.fd = extra_fds[i],
                                      .events = CURL_WAIT_POLLIN};
    /* Start what was added since the last turn before waiting: a new
     * handle has no socket for curl_multi_poll() to wait on yet. */
    drive(zc);
    if (curl_multi_poll(zc->multi, wfd, (unsigned)n, timeout_ms, NULL) !=
        CURLM_OK)
        return -1;
    drive(zc);
    return 0;
}
