-- A rate-capped bulk replay's limiter (send-rate.lua, read ahead of this), kept apart from the
-- endpoint gates: a replay's deliveries go to many endpoints, whose gates are in other slots.
-- Asked once the gate has let the delivery through, just before it is sent.
-- KEYS: the replay's rate, its reservations
-- ARGV: deliveryId, now, interval ms
-- Returns 0 when the delivery sends now (its send noted), else when it may send (ms): it has
-- reserved that time.
local id, now = ARGV[1], tonumber(ARGV[2])
local sendAt = sendTime(KEYS[1], KEYS[2], tonumber(ARGV[3]), id, now)
if sendAt > now then return math.ceil(sendAt) end
spendSendTime(KEYS[1], KEYS[2], id, now)
return 0
