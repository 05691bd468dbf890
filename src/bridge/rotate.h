/* rotate.h - secrets that change under a running bridge. Kubernetes
 * updates a mounted Secret in place; once a second the bridge looks at
 * zim.server_secret_file, zim.tls.ca_file and sasl.password_file, and when
 * one changed: the next ZIM calls are signed with the new ServerSecret,
 * the next TLS connection to ZIM trusts the new CA file (it is read per
 * connection), and the Kafka clients authenticate next with the new SASL
 * password. Each reload is logged, without the secret, and counted
 * (zimbridge_secret_reloads_total). */
#ifndef ZB_ROTATE_H
#define ZB_ROTATE_H

#include "config.h"
#include "filewatch.h"
#include "kafka_in.h"
#include "kafka_out.h"
#include "metrics.h"
#include "record_mac.h"
#include "zim_client.h"

#include <stdint.h>

struct rotate {
    struct filewatch zim_secret, zim_ca, sasl;
    int64_t next_ms;
};

/* Watches cfg's secret files from their state now. 0 or -1 (no memory). */
int rotate_init(struct rotate *r, const struct config *cfg, int64_t now_ms);
void rotate_free(struct rotate *r);
/* Looks (at most once a second) and applies what changed. A new
 * ServerSecret also derives mac and claim again (the outcome records'
 * keys). */
void rotate_check(struct rotate *r, const struct config *cfg,
                  struct zim_client *zc, struct kafka_in *ki,
                  struct kafka_out *ko, struct metrics *m,
                  struct record_mac_key *mac, struct record_claim_key *claim,
                  int64_t now_ms);

#endif
