/* event.h - chat-send events: parse and validate against the ZIM contract.
 *
 * An event is one Kafka record value: the JSON request body of the topic's
 * ZIM API, with ZIM's own field names (reference §2). Pure: no I/O, no
 * clock, no globals. Every rejection names the field path, the code ZIM
 * would return (or a project code) and a human-readable message. */
#ifndef ZB_EVENT_H
#define ZB_EVENT_H

#include "event_kind.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct config;

/* Codes ZIM itself returns for these input faults (reference §5). */
#define ZIM_CODE_BAD_PARAM       660000002 /* input parameter missing/invalid */
#define ZIM_CODE_TOO_MANY_USERS  660000011
#define ZIM_CODE_USERID_TOO_LONG 660000012
#define ZIM_CODE_BAD_BASE64      660000025
#define ZIM_CODE_TOO_LARGE       660400001
#define ZIM_CODE_SEND_TO_SELF    660600030
#define ZIM_CODE_ROOM_NO_RECEIPT 660300013 /* rooms take no HasReceipt */
/* Project codes, for faults ZIM has no code for (README: "Error codes"). */
#define ZB_CODE_UNREADABLE      900000001 /* not JSON/UTF-8, too deep/large */
#define ZB_CODE_UNKNOWN_FIELD   900000002 /* a field ZIM does not define */
#define ZB_CODE_SENDER_POLICY   900000003 /* FromUserId not in allowed_from */
#define ZB_CODE_PRIORITY_POLICY 900000004 /* Priority over max_priority */
#define ZB_CODE_CANNOT_SPLIT    900000005 /* over 100 recipients, no split */

struct event_limits {
    size_t max_record_bytes;        /* whole record */
    size_t max_message_bytes;       /* MessageBody.Message, most types */
    size_t max_multi_message_bytes; /* MessageBody.Message, type 10 */
    size_t max_extended_bytes;      /* MessageBody.ExtendedData */
    size_t max_searched_bytes;      /* SearchedContent */
    int max_depth;                  /* JSON nesting */
    bool allow_unknown_fields;      /* pass unknown fields through */
    size_t max_recipients;          /* ToUserId entries (peer) */
    /* Sender policies per action: comma-separated FromUserIds, an entry
     * ending in '*' a prefix (NULL: any); the highest Priority (3: any). */
    const char *allowed_from[ZB_ACTION_COUNT];
    int max_priority[ZB_ACTION_COUNT];
};

struct event_error {
    char field[128]; /* "ToUserId[3]", "" when the record is unreadable */
    int64_t code;
    char message[256];
};

struct event {
    enum event_kind kind;
    struct json_object *root; /* owned; the fields below borrow from it */
    const char *from;         /* FromUserId */
    const char *group_id;     /* GroupId, group events only */
    const char *room_id;      /* RoomId, room events only */
    struct json_object *to;   /* ToUserId array, peer events only */
    int message_type;
    int priority; /* 1..3; 0 for broadcast, which has none */
};

/* Each action's fields and rules, for core/action.h's table. */
struct event_spec;
extern const struct event_spec event_spec_peer, event_spec_group,
    event_spec_broadcast, event_spec_room;
/* Whether spec's events may carry field at their top level. */
bool event_spec_has(const struct event_spec *spec, const char *field);

/* The limits set by the event.* keys (their defaults and ranges live in
 * the settings table, config.c). */
void event_limits_from_config(const struct config *cfg,
                              struct event_limits *lim);

/* Parses and validates one record. On 0, ev holds the event (free it with
 * event_free). On -1, err says why and ev owns nothing. */
int event_parse(struct event *ev, enum event_kind kind, const char *data,
                size_t len, const struct event_limits *lim,
                struct event_error *err);
void event_free(struct event *ev);

#endif
