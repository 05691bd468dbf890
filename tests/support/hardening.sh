# hardening.sh - sourced by tests: check_hardening BINARY FORTIFIED checks
# (with check.sh's check) that an ELF executable is position-independent,
# has full RELRO (read-only relocations, bound at start), uses stack
# canaries and, when FORTIFIED is 1, fortified libc calls.
check_hardening() {
    local bin=$1 fortified=$2 what
    what=$(basename "$bin")
    command -v readelf >/dev/null || { echo "FAIL readelf (binutils) is missing"; fails=$((fails + 1)); return; }
    check "$what is position-independent (ELF type DYN)" \
        grep -q 'Type: *DYN' <(readelf -h "$bin")
    check "$what has a GNU_RELRO segment" grep -q GNU_RELRO <(readelf -lW "$bin")
    check "$what binds at start (BIND_NOW)" \
        grep -qE 'BIND_NOW|FLAGS_1.*NOW' <(readelf -dW "$bin")
    check "$what uses stack canaries (__stack_chk_fail)" \
        grep -q __stack_chk_fail <(readelf --dyn-syms -W "$bin")
    if [ "$fortified" = 1 ]; then
        check "$what calls fortified libc functions (__*_chk)" \
            grep -qE '__[a-z_]+_chk' <(readelf --dyn-syms -W "$bin" | grep -v __stack_chk)
    fi
}
