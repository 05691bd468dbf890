/* net.h - a listening TCP socket for "host:port" ("[::1]:0", port 0 picks
 * a free port). Shared by the metrics listener and zimsim. */
#ifndef ZB_NET_H
#define ZB_NET_H

#include <stddef.h>

/* Returns the socket, listening, or -1 with err filled. *port gets the
 * bound port, *ipv6 whether it is an IPv6 socket; host (>= 64 bytes)
 * gets the host part. */
int net_listen(const char *hostport, char *host, size_t hostlen, int *port,
               int *ipv6, char *err, size_t errlen);

#endif
