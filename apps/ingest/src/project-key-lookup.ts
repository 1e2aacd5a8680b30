import type { ProjectKeyGrant, ProjectStore } from "@hookbus/core/store";

/**
 * How long an ingest trusts a project key it looked up. A revoke is refused by every ingest
 * within this time without any message between them; a key in use costs a Redis read this often.
 */
export const KEY_LOOKUP_TTL_MS = 500;

/** How often, at most, one ingest records that a key was used: `lastUsedAt` is to the minute. */
const MARK_USED_EVERY_MS = 60_000;

/** Keys held at once; past this the cache starts over (it holds only keys that exist). */
const MAX_CACHED_KEYS = 10_000;

/**
 * Project keys found by their digest, each kept for a moment. Only keys that exist are kept:
 * an unknown key is looked up every time, and counted by the failed-auth throttle.
 */
export class ProjectKeyLookup {
  private readonly found = new Map<string, { grant: ProjectKeyGrant; until: number }>();
  private readonly markedAt = new Map<string, number>();

  constructor(
    private readonly store: ProjectStore,
    private readonly onError: (error: unknown) => void,
    private readonly ttlMs = KEY_LOOKUP_TTL_MS,
  ) {}

  async find(digest: string, now = Date.now()): Promise<ProjectKeyGrant | undefined> {
    const cached = this.found.get(digest);
    if (cached && cached.until > now) return cached.grant;
    const grant = await this.store.findKey(digest);
    if (!grant) {
      this.found.delete(digest);
      return undefined;
    }
    if (this.found.size >= MAX_CACHED_KEYS) this.found.clear();
    this.found.set(digest, { grant, until: now + this.ttlMs });
    this.markUsed(grant, now);
    return grant;
  }

  /** Drops a key revoked through this ingest at once. */
  forget(digest: string): void {
    this.found.delete(digest);
  }

  private markUsed(grant: ProjectKeyGrant, now: number): void {
    if (now - (this.markedAt.get(grant.keyId) ?? 0) < MARK_USED_EVERY_MS) return;
    if (this.markedAt.size >= MAX_CACHED_KEYS) this.markedAt.clear();
    this.markedAt.set(grant.keyId, now);
    // Best effort: a request is not failed for want of its key's last-used time.
    this.store.markUsed(grant, now).catch(this.onError);
  }
}
