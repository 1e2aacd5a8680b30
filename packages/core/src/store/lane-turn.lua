-- Whether a delivery waiting in a lane may be attempted now: only the first of its lane may,
-- and only once no earlier event of its ordering key is still unrouted (a later event's route
-- job may run first: the earlier one's delivery, when it comes, goes ahead of it). A head
-- whose record expired, or an unrouted event that expired, holds the key no more: dropped.
-- One that must wait is watched again at the given time (its job sleeps until then, unless
-- woken sooner); one waiting on an unrouted event is noted in the key's blocked set, which
-- routing that event empties and wakes.
-- KEYS: lane, the key's unrouted events, the key's blocked deliveries, watch
-- ARGV: lane member ("deliveryId eventId"), delivery key prefix, event key prefix, watch again
--       at, retention ms, subscription id
-- Returns 1 its turn (also when not in a lane: finished, or replayed out of it), 0 behind an
-- earlier delivery of the lane, -1 behind an earlier event of the key not yet routed.
local seq = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not seq then return 1 end
local id = string.match(ARGV[1], '^(%S+)')
while true do
  local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if head == ARGV[1] then break end
  if redis.call('EXISTS', ARGV[2] .. string.match(head, '^(%S+)')) == 1 then
    redis.call('ZADD', KEYS[4], 'XX', ARGV[4], id)
    return 0
  end
  redis.call('ZREM', KEYS[1], head)
end
while true do
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if not first[1] or tonumber(first[2]) >= tonumber(seq) then return 1 end
  if redis.call('EXISTS', ARGV[3] .. first[1]) == 1 then
    redis.call('SADD', KEYS[3], ARGV[1] .. ' ' .. ARGV[6])
    redis.call('PEXPIRE', KEYS[3], ARGV[5])
    redis.call('ZADD', KEYS[4], 'XX', ARGV[4], id)
    return -1
  end
  redis.call('ZREM', KEYS[2], first[1])
end
