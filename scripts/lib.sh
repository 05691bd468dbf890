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
