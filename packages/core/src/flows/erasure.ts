import type { RedisConnection } from "../store/redis.js";
import { DEFAULT_PROJECT_ID, type ErasureField } from "@hookbus/schemas";
import { NotFoundError } from "../policy/errors.js";
import { newId } from "../policy/ids.js";
import { formatValueHash, type ParticipantHasher } from "../policy/participant-hash.js";
import type { SecretBox } from "../policy/secret-box.js";
import { enqueueErasure, type HookbusQueues } from "../queue/queues.js";
import { rewriteAppendOnlyFile, type AofRewriteOutcome } from "../store/aof-rewrite.js";
import type { Keys } from "../store/keys.js";
import type { ParticipantIndex } from "../store/participant-index.js";
import type { ProjectStore } from "../store/project-store.js";
import { EventEraser, type ErasedCounts, type ErasureTarget } from "./erase-events.js";
import { wakeInLane } from "./ordering.js";

/** Erase the events whose `field` is `value`, in one project or (projectId unset) in every one. */
export interface ErasureRequest {
  field: ErasureField;
  value: string;
  projectId?: string;
}

/** An erasure's receipt, as kept: never the value. */
export interface ErasureReceipt {
  id: string;
  status: "running" | "done";
  field: ErasureField;
  projectId?: string;
  createdAt: number;
  finishedAt?: number;
  /** Events found to erase. */
  total: number;
  events: number;
  deliveries: number;
  attempts: number;
  persistence: { status: "pending" | AofRewriteOutcome["status"]; finishedAt?: number; message?: string };
}

/**
 * Called once an erasure is done, with its receipt and the keyed hash of the value it erased
 * (`hmac-sha256:KEYID:DIGEST`, never the value): where the erasure's audit entry is appended.
 */
export type ErasedHook = (receipt: ErasureReceipt, valueHash: string) => Promise<void>;

/** An erasure of at most this many indexed events is carried out before the request is answered; a larger one by a worker job. */
export const ERASE_INLINE_LIMIT = 1000;

/** Events erased at a time. */
const ERASE_BATCH = 500;

/** How often an attempt in flight is looked for while an erasure waits for it to end (ms). */
const IN_FLIGHT_POLL_MS = 50;

/**
 * Erasure of one participant's data, as the API starts it: found through the participant
 * index (and, on an installation upgraded in place, a scan for events stored before it),
 * erased a batch at a time (EventEraser), then Redis's append-only file rewritten so that no
 * file keeps what was erased. The value is kept sealed in the erasure's record while it runs
 * (a worker job carries the erasure's id only), and dropped before the rewrite.
 */
export class Eraser {
  private readonly events: EventEraser;

  /** @param onErased where the erasure's audit entry is appended (see ErasedHook) */
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
    private readonly box: SecretBox,
    private readonly hasher: ParticipantHasher,
    private readonly participants: ParticipantIndex,
    private readonly projects: ProjectStore,
    private readonly queues: HookbusQueues,
    private readonly onErased?: ErasedHook,
  ) {
    this.events = new EventEraser(redis, keys, participants);
  }

  /**
   * Records an erasure and carries it out now when it is small and the index covers every event
   * (`finished`), else enqueues it for a worker and returns its receipt as it starts.
   */
  async start(request: ErasureRequest, now = Date.now()): Promise<{ receipt: ErasureReceipt; finished: boolean }> {
    const id = newId("era", now);
    const projectIds = await this.projectsOf(request);
    const indexed = await this.participants.eventIds(request.field, request.value, projectIds);
    const receipt: ErasureReceipt = {
      id,
      status: "running",
      field: request.field,
      projectId: request.projectId,
      createdAt: now,
      total: indexed.length,
      events: 0,
      deliveries: 0,
      attempts: 0,
      persistence: { status: "pending" },
    };
    await this.redis.hset(this.keys.erasure(id), { ...toHash(receipt), sealedValue: this.box.seal(request.value, id) });
    if (!(await this.participants.needsScan()).scan && indexed.length <= ERASE_INLINE_LIMIT)
      return { receipt: await this.run(id), finished: true };
    await enqueueErasure(this.queues, id);
    return { receipt, finished: false };
  }

  async receipt(id: string): Promise<ErasureReceipt> {
    const hash = await this.redis.hgetall(this.keys.erasure(id));
    if (!hash.id) throw new NotFoundError("erasure", id);
    return fromHash(hash);
  }

  /**
   * Carries an erasure out (the worker's job, or `start` for a small one). Run again after a
   * crash, it finds what is left: erased events are gone and erased deliveries are not counted
   * twice.
   */
  async run(id: string): Promise<ErasureReceipt> {
    const key = this.keys.erasure(id);
    const hash = await this.redis.hgetall(key);
    if (!hash.id) throw new NotFoundError("erasure", id);
    const started = fromHash(hash);
    if (started.status === "done") return started;
    let valueHash = hash.valueHash;
    if (hash.sealedValue) {
      const value = this.box.open(hash.sealedValue, id);
      valueHash = formatValueHash(this.hasher.hash(value));
      await this.eraseData(id, { field: started.field, value, projectIds: new Set(await this.projectsOf(started)) });
      await this.redis.multi().hset(key, "valueHash", valueHash).hdel(key, "sealedValue").exec();
    }
    const rewrite = await rewriteAppendOnlyFile(this.redis);
    await this.redis.hset(key, {
      status: "done",
      finishedAt: Date.now(),
      persistenceStatus: rewrite.status,
      persistenceFinishedAt: rewrite.finishedAt,
      ...("message" in rewrite ? { persistenceMessage: rewrite.message } : {}),
    });
    const receipt = await this.receipt(id);
    await this.onErased?.(receipt, valueHash!);
    return receipt;
  }

  /**
   * Erases the target's events a batch at a time, counting as it goes, and waits for attempts
   * that were in flight. Each erased event leaves the index itself (EventEraser), so an event
   * of the participant published meanwhile keeps its entry for a later erasure.
   */
  private async eraseData(id: string, target: ErasureTarget): Promise<void> {
    const key = this.keys.erasure(id);
    const eventIds = new Set(await this.participants.eventIds(target.field, target.value, [...target.projectIds]));
    const { scan, before } = await this.participants.needsScan();
    const unindexed = scan ? await this.events.scanUnindexed(target, before) : undefined;
    for (const eventId of unindexed?.eventIds ?? []) eventIds.add(eventId);
    await this.redis.hset(key, "total", eventIds.size);
    const ids = [...eventIds];
    const inFlight: ErasedCounts["inFlight"] = [];
    for (let from = 0; from < ids.length; from += ERASE_BATCH) {
      const counts = await this.events.erase(ids.slice(from, from + ERASE_BATCH), target);
      await this.redis
        .multi()
        .hincrby(key, "events", counts.events)
        .hincrby(key, "deliveries", counts.deliveries)
        .hincrby(key, "attempts", counts.attempts)
        .exec();
      inFlight.push(...counts.inFlight);
      // An erased delivery no longer holds its lane: the next of the key goes on.
      await wakeInLane({ queues: this.queues }, counts.nextInLanes);
    }
    // Only once they are erased: an erasure run again after a crash must still find them.
    if (unindexed && !unindexed.unindexedLeft) await this.participants.markComplete();
    await this.attemptsEnded(inFlight);
  }

  /**
   * Waits until the attempts that were in flight when their deliveries were erased have ended
   * (given back their claim) or their lease has run out: nothing of the erased data is on its
   * way to a receiver once the erasure answers.
   */
  private async attemptsEnded(inFlight: ErasedCounts["inFlight"]): Promise<void> {
    let waiting = inFlight;
    while (waiting.length > 0) {
      const claimed = await Promise.all(waiting.map((a) => this.redis.exists(this.keys.attemptClaim(a.deliveryId))));
      const now = Date.now();
      waiting = waiting.filter((a, i) => claimed[i] === 1 && a.leaseEnd > now);
      if (waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_POLL_MS));
    }
  }

  /** The projects an erasure reaches: the one it names, or every project. */
  private async projectsOf(request: Pick<ErasureRequest, "projectId">): Promise<string[]> {
    if (request.projectId !== undefined) return [request.projectId];
    return [...new Set([DEFAULT_PROJECT_ID, ...(await this.projects.list()).map((p) => p.id)])];
  }
}

function toHash(receipt: ErasureReceipt): Record<string, string | number> {
  const { persistence, projectId, finishedAt, ...rest } = receipt;
  return {
    ...rest,
    ...(projectId !== undefined ? { projectId } : {}),
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    persistenceStatus: persistence.status,
  };
}

function fromHash(hash: Record<string, string>): ErasureReceipt {
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  return {
    id: hash.id!,
    status: hash.status as ErasureReceipt["status"],
    field: hash.field as ErasureField,
    projectId: hash.projectId,
    createdAt: Number(hash.createdAt),
    finishedAt: number(hash.finishedAt),
    total: Number(hash.total),
    events: Number(hash.events),
    deliveries: Number(hash.deliveries),
    attempts: Number(hash.attempts),
    persistence: {
      status: hash.persistenceStatus as ErasureReceipt["persistence"]["status"],
      finishedAt: number(hash.persistenceFinishedAt),
      message: hash.persistenceMessage,
    },
  };
}
