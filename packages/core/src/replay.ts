import type { Redis } from "ioredis";
import type { Delivery, DeliveryStatus } from "./domain.js";
import type { DeliveryFilter, DeliveryLog } from "./delivery-log.js";
import { NotFoundError, UnprocessableError } from "./errors.js";
import { newId } from "./ids.js";
import type { Keys } from "./keys.js";
import { defineScript } from "./redis.js";
import { DELIVER_JOB_OPTIONS, type DeliverJobData, type HookbusQueues } from "./queues.js";
import type { SubscriptionStore } from "./subscription-store.js";

/** Statuses a bulk replay may take: finished deliveries. Pending and retrying ones are still under way. */
export const REPLAYABLE_STATUSES = ["failed", "delivered"] as const satisfies readonly DeliveryStatus[];

export interface BulkReplayRequest {
  filter: DeliveryFilter & { status: (typeof REPLAYABLE_STATUSES)[number] };
  /** At most this many deliveries re-enqueued per second; unset: as fast as Redis takes them. */
  ratePerSecond?: number;
}

export interface ReplayProgress {
  id: string;
  /** done once every delivery taken has its outcome. */
  status: "running" | "done";
  total: number;
  /** Replayed and delivered. */
  done: number;
  /** Replayed and dead-lettered again, or not replayable: their subscription is gone. */
  failed: number;
  /** Already taken by another replay, or no longer in the status asked for. */
  skipped: number;
  filter: BulkReplayRequest["filter"];
  ratePerSecond?: number;
  createdAt: number;
  finishedAt?: number;
}

// Adds to a replay's counters and marks it done once every delivery is accounted for.
// KEYS: the replay. ARGV: done, failed, skipped increments, now
const SETTLE_REPLAY = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local done = redis.call('HINCRBY', KEYS[1], 'done', ARGV[1])
local failed = redis.call('HINCRBY', KEYS[1], 'failed', ARGV[2])
local skipped = redis.call('HINCRBY', KEYS[1], 'skipped', ARGV[3])
local total = tonumber(redis.call('HGET', KEYS[1], 'total'))
if done + failed + skipped >= total and redis.call('HGET', KEYS[1], 'status') == 'running' then
  redis.call('HSET', KEYS[1], 'status', 'done', 'finishedAt', ARGV[4])
end
return 1
`;

/** How many deliveries a bulk replay reads and enqueues at a time. */
const BATCH = 500;

/**
 * Replays: one delivery now, or every delivery matching a filter, in a job that walks them a
 * batch at a time (100,000 dead letters never sit in memory at once). Each delivery is
 * claimed from the status it was seen in before it is enqueued, so two replays running over
 * the same deliveries send each one once. The webhook-id stays the delivery id.
 */
export class Replayer {
  private readonly settleReplay;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly deliveries: DeliveryLog,
    private readonly subscriptions: SubscriptionStore,
    private readonly queues: HookbusQueues,
  ) {
    this.settleReplay = defineScript<number>(redis, "hookbusSettleReplay", 1, SETTLE_REPLAY);
  }

  /** Delivers one delivery again now: a scheduled retry is brought forward; a finished one gets a new attempt. */
  async replayOne(deliveryId: string): Promise<Delivery> {
    const delivery = await this.deliveries.get(deliveryId);
    const subscription = await this.subscriptions.getMany([delivery.subscriptionId]);
    if (subscription.length === 0) throw new UnprocessableError(`subscription ${delivery.subscriptionId} was deleted`, ["subscriptionId"]);
    if (delivery.status === "retrying" && (await this.bringRetryForward(delivery))) return this.deliveries.get(deliveryId);
    if (delivery.status === "pending" || delivery.status === "retrying") return delivery;
    const replayNumber = await this.deliveries.claimForReplay(delivery, claimNote(delivery.id));
    if (replayNumber > 0) await this.enqueue([{ delivery, replayNumber }]);
    return this.deliveries.get(deliveryId);
  }

  /** How many deliveries a bulk replay of this filter would take now. */
  async count(filter: DeliveryFilter): Promise<number> {
    let total = 0;
    for await (const batch of this.deliveries.scan(filter, BATCH)) total += batch.length;
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
    await this.queues.replay.add(
      "replay",
      { replayId: progress.id },
      { jobId: progress.id, attempts: 5, backoff: { type: "exponential", delay: 1000 }, removeOnComplete: true, removeOnFail: { age: 7 * 24 * 3600 } },
    );
    return progress;
  }

  async progress(replayId: string): Promise<ReplayProgress> {
    const hash = await this.redis.hgetall(this.keys.replay(replayId));
    if (!hash.id) throw new NotFoundError("replay", replayId);
    return fromHash(hash);
  }

  /** Carries out a bulk replay: the replay job. Deliveries already claimed are not claimed again if it reruns. */
  async run(replayId: string): Promise<void> {
    const replay = await this.progress(replayId);
    if (replay.status === "done") return;
    const pace = replay.ratePerSecond ? pacer(replay.ratePerSecond) : undefined;
    const live = new Set(await this.subscriptions.allIds());
    let seen = 0;
    for await (const batch of this.deliveries.scan(replay.filter, BATCH)) {
      seen += batch.length;
      let orphaned = 0;
      let skipped = 0;
      const claimed: Claimed[] = [];
      for (const delivery of batch) {
        if (!live.has(delivery.subscriptionId)) {
          orphaned++;
          continue;
        }
        if (pace) await pace();
        const replayNumber = await this.deliveries.claimForReplay(delivery, claimNote(delivery.id, replayId));
        if (replayNumber === 0) skipped++;
        else claimed.push({ delivery, replayNumber });
        // Under a rate cap each delivery is enqueued on its own, so arrivals follow the cap.
        if (pace) await this.enqueue(claimed.splice(0), replayId);
      }
      await this.enqueue(claimed, replayId);
      await this.settle(replayId, { failed: orphaned, skipped });
    }
    // A delivery another replay claimed before this scan reached it has left the status index
    // unseen: it counts as skipped. (This also closes a replay that matched nothing.)
    await this.settle(replayId, { skipped: Math.max(0, replay.total - seen) });
  }

  /** Counts a replayed delivery's final outcome (called by the deliver worker). */
  async recordOutcome(replayId: string, delivered: boolean): Promise<void> {
    await this.settle(replayId, delivered ? { done: 1 } : { failed: 1 });
  }

  private async settle(replayId: string, add: { done?: number; failed?: number; skipped?: number }): Promise<void> {
    await this.settleReplay.run([this.keys.replay(replayId)], [add.done ?? 0, add.failed ?? 0, add.skipped ?? 0, Date.now()]);
  }

  /**
   * Enqueues the claims that a replayer died before enqueueing (noted over `olderThanMs` ago,
   * far longer than a live replayer takes). Should the replayer have died just after
   * enqueueing, the receiver may get the delivery twice, with the same webhook-id: at least
   * once, never lost.
   */
  async recoverUnenqueued(olderThanMs: number, now = Date.now()): Promise<number> {
    const notes = await this.redis.zrangebyscore(this.keys.replayClaimsNotEnqueued(), "-inf", now - olderThanMs, "LIMIT", 0, BATCH);
    let recovered = 0;
    for (const { deliveryId, replayId } of notes.map(parseClaimNote)) {
      const [delivery] = await this.deliveries.getMany([deliveryId]);
      if (!delivery) continue;
      await this.enqueue([{ delivery, replayNumber: await this.deliveries.replayCount(deliveryId) }], replayId);
      recovered++;
    }
    // Notes of deliveries that have since expired go too.
    if (notes.length > 0) await this.redis.zrem(this.keys.replayClaimsNotEnqueued(), ...notes);
    return recovered;
  }

  private async enqueue(claimed: Claimed[], replayId?: string): Promise<void> {
    if (claimed.length === 0) return;
    await this.queues.deliver.addBulk(
      claimed.map(({ delivery, replayNumber }) => ({
        name: "deliver",
        data: { ...jobData(delivery), replayId },
        opts: { ...DELIVER_JOB_OPTIONS, jobId: replayJobId(delivery.id, replayNumber) },
      })),
    );
    await this.redis.zrem(this.keys.replayClaimsNotEnqueued(), ...claimed.map(({ delivery }) => claimNote(delivery.id, replayId)));
  }

  /** A retry already scheduled is moved to now rather than doubled. */
  private async bringRetryForward(delivery: Delivery): Promise<boolean> {
    const replays = await this.deliveries.replayCount(delivery.id);
    const jobId = replays > 0 ? replayJobId(delivery.id, replays) : delivery.id;
    for (const queue of [this.queues.deliver, this.queues.deliverSync]) {
      const job = await queue.getJob(jobId);
      if (job && (await job.isDelayed())) {
        await job.promote();
        return true;
      }
    }
    return false;
  }
}

interface Claimed {
  delivery: Delivery;
  replayNumber: number;
}

/** How a claim is noted until its job is enqueued: the delivery, and the bulk replay it belongs to. */
function claimNote(deliveryId: string, replayId?: string): string {
  return `${deliveryId}|${replayId ?? ""}`;
}

function parseClaimNote(note: string): { deliveryId: string; replayId?: string } {
  const [deliveryId, replayId] = note.split("|");
  return { deliveryId: deliveryId!, replayId: replayId || undefined };
}

function jobData(delivery: Delivery): DeliverJobData {
  return { deliveryId: delivery.id, eventId: delivery.eventId, subscriptionId: delivery.subscriptionId };
}

/** BullMQ job ids may not contain ':'; the replay number keeps each replay's job distinct. */
function replayJobId(deliveryId: string, replayNumber: number): string {
  return `${deliveryId}-r${replayNumber}`;
}

/** Resolves when the next item may go, so that at most `perSecond` go in any second. */
function pacer(perSecond: number): () => Promise<void> {
  const interval = 1000 / perSecond;
  let next = Date.now();
  return async () => {
    const wait = next - Date.now();
    next = Math.max(next, Date.now()) + interval;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };
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
