/* http_tls.h - the transport rules every HTTPS client of the bridge
 * follows (the ZIM client, the OTLP exporter): http and https only, no
 * redirects, peer and host verification always on (a CA file only adds
 * trust, read again for each new connection so a rotated CA applies to
 * the next one), TCP keep-alive, no signals. */
#ifndef ZB_HTTP_TLS_H
#define ZB_HTTP_TLS_H

#include <curl/curl.h>

/* ca_file: NULL for the system's trust store only. */
void http_tls_setup(CURL *e, const char *ca_file);

#endif
