#!/usr/bin/env bash
# The binaries are built hardened (CMakeLists.txt): PIE, full RELRO,
# stack canaries, and _FORTIFY_SOURCE=3 in optimized builds without
# sanitizers (ZB_FORTIFIED). The image's binary is checked by
# tests/container/run.sh with the same function.
set -u
. "$ZB_SOURCE_DIR/tests/support/check.sh"
. "$ZB_SOURCE_DIR/tests/support/hardening.sh"
check_hardening "$ZB_BUILD_DIR/zimbridge" "${ZB_FORTIFIED:-0}"
check_hardening "$ZB_BUILD_DIR/zimsim" "${ZB_FORTIFIED:-0}"
check_done
