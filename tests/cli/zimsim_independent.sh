#!/usr/bin/env bash
# zimsim must implement the ZIM contract on its own: its binary must not
# contain the bridge's event validation (event.c), so the two readings of
# the contract check each other. Also checks --help documents every flag.
set -u
sim=$ZB_BUILD_DIR/zimsim
. "$ZB_SOURCE_DIR/tests/support/check.sh"
syms=$(nm "$sim" 2>/dev/null)
check "zimsim binary has symbols" [ -n "$syms" ]
check "zimsim does not link event_parse" bash -c "! grep -qw event_parse <<<\"\$0\"" "$syms"
check "zimsim links its own sim_handle" grep -qw sim_handle <<<"$syms"
help=$("$sim" --help)
for flag in listen app-id secret-file users groups qps-peer qps-group qps-broadcast \
    broadcast-daily tls-cert tls-key latency-ms fail-rate http-error-rate drop-rate; do
    check "--help documents --$flag" grep -q -- "--$flag" <<<"$help"
done
"$sim" --app-id 1 2>/dev/null
check "missing --secret-file exits 2" [ $? = 2 ]
check_done
