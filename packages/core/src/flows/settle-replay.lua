-- Counts outcomes, and with `walked`, closes the walk: every delivery it expected and did not
-- claim is skipped. The replay is done once the walk has closed and every claim has its outcome.
-- Counting claims (as the walk closes each page), not deliveries seen, keeps the numbers exact
-- when a replay job runs again after a crash, and when another replay takes deliveries first.
-- KEYS: the replay. ARGV: done, failed, now, '1' when the walk has ended
-- Returns 2 when this call finished the replay (once per replay), else 1; 0 for an unknown replay.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local done = redis.call('HINCRBY', KEYS[1], 'done', ARGV[1])
local failed = redis.call('HINCRBY', KEYS[1], 'failed', ARGV[2])
local claimed = tonumber(redis.call('HGET', KEYS[1], 'claimed') or '0')
if ARGV[4] == '1' then
  local total = math.max(tonumber(redis.call('HGET', KEYS[1], 'total')), claimed)
  redis.call('HSET', KEYS[1], 'total', total, 'skipped', total - claimed, 'walked', 1)
end
if redis.call('HGET', KEYS[1], 'walked') == '1' and done + failed >= claimed and redis.call('HGET', KEYS[1], 'status') == 'running' then
  redis.call('HSET', KEYS[1], 'status', 'done', 'finishedAt', ARGV[3])
  return 2
end
return 1
