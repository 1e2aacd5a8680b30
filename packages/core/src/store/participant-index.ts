import type { RedisConnection } from "./redis.js";
import type { ErasureField } from "@hookbus/schemas";
import type { EventRecord } from "../policy/domain.js";
import type { ParticipantHasher } from "../policy/participant-hash.js";
import { participantValues } from "../policy/participant-values.js";
import { projectOf } from "../policy/project-scope.js";
import type { Keys } from "./keys.js";

/**
 * Participant value -> event ids, per project, so that erasing a participant reads their
 * events instead of scanning every event. EventStore adds to it in the script that stores the
 * event; the erasure reads and removes. An entry lives twice the event's retention window
 * (its project's, or the configured one) from the participant's latest event: an event
 * outlives its window only while its deliveries are retried or replayed, and the second
 * window covers that.
 */
export class ParticipantIndex {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
    private readonly hasher: ParticipantHasher,
    private readonly retentionMs: number,
  ) {}

  /** How long an index entry lives after its latest event is stored (ms), for an event kept `retentionMs` (unset: the configured retention). */
  lifetimeMs(retentionMs = this.retentionMs): number {
    return 2 * retentionMs;
  }

  /** The index keys a new event is added to: one per participant value it carries, under the sealing key. */
  keysOf(event: Pick<EventRecord, "data" | "projectId">): string[] {
    const projectId = projectOf(event);
    return participantValues(event.data).map(({ field, value }) =>
      this.keys.participantIndex(projectId, field, this.hasher.hash(value).digest),
    );
  }

  /** Every index key that may hold this value's events in these projects (under every key held, for entries made before a rotation). */
  keysFor(field: ErasureField, value: string, projectIds: string[]): string[] {
    const digests = this.hasher.hashesUnderEveryKey(value).map((h) => h.digest);
    return projectIds.flatMap((projectId) => digests.map((digest) => this.keys.participantIndex(projectId, field, digest)));
  }

  /** The ids of the events indexed under these keys. */
  async eventIds(indexKeys: string[]): Promise<string[]> {
    if (indexKeys.length === 0) return [];
    return this.redis.sunion(...indexKeys);
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
}
