# check.sh - sourced by the command-line tests (tests/cli/*.sh).
# check NAME COMMAND...: runs COMMAND, prints ok/FAIL NAME and counts;
# check_done: prints the counts and returns non-zero if any failed.
passes=0
fails=0
check() {
    local name=$1; shift
    if "$@"; then echo "ok   $name"; passes=$((passes + 1)); else echo "FAIL $name"; fails=$((fails + 1)); fi
}
check_done() {
    echo "$passes passed, $fails failed"
    [ "$fails" = 0 ]
}
