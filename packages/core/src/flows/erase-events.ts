import type { RedisConnection } from "../store/redis.js";
import type { ErasureField } from "@hookbus/schemas";
import { deliveryStatuses, type EventRecord } from "../policy/domain.js";
import { projectOf } from "../policy/project-scope.js";
import { participantValues } from "../policy/participant-values.js";
import { scopedIdempotencyKey } from "../store/event-store.js";
import type { Keys } from "../store/keys.js";
import type { ParticipantIndex } from "../store/participant-index.js";
import { laneMember, parseLaneMember, type LaneMember } from "../store/lanes.js";
import { defineScript, readLua, scanEveryNode } from "../store/redis.js";
import { eachPartition, perPartition } from "../store/partitioned.js";
import { partitionOfId } from "../policy/ids.js";
import { partitionOfKey } from "../policy/partitions.js";

const ERASE_DELIVERY = readLua(import.meta.url, "erase-delivery.lua");

/** Which events an erasure takes: those whose `field` is `value`, in one of `projectIds`. */
export interface ErasureTarget {
  field: ErasureField;
  value: string;
  projectIds: Set<string>;
}

/** What one batch erased. */
export interface ErasedCounts {
  events: number;
  deliveries: number;
  attempts: number;
  /** Attempts that were in flight when their delivery was erased: the delivery, and when the attempt's claim lapses at the latest. */
  inFlight: { deliveryId: string; leaseEnd: number }[];
  /** Deliveries whose turn in their lane came when the one before them was erased: to wake. */
  nextInLanes: LaneMember[];
}

/** How many keys one SCAN call looks at. */
const SCAN_COUNT = 1000;

/**
 * Erases events and everything kept of them: the event, its deliveries' attempts (response
 * bodies among them; a delivery itself stays, as `erased`), its idempotency record, its entries
 * in the participant index. Only events that carry
 * the target's value are erased, whatever led to them (a keyed hash's collision, a scan).
 */
export class EventEraser {
  private readonly eraseDelivery;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
    private readonly participants: ParticipantIndex,
  ) {
    this.eraseDelivery = defineScript<[number, number, string]>(redis, "hookbusEraseDelivery", 9, ERASE_DELIVERY);
  }

  async erase(eventIds: string[], target: ErasureTarget, now = Date.now()): Promise<ErasedCounts> {
    const counts: ErasedCounts = { events: 0, deliveries: 0, attempts: 0, inFlight: [], nextInLanes: [] };
    if (eventIds.length === 0) return counts;
    const raws = await perPartition(eventIds, (own) => this.redis.mget(own.map((id) => this.keys.event(id))));
    const events = raws.flatMap((raw) => (raw ? [JSON.parse(raw) as EventRecord] : [])).filter((event) => carries(event, target));
    const deliveriesOf = await Promise.all(events.map((event) => this.redis.hgetall(this.keys.eventDeliveries(event.id))));
    // Every delivery of the batch at once: ioredis sends concurrent commands together.
    const erased = await Promise.all(
      deliveriesOf.flatMap((bySubscription, i) =>
        Object.entries(bySubscription).map(([subscriptionId, deliveryId]) =>
          this.eraseOneDelivery({ id: deliveryId, subscriptionId, eventId: events[i]!.id, orderingKey: events[i]!.orderingKey }, now),
        ),
      ),
    );
    for (const delivery of erased) {
      if (!delivery) continue;
      counts.deliveries++;
      counts.attempts += delivery.attempts;
      if (delivery.leaseEnd > 0) counts.inFlight.push(delivery);
      if (delivery.nextInLane) counts.nextInLanes.push(delivery.nextInLane);
    }
    await this.eraseRecords(events);
    counts.events = events.length;
    return counts;
  }

  /**
   * The ids of events stored before the participant index that carry the target's value, found
   * by scanning every event (an installation upgraded in place), and whether any other event
   * stored before the index is left (none: once these are erased, later erasures need not scan).
   */
  async scanUnindexed(target: ErasureTarget, indexedSince: number): Promise<{ eventIds: string[]; unindexedLeft: boolean }> {
    const eventIds: string[] = [];
    let unindexedLeft = false;
    const patterns = this.keys.partitions().map((partition) => `${this.keys.eventKeyPrefix(partition)}evt_*`);
    for await (const found of this.scan(...patterns)) {
      const eventKeys = found.filter((key) => !key.endsWith(":dlv"));
      const raws = eventKeys.length > 0 ? await this.redis.mget(eventKeys) : [];
      for (const raw of raws) {
        if (!raw) continue;
        const event = JSON.parse(raw) as EventRecord;
        if (event.createdAt >= indexedSince) continue;
        if (carries(event, target)) eventIds.push(event.id);
        else unindexedLeft = true;
      }
    }
    return { eventIds, unindexedLeft };
  }

  /**
   * One delivery; undefined when it was gone or erased before. Its jobs still queued (a retry in
   * the delayed set) carry ids only: they stay, and find it erased when they run.
   */
  private async eraseOneDelivery(
    delivery: { id: string; subscriptionId: string; eventId: string; orderingKey?: string },
    now: number,
  ): Promise<{ deliveryId: string; subscriptionId: string; attempts: number; leaseEnd: number; nextInLane?: LaneMember } | undefined> {
    const { id: deliveryId, subscriptionId, orderingKey } = delivery;
    const partition = partitionOfId(deliveryId);
    const [attempts, leaseEnd, next] = await this.eraseDelivery.run(
      [
        this.keys.delivery(deliveryId),
        this.keys.attempts(deliveryId),
        ...deliveryStatuses.map((s) => this.keys.deliveriesByStatus(s, partition)),
        this.keys.deliveriesToWatch(partition),
        this.keys.attemptClaim(deliveryId),
        this.keys.lane(subscriptionId, orderingKey ?? "", partition),
      ],
      [deliveryId, now, orderingKey === undefined ? "" : laneMember(delivery)],
    );
    if (attempts < 0) return undefined;
    return { deliveryId, subscriptionId, attempts, leaseEnd, nextInLane: parseLaneMember(next, subscriptionId) };
  }

  /**
   * The events, their deliveries' maps, their idempotency records and index entries: the
   * idempotency records first (a copy may be in another partition than its event), then one
   * transaction for each partition of the batch.
   */
  private async eraseRecords(events: EventRecord[]): Promise<void> {
    if (events.length === 0) return;
    const idempotencyKeys = (await Promise.all(events.map((event) => (event.idempotencyKey ? this.idempotencyRecords(event) : [])))).flat();
    await Promise.all(idempotencyKeys.map((key) => this.redis.del(key)));
    const byId = new Map(events.map((event) => [event.id, event]));
    await eachPartition([...byId.keys()], async (ids, partition) => {
      const transaction = this.redis.multi();
      for (const event of ids.map((id) => byId.get(id)!)) {
        transaction.del(this.keys.event(event.id), this.keys.eventDeliveries(event.id));
        for (const { field, value } of participantValues(event.data))
          for (const key of this.participants.keysFor(field, value, [projectOf(event)], partition)) transaction.srem(key, event.id);
      }
      transaction.zrem(this.keys.eventsToRoute(partition), ...ids);
      for (const [error] of (await transaction.exec()) ?? []) if (error) throw error;
    });
  }

  /**
   * The idempotency records naming this event: in its partition, and for an event stored before
   * partitions, the copies made of its key where it now belongs (see LegacyIdempotencyKeys). An
   * event stored before erasure existed does not say whose key it was: its record is found by
   * scanning for the key under every scope.
   */
  private async idempotencyRecords(event: EventRecord): Promise<string[]> {
    const key = event.idempotencyKey!;
    const partitions = this.idempotencyPartitionsOf(event);
    const candidates = (
      await Promise.all(
        partitions.map(async (partition) =>
          event.idempotencyScope !== undefined
            ? [this.keys.idempotency(scopedIdempotencyKey(event.idempotencyScope, key), partition)]
            : this.scanKeys(this.keys.idempotency(`*:${escapeGlob(key)}`, partition)),
        ),
      )
    ).flat();
    const values = await Promise.all(candidates.map((candidate) => this.redis.get(candidate)));
    // Another event's record under a key of the same name (another publisher's) is not this one's.
    return candidates.filter((_, i) => values[i]?.split(" ")[0] === event.id);
  }

  /** Where the event's idempotency record may be: its partition, and where a key stored before partitions was copied to. */
  private idempotencyPartitionsOf(event: EventRecord): number[] {
    const partition = partitionOfId(event.id);
    if (partition !== 0 || this.keys.partitionCount === 1) return [partition];
    const scoped = scopedIdempotencyKey(event.idempotencyScope, event.idempotencyKey!);
    const copies = [partitionOfKey(scoped, this.keys.partitionCount)];
    if (event.orderingKey !== undefined) copies.push(this.keys.partitionOfOrderingKey(event.orderingKey));
    return [...new Set([0, ...copies])];
  }

  private async scanKeys(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const found of this.scan(pattern)) keys.push(...found);
    return keys;
  }

  /**
   * The keys matching each pattern (each of one partition: the keys of a batch share a slot),
   * a batch at a time, from every node that holds data.
   */
  private async *scan(...patterns: string[]): AsyncGenerator<string[]> {
    for (const pattern of patterns) yield* scanEveryNode(this.redis, pattern, SCAN_COUNT);
  }
}

/** Whether the event carries the target's value, in one of its projects. */
function carries(event: EventRecord, target: ErasureTarget): boolean {
  return event.data[target.field] === target.value && target.projectIds.has(projectOf(event));
}

/** `text` as a SCAN pattern matching it literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
