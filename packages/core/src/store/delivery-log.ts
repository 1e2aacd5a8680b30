import type { ChainableCommander } from "ioredis";
import type { RedisConnection } from "./redis.js";
import { DEFAULT_PROJECT_ID, eventTypes } from "@hookbus/schemas";
import { DeliveryQueries, execPipeline } from "./delivery-queries.js";
import {
  deliveryStatuses,
  type Attempt,
  type Delivery,
  type DeliveryStatus,
  type EventRecord,
  type RoutedDelivery,
  type Subscription,
} from "../policy/domain.js";
import { NotFoundError } from "../policy/errors.js";
import { idLowerBound, newId, partitionOfId } from "../policy/ids.js";
import type { Keys } from "./keys.js";
import { laneMember, parseLaneMember, type LaneMember } from "./lanes.js";
import { eachPartition, perPartitionOf } from "./partitioned.js";
import { defineScript, readLua } from "./redis.js";
import type { ReplayRef } from "../queue/queues.js";

/** Ids of old deliveries read at a time by the retention sweep. */
const SWEEP_BATCH = 1000;

/** Attempts kept per delivery; older ones are dropped first. */
export const MAX_ATTEMPTS_KEPT = 100;

const CREATE_DELIVERY = readLua(import.meta.url, "create-delivery.lua");
const SET_STATUS = readLua(import.meta.url, "set-delivery-status.lua");
const CLAIM_FOR_REPLAY = readLua(import.meta.url, "claim-for-replay.lua");
const BRING_RETRY_FORWARD = readLua(import.meta.url, "bring-retry-forward.lua");

/** Enough of a delivery to change its status: its ordering key when it is in a lane. */
export type DeliveryRef = Pick<Delivery, "id" | "subscriptionId" | "eventId" | "orderingKey">;

/** What a change of status did: the attempt count, and the delivery whose turn came in its lane, if it finished one's turn. */
export interface StatusChange {
  attemptCount: number;
  nextInLane?: LaneMember;
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
  private readonly bringForward;

  /**
   * @param watchGraceMs how long past its due time a delivery may go unattempted before the
   *   reconciler makes sure it still has a job
   */
  constructor(
    redis: RedisConnection,
    keys: Keys,
    private readonly retentionMs: number,
    private readonly watchGraceMs: number,
  ) {
    super(redis, keys);
    this.createDelivery = defineScript<[string, number]>(redis, "hookbusCreateDelivery", 11, CREATE_DELIVERY);
    this.setStatus = defineScript<[number, string]>(redis, "hookbusSetDeliveryStatus", 11, SET_STATUS);
    this.claim = defineScript<number>(redis, "hookbusClaimForReplay", 5, CLAIM_FOR_REPLAY);
    this.bringForward = defineScript<number>(redis, "hookbusBringRetryForward", 1, BRING_RETRY_FORWARD);
  }

  /** The deliveries of an event to these subscriptions, made once however often it is asked. */
  async route(event: EventRecord, subscriptions: Subscription[], now = Date.now()): Promise<RoutedDelivery[]> {
    const [routed] = await this.routeMany([{ event, subscriptions }], now);
    return routed!;
  }

  /** The same for several events in one round trip: one list of deliveries per event, in order. */
  async routeMany(targets: { event: EventRecord; subscriptions: Subscription[] }[], now = Date.now()): Promise<RoutedDelivery[][]> {
    const pairs = targets.flatMap(({ event, subscriptions }) => subscriptions.map((subscription) => ({ event, subscription })));
    if (pairs.length === 0) return targets.map(() => []);
    // A round trip for each partition the events are in.
    const results = await perPartitionOf(
      pairs,
      ({ event }) => event.id,
      (own) => {
        const pipeline = this.redis.pipeline();
        this.queueCreates(pipeline, own, now);
        return execPipeline<[string, number]>(pipeline);
      },
    );
    const existing = results.flatMap(([id, created]) => (created === 1 ? [] : [id]));
    const states = new Map((await this.getMany(existing)).map((d) => [d.id, d]));
    const routed = results.map(([deliveryId, created], i): RoutedDelivery => {
      const state = states.get(deliveryId);
      const untouched = state !== undefined && state.status === "pending" && state.attemptCount === 0;
      return { deliveryId, subscription: pairs[i]!.subscription, needsJob: created === 1 || untouched, found: state };
    });
    let next = 0;
    return targets.map(({ subscriptions }) => routed.slice(next, (next += subscriptions.length)));
  }

  /**
   * The deliveries of an event just stored, which has none yet, made in the same round trip
   * as more commands: `alongside.add` is handed the deliveries about to be made (to enqueue
   * their first jobs, say) and adds its commands to `alongside.pipeline`. Should one exist
   * after all, it is returned as it is, needing no job, and the job added for the id that
   * was not made finds no delivery and ends.
   */
  async routeNew(
    event: EventRecord,
    subscriptions: Subscription[],
    alongside: { pipeline: ChainableCommander; add: (routed: RoutedDelivery[]) => void },
    now = Date.now(),
  ): Promise<RoutedDelivery[]> {
    const { planned } = this.queueNewDeliveries(alongside.pipeline, event, subscriptions, now);
    alongside.add(planned);
    const results = (await execPipeline<[string, number]>(alongside.pipeline)).slice(0, planned.length);
    return results.map(([deliveryId, created], i) => ({ deliveryId, subscription: subscriptions[i]!, needsJob: created === 1 }));
  }

  /**
   * The deliveries of an event that commands already on `alongside.pipeline` are storing, made
   * in the same round trip, but only if the event is stored by then and the subscriptions are
   * still at `version` (the one `subscriptions` were read at). Resolves once the pipeline has
   * run: the deliveries, or undefined when none was made (the event was not stored, or the
   * subscriptions changed: the caller routes it again from fresh ones, which makes nothing
   * twice). `alongside.add` is handed the deliveries about to be made, as in routeNew; the
   * jobs it adds for deliveries then not made find no delivery and end.
   */
  routeStoring(
    event: EventRecord,
    subscriptions: Subscription[],
    version: number,
    alongside: { pipeline: ChainableCommander; add: (routed: RoutedDelivery[]) => void },
    now = Date.now(),
  ): Promise<RoutedDelivery[] | undefined> {
    const { planned, made } = this.queueNewDeliveries(alongside.pipeline, event, subscriptions, now, version);
    alongside.add(planned);
    // A pipeline that fails as a whole fails its caller's round trip, which reports it.
    return Promise.all(made).then(
      (each) => (each.every(Boolean) ? planned : undefined),
      () => undefined,
    );
  }

  /**
   * Queues a delivery of a new event to each subscription, each planned as needing its first
   * job. With `atVersion`, each is made only if the event exists and the subscriptions are at
   * that version, and `made` tells, once the pipeline has run, whether each was (or existed).
   */
  private queueNewDeliveries(
    pipeline: ChainableCommander,
    event: EventRecord,
    subscriptions: Subscription[],
    now: number,
    atVersion?: number,
  ): { planned: RoutedDelivery[]; made: Promise<boolean>[] } {
    const guard = atVersion === undefined ? undefined : { version: atVersion, made: [] as Promise<boolean>[] };
    const deliveryIds = this.queueCreates(
      pipeline,
      subscriptions.map((subscription) => ({ event, subscription })),
      now,
      guard,
    );
    return {
      planned: deliveryIds.map((deliveryId, i) => ({ deliveryId, subscription: subscriptions[i]!, needsJob: true })),
      made: guard?.made ?? [],
    };
  }

  /**
   * Queues the creation of a delivery for each (event, subscription) pair; returns the ids chosen
   * for them. With `ifAt`, each is made only if its event exists and the subscriptions are at
   * `ifAt.version`; whether it was (or existed) is pushed to `ifAt.made`.
   */
  private queueCreates(
    pipeline: ChainableCommander,
    pairs: { event: EventRecord; subscription: Subscription }[],
    now: number,
    ifAt?: { version: number; made: Promise<boolean>[] },
  ): string[] {
    return pairs.map(({ event, subscription }) => {
      // In its event's partition, as what it touches with it.
      const partition = partitionOfId(event.id);
      const deliveryId = newId("dlv", now, partition);
      let onReply: ((error: Error | null, reply: [string, number]) => void) | undefined;
      const orderingKey = laneKeyOf(event, subscription);
      if (ifAt)
        ifAt.made.push(new Promise((resolve, reject) => (onReply = (error, reply) => (error ? reject(error) : resolve(reply[1] !== -1)))));
      this.createDelivery.queue(
        pipeline,
        [
          this.keys.eventDeliveries(event.id),
          this.keys.delivery(deliveryId),
          this.keys.deliveriesAll(partition),
          this.keys.deliveriesByStatus("pending", partition),
          this.keys.deliveriesBySubscription(subscription.id, partition),
          this.keys.deliveriesByType(event.type, partition),
          this.keys.deliveriesToWatch(partition),
          this.keys.event(event.id),
          this.keys.subscriptionsVersion(partition),
          this.keys.lane(subscription.id, orderingKey ?? "", partition),
          this.keys.orderingKey(event.projectId ?? DEFAULT_PROJECT_ID, orderingKey ?? "", "unrouted", partition),
        ],
        [
          subscription.id,
          deliveryId,
          event.id,
          event.type,
          now,
          event.retentionMs ?? this.retentionMs,
          now + this.watchGraceMs,
          ifAt ? ifAt.version : "",
          event.projectId ?? "",
          orderingKey ?? "",
          event.orderingSeq ?? "",
          event.retentionMs ?? "",
        ],
        onReply,
      );
      return deliveryId;
    });
  }

  /** Records one attempt and the status it leads to, and gives back the attempt's claim, held by `claimOwner` (see AttemptClaims). */
  async recordAttempt(
    delivery: DeliveryRef,
    attempt: Attempt,
    status: DeliveryStatus,
    nextAttemptAt?: number,
    claimOwner?: string,
  ): Promise<StatusChange> {
    return this.changeStatus(delivery, status, nextAttemptAt, attempt, undefined, claimOwner);
  }

  /**
   * Dead-letters a delivery that cannot be attempted, saying why: it stays listed as failed,
   * replayable, for a retention window from now.
   */
  async deadLetter(delivery: DeliveryRef, reason: string): Promise<StatusChange> {
    return this.changeStatus(delivery, "failed", undefined, undefined, reason);
  }

  /**
   * Claims a delivery for a replay if it is still in the status the replayer saw. Returns
   * the replay's number; 0 when another replay (or an attempt) got there first; for a bulk
   * replay, minus the replay's number when this replay had claimed it already (its walk runs
   * again after a crash: the claim is its to count, not to enqueue). The claim stays noted
   * until the replayer reports its job enqueued.
   */
  async claimForReplay(delivery: Delivery, replay?: ReplayRef, now = Date.now()): Promise<number> {
    // An erased delivery has nothing left to send.
    if (delivery.status === "erased") return 0;
    const replayId = replay?.id;
    const partition = partitionOfId(delivery.id);
    return this.claim.run(
      [
        this.keys.delivery(delivery.id),
        this.keys.deliveriesByStatus("pending", partition),
        this.keys.deliveriesByStatus(delivery.status, partition),
        this.keys.replayClaimsNotEnqueued(partition),
        this.keys.deliveriesToWatch(partition),
      ],
      [
        delivery.id,
        delivery.status,
        replayClaimNote(delivery.id, replayId),
        now,
        now + this.watchGraceMs,
        replayId ?? "",
        replay?.ratePerSecond ?? "",
      ],
    );
  }

  /** Makes a retrying delivery's next attempt due now; false when it is no longer retrying. */
  async bringRetryForward(deliveryId: string, now = Date.now()): Promise<boolean> {
    return (await this.bringForward.run([this.keys.delivery(deliveryId)], [now])) === 1;
  }

  /** Checks these deliveries again at `at`, unless they finish first. */
  async watchAgain(ids: string[], at: number): Promise<void> {
    await this.watchAt(ids.map((id) => ({ id, at })));
  }

  /** Checks each delivery again at its own time, unless it finishes first. */
  async watchAt(entries: { id: string; at: number }[]): Promise<void> {
    const at = new Map(entries.map((entry) => [entry.id, entry.at]));
    await eachPartition([...at.keys()], (ids, partition) =>
      this.redis.zadd(this.keys.deliveriesToWatch(partition), "XX", ...ids.flatMap((id) => [at.get(id)!, id])),
    );
  }

  /** Stops watching deliveries that have expired or finished. */
  async unwatch(ids: string[]): Promise<void> {
    await eachPartition(ids, (own, partition) => this.redis.zrem(this.keys.deliveriesToWatch(partition), ...own));
  }

  /**
   * Drops the index entries of deliveries whose records have expired. Ids sort by creation
   * time, so only those created more than a retention window ago can be gone; of those, the
   * ones still alive (a replay or a late attempt extended their lifetime) keep their entries.
   * Membership of the listing, type and subscription indexes never changes, so each is cut
   * below the bound and given its live members back in one transaction; a status index's
   * members move with their status, so only the expired ones are removed from those.
   * Returns how many expired deliveries it found.
   */
  async sweepExpired(subscriptionIds: string[], now = Date.now()): Promise<number> {
    let expired = 0;
    for (const partition of this.keys.partitions()) expired += await this.sweepPartition(partition, subscriptionIds, now);
    return expired;
  }

  private async sweepPartition(partition: number, subscriptionIds: string[], now: number): Promise<number> {
    const bound = `(${idLowerBound("dlv", now - this.retentionMs)}`;
    const statusIndexes = deliveryStatuses.map((s) => this.keys.deliveriesByStatus(s, partition));
    const alive: Delivery[] = [];
    let expired = 0;
    for (let from = "-"; ; ) {
      const ids = await this.redis.zrangebylex(this.keys.deliveriesAll(partition), from, bound, "LIMIT", 0, SWEEP_BATCH);
      if (ids.length === 0) break;
      const live = await this.getMany(ids);
      const liveIds = new Set(live.map((d) => d.id));
      const gone = ids.filter((id) => !liveIds.has(id));
      alive.push(...live);
      if (gone.length > 0) {
        const pipeline = this.redis.pipeline();
        for (const index of statusIndexes) pipeline.zrem(index, ...gone);
        await execPipeline<number>(pipeline);
        expired += gone.length;
      }
      if (ids.length < SWEEP_BATCH) break;
      from = `(${ids[ids.length - 1]}`;
    }
    const indexes: [string, (d: Delivery) => boolean][] = [
      [this.keys.deliveriesAll(partition), () => true],
      ...eventTypes.map((t): [string, (d: Delivery) => boolean] => [this.keys.deliveriesByType(t, partition), (d) => d.eventType === t]),
      ...subscriptionIds.map((id): [string, (d: Delivery) => boolean] => [
        this.keys.deliveriesBySubscription(id, partition),
        (d) => d.subscriptionId === id,
      ]),
    ];
    const transaction = this.redis.multi();
    for (const [index, holds] of indexes) {
      transaction.zremrangebylex(index, "-", bound);
      const members = alive.filter(holds).flatMap((d) => [0, d.id]);
      if (members.length > 0) transaction.zadd(index, ...members);
    }
    for (const [error] of (await transaction.exec()) ?? []) if (error) throw error;
    return expired;
  }

  private async changeStatus(
    delivery: DeliveryRef,
    status: DeliveryStatus,
    nextAttemptAt?: number,
    attempt?: Attempt,
    reason?: string,
    claimOwner?: string,
    now = Date.now(),
  ): Promise<StatusChange> {
    const deliveryId = delivery.id;
    const partition = partitionOfId(deliveryId);
    const [count, next] = await this.setStatus.run(
      [
        this.keys.delivery(deliveryId),
        this.keys.attempts(deliveryId),
        ...deliveryStatuses.map((s) => this.keys.deliveriesByStatus(s, partition)),
        this.keys.attemptClaim(deliveryId),
        this.keys.deliveriesToWatch(partition),
        this.keys.event(delivery.eventId),
        this.keys.eventDeliveries(delivery.eventId),
        this.keys.lane(delivery.subscriptionId, delivery.orderingKey ?? "", partition),
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
        reason ?? "",
        delivery.orderingKey === undefined ? "" : laneMember(delivery),
        claimOwner ?? "",
      ],
    );
    if (count < 0) throw new NotFoundError("delivery", deliveryId);
    return { attemptCount: count, nextInLane: parseLaneMember(next, delivery.subscriptionId) };
  }
}

/** The ordering key a delivery of this event to this subscription waits its turn under, if it has a lane. */
export function laneKeyOf(event: Pick<EventRecord, "orderingKey">, subscription: Pick<Subscription, "ordering">): string | undefined {
  return subscription.ordering === "key" ? event.orderingKey : undefined;
}

/** How a replay claim is noted until its job is enqueued: the delivery, and the bulk replay it belongs to. */
export function replayClaimNote(deliveryId: string, replayId?: string): string {
  return `${deliveryId}|${replayId ?? ""}`;
}

export function parseReplayClaimNote(note: string): { deliveryId: string; replayId?: string } {
  const [deliveryId, replayId] = note.split("|");
  return { deliveryId: deliveryId!, replayId: replayId || undefined };
}
