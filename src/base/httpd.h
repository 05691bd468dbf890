/* httpd.h - the one way our libmicrohttpd servers (the metrics listener
 * and zimsim) answer a request: status, Content-Type and a copied body. */
#ifndef ZB_HTTPD_H
#define ZB_HTTPD_H

#include <microhttpd.h>
#include <stddef.h>

/* Queues the response; data (may be NULL when len is 0) is copied. */
enum MHD_Result httpd_reply(struct MHD_Connection *conn, unsigned status,
                            const char *ctype, const char *data, size_t len);

#endif
