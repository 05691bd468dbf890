/* net.h - "host:port" addresses and listening TCP sockets. Shared by the
 * metrics listener and zimsim. */
#ifndef ZB_NET_H
#define ZB_NET_H

#include <stddef.h>

/* Splits "host:port", "[v6]:port" or ":port" into host (brackets removed;
 * "" for any address) and port (0..65535). 0, or -1 with err filled. */
int net_split_hostport(const char *hostport, char *host, size_t hostlen,
                       int *port, char *err, size_t errlen);

/* Returns the socket, listening, or -1 with err filled. *port gets the
 * bound port, *ipv6 whether it is an IPv6 socket; host (>= 64 bytes)
 * gets the host part. */
int net_listen(const char *hostport, char *host, size_t hostlen, int *port,
               int *ipv6, char *err, size_t errlen);

#endif
