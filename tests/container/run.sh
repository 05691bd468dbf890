#!/usr/bin/env bash
# The container image, built and run the way Kubernetes will: --read-only,
# --cap-drop ALL, no-new-privileges, user 65532, configured only by
# ZIMBRIDGE_* variables and mounted files, against a broker of its own
# (scripts/kafka-local) with TLS, SASL and ACLs, and zimsim, on the host
# network. With podman (no Docker engine here, ../shared/docs/containers.md);
# scripts/setup installs it. It checks:
# - the image builds on Debian 13 and says which libraries it runs with;
# - SASL/PLAIN, SASL/SCRAM-SHA-256 and SASL/OAUTHBEARER (an unsecured JWT,
#   the broker's unsecured validator) over TLS each deliver the
#   multilingual corpus end to end, byte for byte, the password read from
#   a mounted file;
# - SIGTERM stops it cleanly as PID 1; the logs are JSON and hold no
#   password or secret; dockerfilelint passes.
set -euo pipefail
. "$ZB_SOURCE_DIR/scripts/lib.sh"
passes=0 fails=0
check() {
    local name=$1; shift
    if "$@"; then echo "ok   $name"; passes=$((passes + 1)); else echo "FAIL $name"; fails=$((fails + 1)); fi
}
for tool in podman debootstrap openssl kcat; do
    command -v $tool >/dev/null || zb_die "$tool is missing: run scripts/setup"
done
work=$(mktemp -d /tmp/zbcontainer.XXXXXX)
chmod 755 "$work"
export KAFKA_LOCAL_DIR=$work/kafka
sim_pid="" cids=()
cleanup() {
    for c in "${cids[@]}"; do podman rm -f "$c" >/dev/null 2>&1 || true; done
    podman image prune -f >/dev/null 2>&1 || true # the build stage
    [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null || true
    "$ZB_SOURCE_DIR/scripts/kafka-local" stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

zb_podman_env
zb_trixie_base

t0=$(date +%s)
podman build --pull=never -q -t localhost/zimbridge:test -f "$ZB_SOURCE_DIR/docker/Dockerfile" "$ZB_SOURCE_DIR" >"$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log"; exit 1; }
check "image builds (in $(( $(date +%s) - t0 )) s)" podman image exists localhost/zimbridge:test
user=$(podman image inspect localhost/zimbridge:test --format '{{.Config.User}}')
check "image runs as 65532" [ "$user" = "65532:65532" ]
entry=$(podman image inspect localhost/zimbridge:test --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}')
check "entrypoint is zimbridge, command run" [ "$entry" = '["zimbridge"] ["run"]' ]
# The binary users run is built hardened, fortified included (Release).
. "$ZB_SOURCE_DIR/tests/support/hardening.sh"
ctr=$(podman create localhost/zimbridge:test)
podman cp "$ctr:/usr/local/bin/zimbridge" "$work/zimbridge.image" >/dev/null
podman rm "$ctr" >/dev/null
check_hardening "$work/zimbridge.image" 1
size=$(podman image inspect localhost/zimbridge:test --format '{{.Size}}')
# The command is the entrypoint's argument, as operators expect.
versions=$(podman run --rm --read-only --cap-drop ALL --user 65532:65532 \
    localhost/zimbridge:test --version)
echo "image: $(( size / 1024 / 1024 )) MiB; --version:"
sed 's/^/  /' <<<"$versions"
check "image is at most 100 MiB" [ "$size" -le $((100 * 1024 * 1024)) ]
for tool in /bin/sh /bin/bash sh busybox apt-get dpkg ls; do
    check "no $tool in the image" \
        bash -c "! podman run --rm --entrypoint '$tool' localhost/zimbridge:test --help >/dev/null 2>&1"
done
rdk=$(sed -n 's/^librdkafka //p' <<<"$versions")
check "librdkafka 2.6.1 or later in the image (SCRAM with Kafka 4)" \
    python3 -c "import sys; v=tuple(int(x) for x in sys.argv[1].split('.')[:3]); sys.exit(v < (2,6,1))" "$rdk"
check "--version names zimbridge, libcurl, json-c, OpenSSL" \
    bash -c "grep -q '^zimbridge ' <<<'$versions' && grep -q '^libcurl ' <<<'$versions' && grep -q '^json-c ' <<<'$versions' && grep -q '^OpenSSL ' <<<'$versions'"

# A broker with TLS and a SASL_SSL listener enforcing ACLs.
tls=$work/tls
mkdir -p "$tls"
(cd "$tls" &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=zimbridge-test-ca \
        -keyout ca.key -out ca.crt >/dev/null 2>&1 &&
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout srv.key -out srv.csr >/dev/null 2>&1 &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >ext &&
    openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile ext -out srv.crt >/dev/null 2>&1 &&
    cat srv.key srv.crt >server.pem)
chmod 644 "$tls/ca.crt"
password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'zimplain %s\n' "$password" >"$work/users"
KAFKA_TOPICS="" KAFKA_TLS_DIR=$tls KAFKA_SASL=1 KAFKA_SASL_USERS=$work/users \
    "$ZB_SOURCE_DIR/scripts/kafka-local" start >/dev/null
boot=$(cat "$KAFKA_LOCAL_DIR/bootstrap")
sasl=$(cat "$KAFKA_LOCAL_DIR/bootstrap_sasl")
printf '%s\n' "$password" | "$ZB_SOURCE_DIR/scripts/kafka-local" admin scram zimscram
printf '%s\n' "$password" >"$work/kafka-password"
chmod 644 "$work/kafka-password"

head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secret"
chmod 644 "$work/secret"
"$ZB_BUILD_DIR/zimsim" --app-id 42 --secret-file "$work/secret" --qps-peer 0 >"$work/sim.url" 2>/dev/null &
sim_pid=$!
for _ in $(seq 1 50); do [ -s "$work/sim.url" ] && break; sleep 0.1; done
# ZIM answers in Chinese: json-c 0.18's strict mode took "成功" for "not
# JSON", and each message was sent again, 8 times.
curl -sf -X POST "$(head -n 1 "$work/sim.url")/_sim/control" -d '{"success_message":"成功"}' >/dev/null
runs=0

corpus=$ZB_SOURCE_DIR/tests/support/corpus_events.py
n_corpus=$("$corpus" count)

# One run of the image as USER with MECHANISM (extra -e settings after):
# its own topics and group, rights for exactly those, 20 events.
run_image() {
    local name=$1 user=$2 mech=$3; shift 3
    local pfx=ct.$name.$$ port topics=""
    for t in peer group broadcast room reply dlq; do topics="$topics $pfx.$t:3"; done
    # shellcheck disable=SC2086
    "$ZB_SOURCE_DIR/scripts/kafka-local" admin create $topics >/dev/null
    local kl="$ZB_SOURCE_DIR/scripts/kafka-local"
    "$kl" admin allow "$user" READ topic "$pfx.peer" "$pfx.group" "$pfx.broadcast" "$pfx.room" "$pfx.reply" >/dev/null
    "$kl" admin allow "$user" DESCRIBE topic "$pfx.peer" "$pfx.group" "$pfx.broadcast" "$pfx.room" "$pfx.reply" "$pfx.dlq" >/dev/null
    "$kl" admin allow "$user" WRITE topic "$pfx.reply" "$pfx.dlq" >/dev/null
    "$kl" admin allow "$user" READ group "$pfx" >/dev/null
    port=$(zb_free_port)
    local cid
    cid=$(podman run -d --network host --read-only --cap-drop ALL \
        --security-opt no-new-privileges --user 65532:65532 --memory 256m \
        -v "$work/secret:/run/secrets/zim/server-secret:ro" \
        -v "$work/kafka-password:/run/secrets/kafka/password:ro" \
        -v "$tls/ca.crt:/etc/zimbridge/kafka-ca.crt:ro" \
        -e ZIMBRIDGE_KAFKA_BOOTSTRAP_SERVERS="$sasl" \
        -e ZIMBRIDGE_KAFKA_SECURITY_PROTOCOL=sasl_ssl \
        -e ZIMBRIDGE_KAFKA_SSL_CA_LOCATION=/etc/zimbridge/kafka-ca.crt \
        -e ZIMBRIDGE_KAFKA_SASL_MECHANISMS="$mech" \
        -e ZIMBRIDGE_KAFKA_GROUP_ID="$pfx" \
        -e ZIMBRIDGE_ZIM_ENDPOINT="$(head -n 1 "$work/sim.url")" \
        -e ZIMBRIDGE_ZIM_APP_ID=42 \
        -e ZIMBRIDGE_ZIM_SERVER_SECRET_FILE=/run/secrets/zim/server-secret \
        -e ZIMBRIDGE_HTTP_LISTEN="127.0.0.1:$port" \
        -e ZIMBRIDGE_TOPICS_PEER="$pfx.peer" -e ZIMBRIDGE_TOPICS_GROUP="$pfx.group" \
        -e ZIMBRIDGE_TOPICS_BROADCAST="$pfx.broadcast" -e ZIMBRIDGE_TOPICS_ROOM="$pfx.room" \
        -e ZIMBRIDGE_TOPICS_REPLY="$pfx.reply" -e ZIMBRIDGE_TOPICS_DLQ="$pfx.dlq" \
        -e ZIMBRIDGE_QUOTA_PEER_PER_S=0 -e ZIMBRIDGE_LOG_FORMAT=json \
        "$@" localhost/zimbridge:test)
    cids+=("$cid")
    local ready=no n=0
    for _ in $(seq 1 300); do
        if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then ready=yes; break; fi
        sleep 0.2
    done
    check "$name: /readyz turns ready" [ "$ready" = yes ]
    # Chat text as users write it: the multilingual corpus, one event per
    # text (json-c 0.18 in the image once refused every non-ASCII byte).
    "$corpus" events "ct-$name" | kcat -P -b "$boot" -t "$pfx.peer" -K '|'
    for _ in $(seq 1 150); do
        n=$(kcat -C -b "$boot" -t "$pfx.reply" -e -q -f '%s\n' 2>/dev/null | grep -c '"status":"sent"' || true)
        [ "$n" -ge "$n_corpus" ] && break
        sleep 0.2
    done
    check "$name over TLS: $n_corpus multilingual events delivered end to end" [ "$n" -eq "$n_corpus" ]
    dlq=$(kcat -C -b "$boot" -t "$pfx.dlq" -e -q -f '%s\n' 2>/dev/null | grep -c . || true)
    check "$name: no event dead-lettered" [ "$dlq" -eq 0 ]
    curl -sf "$(head -n 1 "$work/sim.url")/_sim/messages" >"$work/messages"
    check "$name: ZIM received each text once, byte for byte" \
        "$corpus" check "ct-$name" "$work/messages"
    runs=$((runs + 1))
    local calls
    calls=$(curl -sf "$(head -n 1 "$work/sim.url")/_sim/stats" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["actions"]["SendPeerMessage"]["requests"])')
    check "$name: ZIM answering in Chinese, $((runs * n_corpus)) events took $calls calls" \
        [ "$calls" -eq $((runs * n_corpus)) ]
    check "$name: replies carry ZIM's words" \
        bash -c "kcat -C -b '$boot' -t '$pfx.reply' -e -q -f '%s\n' | grep -q '\"message\":\"成功\"'"
    podman stop -t 20 "$cid" >/dev/null
    check "$name: SIGTERM, clean exit 0 as PID 1" [ "$(podman inspect "$cid" --format '{{.State.ExitCode}}')" = 0 ]
    podman logs "$cid" >"$work/$name.log" 2>&1
    check "$name: logs are JSON lines" grep -q '^{"time":' "$work/$name.log"
    check "$name: the password is in no log line" bash -c "! grep -qF '$password' '$work/$name.log'"
    check "$name: the ZIM secret is in no log line" bash -c "! grep -qF '$(cat "$work/secret")' '$work/$name.log'"
}

run_image plain zimplain PLAIN -e ZIMBRIDGE_KAFKA_SASL_USERNAME=zimplain \
    -e ZIMBRIDGE_SASL_PASSWORD_FILE=/run/secrets/kafka/password
run_image scram zimscram SCRAM-SHA-256 -e ZIMBRIDGE_KAFKA_SASL_USERNAME=zimscram \
    -e ZIMBRIDGE_SASL_PASSWORD_FILE=/run/secrets/kafka/password
run_image oauthbearer zimoauth OAUTHBEARER \
    -e ZIMBRIDGE_KAFKA_ENABLE_SASL_OAUTHBEARER_UNSECURE_JWT=true \
    -e ZIMBRIDGE_KAFKA_SASL_OAUTHBEARER_CONFIG="principal=zimoauth"

# Every FROM is an earlier stage, scratch, or an image pinned by tag or
# digest, ${ARG}s read as their defaults (the check dockerfilelint makes,
# which cannot tell a stage from an image).
untagged=$(awk 'toupper($1) == "ARG" && split($2, kv, "=") == 2 { arg[kv[1]] = kv[2] }
    toupper($1) == "FROM" {
        img = $2
        if (match(img, /^\$\{[A-Za-z_]+\}$/)) img = arg[substr(img, 3, length(img) - 3)]
        if (!($2 in stage) && img != "scratch" && img !~ /[:@]/) print $2
        if (toupper($3) == "AS") stage[$4] = 1 }' "$ZB_SOURCE_DIR/docker/Dockerfile")
check "every base image has a tag or digest${untagged:+: not $untagged}" [ -z "$untagged" ]
if command -v npx >/dev/null; then
    lint=0
    npx --yes dockerfilelint@1.8.0 "$ZB_SOURCE_DIR/docker/Dockerfile" >"$work/lint.log" 2>&1 || lint=$?
    [ $lint -eq 0 ] || cat "$work/lint.log"
    check "dockerfilelint passes" [ $lint -eq 0 ]
else
    check "npx is there for dockerfilelint (scripts/setup: nodejs)" false
fi
echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
