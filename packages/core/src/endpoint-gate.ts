import type { Redis } from "ioredis";
import { DEFAULT_MAX_IN_FLIGHT } from "@hookbus/schemas";
import type { Subscription } from "./domain.js";
import type { Keys } from "./keys.js";
import { defineScript } from "./redis.js";

/**
 * How long an attempt's slot is held past the subscription's timeout: room for recording the
 * attempt. A worker that dies mid-attempt frees its slot when the lease runs out.
 */
export const LEASE_MARGIN_MS = 5_000;

// Asks for a slot at an endpoint for one delivery. In order: the circuit (open: wait until it
// closes; half-open: one probe at a time), the cap on attempts in flight (full: the job is
// parked, first come first served, and woken when a slot frees), then the rate limits: the
// endpoint's own, and the bulk replay's the delivery belongs to, if capped. Each is GCRA with
// no burst, so sends are spaced evenly; a delivery that must wait reserves its send time on
// each limiter (so waiting deliveries keep their order instead of racing for the next free
// moment) and, back at that time, sends without being charged again.
// KEYS: in flight, parked, health, endpoint rate, its reservations, replay rate, its reservations
// ARGV: deliveryId, parked member, now, lease ms, cap, endpoint interval ms, replay interval ms (0: none)
// Returns {verdict, until}: 'go', or 'open' | 'parked' | 'rate' with the time to wake up.
const ACQUIRE = `
local id, member = ARGV[1], ARGV[2]
local now, leaseMs, cap = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local function park()
  redis.call('ZADD', KEYS[2], 'NX', now, member)
  return {'parked', now + leaseMs}
end
-- When this delivery may send by one limiter. The limiter keeps the next free send time, handed
-- out in order (a waiting delivery reserves its time), and the time of the last send: however
-- late a delivery comes back for its reserved time, sends stay at least an interval apart.
local function sendTime(rateKey, reservedKey, interval)
  if interval <= 0 then return now end
  redis.call('ZREMRANGEBYSCORE', reservedKey, '-inf', now - 60000)
  local state = redis.call('HMGET', rateKey, 'nextFree', 'last')
  local nextFree, last = tonumber(state[1] or '0'), tonumber(state[2] or '0')
  local reserved = tonumber(redis.call('ZSCORE', reservedKey, id) or '-1')
  if reserved < 0 then
    reserved = math.max(nextFree, now)
    redis.call('HSET', rateKey, 'nextFree', tostring(reserved + interval))
    redis.call('ZADD', reservedKey, reserved, id)
  end
  redis.call('PEXPIRE', rateKey, math.ceil(math.max(nextFree, reserved) + interval - now) + 60000)
  return math.max(reserved, last + interval)
end
local openUntil = tonumber(redis.call('HGET', KEYS[3], 'openUntil') or '0')
if openUntil > now then return {'open', openUntil} end
local halfOpen = openUntil > 0
if halfOpen then
  local probe = redis.call('HGET', KEYS[3], 'probe')
  local probeUntil = tonumber(redis.call('HGET', KEYS[3], 'probeUntil') or '0')
  if probe and probe ~= id and probeUntil > now then return park() end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZSCORE', KEYS[1], id)
if not held and redis.call('ZCARD', KEYS[1]) >= cap then return park() end
local sendAt = math.max(sendTime(KEYS[4], KEYS[5], tonumber(ARGV[6])), sendTime(KEYS[6], KEYS[7], tonumber(ARGV[7])))
if sendAt > now then
  if held then redis.call('ZADD', KEYS[1], sendAt + leaseMs, id) end
  return {'rate', math.ceil(sendAt)}
end
-- Sending now: the reservations are spent, and the limiters note the send.
for _, limiter in ipairs({{KEYS[4], KEYS[5], ARGV[6]}, {KEYS[6], KEYS[7], ARGV[7]}}) do
  if tonumber(limiter[3]) > 0 then
    redis.call('ZREM', limiter[2], id)
    redis.call('HSET', limiter[1], 'last', now)
  end
end
redis.call('ZADD', KEYS[1], now + leaseMs, id)
if halfOpen then redis.call('HSET', KEYS[3], 'probe', id, 'probeUntil', now + leaseMs) end
return {'go', 0}
`;

// Frees a delivery's slot, updates the circuit from the attempt's outcome, and hands the free
// slots to the jobs parked longest, which the caller then wakes. A failed probe reopens the
// circuit for twice the last cool-down (up to the cap); a success closes it.
// KEYS: in flight, parked, health
// ARGV: deliveryId, now, cap, lease ms, outcome ('ok' | 'fail' | 'none'), failures to open,
//       cool-down ms, longest cool-down ms
// Returns {failingSince, openUntil, consecutive failures, parked members handed a slot...}
const RELEASE = `
local id = ARGV[1]
local now, cap, leaseMs = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREM', KEYS[1], id)
local wasProbe = redis.call('HGET', KEYS[3], 'probe') == id
if wasProbe then redis.call('HDEL', KEYS[3], 'probe', 'probeUntil') end
if ARGV[5] == 'ok' then
  redis.call('HDEL', KEYS[3], 'failures', 'failingSince', 'openUntil', 'cooldown')
elseif ARGV[5] == 'fail' then
  local failures = redis.call('HINCRBY', KEYS[3], 'failures', 1)
  redis.call('HSETNX', KEYS[3], 'failingSince', now)
  if wasProbe or failures >= tonumber(ARGV[6]) then
    local cooldown = tonumber(redis.call('HGET', KEYS[3], 'cooldown') or ARGV[7])
    if wasProbe then cooldown = math.min(2 * cooldown, tonumber(ARGV[8])) end
    redis.call('HSET', KEYS[3], 'openUntil', now + cooldown, 'cooldown', cooldown)
  end
end
local health = redis.call('HMGET', KEYS[3], 'failingSince', 'openUntil', 'failures')
local result = {tonumber(health[1] or '0'), tonumber(health[2] or '0'), tonumber(health[3] or '0')}
if result[2] == 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  local free = cap - redis.call('ZCARD', KEYS[1])
  while free > 0 do
    local popped = redis.call('ZPOPMIN', KEYS[2])
    if #popped == 0 then break end
    redis.call('ZADD', KEYS[1], now + leaseMs, string.match(popped[1], '([^|]+)$'))
    result[#result + 1] = popped[1]
    free = free - 1
  end
end
return result
`;

/** A job waiting at the gate, as it is parked: enough to wake it and to lease it a slot. */
export interface ParkedJob {
  queue: string;
  jobId: string;
  deliveryId: string;
}

export type GateVerdict =
  | { go: true }
  /** Wait until `until` (ms) without spending an attempt: why is for logs and metrics. */
  | { go: false; why: "circuit_open" | "at_capacity" | "rate_limited"; until: number };

export type AttemptOutcomeForCircuit = "ok" | "fail" | "none";

export interface ReleaseResult {
  /** When the endpoint's current run of failures began; undefined while it is healthy. */
  failingSince?: number;
  consecutiveFailures: number;
  /** Jobs given the slots this release freed: the caller wakes them. */
  handedOff: ParkedJob[];
}

export type CircuitState = "closed" | "open" | "half-open";

/** An endpoint's health, as the API shows it. */
export interface EndpointHealth {
  circuit: CircuitState;
  consecutiveFailures: number;
  openUntil?: number;
  failingSince?: number;
}

export interface CircuitSettings {
  /** Consecutive failures that open the circuit. */
  failuresToOpen: number;
  /** How long it stays open the first time; each failed probe doubles it, up to `longestCooldownMs`. */
  cooldownMs: number;
  longestCooldownMs: number;
}

const VERDICTS = { open: "circuit_open", parked: "at_capacity", rate: "rate_limited" } as const;

/**
 * Endpoint isolation, kept in Redis so that every worker process shares it: a cap on attempts
 * in flight per subscription, an optional rate limit, and a circuit breaker. A delivery that
 * may not go now is told when to look again; it waits as a delayed job, holding no worker and
 * spending no attempt, so a slow or failing endpoint only ever slows its own deliveries.
 */
export class EndpointGate {
  private readonly acquire;
  private readonly release;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly circuit: CircuitSettings,
  ) {
    this.acquire = defineScript<[string, number]>(redis, "hookbusGateAcquire", 7, ACQUIRE);
    this.release = defineScript<number[] | string[]>(redis, "hookbusGateRelease", 3, RELEASE);
  }

  /**
   * Asks for a slot for one attempt of `job` at its subscription's endpoint; `replay` is the
   * capped bulk replay the delivery belongs to, whose rate holds at the receiver too.
   */
  async enter(subscription: Subscription, job: ParkedJob, replay?: { id: string; ratePerSecond: number }, now = Date.now()): Promise<GateVerdict> {
    const endpointRate = [this.keys.endpointRate(subscription.id), this.keys.endpointRateReserved(subscription.id)];
    const replayRate = replay ? [this.keys.replayRate(replay.id), this.keys.replayRateReserved(replay.id)] : endpointRate;
    const [verdict, until] = await this.acquire.run(
      [
        this.keys.endpointInFlight(subscription.id),
        this.keys.endpointParked(subscription.id),
        this.keys.endpointHealth(subscription.id),
        ...endpointRate,
        ...replayRate,
      ],
      [
        job.deliveryId,
        parkedMember(job),
        now,
        leaseMs(subscription),
        maxInFlight(subscription),
        intervalMs(subscription.ratePerSecond),
        intervalMs(replay?.ratePerSecond),
      ],
    );
    if (verdict === "go") return { go: true };
    return { go: false, why: VERDICTS[verdict as keyof typeof VERDICTS], until: Number(until) };
  }

  /** Frees the delivery's slot and feeds the attempt's outcome to the circuit. */
  async leave(subscription: Subscription, deliveryId: string, outcome: AttemptOutcomeForCircuit, now = Date.now()): Promise<ReleaseResult> {
    const result = await this.release.run(
      [this.keys.endpointInFlight(subscription.id), this.keys.endpointParked(subscription.id), this.keys.endpointHealth(subscription.id)],
      [
        deliveryId,
        now,
        maxInFlight(subscription),
        leaseMs(subscription),
        outcome,
        this.circuit.failuresToOpen,
        this.circuit.cooldownMs,
        this.circuit.longestCooldownMs,
      ],
    );
    const [failingSince, , failures, ...handed] = result;
    return {
      failingSince: Number(failingSince) || undefined,
      consecutiveFailures: Number(failures),
      handedOff: (handed as string[]).map(parseParkedMember),
    };
  }

  /** True when the delivery holds a slot: a parked job handed one while it was still going to sleep. */
  async holdsSlot(subscriptionId: string, deliveryId: string): Promise<boolean> {
    return (await this.redis.zscore(this.keys.endpointInFlight(subscriptionId), deliveryId)) !== null;
  }

  async health(subscriptionId: string, now = Date.now()): Promise<EndpointHealth> {
    const [failures, openUntil, failingSince] = await this.redis.hmget(this.keys.endpointHealth(subscriptionId), "failures", "openUntil", "failingSince");
    return toHealth(failures, openUntil, failingSince, now);
  }

  /** Health of several endpoints in one round trip. */
  async healthOfMany(subscriptionIds: string[], now = Date.now()): Promise<Map<string, EndpointHealth>> {
    if (subscriptionIds.length === 0) return new Map();
    const pipeline = this.redis.pipeline();
    for (const id of subscriptionIds) pipeline.hmget(this.keys.endpointHealth(id), "failures", "openUntil", "failingSince");
    const results = (await pipeline.exec()) ?? [];
    return new Map(
      subscriptionIds.map((id, i) => {
        const [error, values] = results[i] ?? [];
        if (error) throw error;
        const [failures, openUntil, failingSince] = values as (string | null)[];
        return [id, toHealth(failures, openUntil, failingSince, now)];
      }),
    );
  }

  /** Forgets the endpoint's failures: on re-enable, the circuit starts closed. */
  async reset(subscriptionId: string): Promise<void> {
    await this.redis.del(this.keys.endpointHealth(subscriptionId));
  }
}

export function maxInFlight(subscription: Pick<Subscription, "maxInFlight">): number {
  return subscription.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
}

/** The spacing of a rate limit's sends; 0 for no limit. */
function intervalMs(ratePerSecond: number | undefined): number {
  return ratePerSecond ? 1000 / ratePerSecond : 0;
}

function leaseMs(subscription: Subscription): number {
  return subscription.timeoutMs + LEASE_MARGIN_MS;
}

function toHealth(failures: string | null | undefined, openUntil: string | null | undefined, failingSince: string | null | undefined, now: number): EndpointHealth {
  const open = Number(openUntil) || 0;
  const circuit: CircuitState = open === 0 ? "closed" : open > now ? "open" : "half-open";
  return {
    circuit,
    consecutiveFailures: Number(failures) || 0,
    openUntil: open || undefined,
    failingSince: Number(failingSince) || undefined,
  };
}

/** `queue|jobId|deliveryId`: the delivery id last, where the release script reads it. */
function parkedMember(job: ParkedJob): string {
  return `${job.queue}|${job.jobId}|${job.deliveryId}`;
}

function parseParkedMember(member: string): ParkedJob {
  const [queue, jobId, deliveryId] = member.split("|");
  return { queue: queue!, jobId: jobId!, deliveryId: deliveryId! };
}
