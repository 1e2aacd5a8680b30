-- A rate-capped bulk replay's limiter (send-rate.lua, read ahead of this), kept apart from the
-- endpoint gates: a replay's deliveries go to many endpoints, whose gates are in other slots.
-- KEYS: the replay's rate, its reservations
-- ARGV: op ('reserve' | 'spend'), deliveryId, now, interval ms
-- 'reserve' returns when the delivery may send (ms; now or earlier: at once); 'spend' notes
-- that it sends now.
local id, now = ARGV[2], tonumber(ARGV[3])
if ARGV[1] == 'spend' then
  spendSendTime(KEYS[1], KEYS[2], id, now)
  return 0
end
return math.ceil(sendTime(KEYS[1], KEYS[2], tonumber(ARGV[4]), id, now))
