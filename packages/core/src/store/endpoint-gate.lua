-- The endpoint gate, one script for both ways through it, so that its bookkeeping lives in one
-- place. ARGV[1] is the operation. Its keys are the endpoint's alone: the deliveries it lets
-- through belong to every event, whose records live in other slots of a Redis Cluster, so
-- whether a delivery is still to be attempted is its attempt claim's to say
-- (attempt-claim.lua), taken once the gate has let it through.
--
-- 'acquire' asks for a slot at an endpoint for one attempt of one delivery. In order: an
-- attempt of it already in flight ('busy' until its lease ends), the circuit (open: wait until
-- it closes; half-open: one probe at a time), the cap on attempts in flight (full: the delivery
-- is parked, first come first served, and handed a slot when one frees), then the endpoint's
-- rate limit (send-rate.lua, read ahead of this script). A capped bulk replay's rate is kept
-- apart (replay-rate.lua), before the gate is asked.
--
-- 'release' frees a delivery's slot, notes when the endpoint last succeeded or failed, updates
-- the circuit from the attempt's outcome (a failed probe reopens it for twice the last
-- cool-down, up to the cap; a success closes it), and hands the free slots to the deliveries
-- parked longest, which the caller then wakes. The caller may name deliveries of its own
-- process that wait for a slot (and whether each is parked here): one of them whose turn comes
-- gets its slot here at once, saving it a round trip. A named delivery that is not parked here
-- waited behind its own process's attempts, which held every slot, without asking: it gets one
-- only once no parked delivery is left, so the deliveries of other processes parked here go
-- first. The caller names none where a rate limit applies, which only 'acquire' keeps.
-- The caller may also say it passed the slot on, at the attempt's answer, to a delivery of its
-- own that waited for one: that delivery holds the slot from then on, in the released one's
-- place. It does so only while its last release found nobody parked, the circuit closed and
-- the endpoint within its cap, so that other processes' parked deliveries lose at most one
-- round trip's turns (and a lowered cap holds from the next release on). The release
-- that passes a slot on is sent before the next attempt begins, so it nearly always reaches
-- the gate first; should it be tried again after a failure, the attempt it passed the slot to
-- may have been released already: a release that finds no slot to free notes so, and the pass
-- on it then meets takes no slot.
--
-- A parked delivery leaves the parked set as soon as it takes a slot or waits for anything
-- else, so a slot is only ever handed to one still waiting for a slot. A handed slot is held
-- in its own set, apart from running attempts, until its delivery comes for it (or its lease
-- lapses): running twice is told apart from being handed a slot.
--
-- KEYS for 'acquire': in flight (running attempts: delivery id -> lease end), parked, health,
--       handed (slots handed to parked deliveries: delivery id -> lease end), endpoint rate, its
--       reservations
-- KEYS for 'release': in flight, parked, health, handed, last outcomes, released early
-- ARGV for 'acquire': op, deliveryId, parked member, now, lease ms, cap, endpoint interval ms
--   Returns {verdict, until, handed members...}: 'go'; 'open' | 'parked' | 'rate' | 'busy' with
--   the time to look again.
-- ARGV for 'release': op, deliveryId, now, cap, lease ms, outcome ('ok' | 'fail' | 'none'),
--       failures to open, cool-down ms, longest cool-down ms, the attempt's time, the delivery
--       the slot was passed on to (or ''), then for each named delivery its id and '1' if it
--       is parked here, else '0'
--   Returns {failingSince, openUntil, consecutive failures, 1 if slots may be passed on, else
--   0, number of handed members, handed members..., ids of named deliveries given a slot...}
local inFlight, parked, health, handed = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op, id = ARGV[1], ARGV[2]

-- Slots taken, running or handed. Leases that lapsed (a dead worker's) are pruned only where
-- they could change the caller's answer: once the count reaches `threshold`.
local function slotsTaken(now, threshold)
  local taken = redis.call('ZCARD', inFlight) + redis.call('ZCARD', handed)
  if taken < threshold then return taken end
  redis.call('ZREMRANGEBYSCORE', inFlight, '-inf', now)
  redis.call('ZREMRANGEBYSCORE', handed, '-inf', now)
  return redis.call('ZCARD', inFlight) + redis.call('ZCARD', handed)
end

-- Hands every free slot to the deliveries parked longest, then to the caller's own that wait
-- unparked. One of `named` (the caller's own, in its order: {id, parked}) takes its slot at
-- once and its id is added to `given`; any other is handed the slot and its member added to
-- `out`. `openUntil`: the circuit's, where the caller knows it.
local function handOn(now, cap, leaseMs, out, named, given, openUntil)
  -- Nobody waits (nearly always while the endpoint keeps up): nothing to hand on.
  if #(named or {}) == 0 and redis.call('ZCARD', parked) == 0 then return end
  if (openUntil or tonumber(redis.call('HGET', health, 'openUntil') or '0')) > 0 then return end
  local free = cap - slotsTaken(now, cap)
  local own = {}
  for _, delivery in ipairs(named or {}) do own[delivery[1]] = delivery end
  local function give(deliveryId)
    redis.call('ZADD', inFlight, now + leaseMs, deliveryId)
    given[#given + 1] = deliveryId
    free = free - 1
  end
  while free > 0 do
    local popped = redis.call('ZPOPMIN', parked)
    if #popped == 0 then break end
    local deliveryId = string.match(popped[1], '([^|]+)$')
    if own[deliveryId] then give(deliveryId)
    else
      redis.call('ZADD', handed, now + leaseMs, deliveryId)
      out[#out + 1] = popped[1]
      free = free - 1
    end
  end
  for _, delivery in ipairs(named or {}) do
    if free <= 0 then break end
    if not delivery[2] and not redis.call('ZSCORE', inFlight, delivery[1]) then
      give(delivery[1])
    end
  end
end

if op == 'release' then
  local now, cap, leaseMs = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  local releasedEarly = KEYS[6]
  if redis.call('ZREM', inFlight, id) == 0 then
    redis.call('ZADD', releasedEarly, now + leaseMs, id)
    redis.call('ZREMRANGEBYSCORE', releasedEarly, '-inf', now)
    redis.call('PEXPIRE', releasedEarly, leaseMs)
  end
  local passedTo = ARGV[11]
  if passedTo ~= '' and redis.call('ZREM', releasedEarly, passedTo) == 0 then
    redis.call('ZADD', inFlight, now + leaseMs, passedTo)
  end
  local before = redis.call('HMGET', health, 'probe', 'failures', 'failingSince', 'openUntil', 'cooldown')
  -- The circuit as it stands after this release, kept here as it changes (no read back).
  local failures, failingSince, openUntil = tonumber(before[2] or '0'), tonumber(before[3] or '0'), tonumber(before[4] or '0')
  local wasProbe = before[1] == id
  if wasProbe then redis.call('HDEL', health, 'probe', 'probeUntil') end
  if ARGV[6] ~= 'none' then redis.call('HSET', KEYS[5], ARGV[6] == 'ok' and 'lastSuccessAt' or 'lastFailureAt', ARGV[10]) end
  -- A healthy endpoint's success has nothing to clear (the common case: no write).
  if ARGV[6] == 'ok' and (before[2] or before[3] or before[4]) then
    redis.call('HDEL', health, 'failures', 'failingSince', 'openUntil', 'cooldown')
    failures, failingSince, openUntil = 0, 0, 0
  elseif ARGV[6] == 'fail' then
    failures = redis.call('HINCRBY', health, 'failures', 1)
    if failingSince == 0 then
      failingSince = now
      redis.call('HSET', health, 'failingSince', now)
    end
    if wasProbe or failures >= tonumber(ARGV[7]) then
      local cooldown = tonumber(before[5] or ARGV[8])
      if wasProbe then cooldown = math.min(2 * cooldown, tonumber(ARGV[9])) end
      openUntil = now + cooldown
      redis.call('HSET', health, 'openUntil', openUntil, 'cooldown', cooldown)
    end
  end
  local named = {}
  for i = 12, #ARGV, 2 do named[#named + 1] = {ARGV[i], ARGV[i + 1] == '1'} end
  local handedMembers, given = {}, {}
  handOn(now, cap, leaseMs, handedMembers, named, given, openUntil)
  -- Slots may go on being passed on while nobody is parked, the circuit is closed and the
  -- endpoint is within its cap (which may have been lowered). A full endpoint is the rule while
  -- slots are passed on, so lapsed leases are pruned only from a count over the cap.
  local mayPassOn = openUntil == 0 and slotsTaken(now, cap + 1) <= cap and redis.call('ZCARD', parked) == 0
  local out = {failingSince, openUntil, failures, mayPassOn and 1 or 0, #handedMembers}
  for _, member in ipairs(handedMembers) do out[#out + 1] = member end
  for _, deliveryId in ipairs(given) do out[#out + 1] = deliveryId end
  return out
end

local member = ARGV[3]
local now, leaseMs, cap = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
-- Leaves the parked set (and any slot it was handed) to look again when due.
local function wait(verdict, untilMs, keepHanded)
  redis.call('ZREM', parked, member)
  local out = {verdict, untilMs}
  if keepHanded then redis.call('ZADD', handed, untilMs + leaseMs, id)
  elseif redis.call('ZREM', handed, id) == 1 then handOn(now, cap, leaseMs, out) end
  return out
end

local running = tonumber(redis.call('ZSCORE', inFlight, id) or '0')
if running > now then return {'busy', running} end

local openUntil = tonumber(redis.call('HGET', health, 'openUntil') or '0')
if openUntil > now then return wait('open', openUntil, false) end
local halfOpen = openUntil > 0
local handedUntil = tonumber(redis.call('ZSCORE', handed, id) or '0')
local holdsHanded = handedUntil > now
local function park()
  redis.call('ZADD', parked, 'NX', now, member)
  return {'parked', now + leaseMs}
end
if halfOpen then
  local probe = redis.call('HGET', health, 'probe')
  local probeUntil = tonumber(redis.call('HGET', health, 'probeUntil') or '0')
  if probe and probe ~= id and probeUntil > now then return park() end
end
if not holdsHanded and slotsTaken(now, cap) >= cap then return park() end

local interval = tonumber(ARGV[7])
local sendAt = sendTime(KEYS[5], KEYS[6], interval, id, now)
if sendAt > now then return wait('rate', math.ceil(sendAt), holdsHanded) end

-- Sending now: the rate limit notes the send, and the delivery takes its place among the
-- attempts in flight.
if interval > 0 then spendSendTime(KEYS[5], KEYS[6], id, now) end
redis.call('ZREM', parked, member)
if handedUntil > 0 then redis.call('ZREM', handed, id) end
redis.call('ZADD', inFlight, now + leaseMs, id)
if halfOpen then redis.call('HSET', health, 'probe', id, 'probeUntil', now + leaseMs) end
return {'go', 0}
