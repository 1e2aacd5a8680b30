-- A send rate limiter, GCRA with no burst, so that sends are spaced evenly; read ahead of the
-- scripts that keep one (endpoint-gate.lua, replay-rate.lua). It keeps the next free send time,
-- handed out in order (a delivery that must wait reserves its time, so waiting deliveries keep
-- their order instead of racing for the next free moment), and the time of the last send:
-- however late a delivery comes back for its reserved time, sends stay at least an interval
-- apart, and back at that time it sends without being charged again.

-- When delivery `id` may send by the limiter at `rateKey` (its reservations at `reservedKey`).
local function sendTime(rateKey, reservedKey, interval, id, now)
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

-- Delivery `id` sends now: its reservation is spent and the limiter notes the send.
local function spendSendTime(rateKey, reservedKey, id, now)
  redis.call('ZREM', reservedKey, id)
  redis.call('HSET', rateKey, 'last', now)
end
