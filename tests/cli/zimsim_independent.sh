#!/usr/bin/env bash
# zimsim must implement the ZIM contract on its own: its binary must not
# contain the bridge's event validation (event.c), so the two readings of
# the contract check each other. Also checks --help documents every flag.
set -u
sim=$ZB_BUILD_DIR/zimsim
passes=0
fails=0
check() {
    local name=$1; shift
    if "$@"; then echo "ok   $name"; passes=$((passes + 1)); else echo "FAIL $name"; fails=$((fails + 1)); fi
}
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
echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
