-- Appends one entry to the audit trail, chained to the one before it. Numbering, timing and
-- hashing happen here, in one script, so that ingests and workers appending at the same moment
-- each chain to the entry really before theirs: Redis runs one script at a time.
--
-- An entry's hash is the SHA-256 (hex) of its canonical form:
--   seq .. "\n" .. time .. "\n" .. previous entry's hash .. "\n" .. SHA-256 (hex) of body
-- where body is the entry's JSON with its keys sorted, as the caller made it, and time is
-- Redis's clock in ms (never before the previous entry's). The first entry chains to 64 zeros.
-- The caller hashes the body (a change to a subscription's long filter lists can be a megabyte,
-- which SHA-256 in Lua would hold Redis for a second over): what this script hashes is ~150
-- bytes whatever the entry. verify hashes the stored body again, so a wrong body hash is found.
-- Entries older than the retention are dropped, a few per append, and the last one dropped is
-- kept in the head as the anchor the remaining chain starts from.
--
-- KEYS: the entries (a stream), the head (a hash: seq, hash, time, anchorSeq, anchorHash)
-- ARGV: body, the body's SHA-256 (hex), retention in ms (0: kept for ever)
-- Returns: { stream id, seq, time, hash, previous hash }

local band, bor, bxor, bnot, rshift, lshift, ror, tobit, tohex =
  bit.band, bit.bor, bit.bxor, bit.bnot, bit.rshift, bit.lshift, bit.ror, bit.tobit, bit.tohex

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

-- SHA-256 (FIPS 180-4) over bit's 32-bit integers: Redis's Lua has SHA-1 only.
local function sha256(message)
  local length = #message
  local bits = length * 8
  local padding = (64 - (length + 9) % 64) % 64
  local high, low = math.floor(bits / 4294967296), bits % 4294967296
  message = message .. '\128' .. string.rep('\0', padding) .. string.char(
    band(rshift(high, 24), 255), band(rshift(high, 16), 255), band(rshift(high, 8), 255), band(high, 255),
    band(rshift(low, 24), 255), band(rshift(low, 16), 255), band(rshift(low, 8), 255), band(low, 255))
  local h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
  local w = {}
  for start = 1, #message, 64 do
    for i = 0, 15 do
      local b1, b2, b3, b4 = string.byte(message, start + i * 4, start + i * 4 + 3)
      w[i] = bor(lshift(b1, 24), lshift(b2, 16), lshift(b3, 8), b4)
    end
    for i = 16, 63 do
      local s0 = bxor(ror(w[i - 15], 7), ror(w[i - 15], 18), rshift(w[i - 15], 3))
      local s1 = bxor(ror(w[i - 2], 17), ror(w[i - 2], 19), rshift(w[i - 2], 10))
      w[i] = tobit(w[i - 16] + s0 + w[i - 7] + s1)
    end
    local a, b, c, d, e, f, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
    for i = 0, 63 do
      local S1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
      local ch = bxor(band(e, f), band(bnot(e), g))
      local t1 = tobit(hh + S1 + ch + K[i + 1] + w[i])
      local S0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
      local maj = bxor(band(a, b), band(a, c), band(b, c))
      local t2 = tobit(S0 + maj)
      hh, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + t2)
    end
    h[1], h[2], h[3], h[4] = tobit(h[1] + a), tobit(h[2] + b), tobit(h[3] + c), tobit(h[4] + d)
    h[5], h[6], h[7], h[8] = tobit(h[5] + e), tobit(h[6] + f), tobit(h[7] + g), tobit(h[8] + hh)
  end
  local hex = {}
  for i = 1, 8 do hex[i] = tohex(h[i], 8) end
  return table.concat(hex)
end

local GENESIS = string.rep('0', 64)

local head = redis.call('HMGET', KEYS[2], 'seq', 'hash', 'time')
local seq = (tonumber(head[1]) or 0) + 1
local previous = head[2] or GENESIS
local clock = redis.call('TIME')
local time = math.max(tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000), tonumber(head[3]) or 0)
local hash = sha256(seq .. '\n' .. time .. '\n' .. previous .. '\n' .. ARGV[2])

-- The stream id carries the time, so that a time range is a range of ids.
local id = redis.call('XADD', KEYS[1], time .. '-*', 'seq', seq, 'time', time, 'prev', previous, 'hash', hash, 'body', ARGV[1])
redis.call('HSET', KEYS[2], 'seq', seq, 'hash', hash, 'time', time)

local retention = tonumber(ARGV[3])
if retention > 0 and time - retention > 0 then
  local expired = redis.call('XRANGE', KEYS[1], '-', (time - retention - 1) .. '-18446744073709551615', 'COUNT', 100)
  for _, entry in ipairs(expired) do
    local fields = {}
    for i = 1, #entry[2], 2 do fields[entry[2][i]] = entry[2][i + 1] end
    redis.call('XDEL', KEYS[1], entry[1])
    redis.call('HSET', KEYS[2], 'anchorSeq', fields.seq, 'anchorHash', fields.hash)
  end
end

return { id, seq, time, hash, previous }
