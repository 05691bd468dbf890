/* zim_client.h - signed ZIM calls over the libcurl multi interface:
 * keep-alive connection reuse, TLS verification always on, at most
 * http.max_inflight requests at once, every attempt signed afresh. Runs
 * on the caller's thread: zim_client_poll() waits and dispatches. */
#ifndef ZB_ZIM_CLIENT_H
#define ZB_ZIM_CLIENT_H

#include "config.h"
#include "zim_proto.h"

#include <stddef.h>
#include <stdint.h>

struct zim_client;

/* Called once per request, from zim_client_poll(), with ctx as given to
 * zim_client_new() and opaque as given to zim_client_send(). res is the
 * caller's to read (and to move res->root out of); it is freed after the
 * call. */
typedef void (*zim_done_fn)(void *ctx, void *opaque, struct zim_result *res);

struct zim_client *zim_client_new(const struct config *cfg, zim_done_fn done,
                                  void *ctx, char *err, size_t errlen);
void zim_client_destroy(struct zim_client *zc); /* NULL: no-op */

/* Starts one call: action at the configured endpoint, with a fresh nonce
 * and timestamp. body must stay valid until done runs. 0; -1 when no slot
 * is free or curl refused the handle; ZIM_CLIENT_UNSIGNED when no nonce or
 * signature could be made (the secure random source or OpenSSL failed). */
#define ZIM_CLIENT_UNSIGNED (-2)
int zim_client_send(struct zim_client *zc, const char *action, const char *body,
                    size_t len, void *opaque);
/* Puts the calls just added on the wire now, without completing any
 * (no callback runs): a paced call leaves when its quota token is taken. */
void zim_client_start(struct zim_client *zc);
/* The ServerSecret changed: the next calls are signed with this one (it
 * is copied). 0 or -1 (no memory: the old one stays). */
int zim_client_set_secret(struct zim_client *zc, const char *secret);
int zim_client_inflight(const struct zim_client *zc);
int zim_client_capacity(const struct zim_client *zc); /* free slots */

/* Waits up to timeout_ms for network activity or for one of extra_fds to
 * become readable, then completes what finished. 0 or -1. */
int zim_client_poll(struct zim_client *zc, int timeout_ms, const int *extra_fds,
                    int n_extra);

#endif
