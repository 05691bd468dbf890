# Shared settings for the scripts. Source it; it defines no side effects.
# shellcheck shell=bash
ZB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KAFKA_VERSION=4.1.1 # keep in step with tests/kafka/pom.xml
ZB_CACHE=${ZB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zimbridge}
KAFKA_JARS=$ZB_CACHE/kafka-$KAFKA_VERSION
# Tools scripts/setup builds (helm) live in the cache.
PATH=$ZB_CACHE/bin:$PATH

zb_log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
zb_die() { zb_log "$*"; exit 1; }

# A free TCP port on 127.0.0.1 (the kernel picks it).
zb_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Podman on these machines (../shared/docs/containers.md): runc, rlimits the
# machine allows, cgroupfs; a containers.conf of our own, leaving /etc alone.
zb_podman_env() {
    mkdir -p "$ZB_CACHE"
    cat >"$ZB_CACHE/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
    export CONTAINERS_CONF=$ZB_CACHE/containers.conf
}

# The Debian 13 base image the Dockerfile names (docker.io/library/
# debian:trixie-slim), made once from Debian's packages with debootstrap
# (no registry is reachable) and cached as a tarball in $ZB_CACHE.
zb_trixie_base() {
    local base=docker.io/library/debian:trixie-slim
    podman image exists "$base" && return 0
    local tarball=$ZB_CACHE/debian-trixie-minbase.tar
    if [ ! -f "$tarball" ]; then
        # The mirror apt uses: deb822 "URIs:" lines or one-line "deb" ones.
        local mirror root log
        mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
            sed -nE 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' |
            grep -E '/debian/?$' | head -n 1 || true)
        mirror=${mirror:-http://deb.debian.org/debian}
        root=$(mktemp -d /tmp/zbtrixie.XXXXXX)
        log=$root.log
        debootstrap --variant=minbase trixie "$root" "$mirror" >"$log" 2>&1 ||
            { tail -20 "$log"; rm -rf "$root" "$log"; zb_die "debootstrap of trixie failed"; }
        # What debootstrap downloaded is not part of an image.
        rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
        mkdir -p "$ZB_CACHE"
        tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
        rm -rf "$root" "$log"
    fi
    podman import "$tarball" localhost/debian-minbase:trixie >/dev/null
    podman tag localhost/debian-minbase:trixie "$base"
}

# Configures and builds the tree in $1 (more cmake arguments after it)
# with ZB_BUILD_TYPE, ZB_SANITIZE and ZB_WERROR, then runs ctest there
# (-j 2; ZB_SOAK=1 adds the label soak; ZB_CTEST_ARGS adds arguments).
# The brokers ctest's fixtures started are stopped, by PID, even when
# ctest is interrupted.
zb_suite() {
    local build
    build=$(realpath -m "$1")
    shift
    cmake -S "$ZB_ROOT" -B "$build" \
        -DCMAKE_BUILD_TYPE="${ZB_BUILD_TYPE:-Debug}" \
        -DZB_SANITIZE="${ZB_SANITIZE:-}" \
        -DZB_WERROR="$([ "${ZB_WERROR:-0}" = 1 ] && echo ON || echo OFF)" "$@" >/dev/null
    cmake --build "$build" -j "$(nproc)"
    # If ctest is interrupted, its cleanup fixtures do not run.
    ZB_SUITE_BUILD=$build
    trap 'for k in kafka-local kafka-broker-test; do
              KAFKA_LOCAL_DIR="$ZB_SUITE_BUILD/$k" "$ZB_ROOT/scripts/kafka-local" stop 2>/dev/null || true
          done' EXIT INT TERM
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    local soak=(-LE soak)
    [ "${ZB_SOAK:-0}" = 1 ] && soak=()
    # shellcheck disable=SC2086
    ctest --test-dir "$build" --output-on-failure -j 2 "${soak[@]}" ${ZB_CTEST_ARGS:-}
}
