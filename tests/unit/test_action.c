/* test_action.c - the table of ZIM actions: a row per action at its own
 * index, the settings each action needs, with the row's defaults, the
 * quotas and throttle codes of the reference (§2.4), and which fields
 * belong to which action. */
#include "action.h"
#include "config.h"
#include "event.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

static void test_rows(void **s)
{
    (void)s;
    static const struct {
        enum event_kind kind;
        int64_t per_s, daily;
        enum action_pack pack;
        enum action_recipients rcpt;
    } want[] = {
        {EVENT_PEER, 20, 0, ACTION_PACK_RECIPIENTS, ACTION_RCPT_LISTS},
        {EVENT_GROUP, 10, 0, ACTION_PACK_NONE, ACTION_RCPT_MSG_ID},
        {EVENT_BROADCAST, 1, 100, ACTION_PACK_NONE, ACTION_RCPT_NONE},
        {EVENT_ROOM, 10, 0, ACTION_PACK_NONE, ACTION_RCPT_NONE},
    };
    assert_int_equal(ZB_LEN(want), ZB_ACTION_COUNT);
    int dailies = 0;
    for (size_t i = 0; i < ZB_LEN(want); i++) {
        const struct action *a = action_of(want[i].kind);
        assert_int_equal(a->kind, want[i].kind);
        assert_int_equal(a->quota_per_s, want[i].per_s);
        assert_int_equal(a->daily, want[i].daily);
        assert_int_equal(a->pack, want[i].pack);
        assert_int_equal(a->recipients, want[i].rcpt);
        assert_non_null(a->spec);
        assert_true(action_throttles(want[i].kind, 7));
        assert_true(action_throttles(want[i].kind, 660300005));
        assert_false(action_throttles(want[i].kind, 660300006));
        assert_false(action_throttles(want[i].kind, 1));
        dailies += a->daily > 0;
    }
    assert_true(action_throttles(EVENT_BROADCAST, 660500003));
    assert_false(action_throttles(EVENT_ROOM, 660500003));
    /* One daily window: quota.broadcast_daily and _window_ms are its. */
    assert_int_equal(dailies, 1);
    /* Packing needs per-recipient answers. */
    for (int k = 0; k < ZB_ACTION_COUNT; k++)
        if (action_of((enum event_kind)k)->pack == ACTION_PACK_RECIPIENTS)
            assert_int_equal(action_of((enum event_kind)k)->recipients,
                             ACTION_RCPT_LISTS);
}

/* Every action has topics.<name> and quota.<name>_per_s, and their
 * defaults are its row's. */
static void test_settings_per_action(void **s)
{
    (void)s;
    struct config cfg;
    char err[256], key[64];
    config_init(&cfg);
    for (int k = 0; k < ZB_ACTION_COUNT; k++) {
        const struct action *a = action_of((enum event_kind)k);
        const char *name = event_kind_name((enum event_kind)k);
        assert_string_equal(cfg.topic[k], a->default_topic);
        assert_int_equal(cfg.quota[k], a->quota_per_s);
        snprintf(key, sizeof(key), "topics.%s", name);
        if (config_set(&cfg, key, "t.x", err, sizeof(err)) != 0)
            fail_msg("%s: %s", key, err);
        assert_string_equal(cfg.topic[k], "t.x");
        snprintf(key, sizeof(key), "quota.%s_per_s", name);
        if (config_set(&cfg, key, "3", err, sizeof(err)) != 0)
            fail_msg("%s: %s", key, err);
        assert_int_equal(cfg.quota[k], 3);
        if (a->daily) {
            assert_int_equal(cfg.broadcast_daily, a->daily);
            assert_int_equal(cfg.broadcast_window_ms, a->daily_window_ms);
        }
    }
    config_free(&cfg);
}

/* A field belongs to the actions whose events carry it. */
static void test_fields(void **s)
{
    (void)s;
    const unsigned all = (1u << ZB_ACTION_COUNT) - 1;
    assert_int_equal(action_fields_of("FromUserId"), all);
    assert_int_equal(action_fields_of("MessageBody"), all);
    assert_int_equal(action_fields_of("ToUserId"), 1u << EVENT_PEER);
    assert_int_equal(action_fields_of("GroupId"), 1u << EVENT_GROUP);
    assert_int_equal(action_fields_of("RoomId"), 1u << EVENT_ROOM);
    assert_int_equal(action_fields_of("PushType"), 1u << EVENT_BROADCAST);
    assert_int_equal(action_fields_of("Priority"),
                     all & ~(1u << EVENT_BROADCAST));
    assert_int_equal(action_fields_of("SenderUnaware"),
                     (1u << EVENT_PEER) | (1u << EVENT_ROOM));
    assert_int_equal(action_fields_of("Nothing"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_settings_per_action),
        cmocka_unit_test(test_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
