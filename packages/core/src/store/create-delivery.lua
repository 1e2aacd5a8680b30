-- Creates the delivery of one (event, subscription) pair unless it exists: a route job that
-- runs twice finds the first one's delivery and creates nothing. The delivery is watched from
-- the start, so that one whose job never comes is found by the reconciler.
-- A sync publish makes its event's deliveries in the round trip that stores the event, from
-- the subscriptions its cache holds; with a version given, nothing is made unless the event
-- was stored and the subscriptions are still at that version ({'', -1}): the publish then
-- routes again from fresh subscriptions.
-- KEYS: eventDeliveries, delivery, index all, index pending, index subscription, index type,
--       watch, event, subscriptions' version
-- ARGV: subscriptionId, deliveryId, eventId, eventType, createdAt, retentionMs, check job at,
--       subscriptions' version to be at ('' for any), projectId ('' for the default project, as
--       deliveries made before projects have none)
if ARGV[8] ~= '' then
  if redis.call('EXISTS', KEYS[8]) == 0 then return {'', -1} end
  if (redis.call('GET', KEYS[9]) or '0') ~= ARGV[8] then return {'', -1} end
end
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return {existing, 0} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'eventId', ARGV[3], 'subscriptionId', ARGV[1],
  'eventType', ARGV[4], 'status', 'pending', 'createdAt', ARGV[5], 'attemptCount', 0)
if ARGV[9] ~= '' then redis.call('HSET', KEYS[2], 'projectId', ARGV[9]) end
redis.call('PEXPIRE', KEYS[2], ARGV[6])
for i = 3, 6 do redis.call('ZADD', KEYS[i], 0, ARGV[2]) end
redis.call('ZADD', KEYS[7], ARGV[7], ARGV[2])
return {ARGV[2], 1}
