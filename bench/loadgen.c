/* loadgen.c - a minimal libcurl-multi client: signed SendPeerMessage calls
 * over N keep-alive connections, each signed afresh, for a fixed time.
 * It is the "ceiling" contender of the benchmarks (what one libcurl multi
 * thread can push at zimsim) and measures zimsim's own throughput.
 *
 * usage: loadgen URL APP_ID SECRET_FILE [connections=64] [seconds=5]
 * prints: JSON {"requests":N,"ok":N,"seconds":S,"rps":R,"max_ms":M},
 * max_ms being the slowest single request */
#include "buf.h"
#include "rng.h"
#include "zim_sign.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct conn {
    CURL *easy;
    struct buf url, resp;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct buf *b = ud;
    return buf_append(b, p, sz * n) == 0 ? sz * n : 0;
}

static const char body[] =
    "{\"FromUserId\":\"bench_sender\",\"ToUserId\":[\"bench_receiver\"],"
    "\"MessageType\":1,\"Priority\":1,\"MessageBody\":{\"Message\":"
    "\"benchmark message of a typical size, about one line of chat text\"}}";

static void arm(struct conn *c, const char *base, uint32_t app,
                const char *secret)
{
    unsigned char rnd[ZIM_NONCE_BYTES];
    buf_reset(&c->url);
    buf_reset(&c->resp);
    rng_secure(rnd, sizeof(rnd));
    zim_sign_url(&c->url, base, "SendPeerMessage", app, secret, rnd,
                 (int64_t)time(NULL));
    curl_easy_setopt(c->easy, CURLOPT_URL, c->url.data);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: loadgen URL APP_ID SECRET_FILE [conns] "
                        "[seconds]\n");
        return 2;
    }
    const char *base = argv[1];
    uint32_t app = (uint32_t)strtoul(argv[2], NULL, 10);
    char secret[256] = "";
    FILE *f = fopen(argv[3], "r");
    if (f == NULL || fgets(secret, sizeof(secret), f) == NULL) {
        perror(argv[3]);
        return 2;
    }
    fclose(f);
    secret[strcspn(secret, "\r\n")] = '\0';
    int nconn = argc > 4 ? atoi(argv[4]) : 64;
    double secs = argc > 5 ? atof(argv[5]) : 5.0;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)nconn);
    struct curl_slist *hdrs =
        curl_slist_append(NULL, "Content-Type: application/json");
    struct conn *cs = calloc((size_t)nconn, sizeof(*cs));
    for (int i = 0; i < nconn; i++) {
        struct conn *c = &cs[i];
        c->easy = curl_easy_init();
        buf_init(&c->url, 1024);
        buf_init(&c->resp, 1 << 16);
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, &c->resp);
        curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
        curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
        arm(c, base, app, secret);
        curl_multi_add_handle(multi, c->easy);
    }
    long requests = 0, ok = 0;
    curl_off_t max_us = 0;
    double t0 = now_s(), end = t0 + secs;
    int running = 1, active = nconn;
    while (active > 0) {
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct conn *c = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            long status = 0;
            curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
            requests++;
            curl_off_t us = 0;
            curl_easy_getinfo(c->easy, CURLINFO_TOTAL_TIME_T, &us);
            if (us > max_us)
                max_us = us;
            if (m->data.result == CURLE_OK && status == 200 && c->resp.data &&
                strncmp(c->resp.data, "{\"Code\":0,", 10) == 0)
                ok++;
            curl_multi_remove_handle(multi, c->easy);
            if (now_s() < end) {
                arm(c, base, app, secret);
                curl_multi_add_handle(multi, c->easy);
            } else {
                active--;
            }
        }
        if (active > 0)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    double t = now_s() - t0;
    printf("{\"requests\":%ld,\"ok\":%ld,\"seconds\":%.3f,\"rps\":%.0f,"
           "\"max_ms\":%.1f}\n",
           requests, ok, t, (double)ok / t, (double)max_us / 1000.0);
    for (int i = 0; i < nconn; i++) {
        curl_easy_cleanup(cs[i].easy);
        buf_free(&cs[i].url);
        buf_free(&cs[i].resp);
    }
    free(cs);
    curl_slist_free_all(hdrs);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return ok > 0 ? 0 : 1;
}
