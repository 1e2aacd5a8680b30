import type { RedisConnection } from "./redis.js";
import { deliveryStatuses, type Attempt, type Delivery, type DeliveryStatus } from "../policy/domain.js";
import type { EventType } from "@hookbus/schemas";
import { NotFoundError } from "../policy/errors.js";
import { idLowerBound } from "../policy/ids.js";
import { projectOf } from "../policy/project-scope.js";
import type { Keys } from "./keys.js";
import { perPartition, rangeOfEvery, type LexRange } from "./partitioned.js";

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
  /**
   * Only this project's. There is no index by project: a project's deliveries are picked out
   * of the index the other fields choose, which is slow only for a small project among many.
   */
  projectId?: string;
  status?: DeliveryStatus;
  subscriptionId?: string;
  eventType?: EventType;
  /** Created at or after (ms). */
  since?: number;
  /** Created before (ms). */
  until?: number;
}

/** One batch of a scan: the matching deliveries, and the last id read (the cursor to resume after). */
export interface ScannedBatch {
  items: Delivery[];
  last: string;
}

export interface DeliveryPage {
  items: Delivery[];
  nextCursor?: string;
}

/**
 * Reading the delivery log: one delivery with its attempts, an event's deliveries, filtered
 * listings and scans, a subscription's counts. Index members are delivery ids, whose sortable
 * part is their creation time: a lexicographic range is a time range, and a cursor is an id.
 * (The writes are DeliveryLog's, built on this.)
 */
export class DeliveryQueries {
  constructor(
    protected readonly redis: RedisConnection,
    protected readonly keys: Keys,
  ) {}

  async stats(subscriptionId: string): Promise<SubscriptionStats> {
    const [outcomes, ...counts] = await Promise.all([
      this.redis.hgetall(this.keys.subscriptionOutcomes(subscriptionId)),
      ...this.keys.partitions().map((partition) => {
        const bySubscription = this.keys.deliveriesBySubscription(subscriptionId, partition);
        const pipeline = this.redis.pipeline();
        for (const status of deliveryStatuses)
          pipeline.call("ZINTERCARD", 2, bySubscription, this.keys.deliveriesByStatus(status, partition));
        return execPipeline<number>(pipeline);
      }),
    ]);
    const byStatus = (i: number) => counts.reduce((sum, partition) => sum + Number(partition[i]), 0);
    const [pending, retrying, delivered, failed] = deliveryStatuses.map((_, i) => byStatus(i)) as [number, number, number, number];
    return {
      pending,
      retrying,
      delivered,
      failed,
      lastSuccessAt: outcomes.lastSuccessAt ? Number(outcomes.lastSuccessAt) : undefined,
      lastFailureAt: outcomes.lastFailureAt ? Number(outcomes.lastFailureAt) : undefined,
    };
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
    const hashes = await perPartition(ids, (own) => {
      const pipeline = this.redis.pipeline();
      for (const id of own) pipeline.hgetall(this.keys.delivery(id));
      return execPipeline<Record<string, string>>(pipeline);
    });
    return hashes.flatMap((hash) => (hash.id ? [toDelivery(hash)] : []));
  }

  /**
   * Newest first. Reads the most selective index (of every partition, merged) and filters the
   * rest while scanning, so a page costs O(limit) reads per partition when one filter is given.
   * The cursor is the last id returned: ids only grow, so items written while paging never
   * shift a page, and none is skipped or repeated.
   */
  async list(filter: DeliveryFilter, limit: number, cursor?: string): Promise<DeliveryPage> {
    const lowest = filter.since !== undefined ? `[${idLowerBound("dlv", filter.since)}` : "-";
    let highest = filter.until !== undefined ? `(${idLowerBound("dlv", filter.until)}` : "+";
    if (cursor && (highest === "+" || cursor < highest.slice(1))) highest = `(${cursor}`;
    const items: Delivery[] = [];
    const batch = Math.max(limit, 100);
    for (;;) {
      const ids = await this.range(filter, { low: lowest, high: highest, reverse: true }, batch);
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
    let lowest = after ? `(${after}` : filter.since !== undefined ? `[${idLowerBound("dlv", filter.since)}` : "-";
    const highest = filter.until !== undefined ? `(${idLowerBound("dlv", filter.until)}` : "+";
    for (;;) {
      const ids = await this.range(filter, { low: lowest, high: highest, reverse: false }, batch);
      if (ids.length === 0) return;
      const deliveries = await this.getMany(ids);
      const last = ids[ids.length - 1]!;
      yield { items: deliveries.filter((d) => matches(d, filter)), last };
      if (ids.length < batch) return;
      lowest = `(${last}`;
    }
  }

  /** The first ids of a range of the most selective index for the filter, across every partition. */
  private range(filter: DeliveryFilter, range: LexRange, limit: number): Promise<string[]> {
    return rangeOfEvery(this.redis, this.keys.partitions(), (partition) => this.chooseIndex(filter, partition), range, limit);
  }

  private chooseIndex(filter: DeliveryFilter, partition: number): string {
    if (filter.subscriptionId) return this.keys.deliveriesBySubscription(filter.subscriptionId, partition);
    if (filter.status) return this.keys.deliveriesByStatus(filter.status, partition);
    if (filter.eventType) return this.keys.deliveriesByType(filter.eventType, partition);
    return this.keys.deliveriesAll(partition);
  }

  /** How long each delivery's record has left before it expires, ms (negative: gone). */
  async timeToLive(ids: string[]): Promise<number[]> {
    if (ids.length === 0) return [];
    return perPartition(ids, (own) => {
      const pipeline = this.redis.pipeline();
      for (const id of own) pipeline.pttl(this.keys.delivery(id));
      return execPipeline<number>(pipeline);
    });
  }

  /** One partition's pending or retrying deliveries due to be checked for a job by `now`, oldest first. */
  async overdueForWatch(partition: number, now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.deliveriesToWatch(partition), "-inf", now, "LIMIT", 0, limit);
  }
}

function matches(delivery: Delivery, filter: DeliveryFilter): boolean {
  return (
    (!filter.projectId || projectOf(delivery) === filter.projectId) &&
    (!filter.status || delivery.status === filter.status) &&
    (!filter.subscriptionId || delivery.subscriptionId === filter.subscriptionId) &&
    (!filter.eventType || delivery.eventType === filter.eventType)
  );
}

export function toDelivery(hash: Record<string, string>): Delivery {
  const optionalNumber = (value: string | undefined) => (value ? Number(value) : undefined);
  return {
    id: hash.id!,
    projectId: hash.projectId || undefined,
    eventId: hash.eventId!,
    subscriptionId: hash.subscriptionId!,
    eventType: hash.eventType as EventType,
    status: hash.status as DeliveryStatus,
    createdAt: Number(hash.createdAt),
    attemptCount: Number(hash.attemptCount ?? 0),
    nextAttemptAt: optionalNumber(hash.nextAttemptAt),
    lastAttemptAt: optionalNumber(hash.lastAttemptAt),
    replays: Number(hash.replays ?? 0),
    failureReason: hash.failureReason,
    replayId: hash.replayId || undefined,
    replayRatePerSecond: optionalNumber(hash.replayRatePerSecond),
    runStartedAtAttempt: Number(hash.runStartedAtAttempt ?? 0),
    orderingKey: hash.orderingKey,
  };
}

/** Runs a pipeline and throws the first command error instead of returning it. */
export async function execPipeline<T>(pipeline: ReturnType<RedisConnection["pipeline"]>): Promise<T[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, value]) => {
    if (error) throw error;
    return value as T;
  });
}
