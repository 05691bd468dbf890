/* action.h - one row per ZIM action: everything the bridge knows of an
 * action besides its names (base/event_kind.h). Every per-action decision
 * reads a row, and every per-action array is sized by ZB_ACTION_COUNT:
 * the table is sized by its rows and checked against it, so an action
 * without a row does not compile. Pure: constants only.
 *
 * Adding an action (README, Design): its value and names in
 * base/event_kind, a row here, its event spec in core/event.c, its
 * topics.<role> and quota.<role>_per_s rows in base/config.c, its handler
 * in zimsim, and its tests. */
#ifndef ZB_ACTION_H
#define ZB_ACTION_H

#include "event_kind.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_spec; /* core/event.h */

/* Whether events of an action may share a call. */
enum action_pack {
    ACTION_PACK_NONE = 0,   /* one call, one event (one group, one room) */
    ACTION_PACK_RECIPIENTS, /* events identical but for their recipients
                               share calls of up to 100 (core/pack.h); an
                               event with more goes out in parts */
};

/* How ZIM's answer, and so the reply, reports who got the message. */
enum action_recipients {
    ACTION_RCPT_LISTS = 0, /* SuccList and ErrorList, per recipient:
                              partial success, narrowed DLQ records */
    ACTION_RCPT_MSG_ID,    /* the conversation's MsgId and MsgSeq */
    ACTION_RCPT_NONE,      /* Code only: no id of the message */
};

struct action {
    enum event_kind kind;          /* its index, checked by the tests */
    const char *default_topic;     /* topics.<role>'s default */
    const struct event_spec *spec; /* its fields and rules (core/event) */
    enum action_pack pack;
    int64_t quota_per_s;            /* ZIM's calls/s (reference §2.4) */
    int64_t daily, daily_window_ms; /* a rolling quota too; 0: none */
    const int64_t *throttle;        /* codes that mean "over the quota":
                                       slow down, send again, no attempt */
    size_t n_throttle;
    enum action_recipients recipients;
};

const struct action *action_of(enum event_kind kind);
/* Whether code, answered to a call of kind, means ZIM throttled it. */
bool action_throttles(enum event_kind kind, int64_t code);
/* The action whose events may carry field at the top level of an event
 * (FromUserId belongs to all; ToUserId to peer...): a bit per kind. */
unsigned action_fields_of(const char *field);

#endif
