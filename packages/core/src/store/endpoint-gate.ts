import type { RedisConnection } from "./redis.js";
import { DEFAULT_MAX_IN_FLIGHT, type circuitStates } from "@hookbus/schemas";
import type { Subscription } from "../policy/domain.js";
import type { Keys } from "./keys.js";
import { defineScript, readLua } from "./redis.js";

/**
 * How long an attempt's slot is held past the subscription's timeout: room for recording the
 * attempt. A worker that dies mid-attempt frees its slot when the lease runs out.
 */
export const LEASE_MARGIN_MS = 5_000;

const SEND_RATE = readLua(import.meta.url, "send-rate.lua");
const GATE = `${SEND_RATE}\n${readLua(import.meta.url, "endpoint-gate.lua")}`;
const REPLAY_RATE = `${SEND_RATE}\n${readLua(import.meta.url, "replay-rate.lua")}`;

/** A job waiting at the gate, as it is parked: enough to wake it and to lease it a slot. */
export interface ParkedJob {
  queue: string;
  jobId: string;
  deliveryId: string;
}

/** What the gate says to one attempt. */
export type GateVerdict =
  | { go: true }
  /** Wait until `until` (ms) without spending an attempt: why is for logs and metrics. */
  | { go: false; why: "circuit_open" | "at_capacity" | "rate_limited"; until: number; handedOff: ParkedJob[] }
  /** An attempt of this delivery holds a slot here now; its lease ends at `until`. */
  | { go: false; why: "attempt_running"; until: number; handedOff: ParkedJob[] };

export type AttemptOutcomeForCircuit = "ok" | "fail" | "none";

export interface ReleaseResult {
  /** When the endpoint's current run of failures began; undefined while it is healthy. */
  failingSince?: number;
  consecutiveFailures: number;
  /** Jobs given the slots this release freed: the caller wakes them. */
  handedOff: ParkedJob[];
  /** The caller's own waiting deliveries (see `leave`) whose turn came: given their slot already. */
  givenToCaller: string[];
  /**
   * True when, after this release, no delivery is parked at the endpoint, its circuit is closed
   * and it is within its cap: the caller may pass its next slots on at the attempt's answer
   * (see `leave`).
   */
  mayPassOn: boolean;
}

/** How a release came about, beside the attempt's outcome (see `EndpointGate.leave`). */
export interface ReleaseOptions {
  now?: number;
  /** When the attempt was made: the endpoint's last success or failure. */
  attemptAt?: number;
  /** Deliveries of the caller's process waiting here for a slot, longest waiting first. */
  waitingHere?: WaitingDelivery[];
  /** The delivery of the caller's process the slot was passed on to at the attempt's answer. */
  passedTo?: string;
}

export type CircuitState = (typeof circuitStates)[number];

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

const VERDICTS = { open: "circuit_open", parked: "at_capacity", rate: "rate_limited", busy: "attempt_running" } as const;

/** A delivery of the caller's process waiting for a slot: parked at the gate, or behind the process's own attempts without asking (see `leave`). */
export interface WaitingDelivery {
  deliveryId: string;
  parked: boolean;
}

/**
 * Endpoint isolation, kept in Redis so that every worker process shares it: a cap on attempts
 * in flight per subscription, an optional rate limit, and a circuit breaker. A delivery that
 * may not go now is told when to look again; it waits as a delayed job, holding no worker and
 * spending no attempt, so a slow or failing endpoint only ever slows its own deliveries.
 * Whether the delivery is still to be attempted is for its AttemptClaims to say, once the
 * gate has let it through: the gate's keys are the endpoint's alone.
 */
export class EndpointGate {
  private readonly gate;
  private readonly replayRate;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
    private readonly circuit: CircuitSettings,
  ) {
    this.gate = defineScript<(string | number)[]>(redis, "hookbusEndpointGate", "variable", GATE);
    this.replayRate = defineScript<number>(redis, "hookbusReplayRate", 2, REPLAY_RATE);
  }

  /**
   * Asks for a slot for one attempt of `job`'s delivery at its subscription's endpoint;
   * `replay` is the capped bulk replay the delivery belongs to, whose rate holds at the
   * receiver too.
   */
  async enter(
    subscription: Subscription,
    job: ParkedJob,
    replay?: { id: string; ratePerSecond: number },
    now = Date.now(),
  ): Promise<GateVerdict> {
    const [verdict, until, ...handed] = await this.gate.run(
      [...this.slotKeys(subscription.id), this.keys.endpointRate(subscription.id), this.keys.endpointRateReserved(subscription.id)],
      [
        "acquire",
        job.deliveryId,
        parkedMember(job),
        now,
        attemptLeaseMs(subscription),
        maxInFlight(subscription),
        intervalMs(subscription.ratePerSecond),
      ],
    );
    if (verdict === "go") return replay ? this.withinReplayRate(subscription, job, replay) : { go: true };
    const handedOff = (handed as string[]).map(parseParkedMember);
    return { go: false, why: VERDICTS[verdict as keyof typeof VERDICTS], until: Number(until), handedOff };
  }

  /**
   * A capped bulk replay's rate, once the gate let the delivery through: its limiter is shared
   * by endpoints whose gates are in other slots, so it is asked apart, just before the send. A
   * delivery that must wait for it gives its slot back.
   */
  private async withinReplayRate(
    subscription: Subscription,
    job: ParkedJob,
    replay: { id: string; ratePerSecond: number },
  ): Promise<GateVerdict> {
    const keys = [this.keys.replayRate(replay.id), this.keys.replayRateReserved(replay.id)];
    const now = Date.now();
    const sendAt = await this.replayRate.run(keys, [job.deliveryId, now, intervalMs(replay.ratePerSecond)]);
    if (sendAt <= 0) return { go: true };
    const { handedOff } = await this.leave(subscription, job.deliveryId, "none");
    return { go: false, why: "rate_limited", until: sendAt, handedOff };
  }

  /**
   * Frees the delivery's slot and feeds the outcome of the attempt made at `attemptAt` to the
   * circuit and to the endpoint's last success or failure. `waitingHere` names deliveries of
   * the caller's process waiting for a slot at this endpoint: one whose turn comes gets its
   * slot in the same step (a round trip saved), unless the endpoint has a rate limit, which
   * only `enter` keeps. One not parked (it waited behind its process's own attempts, which
   * held every slot, without asking) gets a slot only once no parked delivery of any process
   * is left.
   *
   * `passedTo`: the caller already passed the slot on, at the attempt's answer, to a delivery
   * of its own that waited for one (which it may do only while the last release said
   * `mayPassOn`): that delivery takes this one's place among the attempts in flight. The next
   * attempt then goes without waiting for this release's round trip.
   */
  async leave(
    subscription: Subscription,
    deliveryId: string,
    outcome: AttemptOutcomeForCircuit,
    { now = Date.now(), attemptAt = now, waitingHere = [], passedTo = "" }: ReleaseOptions = {},
  ): Promise<ReleaseResult> {
    const named = subscription.ratePerSecond ? [] : waitingHere;
    const [failingSince, , failures, mayPassOn, handedCount, ...members] = await this.gate.run(
      [
        ...this.slotKeys(subscription.id),
        this.keys.subscriptionOutcomes(subscription.id),
        this.keys.endpointReleasedEarly(subscription.id),
      ],
      [
        "release",
        deliveryId,
        now,
        maxInFlight(subscription),
        attemptLeaseMs(subscription),
        outcome,
        this.circuit.failuresToOpen,
        this.circuit.cooldownMs,
        this.circuit.longestCooldownMs,
        attemptAt,
        passedTo,
        ...named.flatMap(({ deliveryId, parked }) => [deliveryId, parked ? "1" : "0"]),
      ],
    );
    const handed = members as string[];
    return {
      failingSince: Number(failingSince) || undefined,
      consecutiveFailures: Number(failures),
      handedOff: handed.slice(0, Number(handedCount)).map(parseParkedMember),
      givenToCaller: handed.slice(Number(handedCount)),
      mayPassOn: Number(mayPassOn) === 1,
    };
  }

  /** True when the delivery was handed a slot: a parked job handed one while it was still going to sleep. */
  async holdsSlot(subscriptionId: string, deliveryId: string): Promise<boolean> {
    return (await this.redis.zscore(this.keys.endpointHanded(subscriptionId), deliveryId)) !== null;
  }

  async health(subscriptionId: string, now = Date.now()): Promise<EndpointHealth> {
    const [failures, openUntil, failingSince] = await this.redis.hmget(
      this.keys.endpointHealth(subscriptionId),
      "failures",
      "openUntil",
      "failingSince",
    );
    return toHealth(failures, openUntil, failingSince, now);
  }

  /** Health of several endpoints, read at once (each gate may be in a slot of its own). */
  async healthOfMany(subscriptionIds: string[], now = Date.now()): Promise<Map<string, EndpointHealth>> {
    const all = await Promise.all(subscriptionIds.map((id) => this.health(id, now)));
    return new Map(subscriptionIds.map((id, i) => [id, all[i]!]));
  }

  /** The keys of an endpoint's slots and circuit, in the order the gate script takes them. */
  private slotKeys(subscriptionId: string): string[] {
    return [
      this.keys.endpointInFlight(subscriptionId),
      this.keys.endpointParked(subscriptionId),
      this.keys.endpointHealth(subscriptionId),
      this.keys.endpointHanded(subscriptionId),
    ];
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

/** How long an attempt holds its slot and claim at most: a worker that dies mid-attempt frees them when it runs out. */
export function attemptLeaseMs(subscription: Pick<Subscription, "timeoutMs">): number {
  return subscription.timeoutMs + LEASE_MARGIN_MS;
}

function toHealth(
  failures: string | null | undefined,
  openUntil: string | null | undefined,
  failingSince: string | null | undefined,
  now: number,
): EndpointHealth {
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
