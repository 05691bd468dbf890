#!/usr/bin/env bash
# zimbridge validate / sign / --help / --version, through the real binary:
# outputs, exit codes, and that the secret never comes from argv.
set -u
zb=$ZB_BUILD_DIR/zimbridge
. "$ZB_SOURCE_DIR/tests/support/check.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/in.jsonl" <<'JSONL'
{"FromUserId":"u1","ToUserId":["u2"],"MessageType":1,"Priority":1,"MessageBody":{"Message":"hi"}}
{"FromUserId":"u1","ToUserID":["u2"],"MessageType":1,"Priority":1,"MessageBody":{"Message":"hi"}}
not json
{"FromUserId":"u1","ToUserId":["u2","u1"],"MessageType":1,"Priority":1,"MessageBody":{"Message":"hi"}}
JSONL
out=$("$zb" validate --kind peer "$tmp/in.jsonl"); rc=$?
check "validate exit 1 when any invalid" [ "$rc" = 1 ]
check "validate line 1 valid" [ "$(sed -n 1p <<<"$out")" = '{"line":1,"valid":true}' ]
check "validate line 2 unknown field" grep -q '^{"line":2,"valid":false,"field":"ToUserID","code":900000002,' <<<"$out"
check "validate line 3 unreadable" grep -q '^{"line":3,"valid":false,"field":"","code":900000001,' <<<"$out"
check "validate line 4 send to self" grep -q '^{"line":4,"valid":false,"field":"ToUserId\[1\]","code":660600030,' <<<"$out"
check "validate 4 lines out" [ "$(wc -l <<<"$out")" = 4 ]

head -1 "$tmp/in.jsonl" | "$zb" validate --kind peer - >/dev/null
check "validate stdin all valid exit 0" [ $? = 0 ]
"$zb" validate --kind chatroom "$tmp/in.jsonl" 2>/dev/null
check "validate bad kind exit 2" [ $? = 2 ]
"$zb" validate --kind peer /nonexistent 2>/dev/null
check "validate missing file exit 2" [ $? = 2 ]
"$zb" validate --kind peer --max-message-bytes 40000 "$tmp/in.jsonl" 2>/dev/null
check "validate out-of-range option exit 2" [ $? = 2 ]
printf '{"FromUserId":"u1","ToUserId":["u2"],"MessageType":1,"Priority":1,"MessageBody":{"Message":"%s"}}\n' \
    "$(head -c 3000 /dev/zero | tr '\0' m)" >"$tmp/big.jsonl"
"$zb" validate --kind peer "$tmp/big.jsonl" | grep -q '"code":660400001'
check "validate 3000-byte message too large by default" [ $? = 0 ]
"$zb" validate --kind peer --max-message-bytes 4096 "$tmp/big.jsonl" >/dev/null
check "validate --max-message-bytes raises the limit" [ $? = 0 ]

to=$(python3 -c 'print(",".join("\"r%d\"" % i for i in range(150)))')
printf '{"FromUserId":"u1","ToUserId":[%s],"MessageType":1,"Priority":1,"MessageBody":{"Message":"m"}}\n' "$to" >"$tmp/many.jsonl"
"$zb" validate --kind peer "$tmp/many.jsonl" | grep -q '"code":660000011'
check "validate 150 recipients over the default 100: 660000011" [ $? = 0 ]
"$zb" validate --kind peer --max-recipients 300 "$tmp/many.jsonl" >/dev/null
check "validate --max-recipients 300 takes 150 (sent as two calls)" [ $? = 0 ]

sig=$(ZIM_SERVER_SECRET=9193cc662a4c0ec135ec71fb57194b38 "$zb" sign --app-id 12345 --nonce 4fd24687296dd9f3 --timestamp 1615186943)
check "sign from env: official vector" [ "$sig" = 43e5cfcca828314675f91b001390566a ]
echo "00000000000000000000000000000000" >"$tmp/secret"
sig=$(env -u ZIM_SERVER_SECRET "$zb" sign --app-id 4294967295 --nonce ffffffffffffffff --timestamp 1800000000 --secret-file "$tmp/secret")
check "sign from file: max uint32 AppId vector" [ "$sig" = a7958531d60c5814f5f65ca511474f03 ]
env -u ZIM_SERVER_SECRET "$zb" sign --app-id 1 --nonce ab --timestamp 1 2>/dev/null
check "sign without a secret exit 2" [ $? = 2 ]
# --action: the signed request target for an action, room included.
out=$(ZIM_SERVER_SECRET=9193cc662a4c0ec135ec71fb57194b38 "$zb" sign --app-id 12345 \
    --nonce 4fd24687296dd9f3 --timestamp 1615186943 --action room)
check "sign --action room: the target" [ "$(sed -n 2p <<<"$out")" = \
    "/?Action=SendRoomMessage&AppId=12345&SignatureNonce=4fd24687296dd9f3&Timestamp=1615186943&SignatureVersion=2.0&Signature=43e5cfcca828314675f91b001390566a" ]
out=$(ZIM_SERVER_SECRET=x "$zb" sign --app-id 1 --nonce 4fd24687296dd9f3 --timestamp 1 --action SendGroupMessage)
check "sign --action takes the ZIM name" grep -q '^/?Action=SendGroupMessage&' <<<"$out"
ZIM_SERVER_SECRET=x "$zb" sign --app-id 1 --nonce 4fd24687296dd9f3 --timestamp 1 --action chat 2>/dev/null
check "sign --action of no action exit 2" [ $? = 2 ]
ZIM_SERVER_SECRET=x "$zb" sign --app-id 1 --nonce ab --timestamp 1 --action room 2>/dev/null
check "sign --action with a short nonce exit 2" [ $? = 2 ]
ZIM_SERVER_SECRET=x "$zb" sign --app-id 1 --nonce ab --timestamp 1 --secret s 2>/dev/null
check "sign has no --secret option" [ $? = 2 ]
ZIM_SERVER_SECRET=x "$zb" sign --app-id 4294967296 --nonce ab --timestamp 1 2>/dev/null
check "sign AppId above uint32 exit 2" [ $? = 2 ]

"$zb" --help | grep -q validate
check "--help lists commands" [ $? = 0 ]
"$zb" validate --help | grep -q -- --max-message-bytes
check "validate --help lists options" [ $? = 0 ]
v=$("$zb" --version)
check "--version: zimbridge first" grep -Eq '^zimbridge [0-9]+\.[0-9]+\.[0-9]+$' <<<"$(head -n 1 <<<"$v")"
check "--version: the librdkafka it runs with" grep -qx "librdkafka $(pkg-config --modversion rdkafka)" <<<"$v"
check "--version: libcurl" grep -Eq '^libcurl [0-9]+\.[0-9]+' <<<"$v"
check "--version: json-c" grep -Eq '^json-c [0-9]+\.[0-9]+' <<<"$v"
check "--version: OpenSSL" grep -Eq '^OpenSSL [0-9]+\.[0-9]+' <<<"$v"

"$zb" config-example | cmp -s - "$ZB_SOURCE_DIR/config/zimbridge.conf.example"
check "config/zimbridge.conf.example matches the settings table" [ $? = 0 ]

check_done
