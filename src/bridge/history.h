/* history.h - what the bridge must remember across restarts, rebuilt from
 * Kafka rather than local disk: the broadcasts sent in the quota window,
 * read back from the reply topic's recent records. */
#ifndef ZB_HISTORY_H
#define ZB_HISTORY_H

#include "config.h"
#include "record_mac.h"
#include "window.h"

#include <stddef.h>

/* Adds to w the time of every broadcast the reply topic says was sent in
 * the last quota.broadcast_window_ms (by any replica). Only records that
 * carry a zim.record.mac valid under key count, at the time the MAC
 * carries, and an exact copy counts once: anyone who can write to the
 * reply topic cannot pause broadcasts with forged "sent" records. 0, or
 * -1 with err filled (the window then starts empty). */
int history_broadcasts(const struct config *cfg,
                       const struct record_mac_key *key, struct window *w,
                       char *err, size_t errlen);

#endif
