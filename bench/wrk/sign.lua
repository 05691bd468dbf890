-- wrk script: every request is a SendPeerMessage call signed afresh, with
-- md5(AppId + SignatureNonce + ServerSecret + Timestamp) computed here in
-- LuaJIT. Set ZB_APP_ID and ZB_SECRET in the environment.
--   wrk -t2 -c64 -d5s -s bench/wrk/sign.lua http://127.0.0.1:PORT
local bit = require("bit")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local rol, tobit, tohex = bit.rol, bit.tobit, bit.tohex
local byte, char, rep, format = string.byte, string.char, string.rep, string.format

local K, S = {}, {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21}
for i = 0, 63 do
  K[i] = tobit(math.floor(math.abs(math.sin(i + 1)) * 2 ^ 32) % 2 ^ 32)
end

local function md5(msg)
  local len = #msg
  msg = msg .. "\128" .. rep("\0", (55 - len) % 64)
  local bits = len * 8
  for _ = 1, 8 do
    msg = msg .. char(bits % 256)
    bits = math.floor(bits / 256)
  end
  local a0, b0, c0, d0 = 0x67452301, tobit(0xefcdab89), tobit(0x98badcfe), 0x10325476
  local M = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local o = chunk + i * 4
      local w0, w1, w2, w3 = byte(msg, o, o + 3)
      M[i] = tobit(w0 + w1 * 256 + w2 * 65536 + w3 * 16777216)
    end
    local a, b, c, d = a0, b0, c0, d0
    for i = 0, 63 do
      local f, g, r
      if i < 16 then
        f = bor(band(b, c), band(bnot(b), d)); g = i; r = S[1 + i % 4]
      elseif i < 32 then
        f = bor(band(d, b), band(bnot(d), c)); g = (5 * i + 1) % 16; r = S[5 + i % 4]
      elseif i < 48 then
        f = bxor(b, c, d); g = (3 * i + 5) % 16; r = S[9 + i % 4]
      else
        f = bxor(c, bor(b, bnot(d))); g = (7 * i) % 16; r = S[13 + i % 4]
      end
      local t = d
      d = c
      c = b
      b = tobit(b + rol(tobit(a + f + K[i] + M[g]), r))
      a = t
    end
    a0, b0, c0, d0 = tobit(a0 + a), tobit(b0 + b), tobit(c0 + c), tobit(d0 + d)
  end
  local out = {}
  for _, v in ipairs({a0, b0, c0, d0}) do
    for _ = 1, 4 do
      out[#out + 1] = format("%02x", band(v, 255))
      v = bit.rshift(v, 8)
    end
  end
  return table.concat(out)
end

-- Self-check against the reference's official vector before any load.
assert(md5("123454fd24687296dd9f39193cc662a4c0ec135ec71fb57194b381615186943")
       == "43e5cfcca828314675f91b001390566a", "md5 self-check failed")

local app = os.getenv("ZB_APP_ID") or "3000000001"
local secret = os.getenv("ZB_SECRET") or "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
local body = '{"FromUserId":"bench_sender","ToUserId":["bench_receiver"],' ..
  '"MessageType":1,"Priority":1,"MessageBody":{"Message":' ..
  '"benchmark message of a typical size, about one line of chat text"}}'
local counter = 0

function setup(thread)
  thread:set("tid", tostring(math.random(0, 0xfffff)))
end

function request()
  counter = counter + 1
  local nonce = format("%05x%011x", tonumber(tid) or 0, counter)
  local ts = tostring(os.time())
  local sig = md5(app .. nonce .. secret .. ts)
  local path = "/?Action=SendPeerMessage&AppId=" .. app .. "&SignatureNonce=" ..
    nonce .. "&Timestamp=" .. ts .. "&SignatureVersion=2.0&Signature=" .. sig
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end

local bad = 0
function response(status, headers, resp)
  if status ~= 200 or resp:sub(1, 10) ~= '{"Code":0,' then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  io.write(format("wrk: %d requests, %d errors, %.0f req/s\n",
    summary.requests, summary.errors.status + summary.errors.connect +
    summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6)))
end
