-- Moves a delivery to a new status, keeping the status and watch indexes in step, appends an
-- attempt when one is given, and extends the time to live of the delivery, its attempts and
-- its event to a full retention window from now (a delivery retried for days outlives the
-- window it was created in). A finished delivery (delivered or failed) only moves to delivered:
-- a stale duplicate attempt cannot turn it back into retrying; its attempt is still logged.
-- A reason, when given, says why a delivery failed with no attempt to show for it (a replay
-- clears it).
-- A delivery in a lane that finishes leaves it: the next of the lane is its turn, returned for
-- the caller to wake at once, and watched from now in case that wake is lost.
-- An erased delivery is left as it is: an attempt that was in flight when its participant's data
-- was erased records nothing (its response may echo what was erased).
-- The attempt's claim (attempt-claim.lua), when its owner is given, is given back, whatever
-- became of the delivery meanwhile.
-- Returns {attempt count, the lane's next member ('' for none)}, or {-1, ''} if the delivery
-- has expired.
-- KEYS: delivery, attempts, index pending, retrying, delivered, failed, the attempt's claim,
--       watch, event, event's deliveries, lane
-- ARGV: deliveryId, status, nextAttemptAt ('' for none), attempt JSON ('' for none), attempt time,
--       max attempts kept, retention ms, check job at, reason ('' for none), lane member ('' when
--       not in a lane), the claim's owner ('' for none)
-- Given back last, once the record's own writes are taken (a Redis out of memory refuses the
-- script at its first write, so nothing is half recorded).
local function giveBackClaim()
  if ARGV[11] ~= '' and redis.call('GET', KEYS[7]) == ARGV[11] then redis.call('DEL', KEYS[7]) end
end
local old = redis.call('HGET', KEYS[1], 'status')
if not old then giveBackClaim() return {-1, ''} end
if old == 'erased' then giveBackClaim() return {tonumber(redis.call('HGET', KEYS[1], 'attemptCount')), ''} end
local statuses = {pending = 3, retrying = 4, delivered = 5, failed = 6}
local count = tonumber(redis.call('HGET', KEYS[1], 'attemptCount'))
-- Its project's retention when the delivery carries one (see create-delivery.lua), else the configured one.
local retention = tonumber(redis.call('HGET', KEYS[1], 'retentionMs') or ARGV[7])
if ARGV[4] ~= '' then
  redis.call('RPUSH', KEYS[2], ARGV[4])
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
  count = redis.call('HINCRBY', KEYS[1], 'attemptCount', 1)
  redis.call('HSET', KEYS[1], 'lastAttemptAt', ARGV[5])
end
local kept = {KEYS[1], KEYS[2], KEYS[9], KEYS[10]}
if ARGV[10] ~= '' then table.insert(kept, KEYS[11]) end
for _, key in ipairs(kept) do
  if redis.call('PTTL', key) < retention then redis.call('PEXPIRE', key, retention) end
end
local next = ''
if ARGV[10] ~= '' and (ARGV[2] == 'delivered' or ARGV[2] == 'failed') and redis.call('ZREM', KEYS[11], ARGV[10]) == 1 then
  next = redis.call('ZRANGE', KEYS[11], 0, 0)[1] or ''
  if next ~= '' then redis.call('ZADD', KEYS[8], 'XX', ARGV[8], string.match(next, '^(%S+)')) end
end
giveBackClaim()
local finished = old == 'delivered' or old == 'failed'
if finished and ARGV[2] ~= 'delivered' then return {count, next} end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'failureReason', ARGV[9]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'nextAttemptAt', ARGV[3])
else redis.call('HDEL', KEYS[1], 'nextAttemptAt') end
if old ~= ARGV[2] then
  redis.call('ZREM', KEYS[statuses[old]], ARGV[1])
  redis.call('ZADD', KEYS[statuses[ARGV[2]]], 0, ARGV[1])
end
if ARGV[2] == 'pending' or ARGV[2] == 'retrying' then redis.call('ZADD', KEYS[8], ARGV[8], ARGV[1])
else redis.call('ZREM', KEYS[8], ARGV[1]) end
return {count, next}
