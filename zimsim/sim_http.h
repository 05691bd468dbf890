/* sim_http.h - zimsim's HTTP(S) server on libmicrohttpd: routes requests
 * to sim.c, holds delayed responses (suspend/resume, so a 2 s latency does
 * not block a thread), and stops/restarts listening for "down" outages. */
#ifndef ZB_SIM_HTTP_H
#define ZB_SIM_HTTP_H

#include "sim.h"

#include <stddef.h>

struct sim_http;

/* Binds listen ("host:port"; port 0 picks one). cert/key: PEM text for
 * HTTPS, or NULL for HTTP. threads: the epoll thread pool size. */
struct sim_http *sim_http_new(struct sim *sim, const char *listen,
                              const char *cert_pem, const char *key_pem,
                              unsigned threads, char *err, size_t errlen);
void sim_http_destroy(struct sim_http *h); /* NULL: no-op */
/* The bound base URL, e.g. "http://127.0.0.1:43117". */
const char *sim_http_url(const struct sim_http *h);
/* Applies down/up transitions; call every few ms. 0 or -1 (err filled). */
int sim_http_tick(struct sim_http *h, char *err, size_t errlen);

#endif
