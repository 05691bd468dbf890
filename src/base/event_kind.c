/* event_kind.c - names of the ZIM actions. */
#include "event_kind.h"

#include <stddef.h>
#include <string.h>

static const char *const kind_names[] = {"peer", "group", "broadcast", "room"};
static const char *const kind_actions[] = {
    "SendPeerMessage", "SendGroupMessage", "SendMessageToAllUsers",
    "SendRoomMessage"};
_Static_assert(ZB_LEN(kind_names) == ZB_ACTION_COUNT,
               "every action needs its short name");
_Static_assert(ZB_LEN(kind_actions) == ZB_ACTION_COUNT,
               "every action needs its ZIM action name");

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
    for (int i = 0; s && i < ZB_ACTION_COUNT; i++)
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

const char *event_kind_list(void)
{
    static char list[128];
    if (list[0])
        return list;
    char tmp[sizeof(list)];
    size_t n = 0;
    for (int i = 0; i < ZB_ACTION_COUNT; i++) {
        const char *sep = i == 0                     ? ""
                          : i == ZB_ACTION_COUNT - 1 ? " or "
                                                     : ", ";
        size_t a = strlen(sep), b = strlen(kind_names[i]);
        if (n + a + b + 1 > sizeof(tmp))
            break;
        memcpy(tmp + n, sep, a);
        memcpy(tmp + n + a, kind_names[i], b);
        n += a + b;
    }
    tmp[n] = '\0';
    memcpy(list, tmp, n + 1);
    return list;
}
