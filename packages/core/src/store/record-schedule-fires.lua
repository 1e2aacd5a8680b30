-- Records what one run of a schedule did: the planned times it handled (through), and the
-- fires it made. Two runs of one schedule may overlap (a resume's catch-up beside a timer), so
-- `through` and the latest fire only ever move forward. A deleted schedule is left deleted.
-- KEYS: the schedule, its state, its recent fires
-- ARGV: through, the latest planned time fired (or ""), how many recent fires to keep, then one
--       JSON fire each (oldest first)
-- Returns the schedule's fires so far, or -1 when it is gone.
if redis.call("EXISTS", KEYS[1]) == 0 then
  return -1
end
local through = tonumber(redis.call("HGET", KEYS[2], "through") or "0")
if tonumber(ARGV[1]) > through then
  redis.call("HSET", KEYS[2], "through", ARGV[1])
end
local made = #ARGV - 3
if made > 0 then
  local last = tonumber(redis.call("HGET", KEYS[2], "last") or "0")
  if tonumber(ARGV[2]) > last then
    redis.call("HSET", KEYS[2], "last", ARGV[2])
  end
  for i = 4, #ARGV do
    redis.call("LPUSH", KEYS[3], ARGV[i])
  end
  redis.call("LTRIM", KEYS[3], 0, tonumber(ARGV[3]) - 1)
  return redis.call("HINCRBY", KEYS[2], "fires", made)
end
return tonumber(redis.call("HGET", KEYS[2], "fires") or "0")
