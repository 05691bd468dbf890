#!/usr/bin/env bash
# The layers are enforced by the build (CMakeLists.txt): each of these
# targets, compiled with a layer's exact include path or link line, must
# fail with the error named, and the control must build. So is the action
# table: a fifth action without its rows must not compile.
set -u
. "$ZB_SOURCE_DIR/tests/support/check.sh"
build() { cmake --build "$ZB_BUILD_DIR" --target "$1" 2>&1; }
expect_fail() { # target, what the error must say
    local out
    out=$(build "$1")
    local rc=$?
    check "$1 does not build" [ $rc != 0 ]
    check "$1 fails for the layer: $2" grep -q -- "$2" <<<"$out"
}
out=$(build layer_core_ok)
check "the control (core including base, core and json-c) builds" [ $? = 0 ]
expect_fail layer_core_rdkafka "must not include librdkafka"
expect_fail layer_core_curl "must not include libcurl"
expect_fail layer_core_mhd "src/core must not include libmicrohttpd"
expect_fail layer_core_io "kafka_in.h: No such file"
expect_fail layer_zimsim_core "event.h: No such file"
expect_fail layer_zimsim_link "undefined reference to .event_parse"
out=$(build layer_action_ok)
check "the action tables, as they are, build" [ $? = 0 ]
expect_fail layer_action_missing_row "every action needs a row in core/action.c"
expect_fail layer_action_missing_row "every action needs its ZIM action name"
check_done
