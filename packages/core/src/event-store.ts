import type { Redis } from "ioredis";
import type { EventType } from "@hookbus/schemas";
import type { EventRecord } from "./domain.js";
import { NotFoundError } from "./errors.js";
import { newId } from "./ids.js";
import type { Keys } from "./keys.js";
import { defineScript } from "./redis.js";

export interface NewEvent {
  /** Chosen by the caller when it must know the id before storing (to listen for sync outcomes). */
  id?: string;
  type: EventType;
  data: Record<string, unknown>;
  idempotencyKey?: string;
  occurredAt?: number;
  sample?: boolean;
}

// Claims the idempotency key and stores the event in one step, so that two publishes
// racing with the same key store one event: the loser gets the winner's id back. The event is
// noted as not yet routed until its route job has run, for the reconciler (samples, which are
// never routed but to the one subscription they are sent to, are not).
// KEYS: event, idempotency key, events to route
// ARGV: eventId, event JSON, idempotency key ('' for none), retention ms, check route job at ('' for none)
const STORE_EVENT = `
if ARGV[3] ~= '' then
  local existing = redis.call('GET', KEYS[2])
  if existing then return {0, existing} end
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[4])
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
if ARGV[5] ~= '' then redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1]) end
return {1, ARGV[1]}
`;

/** Published events, kept for the retention window. */
export class EventStore {
  private readonly storeEvent;

  /** @param routeGraceMs how long an event may wait for its route job before the reconciler looks */
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly retentionMs: number,
    private readonly routeGraceMs: number,
  ) {
    this.storeEvent = defineScript<[number, string]>(redis, "hookbusStoreEvent", 3, STORE_EVENT);
  }

  /** Stores a new event, or returns the one stored before under the same idempotency key. */
  async store(input: NewEvent, now = Date.now()): Promise<{ event: EventRecord; created: boolean }> {
    const event: EventRecord = {
      id: input.id ?? newId("evt", now),
      type: input.type,
      data: input.data,
      idempotencyKey: input.idempotencyKey,
      occurredAt: input.occurredAt ?? now,
      createdAt: now,
      sample: input.sample,
    };
    const idempotencyKey = input.idempotencyKey ? this.keys.idempotency(input.idempotencyKey) : this.keys.idempotency("-");
    const [created, id] = await this.storeEvent.run(
      [this.keys.event(event.id), idempotencyKey, this.keys.eventsToRoute()],
      [event.id, JSON.stringify(event), input.idempotencyKey ?? "", this.retentionMs, event.sample ? "" : now + this.routeGraceMs],
    );
    if (created === 1) return { event, created: true };
    return { event: await this.get(id), created: false };
  }

  /** Notes that an event's route job has run: the reconciler no longer watches it. */
  async markRouted(id: string): Promise<void> {
    await this.redis.zrem(this.keys.eventsToRoute(), id);
  }

  /** Events whose route job was due by `now` and has not run: oldest first, at most `limit`. */
  async overdueForRouting(now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.eventsToRoute(), "-inf", now, "LIMIT", 0, limit);
  }

  /** Looks at an overdue event again after `graceMs`, unless it is routed by then. */
  async watchRouting(ids: string[], at: number): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.zadd(this.keys.eventsToRoute(), "XX", ...ids.flatMap((id) => [at, id]));
  }

  async get(id: string): Promise<EventRecord> {
    const raw = await this.redis.get(this.keys.event(id));
    if (!raw) throw new NotFoundError("event", id);
    return JSON.parse(raw) as EventRecord;
  }
}
