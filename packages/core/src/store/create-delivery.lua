-- Creates the delivery of one (event, subscription) pair unless it exists: a route job that
-- runs twice finds the first one's delivery and creates nothing. The delivery is watched from
-- the start, so that one whose job never comes is found by the reconciler.
-- A sync publish makes its event's deliveries in the round trip that stores the event, from
-- the subscriptions its cache holds; with a version given, nothing is made unless the event
-- was stored and the subscriptions are still at that version ({'', -1}): the publish then
-- routes again from fresh subscriptions.
-- A delivery to a subscription that orders by key, of an event with an ordering key, joins
-- that key's lane, placed by its event's number (given, or read from the key's unrouted events
-- when the event is being stored in the same round trip).
-- KEYS: eventDeliveries, delivery, index all, index pending, index subscription, index type,
--       watch, event, the partition's copy of the subscriptions' version, lane, the key's unrouted
--       events
-- ARGV: subscriptionId, deliveryId, eventId, eventType, createdAt, retentionMs, check job at,
--       subscriptions' version to be at ('' for any), projectId ('' for the default project, as
--       deliveries made before projects have none), ordering key ('' for no lane), the event's
--       number in its key ('' to read it), its own retention ms when its project set one ('' for
--       the configured one, which ARGV[6] is then)
if ARGV[8] ~= '' then
  if redis.call('EXISTS', KEYS[8]) == 0 then return {'', -1} end
  -- The partition's copy of the version: raised to each change before the change is answered.
  if tonumber(redis.call('GET', KEYS[9]) or '0') > tonumber(ARGV[8]) then return {'', -1} end
end
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return {existing, 0} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'eventId', ARGV[3], 'subscriptionId', ARGV[1],
  'eventType', ARGV[4], 'status', 'pending', 'createdAt', ARGV[5], 'attemptCount', 0)
if ARGV[9] ~= '' then redis.call('HSET', KEYS[2], 'projectId', ARGV[9]) end
-- Kept with it, so that every later change extends it by its own project's window.
if ARGV[12] ~= '' then redis.call('HSET', KEYS[2], 'retentionMs', ARGV[12]) end
if ARGV[10] ~= '' then
  local seq = ARGV[11]
  if seq == '' then seq = redis.call('ZSCORE', KEYS[11], ARGV[3]) end
  if seq then
    redis.call('ZADD', KEYS[10], seq, ARGV[2] .. ' ' .. ARGV[3])
    redis.call('PEXPIRE', KEYS[10], ARGV[6])
    redis.call('HSET', KEYS[2], 'orderingKey', ARGV[10])
  end
end
redis.call('PEXPIRE', KEYS[2], ARGV[6])
for i = 3, 6 do redis.call('ZADD', KEYS[i], 0, ARGV[2]) end
redis.call('ZADD', KEYS[7], ARGV[7], ARGV[2])
return {ARGV[2], 1}
