/* httpd.c - libmicrohttpd responses. */
#include "httpd.h"

enum MHD_Result httpd_reply(struct MHD_Connection *conn, unsigned status,
                            const char *ctype, const char *data, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, data ? (void *)data : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}
