#!/usr/bin/env bash
# The ServerSecret and Kafka passwords never appear in any output: the
# effective settings (--check-config), configuration errors, start-up
# failures, the command line, and the logs of a run at debug level with
# librdkafka's own debug output on. (The running bridge's metrics, reply
# and DLQ records are checked by integration/test_ops.c.)
set -u
zb=$ZB_BUILD_DIR/zimbridge
. "$ZB_SOURCE_DIR/tests/support/check.sh"
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; [ -n "${ZB_KEEP:-}" ] || rm -rf "$tmp"' EXIT

S=5ec7e75ec7e75ec7e75ec7e75ec7e7aa  # the ServerSecret
P=kafkaPassw0rdNeverShown             # a SASL password
clean() { # file: neither secret in it
    ! grep -qF -e "$S" -e "$P" "$1"
}

base="kafka.bootstrap.servers = 127.0.0.1:1
zim.endpoint = http://127.0.0.1:1
zim.app_id = 7
kafka.security.protocol = sasl_plaintext
kafka.allow_plaintext_sasl = true
kafka.sasl.mechanisms = SCRAM-SHA-256
kafka.sasl.username = zb
kafka.sasl.password = $P
http.listen = 127.0.0.1:0"

# 1. --check-config, the secret from each source.
printf '%s\nzim.server_secret = %s\n' "$base" "$S" >"$tmp/inline.conf"
"$zb" run --config "$tmp/inline.conf" --check-config >"$tmp/o1" 2>&1
check "check-config (secret in the file) exits 0" [ $? = 0 ]
check "check-config (secret in the file) shows neither secret" clean "$tmp/o1"
check "check-config says [redacted]" grep -q 'redacted' "$tmp/o1"

printf '%s\n' "$base" >"$tmp/base.conf"
ZIMBRIDGE_ZIM_SERVER_SECRET=$S "$zb" run --config "$tmp/base.conf" --check-config >"$tmp/o2" 2>&1
check "check-config (secret in the environment) shows neither secret" clean "$tmp/o2"

printf '%s\n' "$S" >"$tmp/secret"
printf '%s\nzim.server_secret_file = %s\n' "$base" "$tmp/secret" >"$tmp/file.conf"
"$zb" run --config "$tmp/file.conf" --check-config >"$tmp/o3" 2>&1
check "check-config (secret file) shows neither secret" clean "$tmp/o3"

# 1b. A secret file others can read is named in a warning (never its
#     content); one only its owner (or our own group) reads is not.
chmod 644 "$tmp/secret"
"$zb" run --config "$tmp/file.conf" --check-config >"$tmp/o3b" 2>&1
check "a world-readable secret file is warned about" grep -q "secret file $tmp/secret is readable by every user (mode 644)" "$tmp/o3b"
check "the warning shows neither secret" clean "$tmp/o3b"
chmod 640 "$tmp/secret"  # group root: ours
"$zb" run --config "$tmp/file.conf" --check-config >"$tmp/o3c" 2>&1
check "a secret file of our own group is not warned about" [ "$(grep -c 'secret file' "$tmp/o3c")" = 0 ]
chmod 600 "$tmp/secret"
"$zb" run --config "$tmp/file.conf" --check-config >"$tmp/o3d" 2>&1
check "a 600 secret file is not warned about" [ "$(grep -c 'secret file' "$tmp/o3d")" = 0 ]

# 2. Configuration errors next to the secret.
printf '%s\nzim.server_secret = %s\nhttp.max_inflight = 0\n' "$base" "$S" >"$tmp/bad.conf"
"$zb" run --config "$tmp/bad.conf" --check-config >"$tmp/o4" 2>&1
check "a range error exits 2" [ $? = 2 ]
check "a range error names the key" grep -q 'http.max_inflight' "$tmp/o4"
check "a range error shows neither secret" clean "$tmp/o4"

printf '%s\nzim.server_secret = %s %s\nzim.endpoint = ftp://x\n' "$base" "$S" "$S" >"$tmp/bad2.conf"
"$zb" run --config "$tmp/bad2.conf" >"$tmp/o5" 2>&1
check "a bad endpoint fails start-up" [ $? != 0 ]
check "a start-up failure shows neither secret" clean "$tmp/o5"

printf 'kafka.sasl.password = %s\nthis line is wrong\n' "$P" >"$tmp/bad3.conf"
"$zb" run --config "$tmp/bad3.conf" >"$tmp/o6" 2>&1
check "a syntax error shows neither secret" clean "$tmp/o6"

# 3. A run at debug level, librdkafka debugging everything, against a
#    broker that is not there: logs, and the process's command line.
printf '%s\nzim.server_secret_file = %s\nlog.level = debug\nkafka.debug = all\n' \
    "$base" "$tmp/secret" >"$tmp/run.conf"
"$zb" run --config "$tmp/run.conf" >"$tmp/o7" 2>&1 &
pid=$!
sleep 3
tr '\0' ' ' <"/proc/$pid/cmdline" >"$tmp/cmdline"
environ_has=$(tr '\0' '\n' <"/proc/$pid/environ" | grep -cF "$S")
kill -TERM "$pid"; wait "$pid"; pid=""
check "the debug run logged something" [ "$(wc -l <"$tmp/o7")" -gt 20 ]
check "librdkafka debug output is in it" grep -q 'rdkafka' "$tmp/o7"
check "the debug run's logs show neither secret" clean "$tmp/o7"
check "the command line shows neither secret" clean "$tmp/cmdline"
check "the secret was not put in the environment" [ "$environ_has" = 0 ]

# 4. Not dumpable: as another user (nobody), the bridge's /proc files
#    belong to root, so that user cannot read its memory or environment,
#    ptrace it or get a core dump of it.
command -v setpriv >/dev/null || { echo "FAIL: setpriv (util-linux) is missing"; exit 1; }
chmod 711 "$tmp"
chown 65534:65534 "$tmp/secret"
setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$zb" run --config "$tmp/run.conf" >"$tmp/o8" 2>&1 &
pid=$!
sleep 2
owner=$(stat -c %u "/proc/$pid/environ")
kill -TERM "$pid"; wait "$pid"; pid=""
check "the bridge ran as nobody" grep -q 'running: endpoint' "$tmp/o8"
check "its /proc files belong to root, not nobody (not dumpable)" [ "$owner" = 0 ]

check_done
