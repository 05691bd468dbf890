/* http_server.h - the operations listener (http.listen): GET /metrics
 * (Prometheus text), /healthz (liveness: the main loop turned recently)
 * and /readyz (partitions assigned, breaker closed, producer healthy).
 * Runs libmicrohttpd's own thread, which only reads struct metrics. */
#ifndef ZB_HTTP_SERVER_H
#define ZB_HTTP_SERVER_H

#include "metrics.h"

#include <stddef.h>
#include <stdint.h>

struct http_server;

/* listen: "host:port" (port 0: any free port). */
struct http_server *http_server_new(struct metrics *m, const char *listen,
                                    int64_t stall_ms, char *err, size_t errlen);
void http_server_destroy(struct http_server *h); /* NULL: no-op */
int http_server_port(const struct http_server *h);

#endif
