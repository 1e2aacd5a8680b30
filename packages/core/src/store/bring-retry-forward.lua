-- Makes a retrying delivery's next attempt due now, so that its delayed job, promoted, attempts
-- it rather than waiting again for the time the schedule set. Nothing if it is no longer retrying.
-- KEYS: delivery. ARGV: now. Returns 1 when it was brought forward.
if redis.call('HGET', KEYS[1], 'status') ~= 'retrying' then return 0 end
redis.call('HSET', KEYS[1], 'nextAttemptAt', ARGV[1])
return 1
