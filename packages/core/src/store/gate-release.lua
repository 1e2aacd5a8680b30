-- Frees a delivery's slot, updates the circuit from the attempt's outcome, and hands the free
-- slots to the jobs parked longest, which the caller then wakes. A failed probe reopens the
-- circuit for twice the last cool-down (up to the cap); a success closes it.
-- KEYS: in flight, parked, health
-- ARGV: deliveryId, now, cap, lease ms, outcome ('ok' | 'fail' | 'none'), failures to open,
--       cool-down ms, longest cool-down ms
-- Returns {failingSince, openUntil, consecutive failures, parked members handed a slot...}
local id = ARGV[1]
local now, cap, leaseMs = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREM', KEYS[1], id)
local wasProbe = redis.call('HGET', KEYS[3], 'probe') == id
if wasProbe then redis.call('HDEL', KEYS[3], 'probe', 'probeUntil') end
if ARGV[5] == 'ok' then
  redis.call('HDEL', KEYS[3], 'failures', 'failingSince', 'openUntil', 'cooldown')
elseif ARGV[5] == 'fail' then
  local failures = redis.call('HINCRBY', KEYS[3], 'failures', 1)
  redis.call('HSETNX', KEYS[3], 'failingSince', now)
  if wasProbe or failures >= tonumber(ARGV[6]) then
    local cooldown = tonumber(redis.call('HGET', KEYS[3], 'cooldown') or ARGV[7])
    if wasProbe then cooldown = math.min(2 * cooldown, tonumber(ARGV[8])) end
    redis.call('HSET', KEYS[3], 'openUntil', now + cooldown, 'cooldown', cooldown)
  end
end
local health = redis.call('HMGET', KEYS[3], 'failingSince', 'openUntil', 'failures')
local result = {tonumber(health[1] or '0'), tonumber(health[2] or '0'), tonumber(health[3] or '0')}
if result[2] == 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  local free = cap - redis.call('ZCARD', KEYS[1])
  while free > 0 do
    local popped = redis.call('ZPOPMIN', KEYS[2])
    if #popped == 0 then break end
    redis.call('ZADD', KEYS[1], now + leaseMs, string.match(popped[1], '([^|]+)$'))
    result[#result + 1] = popped[1]
    free = free - 1
  end
end
return result
