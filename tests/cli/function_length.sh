#!/usr/bin/env bash
# No function in src/ or zimsim/ over 100 lines (README, "Design"): long
# functions hide their decisions. clang-format puts a function's braces at
# column 0, so a body runs from a line "{" to the next line "}".
set -u
. "$ZB_SOURCE_DIR/tests/support/check.sh"
long=$(awk '
    /^\{/ { start = FNR; name = prev }
    /^\}/ { if (start && FNR - start + 1 > 100)
                printf "%s:%d: %d lines: %s\n", FILENAME, start, FNR - start + 1, name
            start = 0 }
    !/^\{/ { prev = $0 }' "$ZB_SOURCE_DIR"/src/*/*.c "$ZB_SOURCE_DIR"/zimsim/*.c)
[ -n "$long" ] && echo "$long"
check "no function over 100 lines" [ -z "$long" ]
n=$(ls "$ZB_SOURCE_DIR"/src/*/*.c "$ZB_SOURCE_DIR"/zimsim/*.c | wc -l)
check "the check read the sources ($n files)" [ "$n" -gt 30 ]
check_done
