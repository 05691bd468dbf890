/* test_event_kind.c - the one table of the ZIM APIs' names. */
#include "event_kind.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static void test_names_table(void **st)
{
    (void)st;
    static const struct {
        enum event_kind kind;
        const char *name, *action;
    } t[] = {
        {EVENT_PEER, "peer", "SendPeerMessage"},
        {EVENT_GROUP, "group", "SendGroupMessage"},
        {EVENT_BROADCAST, "broadcast", "SendMessageToAllUsers"},
        {EVENT_ROOM, "room", "SendRoomMessage"},
    };
    assert_int_equal(sizeof(t) / sizeof(t[0]), ZB_ACTION_COUNT);
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        enum event_kind k = EVENT_PEER;
        assert_string_equal(event_kind_name(t[i].kind), t[i].name);
        assert_string_equal(event_kind_action(t[i].kind), t[i].action);
        assert_int_equal(event_kind_parse(t[i].name, &k), 0);
        assert_int_equal(k, t[i].kind);
        assert_int_equal(event_kind_of_action(t[i].action), (int)t[i].kind);
    }
    enum event_kind k;
    assert_int_equal(event_kind_parse("Peer", &k), -1); /* case matters */
    assert_int_equal(event_kind_of_action("RevokeRoomMessage"), -1);
    assert_int_equal(event_kind_parse("rooms", &k), -1);
    assert_string_equal(event_kind_list(), "peer, group, broadcast or room");
    assert_int_equal(event_kind_of_action(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
