import type { ChainableCommander } from "ioredis";
import type { RedisConnection } from "./redis.js";
import { DEFAULT_PROJECT_ID, type EventType } from "@hookbus/schemas";
import type { EventRecord } from "../policy/domain.js";
import { createHash } from "node:crypto";
import { stringify } from "safe-stable-stringify";
import { ConflictError, NotFoundError, UnavailableError } from "../policy/errors.js";
import { newId } from "../policy/ids.js";
import { MomentPartitions, partitionOfKey } from "../policy/partitions.js";
import type { Keys } from "./keys.js";
import type { ParticipantIndex } from "./participant-index.js";
import { LegacyIdempotencyKeys } from "./legacy-idempotency-keys.js";
import { eachPartition, perPartition } from "./partitioned.js";
import { defineScript, masterOfSlot, readLua } from "./redis.js";
import { RedisClock } from "./redis-clock.js";

export interface NewEvent {
  /** Chosen by the caller when it must know the id before storing (to listen for sync outcomes). */
  id?: string;
  type: EventType;
  data: Record<string, unknown>;
  /** The project it is published in; absent: the default project. */
  projectId?: string;
  idempotencyKey?: string;
  /** Whose idempotency keys these are: the API key that published (its non-secret id). */
  idempotencyScope?: string;
  occurredAt?: number;
  sample?: boolean;
  /** The route job that will carry it, when named after another event (see EventRecord). */
  routeJobId?: string;
  /** How long to keep it and its deliveries, when its project says (ms); unset: the configured retention. */
  retentionMs?: number;
  /** Events with one ordering key reach ordered subscriptions in the order they were stored. */
  orderingKey?: string;
  /** Its own publish deadline, when it is stored beside events of other publishes (see StoreOptions.deadline). */
  deadline?: number;
}

/** An event as stored: new, or the one an idempotency key already named. */
export interface StoredEvent {
  event: EventRecord;
  created: boolean;
}

export interface StoreOptions {
  /**
   * The publisher is answered 503 after this time (ms, on this process's clock): Redis refuses
   * to store the event past it, judged on Redis's clock (see RedisClock), so a command held up
   * in a slow or paused Redis cannot store it later behind the publisher's back, and a Redis
   * clock set apart from this one neither refuses publishes in time nor stores late ones.
   */
  deadline?: number;
  /**
   * More commands to share the stores' round trip, one for each partition the events are
   * stored in: the pipeline to use for a partition, and what to add to it after the stores of
   * that partition's events. They run whatever each store's outcome; their replies are not read here.
   */
  alongside?: {
    pipelineFor: (partition: number) => Promise<ChainableCommander>;
    add: (events: EventRecord[], pipeline: ChainableCommander, partition: number) => void;
  };
}

const STORE_EVENT = readLua(import.meta.url, "store-event.lua");

/** store-event.lua's reply: {outcome, the event's id, Redis's time (ms; 0 when not asked), its number in its ordering key}. */
type StoreReply = [number, string, number, number];

/** The reply a store would give for an idempotency key found in a record "eventId digest": the earlier event, or another request's. */
function earlierUse(record: string, digest: string): StoreReply {
  const [id, earlierDigest] = record.split(" ");
  return [earlierDigest && earlierDigest !== digest ? 2 : 0, id!, 0, 0];
}

/**
 * How many replicas must have an event before its publisher is answered, and how long to wait
 * for them (ms) when the publish sets no deadline. Redis replicates asynchronously: without
 * this, an event answered 202 is lost if its master dies before a replica has it.
 */
export interface ReplicaWait {
  replicas: number;
  timeoutMs: number;
}

/** Published events, kept for the retention window. */
export class EventStore {
  private readonly storeEvent;
  /** Idempotency keys an earlier version stored in partition 0, looked up until they are moved. */
  readonly legacyKeys: LegacyIdempotencyKeys;
  /** Where the events with neither an ordering key nor an idempotency key made in this turn of the event loop go, and how many were dealt. */
  private moment: { partitions: number[]; dealt: number } | undefined;
  private readonly momentPartitions: MomentPartitions;

  /**
   * @param routeGraceMs how long an event may wait for its route job before the reconciler looks
   * @param participants the index each event is added to as it is stored
   * @param clock Redis's clock as this process sees it, which publish deadlines are moved onto
   */
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
    private readonly retentionMs: number,
    private readonly routeGraceMs: number,
    private readonly participants: ParticipantIndex,
    private readonly clock = new RedisClock(),
    private readonly replicaWait?: ReplicaWait,
  ) {
    this.storeEvent = defineScript<StoreReply>(redis, "hookbusStoreEvent", "variable", STORE_EVENT);
    this.legacyKeys = new LegacyIdempotencyKeys(redis, keys);
    this.momentPartitions = new MomentPartitions(keys.partitionPrefixes, (slot) => masterOfSlot(redis, slot));
  }

  /**
   * Stores a new event, or returns the one stored before under the same idempotency key (and
   * scope). The same key with another request is a ConflictError; past the deadline, an
   * UnavailableError and nothing stored.
   */
  async store(input: NewEvent, now = Date.now(), options: StoreOptions = {}): Promise<StoredEvent> {
    const [result] = await this.storeMany([input], now, options);
    if (result instanceof Error) throw result;
    return result!;
  }

  /**
   * Stores several events in one round trip, each on its own terms (its idempotency key, its
   * conflict): one item's failure is its own, returned in its place. Only the stores' own
   * replies are read: a command `alongside` that failed (a route job's add) fails nothing here,
   * since a stored event waits in the unrouted index until it is routed, and the reconciler
   * routes it if its job never came.
   */
  async storeMany(
    inputs: NewEvent[],
    now = Date.now(),
    options: StoreOptions = {},
  ): Promise<(StoredEvent | ConflictError | UnavailableError)[]> {
    const deadlines = inputs.map((input) => input.deadline ?? options.deadline);
    if (!this.clock.calibrated && deadlines.some((d) => d !== undefined)) {
      const unreachable = await this.clock.calibrate(this.redis).catch((error: Error) => error);
      if (unreachable) return inputs.map(() => refused(unreachable));
    }
    const events = inputs.map((input) => this.eventOf(input, now));
    const legacy = await this.legacyKeys
      .find(
        events.map(({ id, idempotencyKey, idempotencyScope }) =>
          idempotencyKey === undefined ? undefined : { id, scopedKey: scopedIdempotencyKey(idempotencyScope, idempotencyKey) },
        ),
      )
      .catch((error: Error) => error);
    if (legacy instanceof Error) return inputs.map(() => refused(legacy));
    const toStore = inputs.flatMap((_, i) => (legacy[i] ? [] : [i]));
    const indexOf = new Map(events.map((event, i) => [event.id, i]));
    // One round trip for each partition: a pipeline's keys must all be on one Redis Cluster node.
    const stored = await perPartition(
      toStore.map((i) => events[i]!.id),
      (ids, partition) =>
        this.storeInPartition(
          partition,
          ids.map((id) => indexOf.get(id)!).map((i) => ({ input: inputs[i]!, event: events[i]!, deadline: deadlines[i] })),
          now,
          options.alongside,
        ),
    );
    let next = 0;
    const replies = inputs.map((input, i) => {
      const record = legacy[i];
      return record ? earlierUse(record, requestDigest(input)) : stored[next++]!;
    });
    const answered = replies.find((o): o is StoreReply => !(o instanceof Error) && o[2] > 0);
    if (answered) this.clock.observe(answered[2]);
    const repeated = replies.flatMap((outcome) => (!(outcome instanceof Error) && outcome[0] === 0 ? [outcome[1]] : []));
    const earlier = await this.getMany(repeated).catch((error: Error) => error);
    return replies.map((reply, i) => {
      if (reply instanceof Error) return refused(reply);
      const [outcome, id, , orderingSeq] = reply;
      const input = inputs[i]!;
      if (outcome === 1) return { event: orderingSeq ? { ...events[i]!, orderingSeq } : events[i]!, created: true };
      if (outcome === -1)
        return new UnavailableError(
          "Redis answered after the publish's deadline: the event was not stored; publish it again with the same id",
        );
      if (outcome === 2)
        return new ConflictError(
          `idempotency key "${input.idempotencyKey}" was used for event ${id} with another type, data or occurredAt`,
        );
      if (earlier instanceof Error) return refused(earlier);
      const event = earlier.get(id);
      // The earlier event expired between its key and its record: the key is all that is left.
      return event
        ? { event, created: false }
        : new ConflictError(`idempotency key "${input.idempotencyKey}" belongs to event ${id}, which has expired`);
    });
  }

  /** The record of an event about to be stored, its id naming its partition. */
  private eventOf(input: NewEvent, now: number): EventRecord {
    return {
      id: input.id ?? this.newEventId(input, now),
      projectId: input.projectId,
      type: input.type,
      data: input.data,
      idempotencyKey: input.idempotencyKey,
      idempotencyScope: input.idempotencyKey ? input.idempotencyScope : undefined,
      occurredAt: input.occurredAt ?? now,
      createdAt: now,
      sample: input.sample,
      routeJobId: input.routeJobId,
      orderingKey: input.orderingKey,
      retentionMs: input.retentionMs,
    };
  }

  /** Stores events of one partition in one round trip, with what `alongside` adds; each store's own reply. */
  private async storeInPartition(
    partition: number,
    items: { input: NewEvent; event: EventRecord; deadline?: number }[],
    now: number,
    alongside?: StoreOptions["alongside"],
  ): Promise<(StoreReply | Error)[]> {
    const pipeline = alongside ? await alongside.pipelineFor(partition) : this.redis.pipeline();
    for (const { input, event, deadline } of items) {
      const orderingKey = input.orderingKey ?? "";
      const projectId = input.projectId ?? DEFAULT_PROJECT_ID;
      const idempotencyKey = input.idempotencyKey ? scopedIdempotencyKey(input.idempotencyScope, input.idempotencyKey) : "-";
      this.storeEvent.queue(
        pipeline,
        [
          this.keys.event(event.id),
          this.keys.idempotency(idempotencyKey, partition),
          this.keys.eventsToRoute(partition),
          this.keys.orderingKey(projectId, orderingKey, "seq", partition),
          this.keys.orderingKey(projectId, orderingKey, "unrouted", partition),
          ...this.participants.keysOf(event),
        ],
        [
          event.id,
          JSON.stringify(event),
          input.idempotencyKey ?? "",
          input.retentionMs ?? this.retentionMs,
          event.sample ? "" : now + this.routeGraceMs,
          // Only a repeated key is compared with the request it was first used for.
          input.idempotencyKey ? requestDigest(input) : "",
          deadline === undefined ? "" : this.clock.onRedisClock(deadline),
          orderingKey,
          this.participants.lifetimeMs(input.retentionMs),
        ],
      );
    }
    alongside?.add(
      items.map(({ event }) => event),
      pipeline,
      partition,
    );
    // Last in the pipeline, so it covers the stores and the route jobs added with them. WAIT
    // has no key: a cluster sends it with the pipeline, to the master that ran the stores.
    if (this.replicaWait)
      pipeline.call(
        "WAIT",
        this.replicaWait.replicas,
        this.waitTimeout(
          items.map(({ deadline }) => deadline),
          now,
        ),
      );
    return ownReplies<StoreReply>(pipeline, items.length, this.replicaWait);
  }

  /** WAIT's timeout: until the earliest publish deadline, else the configured wait. */
  private waitTimeout(deadlines: (number | undefined)[], now: number): number {
    const earliest = Math.min(...deadlines.map((deadline) => deadline ?? Infinity));
    return Math.max(1, Math.min(this.replicaWait!.timeoutMs, earliest - now));
  }

  /**
   * The id of a new event, naming the partition it is stored in: its ordering key's (all of a
   * key's events in one place, numbered in one sequence), else its idempotency key's (a publish
   * repeated with the key finds the first wherever it is retried), else `unkeyedPartition`, or
   * the next of the partitions of the moment (partitionOfTheMoment).
   */
  newEventId(
    input: Pick<NewEvent, "orderingKey" | "idempotencyKey" | "idempotencyScope">,
    now = Date.now(),
    unkeyedPartition?: number,
  ): string {
    let partition: number;
    if (input.orderingKey !== undefined) partition = this.keys.partitionOfOrderingKey(input.orderingKey);
    else if (input.idempotencyKey !== undefined)
      partition = partitionOfKey(scopedIdempotencyKey(input.idempotencyScope, input.idempotencyKey), this.keys.partitionCount);
    else partition = unkeyedPartition ?? this.partitionOfTheMoment();
    return newId("evt", now, partition);
  }

  /**
   * One of the partitions of the moment, one on each master, over which what is made in one
   * turn of the event loop (publishes, batches) is dealt: one round trip and one route job for
   * each master's share (MomentPartitions). A batch takes one for all its events.
   */
  partitionOfTheMoment(): number {
    if (this.moment === undefined) {
      this.moment = { partitions: this.momentPartitions.next(), dealt: 0 };
      setImmediate(() => (this.moment = undefined));
    }
    const { partitions } = this.moment;
    return partitions[this.moment.dealt++ % partitions.length]!;
  }

  /** Notes that these events' route job has run: the reconciler no longer watches them. */
  async markRouted(ids: string[]): Promise<void> {
    await eachPartition(ids, (own, partition) => this.redis.zrem(this.keys.eventsToRoute(partition), ...own));
  }

  /** One partition's events whose route job was due by `now` and has not run: oldest first, at most `limit`. */
  async overdueForRouting(partition: number, now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.eventsToRoute(partition), "-inf", now, "LIMIT", 0, limit);
  }

  /** Looks at overdue events again at `at`, unless they are routed by then. */
  async watchRouting(ids: string[], at: number): Promise<void> {
    await eachPartition(ids, (own, partition) =>
      this.redis.zadd(this.keys.eventsToRoute(partition), "XX", ...own.flatMap((id) => [at, id])),
    );
  }

  async get(id: string): Promise<EventRecord> {
    const raw = await this.redis.get(this.keys.event(id));
    if (!raw) throw new NotFoundError("event", id);
    return JSON.parse(raw) as EventRecord;
  }

  /** Several events by id, in one round trip per partition; unknown ids are left out. */
  async getMany(ids: string[]): Promise<Map<string, EventRecord>> {
    if (ids.length === 0) return new Map();
    const raws = await perPartition(ids, (own) => this.redis.mget(own.map((id) => this.keys.event(id))));
    return new Map(raws.flatMap((raw, i) => (raw ? [[ids[i]!, JSON.parse(raw) as EventRecord] as const] : [])));
  }
}

/** An idempotency key as stored: scoped to the API key that published (its non-secret id). */
export function scopedIdempotencyKey(scope: string | undefined, key: string): string {
  return `${scope ?? "-"}:${key}`;
}

/** What makes two publishes the same request: type, data (keys in any order) and occurredAt. */
function requestDigest(input: NewEvent): string {
  return (
    createHash("sha256")
      // The project only when named, so that a key first used before projects compares as it did.
      // The same for the ordering key.
      .update(
        stringify([
          input.type,
          input.data,
          input.occurredAt ?? null,
          ...(input.projectId ? [input.projectId] : []),
          ...(input.orderingKey ? [{ orderingKey: input.orderingKey }] : []),
        ]) ?? "",
      )
      .digest("base64url")
  );
}

/**
 * The first `count` replies of a pipeline, each its value or its own error, so that one
 * failed command fails only its own item; a pipeline that could not be sent fails them all.
 */
async function ownReplies<T>(pipeline: ChainableCommander, count: number, replicaWait?: ReplicaWait): Promise<(T | Error)[]> {
  const replies = await pipeline.exec().catch((error: Error) => error);
  const unreplicated = replies instanceof Error ? undefined : fewerReplicasThan(replicaWait, replies?.at(-1));
  return Array.from({ length: count }, (_, i) => {
    if (replies instanceof Error) return replies;
    if (unreplicated) return unreplicated;
    const [error, value] = replies?.[i] ?? [new Error("Redis sent no reply")];
    return error ?? (value as T);
  });
}

/**
 * The error for every store of the round trip when WAIT (the pipeline's last reply) counted
 * fewer replicas than asked for: the events are on the master only, and would be lost with it.
 * The publisher tries again with the same id, which finds the event if it survived.
 */
function fewerReplicasThan(replicaWait: ReplicaWait | undefined, reply: [Error | null, unknown] | undefined): UnavailableError | undefined {
  if (!replicaWait) return undefined;
  const [error, acknowledged] = reply ?? [new Error("Redis sent no reply")];
  if (!error && Number(acknowledged) >= replicaWait.replicas) return undefined;
  return new UnavailableError(
    `the event was not confirmed by ${replicaWait.replicas} Redis replica(s) in time (${error?.message ?? `${Number(acknowledged)} confirmed`}); publish it again with the same id`,
  );
}

/** A store Redis refused or could not run: the publisher may try again (503), with the same id. */
function refused(cause: Error): UnavailableError {
  return new UnavailableError(`Redis could not store the event (${cause.message}); publish it again with the same id`, { cause });
}
