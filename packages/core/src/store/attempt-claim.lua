-- An attempt's claim on its delivery, beside the delivery's record so that both are in one slot
-- (the endpoint's gate, shared by the deliveries of every event, is in another). ARGV[1] is
-- the operation.
--
-- 'take' claims the delivery for the attempt about to be sent: it must still be unfinished and
-- at the attempt count its caller loaded (else 'stale': finished, attempted since, erased or
-- gone); a claim already held by another owner is 'busy' until its lease ends; one its owner
-- holds already is leased again from now (it waited for a slot meanwhile). The attempt's
-- record gives the claim back (set-delivery-status.lua), and an attempt that dies with its
-- worker loses it when the lease ends.
-- 'drop' gives back a claim its owner holds without recording an attempt, and when the
-- delivery waits until a given time, moves its watch there (the reconciler then leaves it be
-- until its wait is over).
--
-- KEYS: delivery, claim, watch
-- ARGV for 'take': op, expected attempt count, owner, lease ms. Returns {'go', 0},
--       {'stale', 0} or {'busy', ms the claim has left}.
-- ARGV for 'drop': op, owner, deliveryId, watch score ('' to leave it). Returns 1 if it held
--       the claim, else 0.
local op = ARGV[1]
if op == 'drop' then
  if ARGV[4] ~= '' then redis.call('ZADD', KEYS[3], 'XX', ARGV[4], ARGV[3]) end
  if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
  return redis.call('DEL', KEYS[2])
end
local state = redis.call('HMGET', KEYS[1], 'status', 'attemptCount')
if not ((state[1] == 'pending' or state[1] == 'retrying') and state[2] == ARGV[2]) then return {'stale', 0} end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then return {'go', 0} end
if redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  return {'go', 0}
end
return {'busy', math.max(redis.call('PTTL', KEYS[2]), 0)}
