/* event_kind.h - the ZIM actions this project speaks, one per input topic:
 * the enumeration every per-action array is sized by (ZB_ACTION_COUNT),
 * and the one table of their short names ("peer", the topic role and the
 * settings' word: topics.peer, quota.peer_per_s) and ZIM action names
 * ("SendPeerMessage"). The bridge, its metrics and zimsim all read it;
 * what the bridge knows of each action besides (its rules, quota,
 * packing, codes) is core/action.h's table.
 *
 * Adding an action: a value here and its two names (a missing name fails
 * to compile), then the places README's Design section lists. */
#ifndef ZB_EVENT_KIND_H
#define ZB_EVENT_KIND_H

enum event_kind {
    EVENT_PEER = 0,  /* SendPeerMessage */
    EVENT_GROUP,     /* SendGroupMessage */
    EVENT_BROADCAST, /* SendMessageToAllUsers */
    EVENT_ROOM,      /* SendRoomMessage */
};
#define ZB_ACTION_COUNT  4
#define EVENT_KIND_COUNT ZB_ACTION_COUNT
_Static_assert(EVENT_ROOM + 1 == ZB_ACTION_COUNT,
               "ZB_ACTION_COUNT counts the actions of enum event_kind");

/* The number of elements of a table: a table sized by its rows, checked
 * against ZB_ACTION_COUNT, makes a forgotten row a compile error. */
#define ZB_LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *event_kind_name(enum event_kind kind);   /* "peer" */
const char *event_kind_action(enum event_kind kind); /* "SendPeerMessage" */
/* "peer", "group", "broadcast" or "room" into *out. 0 or -1. */
int event_kind_parse(const char *s, enum event_kind *out);
/* The kind whose ZIM action is action, or -1 (NULL or unknown). */
int event_kind_of_action(const char *action);
/* "peer, group, broadcast or room", for messages. */
const char *event_kind_list(void);

#endif
