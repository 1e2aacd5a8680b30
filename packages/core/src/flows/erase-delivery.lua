-- Erases one delivery of an erased event: its attempts (with the response bodies kept of them)
-- go, it leaves the status and watch indexes, and it stays listed as 'erased', with its ids
-- and times only. Once 'erased', its attempt claim finds it stale and its log refuses an attempt
-- in flight, so nothing is sent or recorded for it again.
-- A delivery in a lane leaves it; when it was the lane's first, the next is named for the caller
-- to wake, as when a delivery finishes (see set-delivery-status.lua).
-- KEYS: delivery, attempts, index pending, retrying, delivered, failed, watch, its attempt claim,
--       its lane (unused when it has none)
-- ARGV: deliveryId, now, its lane member ('' when its event has no ordering key)
-- Returns {attempts erased, lease end of an attempt in flight (0: none), the lane's next member
-- ('' for none)}, or {-1, 0, ''} when the delivery is gone or was erased before.
local status = redis.call('HGET', KEYS[1], 'status')
if not status or status == 'erased' then return {-1, 0, ''} end
local attempts = redis.call('LLEN', KEYS[2])
redis.call('DEL', KEYS[2])
for i = 3, 6 do redis.call('ZREM', KEYS[i], ARGV[1]) end
redis.call('ZREM', KEYS[7], ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'erased', 'erasedAt', ARGV[2])
redis.call('HDEL', KEYS[1], 'nextAttemptAt', 'failureReason')
local claimLeft = redis.call('PTTL', KEYS[8])
local lease = 0
if claimLeft > 0 then lease = tonumber(ARGV[2]) + claimLeft end
local next = ''
if ARGV[3] ~= '' then
  local first = redis.call('ZRANGE', KEYS[9], 0, 0)[1]
  if redis.call('ZREM', KEYS[9], ARGV[3]) == 1 and first == ARGV[3] then next = redis.call('ZRANGE', KEYS[9], 0, 0)[1] or '' end
end
return {attempts, lease, next}
