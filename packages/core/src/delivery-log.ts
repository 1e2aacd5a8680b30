import type { Redis } from "ioredis";
import { eventTypes, type EventType } from "@hookbus/schemas";
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
//       '1' to count the claim in the bulk replay
// Returns the replay's number (1, 2, …), or 0 when the delivery was not in that status.
const CLAIM_FOR_REPLAY = `
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'status', 'pending', 'runStartedAtAttempt', redis.call('HGET', KEYS[1], 'attemptCount'))
redis.call('HDEL', KEYS[1], 'nextAttemptAt')
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
if ARGV[6] == '1' then redis.call('HINCRBY', KEYS[6], 'claimed', 1) end
return redis.call('HINCRBY', KEYS[1], 'replays', 1)
`;

/** Counts of one subscription's deliveries by status, and when it last succeeded and failed. */
export interface SubscriptionStats {
  pending: number;
  retrying: number;
  delivered: number;
  failed: number;
  lastSuccessAt?: number;
  lastFailureAt?: number;
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  subscriptionId?: string;
  eventType?: EventType;
  /** Created at or after (ms). */
  since?: number;
  /** Created before (ms). */
  until?: number;
}

/** Enough of a delivery to change its status. */
export type DeliveryRef = Pick<Delivery, "id" | "subscriptionId" | "eventId">;

/** One batch of a scan: the matching deliveries, and the last id read (the cursor to resume after). */
export interface ScannedBatch {
  items: Delivery[];
  last: string;
}

export interface DeliveryPage {
  items: Delivery[];
  nextCursor?: string;
}

/** The result of routing one subscription: its delivery and whether it still needs a job. */
export interface RoutedDelivery {
  deliveryId: string;
  subscription: Subscription;
  /** True when nothing has been attempted yet, so a first delivery job must exist. */
  needsJob: boolean;
}

/**
 * One record per (event, subscription) with its status and attempts, indexed by status,
 * subscription, event type and time. Index members are delivery ids, whose sortable part
 * is their creation time: a lexicographic range is a time range, and a cursor is an id.
 */
export class DeliveryLog {
  private readonly createDelivery;
  private readonly setStatus;
  private readonly claim;

  /**
   * @param watchGraceMs how long past its due time a delivery may go unattempted before the
   *   reconciler makes sure it still has a job
   */
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly retentionMs: number,
    private readonly watchGraceMs: number,
  ) {
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
      [delivery.id, delivery.status, replayClaimNote(delivery.id, replayId), now, now + this.watchGraceMs, replayId ? "1" : ""],
    );
  }

  /** Pending or retrying deliveries due to be checked for a job by `now`, oldest first. */
  async overdueForWatch(now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.deliveriesToWatch(), "-inf", now, "LIMIT", 0, limit);
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

  async stats(subscriptionId: string): Promise<SubscriptionStats> {
    const bySubscription = this.keys.deliveriesBySubscription(subscriptionId);
    const pipeline = this.redis.pipeline();
    for (const status of deliveryStatuses) pipeline.call("ZINTERCARD", 2, bySubscription, this.keys.deliveriesByStatus(status));
    pipeline.hgetall(this.keys.subscriptionOutcomes(subscriptionId));
    const results = await execPipeline<unknown>(pipeline);
    const outcomes = results[deliveryStatuses.length] as Record<string, string>;
    const [pending, retrying, delivered, failed] = results.slice(0, deliveryStatuses.length).map(Number) as [number, number, number, number];
    return {
      pending,
      retrying,
      delivered,
      failed,
      lastSuccessAt: outcomes.lastSuccessAt ? Number(outcomes.lastSuccessAt) : undefined,
      lastFailureAt: outcomes.lastFailureAt ? Number(outcomes.lastFailureAt) : undefined,
    };
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

  async get(id: string): Promise<Delivery> {
    const [delivery] = await this.getMany([id]);
    if (!delivery) throw new NotFoundError("delivery", id);
    return delivery;
  }

  async attempts(id: string): Promise<Attempt[]> {
    return (await this.redis.lrange(this.keys.attempts(id), 0, -1)).map((raw) => JSON.parse(raw) as Attempt);
  }

  /** Deliveries of one event, by subscription. */
  async forEvent(eventId: string): Promise<Delivery[]> {
    const bySubscription = await this.redis.hgetall(this.keys.eventDeliveries(eventId));
    return this.getMany(Object.values(bySubscription));
  }

  async getMany(ids: string[]): Promise<Delivery[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.delivery(id));
    const hashes = await execPipeline<Record<string, string>>(pipeline);
    return hashes.flatMap((hash) => (hash.id ? [toDelivery(hash)] : []));
  }

  /**
   * Newest first. Reads the most selective index and filters the rest while scanning, so a
   * page costs O(limit) reads when one filter is given. The cursor is the last id returned:
   * ids only grow, so items written while paging never shift a page, and none is skipped or
   * repeated.
   */
  async list(filter: DeliveryFilter, limit: number, cursor?: string): Promise<DeliveryPage> {
    const index = this.chooseIndex(filter);
    const lowest = filter.since !== undefined ? `[${idLowerBound("dlv", filter.since)}` : "-";
    let highest = filter.until !== undefined ? `(${idLowerBound("dlv", filter.until)}` : "+";
    if (cursor && (highest === "+" || cursor < highest.slice(1))) highest = `(${cursor}`;
    const items: Delivery[] = [];
    const batch = Math.max(limit, 100);
    for (;;) {
      const ids = await this.redis.zrange(index, highest, lowest, "BYLEX", "REV", "LIMIT", 0, batch);
      if (ids.length === 0) return { items };
      for (const delivery of await this.getMany(ids)) {
        if (!matches(delivery, filter)) continue;
        items.push(delivery);
        if (items.length === limit) return { items, nextCursor: delivery.id };
      }
      if (ids.length < batch) return { items };
      highest = `(${ids[ids.length - 1]}`;
    }
  }

  /**
   * Every delivery matching a filter, oldest first, a batch at a time, with the id the next
   * batch starts after: a bulk replay keeps it as its cursor and resumes from it.
   */
  async *scan(filter: DeliveryFilter, batch = 500, after?: string): AsyncGenerator<ScannedBatch> {
    const index = this.chooseIndex(filter);
    let lowest = after ? `(${after}` : filter.since !== undefined ? `[${idLowerBound("dlv", filter.since)}` : "-";
    const highest = filter.until !== undefined ? `(${idLowerBound("dlv", filter.until)}` : "+";
    for (;;) {
      const ids = await this.redis.zrange(index, lowest, highest, "BYLEX", "LIMIT", 0, batch);
      if (ids.length === 0) return;
      const deliveries = await this.getMany(ids);
      const last = ids[ids.length - 1]!;
      yield { items: deliveries.filter((d) => matches(d, filter)), last };
      if (ids.length < batch) return;
      lowest = `(${last}`;
    }
  }

  private chooseIndex(filter: DeliveryFilter): string {
    if (filter.subscriptionId) return this.keys.deliveriesBySubscription(filter.subscriptionId);
    if (filter.status) return this.keys.deliveriesByStatus(filter.status);
    if (filter.eventType) return this.keys.deliveriesByType(filter.eventType);
    return this.keys.deliveriesAll();
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

function matches(delivery: Delivery, filter: DeliveryFilter): boolean {
  return (
    (!filter.status || delivery.status === filter.status) &&
    (!filter.subscriptionId || delivery.subscriptionId === filter.subscriptionId) &&
    (!filter.eventType || delivery.eventType === filter.eventType)
  );
}

export function toDelivery(hash: Record<string, string>): Delivery {
  const optionalNumber = (value: string | undefined) => (value ? Number(value) : undefined);
  return {
    id: hash.id!,
    eventId: hash.eventId!,
    subscriptionId: hash.subscriptionId!,
    eventType: hash.eventType as EventType,
    status: hash.status as DeliveryStatus,
    createdAt: Number(hash.createdAt),
    attemptCount: Number(hash.attemptCount ?? 0),
    nextAttemptAt: optionalNumber(hash.nextAttemptAt),
    lastAttemptAt: optionalNumber(hash.lastAttemptAt),
    replays: Number(hash.replays ?? 0),
    runStartedAtAttempt: Number(hash.runStartedAtAttempt ?? 0),
  };
}

/** Runs a pipeline and throws the first command error instead of returning it. */
export async function execPipeline<T>(pipeline: ReturnType<Redis["pipeline"]>): Promise<T[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, value]) => {
    if (error) throw error;
    return value as T;
  });
}
