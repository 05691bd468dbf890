/* event_kind.c - names of the ZIM APIs. */
#include "event_kind.h"

#include <stddef.h>
#include <string.h>

static const char *const kind_names[EVENT_KIND_COUNT] = {"peer", "group",
                                                         "broadcast"};
static const char *const kind_actions[EVENT_KIND_COUNT] = {
    "SendPeerMessage", "SendGroupMessage", "SendMessageToAllUsers"};

const char *event_kind_name(enum event_kind kind)
{
    return kind_names[kind];
}

const char *event_kind_action(enum event_kind kind)
{
    return kind_actions[kind];
}

static int index_of(const char *const *names, const char *s)
{
    for (int i = 0; s && i < EVENT_KIND_COUNT; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int event_kind_parse(const char *s, enum event_kind *out)
{
    int i = index_of(kind_names, s);
    if (i < 0)
        return -1;
    *out = (enum event_kind)i;
    return 0;
}

int event_kind_of_action(const char *action)
{
    return index_of(kind_actions, action);
}
