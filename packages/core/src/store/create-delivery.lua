-- Creates the delivery of one (event, subscription) pair unless it exists: a route job that
-- runs twice finds the first one's delivery and creates nothing. The delivery is watched from
-- the start, so that one whose job never comes is found by the reconciler.
-- KEYS: eventDeliveries, delivery, index all, index pending, index subscription, index type, watch
-- ARGV: subscriptionId, deliveryId, eventId, eventType, createdAt, retentionMs, check job at
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return {existing, 0} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'eventId', ARGV[3], 'subscriptionId', ARGV[1],
  'eventType', ARGV[4], 'status', 'pending', 'createdAt', ARGV[5], 'attemptCount', 0)
redis.call('PEXPIRE', KEYS[2], ARGV[6])
for i = 3, 6 do redis.call('ZADD', KEYS[i], 0, ARGV[2]) end
redis.call('ZADD', KEYS[7], ARGV[7], ARGV[2])
return {ARGV[2], 1}
