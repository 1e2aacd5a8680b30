-- An event of an ordering key has its deliveries in their lanes: it is no longer unrouted for
-- its key, and the deliveries that waited on the key's earlier events are returned to be woken
-- (each looks again; one still behind an earlier event notes itself again).
-- KEYS: the key's unrouted events, the key's blocked deliveries
-- ARGV: eventId
-- Returns the blocked members ("deliveryId eventId subscriptionId").
redis.call('ZREM', KEYS[1], ARGV[1])
local blocked = redis.call('SMEMBERS', KEYS[2])
redis.call('DEL', KEYS[2])
return blocked
