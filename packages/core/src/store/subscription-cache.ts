import type { RedisConnection } from "./redis.js";
import { DEFAULT_PROJECT_ID, eventTypes, type EventType } from "@hookbus/schemas";
import type { Subscription } from "../policy/domain.js";
import { projectOf } from "../policy/project-scope.js";
import type { Keys } from "./keys.js";
import type { ProjectType, SubscriptionStore, VersionedSubscriptions } from "./subscription-store.js";

export const SUBSCRIPTION_REFRESH_MS = 5000;

/** What an entry is kept under: a project and an event type. */
const entryKey = ({ projectId, type }: ProjectType) => `${projectId} ${type}`;

/**
 * Each project's subscriptions to each event type, held in memory. The publish path reads it as it is:
 * a publish then knows at once whether it must wait for sync subscriptions and for how long,
 * without a Redis round trip that could outlast the sync timeout when Redis is slow. Routing
 * passes the version of the subscriptions it must see at least (one small read) and gets
 * exactly those: an entry loaded at an older version is loaded again.
 *
 * Kept fresh three ways: changes made by this process clear it at once; changes announced by
 * other processes on the changes channel clear it within a round trip; and a background
 * refresh replaces every entry every few seconds, in case an announcement was missed (pub/sub
 * drops messages while a connection is down). Reads never wait on that refresh.
 */
export class SubscriptionCache {
  private readonly entries = new Map<string, { of: ProjectType; loading: Promise<VersionedSubscriptions> }>();
  /** Bumped on every change, so a read or refresh begun before it does not store stale data. */
  private generation = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: SubscriptionStore,
    refreshMs = SUBSCRIPTION_REFRESH_MS,
  ) {
    store.onChange(() => this.clear());
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
  }

  /** Clears the cache whenever another process announces a change (on a connection in subscriber mode). */
  async followChanges(subscriber: RedisConnection, keys: Keys): Promise<void> {
    const channel = keys.subscriptionChanges();
    subscriber.on("message", (from: string) => {
      if (from === channel) this.clear();
    });
    await subscriber.subscribe(channel);
  }

  /** Loads the default project's subscriptions to every event type, so that the first publishes find them in memory. */
  async warm(): Promise<void> {
    await Promise.all(eventTypes.map((type) => this.forEventType({ type, projectId: DEFAULT_PROJECT_ID })));
  }

  /**
   * @param of the event's type and project (absent: the default project)
   * @param atLeastVersion the subscriptions' version (SubscriptionStore.version) the answer must be at, or newer
   */
  async forEventType(of: { type: EventType; projectId?: string }, atLeastVersion = 0): Promise<Subscription[]> {
    return (await this.versioned(of, atLeastVersion)).subscriptions;
  }

  /** The same, with the version they were read at. */
  async versioned(of: { type: EventType; projectId?: string }, atLeastVersion = 0): Promise<VersionedSubscriptions> {
    const which = { type: of.type, projectId: projectOf(of) };
    const cached = this.entries.get(entryKey(which))?.loading;
    const entry = cached && (await cached.catch(() => undefined));
    if (entry && entry.version >= atLeastVersion) return entry;
    return this.load(which);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private load(of: ProjectType): Promise<VersionedSubscriptions> {
    const key = entryKey(of);
    const loading = this.store.forEventType(of);
    this.entries.set(key, { of, loading });
    loading.catch(() => {
      if (this.entries.get(key)?.loading === loading) this.entries.delete(key);
    });
    return loading;
  }

  private clear(): void {
    this.generation++;
    this.entries.clear();
  }

  private async refresh(): Promise<void> {
    for (const [key, { of }] of [...this.entries]) {
      const generation = this.generation;
      const fresh = await this.store.forEventType(of).catch(() => undefined);
      if (fresh && generation === this.generation) this.entries.set(key, { of, loading: Promise.resolve(fresh) });
    }
  }
}
