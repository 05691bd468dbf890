/* service.h - the bridge's main loop (architecture.md): consume, validate,
 * call ZIM, publish the reply and dead-letter records, store offsets once
 * they are delivered, and shut down without losing anything. One thread
 * runs all of it. */
#ifndef ZB_SERVICE_H
#define ZB_SERVICE_H

#include "config.h"

#include <signal.h>

/* Runs until *stop becomes non-zero (a signal handler sets it), then
 * drains and closes. Returns the process exit status: 0 after a clean
 * shutdown, 1 on a fatal error (logged). Takes cfg's ServerSecret: once
 * the ZIM client holds its copy (the one a rotation replaces) and the
 * record MAC key is derived, cfg->secret is wiped and freed, so that a
 * rotated secret leaves no copy behind. */
int service_run(struct config *cfg, volatile sig_atomic_t *stop);

#endif
