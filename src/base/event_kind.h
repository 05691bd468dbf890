/* event_kind.h - the three ZIM APIs this project speaks, one per input
 * topic: the one table of their short names ("peer") and ZIM action names
 * ("SendPeerMessage"). The bridge, its metrics and zimsim all read it. */
#ifndef ZB_EVENT_KIND_H
#define ZB_EVENT_KIND_H

enum event_kind { EVENT_PEER = 0, EVENT_GROUP, EVENT_BROADCAST };
#define EVENT_KIND_COUNT 3

const char *event_kind_name(enum event_kind kind);   /* "peer" */
const char *event_kind_action(enum event_kind kind); /* "SendPeerMessage" */
/* "peer", "group" or "broadcast" into *out. 0 or -1. */
int event_kind_parse(const char *s, enum event_kind *out);
/* The kind whose ZIM action is action, or -1 (NULL or unknown). */
int event_kind_of_action(const char *action);

#endif
