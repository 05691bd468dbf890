#!/usr/bin/env bash
# The Helm chart and the kustomize base, run as Kubernetes runs them: each
# rendered (helm template; the kustomize API), then played with
# `podman kube play` on the host network: the Deployment's pod from the
# image, its ConfigMap as ZIMBRIDGE_* variables, the ZIM ServerSecret as a
# mounted Secret, and the service-link variables a kubelet injects for
# every Service rendered (deploy/validate/kubeplay), which once made the
# bridge refuse to start ("ZIMBRIDGE_METRICS_PORT is not a setting"). Each
# pod must start, become ready, answer its probes (/healthz, /readyz, on
# the port the probes name), and deliver the multilingual corpus from a
# real broker to zimsim, byte for byte. Label container; scripts/setup
# installs podman, catatonit and helm, and a missing one fails the test.
set -euo pipefail
. "$ZB_SOURCE_DIR/scripts/lib.sh"
passes=0 fails=0
check() {
    local name=$1
    shift
    if "$@"; then echo "ok   $name"; passes=$((passes + 1)); else echo "FAIL $name"; fails=$((fails + 1)); fi
}
for tool in podman helm go kcat curl python3; do
    command -v $tool >/dev/null || zb_die "$tool is missing: run scripts/setup"
done
[ -x /usr/libexec/podman/catatonit ] || command -v catatonit >/dev/null ||
    zb_die "catatonit is missing (podman kube play's pause image): run scripts/setup"
work=$(mktemp -d /tmp/zbkube.XXXXXX)
chmod 755 "$work"
export KAFKA_LOCAL_DIR=$work/kafka
sim_pid="" played=()
cleanup() {
    for f in "${played[@]}"; do podman kube down "$f" >/dev/null 2>&1 || true; done
    [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null || true
    "$ZB_SOURCE_DIR/scripts/kafka-local" stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

zb_podman_env
zb_trixie_base
podman build --pull=never -q -t localhost/zimbridge:test -f "$ZB_SOURCE_DIR/docker/Dockerfile" \
    "$ZB_SOURCE_DIR" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
(cd "$ZB_SOURCE_DIR/deploy/validate" && go build -o "$work/kubeplay" ./kubeplay)

KAFKA_TOPICS="" "$ZB_SOURCE_DIR/scripts/kafka-local" start >/dev/null
boot=$(cat "$KAFKA_LOCAL_DIR/bootstrap")
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secret"
"$ZB_BUILD_DIR/zimsim" --app-id 42 --secret-file "$work/secret" --qps-peer 0 \
    >"$work/sim.url" 2>/dev/null &
sim_pid=$!
for _ in $(seq 1 50); do [ -s "$work/sim.url" ] && break; sleep 0.1; done
sim=$(head -n 1 "$work/sim.url")
corpus=$ZB_SOURCE_DIR/tests/support/corpus_events.py
n_corpus=$("$corpus" count)

# The Secret the chart and the base expect, as an operator creates it
# (kubeplay writes its files as a kubelet does).
secret_yaml() {
    cat <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: $1
type: Opaque
data:
  server-secret: $(base64 -w0 <"$work/secret")
YAML
}

# Plays $work/$1.yaml (from kubeplay), checks the pod and its probes, and
# that it delivers the corpus from topics $2.* (listener on port $3).
play() {
    local name=$1 pfx=$2 port=$3 ready=no n=0
    local file=$work/$name.yaml
    played+=("$file")
    podman kube play --network host "$file" >"$work/$name.play.log" 2>&1 ||
        { cat "$work/$name.play.log"; check "$name: podman kube play runs it" false; return; }
    check "$name: the rendered pod runs" true
    for _ in $(seq 1 300); do
        if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then ready=yes; break; fi
        sleep 0.2
    done
    check "$name: /readyz turns ready (service-link variables and all)" [ "$ready" = yes ]
    check "$name: /healthz answers 200" curl -sf "http://127.0.0.1:$port/healthz" -o /dev/null
    "$corpus" events "$name" | kcat -P -b "$boot" -t "$pfx.peer" -K '|'
    for _ in $(seq 1 150); do
        n=$(kcat -C -b "$boot" -t "$pfx.reply" -e -q -f '%s\n' 2>/dev/null | grep -c '"status":"sent"' || true)
        [ "$n" -ge "$n_corpus" ] && break
        sleep 0.2
    done
    check "$name: $n_corpus multilingual events delivered" [ "$n" -eq "$n_corpus" ]
    curl -sf "$sim/_sim/messages" >"$work/messages"
    check "$name: ZIM received each text once, byte for byte" "$corpus" check "$name" "$work/messages"
    local logs cid
    cid=$(podman ps -q --filter "name=-zimbridge\$" | head -n 1)
    logs=$(podman logs "$cid" 2>&1 || true)
    [ "$n" -eq "$n_corpus" ] || tail -n 20 <<<"$logs"
    check "$name: no setting refused at start" bash -c "! grep -q 'is not a setting' <<<\"\$1\"" _ "$logs"
    check "$name: the secret is in no log line" bash -c "! grep -qF '$(cat "$work/secret")' <<<\"\$1\"" _ "$logs"
    podman kube down "$file" >/dev/null 2>&1
    check "$name: kube down stops it" bash -c "! curl -sf http://127.0.0.1:$port/healthz >/dev/null"
}

topics() {
    local t=""
    for r in peer group broadcast room reply dlq; do t="$t $1.$r:3"; done
    # shellcheck disable=SC2086
    "$ZB_SOURCE_DIR/scripts/kafka-local" admin create $t >/dev/null
}

# 1. The Helm chart, with the values an operator would give.
port=$(zb_free_port)
topics kube-helm
cat >"$work/values.yaml" <<YAML
replicaCount: 1
image:
  repository: localhost/zimbridge
  tag: test
  pullPolicy: IfNotPresent
service:
  port: $port
secrets:
  zim:
    existingSecret: zb-helm-zim
settings:
  kafka.bootstrap.servers: "$boot"
  kafka.group.id: "kube-helm"
  zim.endpoint: "$sim"
  zim.app_id: "42"
  http.listen: "0.0.0.0:$port"
  topics.peer: kube-helm.peer
  topics.group: kube-helm.group
  topics.broadcast: kube-helm.broadcast
  topics.room: kube-helm.room
  topics.reply: kube-helm.reply
  topics.dlq: kube-helm.dlq
  quota.peer_per_s: "0"
  log.format: json
YAML
helm template zimbridge "$ZB_SOURCE_DIR/deploy/helm/zimbridge" -f "$work/values.yaml" >"$work/helm.rendered.yaml"
secret_yaml zb-helm-zim >"$work/helm.secret.yaml"
"$work/kubeplay" -in "$work/helm.rendered.yaml" -extra "$work/helm.secret.yaml" \
    -secrets "$work/secrets-helm" -out "$work/kube-helm.yaml"
check "helm: the played pod has Kubernetes' service links" grep -q 'ZIMBRIDGE_METRICS_PORT' "$work/kube-helm.yaml"
check "helm: the chart turns service links off" grep -q 'enableServiceLinks: false' "$work/kube-helm.yaml"
play kube-helm kube-helm "$port"

# 2. The kustomize base, through an overlay as an operator writes one.
port=$(zb_free_port)
topics kube-kust
mkdir -p "$work/overlay"
secret_yaml zimbridge-zim >"$work/overlay/secret.yaml"
cat >"$work/overlay/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$work/overlay" "$ZB_SOURCE_DIR/deploy/base")
  - secret.yaml
images:
  - name: ghcr.io/example/zimbridge
    newName: localhost/zimbridge
    newTag: test
patches:
  - target:
      kind: Deployment
      name: zimbridge
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/ports/0/containerPort
        value: $port
  - target:
      kind: ConfigMap
      name: zimbridge
    patch: |-
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: zimbridge
      data:
        ZIMBRIDGE_KAFKA_BOOTSTRAP_SERVERS: "$boot"
        ZIMBRIDGE_KAFKA_GROUP_ID: kube-kust
        ZIMBRIDGE_ZIM_ENDPOINT: "$sim"
        ZIMBRIDGE_ZIM_APP_ID: "42"
        ZIMBRIDGE_HTTP_LISTEN: "0.0.0.0:$port"
        ZIMBRIDGE_TOPICS_PEER: kube-kust.peer
        ZIMBRIDGE_TOPICS_GROUP: kube-kust.group
        ZIMBRIDGE_TOPICS_BROADCAST: kube-kust.broadcast
        ZIMBRIDGE_TOPICS_ROOM: kube-kust.room
        ZIMBRIDGE_TOPICS_REPLY: kube-kust.reply
        ZIMBRIDGE_TOPICS_DLQ: kube-kust.dlq
        ZIMBRIDGE_QUOTA_PEER_PER_S: "0"
YAML
"$work/kubeplay" -kustomize "$work/overlay" -secrets "$work/secrets-kust" -out "$work/kube-kust.yaml"
check "kustomize: the played pod has Kubernetes' service links" grep -q 'ZIMBRIDGE_METRICS_SERVICE_HOST' "$work/kube-kust.yaml"
check "kustomize: the base turns service links off" grep -q 'enableServiceLinks: false' "$work/kube-kust.yaml"
play kube-kust kube-kust "$port"

echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
