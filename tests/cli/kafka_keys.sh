#!/usr/bin/env bash
# A kafka.* key librdkafka does not know (a typo) or a value it refuses
# fails every command that talks to Kafka, and --check-config, with the key
# named, before it connects anywhere; so does an endpoint libcurl cannot
# parse.
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
check "run: a mistyped kafka key is a configuration error ($rc)" [ $rc = 2 ]
check "run: it names the key" grep -q 'kafka.fetch.max.bytez' <<<"$out"
out=$(timeout 30 "$zb" run --check-config 2>&1)
rc=$?
check "--check-config: a mistyped kafka key fails it too ($rc)" [ $rc = 2 ]
check "--check-config: it names the key" grep -q 'kafka.fetch.max.bytez' <<<"$out"
unset ZIMBRIDGE_KAFKA_FETCH_MAX_BYTEZ
out=$(ZIMBRIDGE_KAFKA_ACKS=maybe timeout 30 "$zb" run 2>&1)
check "run: a bad value of a producer key stops start-up" [ $? = 2 ]
check "run: it names that key" grep -q 'kafka.acks' <<<"$out"
out=$(ZIMBRIDGE_KAFKA_ACKS=maybe "$zb" run --check-config 2>&1)
check "--check-config: a bad value of a producer key fails it" [ $? = 2 ]
check "--check-config: it names that key" grep -q 'kafka.acks' <<<"$out"
out=$(ZIMBRIDGE_ZIM_ENDPOINT='https://[::1' "$zb" run --check-config 2>&1)
check "--check-config: an endpoint libcurl cannot parse fails it" [ $? = 2 ]
check "--check-config: it names zim.endpoint" grep -q "zim.endpoint 'https://\[::1' is not a URL" <<<"$out"
out=$(ZIMBRIDGE_ZIM_ENDPOINT=https://zim-api.zego.im "$zb" run --check-config 2>&1)
check "--check-config: a good configuration passes" [ $? = 0 ]
check_done
