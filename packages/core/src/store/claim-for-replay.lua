-- Moves a delivery from the status its replayer saw back to pending, only if it is still
-- there: two replays racing over the same deliveries claim each one once. The replay starts a
-- new run of the retry schedule from the current attempt count, and the delivery is watched
-- again. A bulk replay counts its claims in the same step, so a replay job that runs again
-- counts nothing twice. The claim is noted as not yet enqueued until its job exists, so a
-- replayer that dies in between loses nothing.
-- KEYS: delivery, index pending, index of the expected status, claims not yet enqueued, watch,
--       the bulk replay (unused for a single replay)
-- ARGV: deliveryId, expected status, the claim's note (deliveryId|replayId), now, check job at,
--       '1' to count the claim in the bulk replay, the bulk replay's id, its rate cap ('' for none)
-- Returns the replay's number (1, 2, …), or 0 when the delivery was not in that status.
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'status', 'pending', 'runStartedAtAttempt', redis.call('HGET', KEYS[1], 'attemptCount'))
redis.call('HDEL', KEYS[1], 'nextAttemptAt', 'failureReason')
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
if ARGV[6] == '1' then
  redis.call('HINCRBY', KEYS[6], 'claimed', 1)
  redis.call('HSET', KEYS[1], 'replayId', ARGV[7])
  if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'replayRatePerSecond', ARGV[8])
  else redis.call('HDEL', KEYS[1], 'replayRatePerSecond') end
else
  redis.call('HDEL', KEYS[1], 'replayId', 'replayRatePerSecond')
end
return redis.call('HINCRBY', KEYS[1], 'replays', 1)
