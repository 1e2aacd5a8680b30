import type { RedisConnection } from "./redis.js";
import type { EventRecord } from "../policy/domain.js";
import { partitionOfId } from "../policy/ids.js";
import { partitionOfKey } from "../policy/partitions.js";
import { execPipeline } from "./delivery-queries.js";
import type { Keys } from "./keys.js";
import { scanEveryNode } from "./redis.js";

/** How often a process that has not seen the keys moved looks again. */
const MOVED_LOOK_MS = 5_000;
/** Keys read per SCAN call while moving. */
const MOVE_BATCH = 500;

/**
 * The idempotency keys stored before partitions: all in partition 0, where a publish whose key
 * now belongs to another partition (its own, or its ordering key's) does not look. Until the
 * worker has moved them (moveAll), such a publish looks for its key in partition 0 first, so a
 * key used before the upgrade still names its first event.
 */
export class LegacyIdempotencyKeys {
  private moved: boolean;
  private lookedAt = -Infinity;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
  ) {
    // With one partition every key is where it always was.
    this.moved = keys.partitionCount === 1;
  }

  /**
   * For each event about to be stored with an idempotency key (its id, and the key as stored;
   * undefined: none), the record ("eventId digest") an earlier version left for the key in
   * partition 0, when the event is stored elsewhere.
   */
  async find(events: ({ id: string; scopedKey: string } | undefined)[]): Promise<(string | undefined)[]> {
    const elsewhere = events.map((event) => (event && partitionOfId(event.id) !== 0 ? event : undefined));
    if (!elsewhere.some(Boolean) || (await this.allMoved())) return events.map(() => undefined);
    const pipeline = this.redis.pipeline();
    for (const event of elsewhere) if (event) pipeline.get(this.keys.idempotency(event.scopedKey, 0));
    const found = await execPipeline<string | null>(pipeline);
    let next = 0;
    return elsewhere.map((event) => (event ? (found[next++] ?? undefined) : undefined));
  }

  /**
   * Copies every key of partition 0 that belongs elsewhere to the partitions a publish looks in
   * for it: its own, and its first event's ordering key's, keeping its time to live. Copies
   * never overwrite, so it may run in several processes at once, or again after a crash. Returns
   * how many it copied; once none is left to look at, publishes stop looking in partition 0.
   */
  async moveAll(): Promise<number> {
    if (await this.allMoved()) return 0;
    let copied = 0;
    for await (const found of scanEveryNode(this.redis, this.keys.idempotency("*", 0), MOVE_BATCH)) copied += await this.copy(found);
    await this.redis.set(this.keys.legacyIdempotencyMoved(), "1");
    this.moved = true;
    return copied;
  }

  private async copy(legacyKeys: string[]): Promise<number> {
    if (legacyKeys.length === 0) return 0;
    const read = this.redis.pipeline();
    for (const key of legacyKeys) read.get(key).pttl(key);
    const values = await execPipeline<string | number | null>(read);
    const records = legacyKeys.flatMap((key, i) => {
      const record = values[2 * i] as string | null;
      const ttl = values[2 * i + 1] as number;
      return record && ttl > 0 ? [{ scopedKey: key.slice(this.keys.idempotency("", 0).length), record, ttl }] : [];
    });
    const firstEvents = await this.redis.mget(records.map(({ record }) => this.keys.event(record.split(" ")[0]!)));
    let copied = 0;
    await Promise.all(
      records.map(async ({ scopedKey, record, ttl }, i) => {
        const orderingKey = firstEvents[i] ? (JSON.parse(firstEvents[i]!) as EventRecord).orderingKey : undefined;
        const partitions = new Set([partitionOfKey(scopedKey, this.keys.partitionCount)]);
        if (orderingKey !== undefined) partitions.add(this.keys.partitionOfOrderingKey(orderingKey));
        partitions.delete(0);
        for (const partition of partitions)
          if (await this.redis.set(this.keys.idempotency(scopedKey, partition), record, "PX", ttl, "NX")) copied++;
      }),
    );
    return copied;
  }

  private async allMoved(): Promise<boolean> {
    if (this.moved || performance.now() - this.lookedAt < MOVED_LOOK_MS) return this.moved;
    this.lookedAt = performance.now();
    this.moved = (await this.redis.exists(this.keys.legacyIdempotencyMoved())) === 1;
    return this.moved;
  }
}
