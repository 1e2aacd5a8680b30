-- Claims the idempotency key and stores the event in one step, so that two publishes
-- racing with the same key store one event: the loser gets the winner's id back, or is told
-- the key was used for another request (the digest of type, data and occurredAt differs).
-- The event is noted as not yet routed until its route job has run, for the reconciler
-- (samples, which are never routed but to the one subscription they are sent to, are not).
-- An event with an ordering key is numbered in its key's publish order here; its participant
-- values index it, for erasure.
-- KEYS: event, idempotency key, events to route, the ordering key's counter and its unrouted
--       events (unused without a key), then the participant index sets the event belongs to
-- ARGV: eventId, event JSON, idempotency key ('' for none), retention ms, check route job at
--       ('' for none), request digest ('' with no key), deadline ms on Redis's clock ('' for none),
--       ordering key ('' for none), participant index lifetime ms (twice the retention)
-- Returns {1, id, now, seq} stored (seq: its number in its ordering key, 0 without one);
-- {0, id, now} the key's earlier event; {2, id, now} the key's earlier event, for another
-- request; {-1, '', now} past the deadline, nothing stored. `now` is Redis's time in ms, by
-- which the caller keeps its view of Redis's clock.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if ARGV[7] ~= '' and now > tonumber(ARGV[7]) then return {-1, '', now} end
if ARGV[3] ~= '' then
  local existing = redis.call('GET', KEYS[2])
  if existing then
    local id, digest = string.match(existing, '^(%S+) ?(%S*)$')
    if digest ~= '' and digest ~= ARGV[6] then return {2, id, now} end
    return {0, id, now}
  end
  redis.call('SET', KEYS[2], ARGV[1] .. ' ' .. ARGV[6], 'PX', ARGV[4])
end
-- A key shared by events only ever lives longer: cut to a shorter lifetime (their project's
-- retention shortened since), it would vanish before the events it serves (an ordering key's
-- count would start again below events still waiting; an erasure would miss events).
local function keepAtLeast(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
local json, seq = ARGV[2], 0
if ARGV[8] ~= '' then
  seq = redis.call('INCR', KEYS[4])
  keepAtLeast(KEYS[4], tonumber(ARGV[4]))
  redis.call('ZADD', KEYS[5], seq, ARGV[1])
  keepAtLeast(KEYS[5], tonumber(ARGV[4]))
  -- The JSON is an object: its closing brace makes room for one more field.
  json = string.sub(json, 1, -2) .. ',"orderingSeq":' .. seq .. '}'
end
redis.call('SET', KEYS[1], json, 'PX', ARGV[4])
if ARGV[5] ~= '' then redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1]) end
for i = 6, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[1])
  keepAtLeast(KEYS[i], tonumber(ARGV[9]))
end
return {1, ARGV[1], now, seq}
