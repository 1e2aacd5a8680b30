-- Moves a delivery from the status its replayer saw back to pending, only if it is still
-- there: two replays racing over the same deliveries claim each one once. The replay starts a
-- new run of the retry schedule from the current attempt count, and the delivery is watched
-- again. A bulk replay's claim names the replay in the delivery, so that its walk, run again
-- after a crash before it counted its claims (the replay's record is in another slot), finds
-- and counts them once, without enqueueing them again. The claim is noted as not yet enqueued
-- until its job exists, so a replayer that dies in between loses nothing.
-- KEYS: delivery, index pending, index of the expected status, claims not yet enqueued, watch
-- ARGV: deliveryId, expected status, the claim's note (deliveryId|replayId), now, check job at,
--       the bulk replay's id ('' for a single replay), its rate cap ('' for none)
-- Returns the replay's number (1, 2, …); 0 when the delivery was not in that status; minus the
-- replay's number when this bulk replay claimed it before.
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[2] then
  if ARGV[6] ~= '' and redis.call('HGET', KEYS[1], 'replayId') == ARGV[6] then
    return -tonumber(redis.call('HGET', KEYS[1], 'replays') or '0')
  end
  return 0
end
redis.call('HSET', KEYS[1], 'status', 'pending', 'runStartedAtAttempt', redis.call('HGET', KEYS[1], 'attemptCount'))
redis.call('HDEL', KEYS[1], 'nextAttemptAt', 'failureReason')
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[1], 'replayId', ARGV[6])
  if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'replayRatePerSecond', ARGV[7])
  else redis.call('HDEL', KEYS[1], 'replayRatePerSecond') end
else
  redis.call('HDEL', KEYS[1], 'replayId', 'replayRatePerSecond')
end
return redis.call('HINCRBY', KEYS[1], 'replays', 1)
