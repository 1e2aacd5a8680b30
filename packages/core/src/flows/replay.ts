import type { RedisConnection } from "../store/redis.js";
import type { replayableStatuses } from "@hookbus/schemas";
import type { Delivery } from "../policy/domain.js";
import { replayClaimNote, type DeliveryLog } from "../store/delivery-log.js";
import type { DeliveryFilter } from "../store/delivery-queries.js";
import { NotFoundError, UnprocessableError } from "../policy/errors.js";
import { newId } from "../policy/ids.js";
import type { Keys } from "../store/keys.js";
import { eachPartition } from "../store/partitioned.js";
import { defineScript, readLua } from "../store/redis.js";
import {
  deliverJobId,
  enqueueReplayRuns,
  enqueueReplayWalk,
  promoteDeliverJob,
  QUEUE_NAMES,
  type HookbusQueues,
  type ReplayRef,
} from "../queue/queues.js";
import type { SubscriptionStore } from "../store/subscription-store.js";
import { systemActor, type AuditTrail } from "../store/audit-trail.js";

export interface BulkReplayRequest {
  filter: DeliveryFilter & { status: (typeof replayableStatuses)[number] };
  /** At most this many of its deliveries sent per second, as the receivers see them; unset: no cap. */
  ratePerSecond?: number;
}

export interface ReplayProgress {
  id: string;
  /** done once the walk has ended and every delivery it took has its outcome. */
  status: "running" | "done";
  /** Deliveries it expects to take: counted at the start, raised if it took more. */
  total: number;
  /** Replayed and delivered. */
  done: number;
  /** Replayed and dead-lettered again, or undeliverable: their subscription or event is gone. */
  failed: number;
  /** Not taken: another replay took them first, they left the status, or their subscription is disabled. */
  skipped: number;
  filter: BulkReplayRequest["filter"];
  ratePerSecond?: number;
  createdAt: number;
  finishedAt?: number;
}

const SETTLE_REPLAY = readLua(import.meta.url, "settle-replay.lua");
/** What settle-replay.lua answers when its call finished the replay. */
const REPLAY_FINISHED = 2;

/** How many deliveries a bulk replay reads and enqueues at a time. */
export const REPLAY_BATCH = 500;

/** A delivery claimed by a replay, and the number of that replay (its job id's suffix). */
export interface ClaimedDelivery {
  delivery: Delivery;
  replayNumber: number;
}

/**
 * Replays as the API starts them: one delivery now, or a bulk replay recorded here and carried
 * out by the worker's bulk-replay job. Each delivery is claimed from the status it was seen in
 * before it is enqueued, so two replays over the same deliveries send each one once. The
 * webhook-id stays the delivery id.
 */
export class Replayer {
  private readonly settleReplay;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
    private readonly deliveries: DeliveryLog,
    private readonly subscriptions: SubscriptionStore,
    private readonly queues: HookbusQueues,
    private readonly audit: AuditTrail,
  ) {
    this.settleReplay = defineScript<number>(redis, "hookbusSettleReplay", 1, SETTLE_REPLAY);
  }

  /**
   * Delivers one delivery again now: a scheduled retry is brought forward; a finished one gets a
   * new attempt. A finished delivery has left its lane (if its subscription orders by key), so
   * its replay is sent at once, out of the key's order: a replay is an operator's deliberate
   * resend, which waiting behind the key's later deliveries, perhaps failing ones, would hide.
   */
  async replayOne(deliveryId: string): Promise<Delivery> {
    const delivery = await this.deliveries.get(deliveryId);
    if (delivery.status === "erased")
      throw new UnprocessableError(`delivery ${deliveryId} was erased: it has nothing left to send`, ["id"]);
    const [subscription] = await this.subscriptions.getMany([delivery.subscriptionId]);
    if (!subscription) throw new UnprocessableError(`subscription ${delivery.subscriptionId} was deleted`, ["subscriptionId"]);
    if (!subscription.enabled)
      throw new UnprocessableError(`subscription ${subscription.id} is disabled: enable it to deliver again`, ["subscriptionId"]);
    if (delivery.status === "retrying" && (await this.bringRetryForward(delivery))) return this.deliveries.get(deliveryId);
    if (delivery.status === "pending" || delivery.status === "retrying") return delivery;
    const replayNumber = await this.deliveries.claimForReplay(delivery);
    if (replayNumber > 0) await this.enqueue([{ delivery, replayNumber }]);
    return this.deliveries.get(deliveryId);
  }

  /** How many deliveries a bulk replay of this filter would take now. */
  async count(filter: DeliveryFilter): Promise<number> {
    let total = 0;
    for await (const { items } of this.deliveries.scan(filter, REPLAY_BATCH)) total += items.length;
    return total;
  }

  /** Records a bulk replay and enqueues the job that carries it out. */
  async startBulk(request: BulkReplayRequest, now = Date.now()): Promise<ReplayProgress> {
    // Deliveries made after the request are not part of it.
    const filter = { ...request.filter, until: Math.min(request.filter.until ?? now + 1, now + 1) };
    const progress: ReplayProgress = {
      id: newId("rpl", now),
      status: "running",
      total: await this.count(filter),
      done: 0,
      failed: 0,
      skipped: 0,
      filter,
      ratePerSecond: request.ratePerSecond,
      createdAt: now,
    };
    await this.redis.hset(this.keys.replay(progress.id), toHash(progress));
    await enqueueReplayWalk(this.queues, progress.id);
    return progress;
  }

  async progress(replayId: string): Promise<ReplayProgress> {
    const hash = await this.redis.hgetall(this.keys.replay(replayId));
    if (!hash.id) throw new NotFoundError("replay", replayId);
    return fromHash(hash);
  }

  /** Where a bulk replay's walk got to: the last delivery id it finished with. */
  async cursor(replayId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.replay(replayId), "cursor")) ?? undefined;
  }

  /**
   * Closes a page of a bulk replay's walk: counts the claims it made (or found made by an
   * earlier run of the walk that died before this) and moves the cursor past it, together, so
   * that a walk run again counts each claim once.
   */
  async closePage(replayId: string, claims: number, lastId: string): Promise<void> {
    const key = this.keys.replay(replayId);
    for (const [error] of (await this.redis.multi().hincrby(key, "claimed", claims).hset(key, "cursor", lastId).exec()) ?? [])
      if (error) throw error;
  }

  /** Counts a replayed delivery's final outcome (called by the deliver job). */
  async recordOutcome(replayId: string, delivered: boolean): Promise<void> {
    await this.settle(replayId, delivered ? { done: 1 } : { failed: 1 });
  }

  /** Closes a bulk replay's walk: what it expected and did not claim is skipped. */
  async endWalk(replayId: string): Promise<void> {
    await this.settle(replayId, { walked: true });
  }

  /** Enqueues the jobs of claimed deliveries, then drops their claim notes. */
  async enqueue(claimed: ClaimedDelivery[], replay?: ReplayRef): Promise<void> {
    if (claimed.length === 0) return;
    await enqueueReplayRuns(this.queues, claimed, replay);
    const ids = claimed.map(({ delivery }) => delivery.id);
    await eachPartition(ids, (own, partition) =>
      this.redis.zrem(this.keys.replayClaimsNotEnqueued(partition), ...own.map((id) => replayClaimNote(id, replay?.id))),
    );
  }

  private async settle(replayId: string, add: { done?: number; failed?: number; walked?: boolean }): Promise<void> {
    const settled = await this.settleReplay.run(
      [this.keys.replay(replayId)],
      [add.done ?? 0, add.failed ?? 0, Date.now(), add.walked ? "1" : ""],
    );
    if (settled === REPLAY_FINISHED) await this.recordFinish(replayId);
  }

  /** The audit entry of a bulk replay's end, written by whichever process finished it, once. */
  private async recordFinish(replayId: string): Promise<void> {
    const { total, done, failed, skipped, filter } = await this.progress(replayId);
    await this.audit.append({
      actor: systemActor("replay finished"),
      action: "replay.finish",
      resourceType: "replay",
      resourceId: replayId,
      projectId: filter.projectId,
      after: { total, done, failed, skipped },
    });
  }

  /** A retry already scheduled is moved to now rather than doubled: due now in the log, its job promoted. */
  private async bringRetryForward(delivery: Delivery): Promise<boolean> {
    if (!(await this.deliveries.bringRetryForward(delivery.id))) return false;
    const jobId = deliverJobId(delivery);
    return (
      (await promoteDeliverJob(this.queues, QUEUE_NAMES.deliver, jobId)) ||
      (await promoteDeliverJob(this.queues, QUEUE_NAMES.deliverSync, jobId))
    );
  }
}

function toHash(progress: ReplayProgress): Record<string, string> {
  const { filter, ...rest } = progress;
  return Object.fromEntries(
    Object.entries({ ...rest, filter: JSON.stringify(filter) }).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])),
  );
}

function fromHash(hash: Record<string, string>): ReplayProgress {
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  return {
    id: hash.id!,
    status: hash.status as ReplayProgress["status"],
    total: Number(hash.total),
    done: Number(hash.done),
    failed: Number(hash.failed),
    skipped: Number(hash.skipped ?? 0),
    filter: JSON.parse(hash.filter!) as ReplayProgress["filter"],
    ratePerSecond: number(hash.ratePerSecond),
    createdAt: Number(hash.createdAt),
    finishedAt: number(hash.finishedAt),
  };
}
