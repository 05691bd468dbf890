#!/usr/bin/env bash
# replay's arguments are checked before it connects to anything: --rate
# is a finite number in (0, 100000], and a bad one exits 2 naming it.
set -u
zb=$ZB_BUILD_DIR/zimbridge
. "$ZB_SOURCE_DIR/tests/support/check.sh"
export ZIMBRIDGE_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:1
for bad in nan inf -inf 0 -5 1e9 100001 5x ''; do
    out=$("$zb" replay --rate "$bad" --all 2>&1)
    rc=$?
    check "--rate '$bad' exits 2" [ "$rc" = 2 ]
    check "--rate '$bad' is named" grep -q -- "--rate: '$bad' is not valid" <<<"$out"
done
# A good rate passes the check (and then fails later, on the broker).
out=$(timeout 3 "$zb" replay --rate 100000 --dry-run --all 2>&1)
named=$(grep -c -- "--rate" <<<"$out")
check "--rate 100000 is accepted" [ "$named" = 0 ]
check_done
