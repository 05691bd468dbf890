/* sim.h - zimsim's model of the ZIM server: the server side of the
 * contract in ../shared/reference/zim-server-api.md, written independently
 * of the bridge's event.c so that the two implementations check each
 * other. Owns users, groups, quotas, message sequences, faults, and the
 * logs tests assert against. Thread-safe: one mutex guards the state, as
 * the HTTP layer calls in from several threads. */
#ifndef ZB_SIM_H
#define ZB_SIM_H

#include "buf.h"
#include "event_kind.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim;

struct sim_options {
    uint32_t app_id;
    const char *secret;
    const char *users_file;      /* NULL: every user exists */
    const char *groups_file;     /* NULL: every group exists */
    const char *rooms_file;      /* NULL: every room, everyone online in it */
    const char *banned_file;     /* NULL: no moderation */
    double qps[ZB_ACTION_COUNT]; /* calls/s per action; 0 = unlimited */
    int64_t broadcast_daily;     /* 0 = unlimited */
    int64_t broadcast_window_ms;
    int64_t max_message_bytes; /* 2048 */
    int64_t max_log_entries;   /* bound on each log */
    uint64_t seed;             /* fault randomness */
    /* faults at start; also settable through sim_control() */
    int64_t latency_ms, jitter_ms;
    double busy_rate, http_error_rate, drop_rate;
};

/* What the HTTP layer does with a request, decided by sim_handle(). */
enum sim_action {
    SIM_RESPOND = 0, /* send status + body */
    SIM_DROP,        /* close the connection without a response */
};

struct sim_reply {
    enum sim_action action;
    int status;       /* HTTP status */
    int64_t delay_ms; /* hold the response this long first */
    struct buf body;  /* response body (JSON, or text for 5xx) */
};

/* Loads the files named in opt. NULL with err filled on failure. */
struct sim *sim_new(const struct sim_options *opt, char *err, size_t errlen);
void sim_destroy(struct sim *s); /* NULL: no-op */

/* One ZIM API call: the raw query string values (NULL when absent) and
 * body. now_ms/now_us are wall-clock time. Fills r (buf_init'ed by the
 * caller). */
struct sim_query {
    const char *action, *app_id, *nonce, *timestamp, *sig_version, *sig;
};
void sim_handle(struct sim *s, const struct sim_query *q, const char *body,
                size_t len, int64_t now_us, struct sim_reply *r);

/* The faults' "down" state: 0 up, 1 refuse connections, 2 hang. Returns
 * the mode and, in *until_ms, when it ends (wall ms). */
int sim_down(struct sim *s, int64_t *until_ms);
void sim_set_down(struct sim *s, int mode, int64_t until_ms);

/* POST /_sim/control: JSON with any of latency_ms, jitter_ms, busy_rate,
 * http_error_rate, http_error_status, drop_rate, down ("refuse", "hang" or
 * "up"), down_ms, force_code + force_ms, fail_next {code, count, match},
 * fail_clear, secret (a new ServerSecret), users_add, users_remove, groups_add
 * {id: [members]}, groups_remove, rooms_add {id: [online users] or null
 * for everyone}, success_message (the Message of Code 0
 * answers), audit_reason (moderation reasons' words; null: English),
 * garble_next {count, match, body} (deliver, then answer 200 with body, not
 * JSON). 0, or -1 with err filled. */
int sim_control(struct sim *s, const char *json, size_t len, int64_t now_ms,
                char *err, size_t errlen);
/* GET /_sim/messages, /_sim/requests, /_sim/stats into out. */
int sim_messages(struct sim *s, struct buf *out);
int sim_requests(struct sim *s, struct buf *out);
int sim_stats(struct sim *s, struct buf *out);
void sim_reset(struct sim *s);
/* Requests being served: +1 when one arrives, -1 when it is answered;
 * the peak shows in stats as max_inflight. */
void sim_inflight(struct sim *s, int delta);

#endif
