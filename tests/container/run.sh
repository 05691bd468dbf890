#!/usr/bin/env bash
# Builds docker/Dockerfile with podman (no Docker engine here, see
# ../shared/docs/containers.md) and runs it the way Kubernetes will:
# --read-only, --cap-drop ALL, no-new-privileges, user 65532, configured
# only by ZIMBRIDGE_* variables and a mounted secret file, against the
# test broker and zimsim on the host network. Checks that /readyz turns
# ready, events flow, SIGTERM stops it cleanly, and dockerfilelint passes.
set -euo pipefail
. "$ZB_SOURCE_DIR/scripts/lib.sh"
passes=0 fails=0
check() {
    local name=$1; shift
    if "$@"; then echo "ok   $name"; passes=$((passes + 1)); else echo "FAIL $name"; fails=$((fails + 1)); fi
}
work=$(mktemp -d /tmp/zbcontainer.XXXXXX)
sim_pid="" cid=""
cleanup() {
    [ -n "$cid" ] && podman rm -f "$cid" >/dev/null 2>&1 || true
    [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Podman settings for this machine: runc, rlimits it allows.
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
export CONTAINERS_CONF=$work/containers.conf

# The base image, made once from Debian's packages and cached.
base=docker.io/library/debian:bookworm-slim
if ! podman image exists "$base"; then
    tarball=$ZB_CACHE/debian-bookworm-minbase.tar
    if [ ! -f "$tarball" ]; then
        # The mirror apt uses: deb822 "URIs:" lines or one-line "deb" ones.
        mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
            sed -nE 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' |
            grep -E '/debian/?$' | head -n 1 || true)
        mirror=${mirror:-http://deb.debian.org/debian}
        root=$work/rootfs
        debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
            { tail -20 "$work/debootstrap.log"; exit 1; }
        mkdir -p "$ZB_CACHE"
        tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    fi
    podman import "$tarball" localhost/debian-minbase:bookworm >/dev/null
    podman tag localhost/debian-minbase:bookworm "$base"
fi

podman build --pull=never -q -t localhost/zimbridge:test -f "$ZB_SOURCE_DIR/docker/Dockerfile" "$ZB_SOURCE_DIR" >"$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log"; exit 1; }
check "image builds" podman image exists localhost/zimbridge:test
user=$(podman image inspect localhost/zimbridge:test --format '{{.Config.User}}')
check "image runs as 65532" [ "$user" = "65532:65532" ]
entry=$(podman image inspect localhost/zimbridge:test --format '{{json .Config.Entrypoint}}')
check "entrypoint is zimbridge run" [ "$entry" = '["zimbridge","run"]' ]

boot=$(cat "$KAFKA_LOCAL_DIR/bootstrap")
suffix=$$
for t in peer group broadcast reply dlq; do topics="${topics:-} ct.$t.$suffix:3"; done
"$ZB_SOURCE_DIR/scripts/kafka-local" admin create $topics >/dev/null

head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secret"
chmod 644 "$work/secret"
"$ZB_BUILD_DIR/zimsim" --app-id 42 --secret-file "$work/secret" --qps-peer 0 >"$work/sim.url" 2>/dev/null &
sim_pid=$!
for _ in $(seq 1 50); do [ -s "$work/sim.url" ] && break; sleep 0.1; done
port=$(zb_free_port)
cid=$(podman run -d --network host --read-only --cap-drop ALL \
    --security-opt no-new-privileges --user 65532:65532 --memory 256m \
    -v "$work/secret:/run/secrets/zim:ro" \
    -e ZIMBRIDGE_KAFKA_BOOTSTRAP_SERVERS="$boot" \
    -e ZIMBRIDGE_KAFKA_GROUP_ID="ct.$suffix" \
    -e ZIMBRIDGE_ZIM_ENDPOINT="$(head -n 1 "$work/sim.url")" \
    -e ZIMBRIDGE_ZIM_APP_ID=42 \
    -e ZIMBRIDGE_ZIM_SERVER_SECRET_FILE=/run/secrets/zim \
    -e ZIMBRIDGE_HTTP_LISTEN="127.0.0.1:$port" \
    -e ZIMBRIDGE_TOPICS_PEER="ct.peer.$suffix" -e ZIMBRIDGE_TOPICS_GROUP="ct.group.$suffix" \
    -e ZIMBRIDGE_TOPICS_BROADCAST="ct.broadcast.$suffix" \
    -e ZIMBRIDGE_TOPICS_REPLY="ct.reply.$suffix" -e ZIMBRIDGE_TOPICS_DLQ="ct.dlq.$suffix" \
    -e ZIMBRIDGE_QUOTA_PEER_PER_S=0 -e ZIMBRIDGE_LOG_FORMAT=json \
    localhost/zimbridge:test)
ready=no
for _ in $(seq 1 150); do
    if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then ready=yes; break; fi
    sleep 0.2
done
check "/readyz turns ready in the container" [ "$ready" = yes ]
for i in $(seq 1 20); do
    printf 'k%d|{"FromUserId":"u1","ToUserId":["u2"],"MessageType":1,"Priority":1,"MessageBody":{"Message":"c%d"}}\n' "$i" "$i"
done | kcat -P -b "$boot" -t "ct.peer.$suffix" -K '|'
n=0
for _ in $(seq 1 100); do
    n=$(kcat -C -b "$boot" -t "ct.reply.$suffix" -e -q -f '%o\n' 2>/dev/null | wc -l)
    [ "$n" -ge 20 ] && break
    sleep 0.2
done
check "20 events flow through the container" [ "$n" -eq 20 ]
sent=$(kcat -C -b "$boot" -t "ct.reply.$suffix" -e -q -f '%s\n' | grep -c '"status":"sent"' || true)
check "all 20 sent" [ "$sent" -eq 20 ]
podman stop -t 20 "$cid" >/dev/null
code=$(podman inspect "$cid" --format '{{.State.ExitCode}}')
check "SIGTERM: clean exit 0 as PID 1" [ "$code" = 0 ]
podman logs "$cid" >"$work/container.log" 2>&1
check "logs are JSON lines" grep -q '^{"time":' "$work/container.log"
check "the secret is not in the logs" bash -c "! grep -qF '$(cat "$work/secret")' '$work/container.log'"
if command -v npx >/dev/null; then
    lint=0
    npx --yes dockerfilelint@1.8.0 "$ZB_SOURCE_DIR/docker/Dockerfile" >"$work/lint.log" 2>&1 || lint=$?
    [ $lint -eq 0 ] || cat "$work/lint.log"
    check "dockerfilelint passes" [ $lint -eq 0 ]
fi
echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
