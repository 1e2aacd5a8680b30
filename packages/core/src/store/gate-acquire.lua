-- Asks for a slot at an endpoint for one delivery. In order: the circuit (open: wait until it
-- closes; half-open: one probe at a time), the cap on attempts in flight (full: the job is
-- parked, first come first served, and woken when a slot frees), then the rate limits: the
-- endpoint's own, and the bulk replay's the delivery belongs to, if capped. Each is GCRA with
-- no burst, so sends are spaced evenly; a delivery that must wait reserves its send time on
-- each limiter (so waiting deliveries keep their order instead of racing for the next free
-- moment) and, back at that time, sends without being charged again.
-- KEYS: in flight, parked, health, endpoint rate, its reservations, replay rate, its reservations
-- ARGV: deliveryId, parked member, now, lease ms, cap, endpoint interval ms, replay interval ms (0: none)
-- Returns {verdict, until}: 'go', or 'open' | 'parked' | 'rate' with the time to wake up.
local id, member = ARGV[1], ARGV[2]
local now, leaseMs, cap = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local function park()
  redis.call('ZADD', KEYS[2], 'NX', now, member)
  return {'parked', now + leaseMs}
end
-- When this delivery may send by one limiter. The limiter keeps the next free send time, handed
-- out in order (a waiting delivery reserves its time), and the time of the last send: however
-- late a delivery comes back for its reserved time, sends stay at least an interval apart.
local function sendTime(rateKey, reservedKey, interval)
  if interval <= 0 then return now end
  redis.call('ZREMRANGEBYSCORE', reservedKey, '-inf', now - 60000)
  local state = redis.call('HMGET', rateKey, 'nextFree', 'last')
  local nextFree, last = tonumber(state[1] or '0'), tonumber(state[2] or '0')
  local reserved = tonumber(redis.call('ZSCORE', reservedKey, id) or '-1')
  if reserved < 0 then
    reserved = math.max(nextFree, now)
    redis.call('HSET', rateKey, 'nextFree', tostring(reserved + interval))
    redis.call('ZADD', reservedKey, reserved, id)
  end
  redis.call('PEXPIRE', rateKey, math.ceil(math.max(nextFree, reserved) + interval - now) + 60000)
  return math.max(reserved, last + interval)
end
local openUntil = tonumber(redis.call('HGET', KEYS[3], 'openUntil') or '0')
if openUntil > now then return {'open', openUntil} end
local halfOpen = openUntil > 0
if halfOpen then
  local probe = redis.call('HGET', KEYS[3], 'probe')
  local probeUntil = tonumber(redis.call('HGET', KEYS[3], 'probeUntil') or '0')
  if probe and probe ~= id and probeUntil > now then return park() end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZSCORE', KEYS[1], id)
if not held and redis.call('ZCARD', KEYS[1]) >= cap then return park() end
local sendAt = math.max(sendTime(KEYS[4], KEYS[5], tonumber(ARGV[6])), sendTime(KEYS[6], KEYS[7], tonumber(ARGV[7])))
if sendAt > now then
  if held then redis.call('ZADD', KEYS[1], sendAt + leaseMs, id) end
  return {'rate', math.ceil(sendAt)}
end
-- Sending now: the reservations are spent, and the limiters note the send.
for _, limiter in ipairs({{KEYS[4], KEYS[5], ARGV[6]}, {KEYS[6], KEYS[7], ARGV[7]}}) do
  if tonumber(limiter[3]) > 0 then
    redis.call('ZREM', limiter[2], id)
    redis.call('HSET', limiter[1], 'last', now)
  end
end
redis.call('ZADD', KEYS[1], now + leaseMs, id)
if halfOpen then redis.call('HSET', KEYS[3], 'probe', id, 'probeUntil', now + leaseMs) end
return {'go', 0}
