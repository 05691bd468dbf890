/* action.c - the table of ZIM actions (see action.h). */
#include "action.h"

#include "event.h"

#include <string.h>

/* "Over the quota" (reference §2.4, §5): the AppID's calls per second (7,
 * and 660300005, the AppID-level frequency code the recall pages name)
 * for every action; broadcast's own 1/s and 100 per day (660500003). A
 * group's or room's own limit (660300006) is no reason to slow every
 * call of the action: it is retried as transient (core/outcome.c). */
static const int64_t throttle_common[] = {7, 660300005};
static const int64_t throttle_broadcast[] = {7, 660300005, 660500003};

#define CODES(a) a, ZB_LEN(a)

static const struct action actions[] = {
    {EVENT_PEER, "zim.peer", &event_spec_peer, ACTION_PACK_RECIPIENTS, 20, 0, 0,
     CODES(throttle_common), ACTION_RCPT_LISTS},
    {EVENT_GROUP, "zim.group", &event_spec_group, ACTION_PACK_NONE, 10, 0, 0,
     CODES(throttle_common), ACTION_RCPT_MSG_ID},
    {EVENT_BROADCAST, "zim.broadcast", &event_spec_broadcast, ACTION_PACK_NONE,
     1, 100, 86400000, CODES(throttle_broadcast), ACTION_RCPT_NONE},
    {EVENT_ROOM, "zim.room", &event_spec_room, ACTION_PACK_NONE, 10, 0, 0,
     CODES(throttle_common), ACTION_RCPT_NONE},
};
_Static_assert(ZB_LEN(actions) == ZB_ACTION_COUNT,
               "every action needs a row in core/action.c");

const struct action *action_of(enum event_kind kind)
{
    return &actions[kind];
}

bool action_throttles(enum event_kind kind, int64_t code)
{
    const struct action *a = &actions[kind];
    for (size_t i = 0; i < a->n_throttle; i++)
        if (a->throttle[i] == code)
            return true;
    return false;
}

unsigned action_fields_of(const char *field)
{
    unsigned kinds = 0;
    for (int k = 0; k < ZB_ACTION_COUNT; k++)
        if (event_spec_has(actions[k].spec, field))
            kinds |= 1u << k;
    return kinds;
}
