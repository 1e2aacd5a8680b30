-- Writes a subscription only if its stored value is still the one the change was made from
-- ("" for none), so that of two racing changes the second is made again from the first's
-- result instead of undoing it. Stored values differ on every write (each is sealed with a
-- fresh IV), so the value itself is the version. Type index keys are built in the script from
-- their prefix, which shares the hash tag (one Redis Cluster slot).
-- Every write counts in the version counter, which caches compare with.
-- Returns the version the write made, or 0 when the stored value had changed (nothing written).
-- KEYS: the subscription, the id index, the version counter. ARGV: expected value, new value ("" deletes),
-- id, changes channel, the type index prefix of the subscription's project, number of types left,
-- then the types left and joined.
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
local left = tonumber(ARGV[6])
for i = 7, 6 + left do redis.call('SREM', ARGV[5] .. ARGV[i], ARGV[3]) end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('ZADD', KEYS[2], 0, ARGV[3])
  for i = 7 + left, #ARGV do redis.call('SADD', ARGV[5] .. ARGV[i], ARGV[3]) end
end
local version = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[4], ARGV[3])
return version
