-- The subscriptions to one event type, in one round trip, after the version of the
-- subscriptions they are (first in the answer). The values are read by a key built in the
-- script: it shares the hash tag of the index key, so it is in the same Redis Cluster slot.
-- KEYS: the type's index, the version counter. ARGV: the subscription key prefix.
local values = { redis.call('GET', KEYS[2]) or '0' }
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local value = redis.call('GET', ARGV[1] .. id)
  if value then values[#values + 1] = value end
end
return values
