/* http_tls.c - see http_tls.h. */
#include "http_tls.h"

void http_tls_setup(CURL *e, const char *ca_file)
{
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    /* Verification stays on; a CA file only adds trust. */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file) {
        curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
        /* Read it for each new connection: a rotated CA takes effect on
         * the next one (kept-alive connections keep theirs). */
        curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 0L);
    }
}
