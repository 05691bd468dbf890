#!/usr/bin/env bash
# A kafka.* key librdkafka does not know (a typo) fails every command that
# talks to Kafka, with the key named, before it connects anywhere.
set -u
zb=$ZB_BUILD_DIR/zimbridge
. "$ZB_SOURCE_DIR/tests/support/check.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo s3cret >"$tmp/secret"
export ZIMBRIDGE_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:1 ZIMBRIDGE_ZIM_APP_ID=1
export ZIMBRIDGE_ZIM_SERVER_SECRET_FILE=$tmp/secret ZIMBRIDGE_HTTP_LISTEN=
export ZIMBRIDGE_KAFKA_FETCH_MAX_BYTEZ=1000
out=$(timeout 30 "$zb" replay --all 2>&1)
rc=$?
check "replay: a mistyped kafka key is a configuration error (2)" [ $rc = 2 ]
check "replay: it names the key" grep -q 'kafka.fetch.max.bytez' <<<"$out"
out=$(timeout 30 "$zb" run 2>&1)
rc=$?
check "run: a mistyped kafka key stops start-up ($rc)" [ $rc = 1 ]
check "run: it names the key" grep -q 'kafka.fetch.max.bytez' <<<"$out"
unset ZIMBRIDGE_KAFKA_FETCH_MAX_BYTEZ
out=$(ZIMBRIDGE_KAFKA_ACKS=maybe timeout 30 "$zb" run 2>&1)
check "run: a bad value of a producer key stops start-up" [ $? = 1 ]
check "run: it names that key" grep -q 'kafka.acks' <<<"$out"
check_done
