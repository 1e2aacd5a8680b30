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
// racing with the same key store one event: the loser gets the winner's id back.
const STORE_EVENT = `
if ARGV[3] ~= '' then
  local existing = redis.call('GET', KEYS[2])
  if existing then return {0, existing} end
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[4])
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
return {1, ARGV[1]}
`;

/** Published events, kept for the retention window. */
export class EventStore {
  private readonly storeEvent;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly retentionMs: number,
  ) {
    this.storeEvent = defineScript<[number, string]>(redis, "hookbusStoreEvent", 2, STORE_EVENT);
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
      [this.keys.event(event.id), idempotencyKey],
      [event.id, JSON.stringify(event), input.idempotencyKey ?? "", this.retentionMs],
    );
    if (created === 1) return { event, created: true };
    return { event: await this.get(id), created: false };
  }

  async get(id: string): Promise<EventRecord> {
    const raw = await this.redis.get(this.keys.event(id));
    if (!raw) throw new NotFoundError("event", id);
    return JSON.parse(raw) as EventRecord;
  }
}
