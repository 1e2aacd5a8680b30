import { defineScript, readLua, scanEveryNode, type RedisConnection } from "./redis.js";
import { erasureFields, type ErasureField } from "@hookbus/schemas";
import type { EventRecord } from "../policy/domain.js";
import type { ParticipantHasher } from "../policy/participant-hash.js";
import { participantValues } from "../policy/participant-values.js";
import { projectOf } from "../policy/project-scope.js";
import { partitionOfId } from "../policy/ids.js";
import type { Keys } from "./keys.js";
import { perPartition } from "./partitioned.js";

const MOVE_INDEX_SET = readLua(import.meta.url, "move-index-set.lua");

/** Index sets looked at a time when they are re-keyed. */
const REKEY_BATCH = 500;

/** Events read of a set to find the value it indexes: any one that is still kept carries it. */
const EVENTS_SAMPLED = 5;

/**
 * Participant value -> event ids, per project, so that erasing a participant reads their
 * events instead of scanning every event. EventStore adds to it in the script that stores the
 * event; the erasure reads and removes. An entry lives twice the event's retention window
 * (its project's, or the configured one) from the participant's latest event: an event
 * outlives its window only while its deliveries are retried or replayed, and the second
 * window covers that.
 */
export class ParticipantIndex {
  private readonly moveSet;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
    private readonly hasher: ParticipantHasher,
    private readonly retentionMs: number,
  ) {
    this.moveSet = defineScript<number>(redis, "hookbusMoveIndexSet", 2, MOVE_INDEX_SET);
  }

  /** How long an index entry lives after its latest event is stored (ms), for an event kept `retentionMs` (unset: the configured retention). */
  lifetimeMs(retentionMs = this.retentionMs): number {
    return 2 * retentionMs;
  }

  /** The index keys a new event is added to, in its partition: one per participant value it carries, under the sealing key. */
  keysOf(event: Pick<EventRecord, "id" | "data" | "projectId">): string[] {
    const projectId = projectOf(event);
    return participantValues(event.data).map(({ field, value }) =>
      this.keys.participantIndex(projectId, field, this.hasher.hash(value).digest, partitionOfId(event.id)),
    );
  }

  /**
   * Every index key of one partition that may hold this value's events in these projects
   * (under every key held, for entries made before a rotation).
   */
  keysFor(field: ErasureField, value: string, projectIds: string[], partition: number): string[] {
    const digests = this.hasher.hashesUnderEveryKey(value).map((h) => h.digest);
    return projectIds.flatMap((projectId) => digests.map((digest) => this.keys.participantIndex(projectId, field, digest, partition)));
  }

  /** The ids of the events indexed under this value in these projects, in every partition. */
  async eventIds(field: ErasureField, value: string, projectIds: string[]): Promise<string[]> {
    if (projectIds.length === 0) return [];
    const each = await Promise.all(
      this.keys.partitions().map((partition) => this.redis.sunion(...this.keysFor(field, value, projectIds, partition))),
    );
    return each.flat();
  }

  /** Notes when the index began, once: events stored before it are found by a scan (see `needsScan`). */
  async markStart(now = Date.now()): Promise<void> {
    await this.redis.set(this.keys.participantIndexSince(), now, "NX");
  }

  /**
   * Whether events stored before the index may still exist (an installation upgraded in place):
   * true until a scan has found none. Before `markStart` has run, every event is such an event.
   */
  async needsScan(): Promise<{ scan: boolean; before: number }> {
    const [since, complete] = await this.redis.mget(this.keys.participantIndexSince(), this.keys.participantIndexComplete());
    return { scan: complete === null, before: since === null ? Number.POSITIVE_INFINITY : Number(since) };
  }

  /** Notes that no event stored before the index is left: later erasures read the index alone. */
  async markComplete(): Promise<void> {
    await this.redis.set(this.keys.participantIndexComplete(), Date.now());
  }

  /**
   * Renames every index set made under another key than the sealing one to its name under the
   * sealing key, so that an older key can be dropped without erasures missing the events it
   * indexed. A set's name holds only the value's keyed hash, so the value is read from one of
   * its events; a set none of whose events is kept any more is left to expire. Run once every
   * process seals with the new key (a reseal's last page does): one still indexing under the
   * old key would make sets that are not moved. Returns how many sets it moved.
   */
  async rekeyAll(): Promise<number> {
    let moved = 0;
    for (const partition of this.keys.partitions()) {
      const pattern = this.keys.participantIndex("*", "*", "*", partition);
      for await (const found of scanEveryNode(this.redis, pattern, REKEY_BATCH)) moved += await this.rekey(found, partition);
    }
    return moved;
  }

  private async rekey(indexKeys: string[], partition: number): Promise<number> {
    const sets = indexKeys.flatMap((key) => {
      const named = this.keys.participantIndexOf(key, partition);
      return named && erasureFields.includes(named.field as ErasureField)
        ? [{ key, projectId: named.projectId, field: named.field as ErasureField }]
        : [];
    });
    let moved = 0;
    for (const set of sets) {
      const value = await this.valueIndexed(set.key, set.field);
      if (value === undefined) continue;
      const current = this.keys.participantIndex(set.projectId, set.field, this.hasher.hash(value).digest, partition);
      if (current === set.key) continue;
      await this.moveSet.run([set.key, current], []);
      moved++;
    }
    return moved;
  }

  /** The value a set indexes, read from its events: a few first, then, should none of those be kept, all. */
  private async valueIndexed(indexKey: string, field: ErasureField): Promise<string | undefined> {
    const sampled = await this.redis.srandmember(indexKey, EVENTS_SAMPLED);
    const fromEvents = async (ids: string[]) => {
      if (ids.length === 0) return undefined;
      for (const raw of await perPartition(ids, (own) => this.redis.mget(own.map((id) => this.keys.event(id))))) {
        const value = raw === null ? undefined : (JSON.parse(raw) as Pick<EventRecord, "data">).data[field];
        if (typeof value === "string" && value !== "") return value;
      }
      return undefined;
    };
    return (await fromEvents(sampled)) ?? (sampled.length < EVENTS_SAMPLED ? undefined : fromEvents(await this.redis.smembers(indexKey)));
  }
}
