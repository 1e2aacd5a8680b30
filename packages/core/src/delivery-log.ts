import type { Redis } from "ioredis";
import { eventTypes } from "@hookbus/schemas";
import { DeliveryQueries, execPipeline } from "./delivery-queries.js";
import { deliveryStatuses, type Attempt, type Delivery, type DeliveryStatus, type EventRecord, type Subscription } from "./domain.js";
import { NotFoundError } from "./errors.js";
import { idLowerBound, newId } from "./ids.js";
import type { Keys } from "./keys.js";
import { defineScript } from "./redis.js";

/** Attempts kept per delivery; older ones are dropped first. */
export const MAX_ATTEMPTS_KEPT = 100;

// Creates the delivery of one (event, subscription) pair unless it exists: a route job that
// runs twice finds the first one's delivery and creates nothing. The delivery is watched from
// the start, so that one whose job never comes is found by the reconciler.
// KEYS: eventDeliveries, delivery, index all, index pending, index subscription, index type, watch
// ARGV: subscriptionId, deliveryId, eventId, eventType, createdAt, retentionMs, check job at
const CREATE_DELIVERY = `
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return {existing, 0} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'eventId', ARGV[3], 'subscriptionId', ARGV[1],
  'eventType', ARGV[4], 'status', 'pending', 'createdAt', ARGV[5], 'attemptCount', 0)
redis.call('PEXPIRE', KEYS[2], ARGV[6])
for i = 3, 6 do redis.call('ZADD', KEYS[i], 0, ARGV[2]) end
redis.call('ZADD', KEYS[7], ARGV[7], ARGV[2])
return {ARGV[2], 1}
`;

// Moves a delivery to a new status, keeping the status and watch indexes in step, appends an
// attempt when one is given, and extends the time to live of the delivery, its attempts and
// its event to a full retention window from now (a delivery retried for days outlives the
// window it was created in). A finished delivery (delivered or failed) only moves to delivered:
// a stale duplicate attempt cannot turn it back into retrying; its attempt is still logged.
// Returns the attempt count, or -1 if the delivery has expired.
// KEYS: delivery, attempts, index pending, retrying, delivered, failed, subscription's last-outcome
//       hash, watch, event, event's deliveries
// ARGV: deliveryId, status, nextAttemptAt ('' for none), attempt JSON ('' for none), attempt time,
//       max attempts kept, retention ms, check job at
const SET_STATUS = `
local old = redis.call('HGET', KEYS[1], 'status')
if not old then return -1 end
local statuses = {pending = 3, retrying = 4, delivered = 5, failed = 6}
local count = tonumber(redis.call('HGET', KEYS[1], 'attemptCount'))
local retention = tonumber(ARGV[7])
if ARGV[4] ~= '' then
  redis.call('RPUSH', KEYS[2], ARGV[4])
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
  count = redis.call('HINCRBY', KEYS[1], 'attemptCount', 1)
  redis.call('HSET', KEYS[1], 'lastAttemptAt', ARGV[5])
  redis.call('HSET', KEYS[7], ARGV[2] == 'delivered' and 'lastSuccessAt' or 'lastFailureAt', ARGV[5])
end
for _, key in ipairs({KEYS[1], KEYS[2], KEYS[9], KEYS[10]}) do
  if redis.call('PTTL', key) < retention then redis.call('PEXPIRE', key, retention) end
end
local finished = old == 'delivered' or old == 'failed'
if finished and ARGV[2] ~= 'delivered' then return count end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'nextAttemptAt', ARGV[3])
else redis.call('HDEL', KEYS[1], 'nextAttemptAt') end
if old ~= ARGV[2] then
  redis.call('ZREM', KEYS[statuses[old]], ARGV[1])
  redis.call('ZADD', KEYS[statuses[ARGV[2]]], 0, ARGV[1])
end
if ARGV[2] == 'pending' or ARGV[2] == 'retrying' then redis.call('ZADD', KEYS[8], ARGV[8], ARGV[1])
else redis.call('ZREM', KEYS[8], ARGV[1]) end
return count
`;

// Moves a delivery from the status its replayer saw back to pending, only if it is still
// there: two replays racing over the same deliveries claim each one once. The replay starts a
// new run of the retry schedule from the current attempt count, and the delivery is watched
// again. A bulk replay counts its claims in the same step, so a replay job that runs again
// counts nothing twice. The claim is noted as not yet enqueued until its job exists, so a
// replayer that dies in between loses nothing.
// KEYS: delivery, index pending, index of the expected status, claims not yet enqueued, watch,
//       the bulk replay (unused for a single replay)
// ARGV: deliveryId, expected status, the claim's note (deliveryId|replayId), now, check job at,
//       '1' to count the claim in the bulk replay, the bulk replay's id
// Returns the replay's number (1, 2, …), or 0 when the delivery was not in that status.
const CLAIM_FOR_REPLAY = `
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'status', 'pending', 'runStartedAtAttempt', redis.call('HGET', KEYS[1], 'attemptCount'))
redis.call('HDEL', KEYS[1], 'nextAttemptAt')
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
if ARGV[6] == '1' then
  redis.call('HINCRBY', KEYS[6], 'claimed', 1)
  redis.call('HSET', KEYS[1], 'replayId', ARGV[7])
else
  redis.call('HDEL', KEYS[1], 'replayId')
end
return redis.call('HINCRBY', KEYS[1], 'replays', 1)
`;

/** Enough of a delivery to change its status. */
export type DeliveryRef = Pick<Delivery, "id" | "subscriptionId" | "eventId">;

/** The result of routing one subscription: its delivery and whether it still needs a job. */
export interface RoutedDelivery {
  deliveryId: string;
  subscription: Subscription;
  /** True when nothing has been attempted yet, so a first delivery job must exist. */
  needsJob: boolean;
}

/**
 * One record per (event, subscription) with its status and attempts, indexed by status,
 * subscription, event type and time, and watched while unfinished. This class holds the
 * writes, each one script so that a record and its indexes never disagree; the reads are
 * DeliveryQueries'.
 */
export class DeliveryLog extends DeliveryQueries {
  private readonly createDelivery;
  private readonly setStatus;
  private readonly claim;

  /**
   * @param watchGraceMs how long past its due time a delivery may go unattempted before the
   *   reconciler makes sure it still has a job
   */
  constructor(
    redis: Redis,
    keys: Keys,
    private readonly retentionMs: number,
    private readonly watchGraceMs: number,
  ) {
    super(redis, keys);
    this.createDelivery = defineScript<[string, number]>(redis, "hookbusCreateDelivery", 7, CREATE_DELIVERY);
    this.setStatus = defineScript<number>(redis, "hookbusSetDeliveryStatus", 10, SET_STATUS);
    this.claim = defineScript<number>(redis, "hookbusClaimForReplay", 6, CLAIM_FOR_REPLAY);
  }

  /** The deliveries of an event to these subscriptions, made once however often it is asked. */
  async route(event: EventRecord, subscriptions: Subscription[], now = Date.now()): Promise<RoutedDelivery[]> {
    if (subscriptions.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const subscription of subscriptions) {
      const deliveryId = newId("dlv", now);
      this.createDelivery.queue(
        pipeline,
        [
          this.keys.eventDeliveries(event.id),
          this.keys.delivery(deliveryId),
          this.keys.deliveriesAll(),
          this.keys.deliveriesByStatus("pending"),
          this.keys.deliveriesBySubscription(subscription.id),
          this.keys.deliveriesByType(event.type),
          this.keys.deliveriesToWatch(),
        ],
        [subscription.id, deliveryId, event.id, event.type, now, this.retentionMs, now + this.watchGraceMs],
      );
    }
    const results = await execPipeline<[string, number]>(pipeline);
    const existing = results.flatMap(([id, created]) => (created === 1 ? [] : [id]));
    const states = new Map((await this.getMany(existing)).map((d) => [d.id, d]));
    return results.map(([deliveryId, created], i) => {
      const state = states.get(deliveryId);
      const untouched = state !== undefined && state.status === "pending" && state.attemptCount === 0;
      return { deliveryId, subscription: subscriptions[i]!, needsJob: created === 1 || untouched };
    });
  }

  /** Records one attempt and the status it leads to. */
  async recordAttempt(delivery: DeliveryRef, attempt: Attempt, status: DeliveryStatus, nextAttemptAt?: number): Promise<number> {
    return this.changeStatus(delivery, status, nextAttemptAt, attempt);
  }

  /** Sets the status alone, with no attempt. */
  async markStatus(delivery: DeliveryRef, status: DeliveryStatus): Promise<void> {
    await this.changeStatus(delivery, status);
  }

  /**
   * Claims a delivery for a replay if it is still in the status the replayer saw. Returns
   * the replay's number, or 0 when another replay (or an attempt) got there first. A bulk
   * replay's claim is counted in it; the claim stays noted until the replayer reports its job
   * enqueued.
   */
  async claimForReplay(delivery: Delivery, replayId?: string, now = Date.now()): Promise<number> {
    return this.claim.run(
      [
        this.keys.delivery(delivery.id),
        this.keys.deliveriesByStatus("pending"),
        this.keys.deliveriesByStatus(delivery.status),
        this.keys.replayClaimsNotEnqueued(),
        this.keys.deliveriesToWatch(),
        this.keys.replay(replayId ?? "-"),
      ],
      [delivery.id, delivery.status, replayClaimNote(delivery.id, replayId), now, now + this.watchGraceMs, replayId ? "1" : "", replayId ?? ""],
    );
  }

  /** Checks these deliveries again at `at`, unless they finish first. */
  async watchAgain(ids: string[], at: number): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.zadd(this.keys.deliveriesToWatch(), "XX", ...ids.flatMap((id) => [at, id]));
  }

  /** Stops watching deliveries that have expired or finished. */
  async unwatch(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.redis.zrem(this.keys.deliveriesToWatch(), ...ids);
  }

  /**
   * Drops index entries older than the retention window: the records themselves expire in
   * Redis, and ids sort by time, so everything below one bound goes in one command per index.
   */
  async sweepExpired(subscriptionIds: string[], now = Date.now()): Promise<number> {
    const bound = `(${idLowerBound("dlv", now - this.retentionMs)}`;
    const indexes = [
      this.keys.deliveriesAll(),
      ...deliveryStatuses.map((s) => this.keys.deliveriesByStatus(s)),
      ...eventTypes.map((t) => this.keys.deliveriesByType(t)),
      ...subscriptionIds.map((id) => this.keys.deliveriesBySubscription(id)),
    ];
    const pipeline = this.redis.pipeline();
    for (const index of indexes) pipeline.zremrangebylex(index, "-", bound);
    return (await execPipeline<number>(pipeline)).reduce((a, b) => a + b, 0);
  }

  private async changeStatus(delivery: DeliveryRef, status: DeliveryStatus, nextAttemptAt?: number, attempt?: Attempt, now = Date.now()): Promise<number> {
    const deliveryId = delivery.id;
    const count = await this.setStatus.run(
      [
        this.keys.delivery(deliveryId),
        this.keys.attempts(deliveryId),
        ...deliveryStatuses.map((s) => this.keys.deliveriesByStatus(s)),
        this.keys.subscriptionOutcomes(delivery.subscriptionId),
        this.keys.deliveriesToWatch(),
        this.keys.event(delivery.eventId),
        this.keys.eventDeliveries(delivery.eventId),
      ],
      [
        deliveryId,
        status,
        nextAttemptAt ?? "",
        attempt ? JSON.stringify(attempt) : "",
        attempt?.at ?? "",
        MAX_ATTEMPTS_KEPT,
        this.retentionMs,
        (nextAttemptAt ?? now) + this.watchGraceMs,
      ],
    );
    if (count < 0) throw new NotFoundError("delivery", deliveryId);
    return count;
  }
}

/** How a replay claim is noted until its job is enqueued: the delivery, and the bulk replay it belongs to. */
export function replayClaimNote(deliveryId: string, replayId?: string): string {
  return `${deliveryId}|${replayId ?? ""}`;
}

export function parseReplayClaimNote(note: string): { deliveryId: string; replayId?: string } {
  const [deliveryId, replayId] = note.split("|");
  return { deliveryId: deliveryId!, replayId: replayId || undefined };
}

