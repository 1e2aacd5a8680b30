import type { RedisConnection } from "./redis.js";
import {
  DEFAULT_PROJECT_ID,
  settingsOnCreate,
  type SubscriptionSettings,
  type CreateSubscriptionBody,
  type DisabledReason,
  type EventType,
  type UpdateSubscriptionBody,
} from "@hookbus/schemas";
import { DEFAULT_TIMEOUT_MS, type Subscription } from "../policy/domain.js";
import { NotFoundError, UnavailableError, UnprocessableError } from "../policy/errors.js";
import { newId } from "../policy/ids.js";
import { projectOf } from "../policy/project-scope.js";
import type { Keys } from "./keys.js";
import { defineScript, readLua } from "./redis.js";
import { parseRetrySchedule } from "../policy/retry.js";
import type { SecretBox } from "../policy/secret-box.js";
import { activeSecrets, newSigningSecret } from "../policy/signing.js";
import { SubscriptionCodec, type UnreadableListener } from "../policy/subscription-codec.js";

const SUBSCRIPTIONS_FOR_TYPE = readLua(import.meta.url, "subscriptions-for-type.lua");
const WRITE_IF_UNCHANGED = readLua(import.meta.url, "write-subscription-if-unchanged.lua");
/** Sets a partition's copy of the subscriptions' version to ARGV[1] unless it is past it already. */
const RAISE_VERSION_COPY =
  "if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end return 1";

/** How often a change is made again after losing a race before giving up with 503. */
const MAX_CHANGE_TRIES = 20;

/** Some event type's subscriptions, as they were at one version of all subscriptions. */
export interface VersionedSubscriptions {
  version: number;
  subscriptions: Subscription[];
}

/** What a reseal did to one subscription. */
export type ResealOutcome = "resealed" | "current" | "unreadable" | "gone";

/** Which subscriptions routing reads: one project's, to one event type. */
export interface ProjectType {
  type: EventType;
  projectId: string;
}

/** Subscriptions by the key their secrets are sealed with. */
export interface KeyUsage {
  /** Key id to the number of subscriptions sealed with it. */
  byKey: Map<string, number>;
  /** Written before secrets were sealed at rest. */
  unsealed: number;
}

/** How many subscriptions the census reads in one round trip. */
const CENSUS_PAGE = 500;

/** Subscriptions in Redis: one JSON value each, secrets sealed, indexed by event type for routing. */
export class SubscriptionStore {
  private readonly subscriptionsForType;
  private readonly writeIfUnchanged;
  private readonly raiseCopy;
  private readonly changeListeners: (() => void)[] = [];
  readonly codec: SubscriptionCodec;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
    encryption: SecretBox,
    onUnreadable?: UnreadableListener,
  ) {
    this.codec = new SubscriptionCodec(encryption, onUnreadable);
    this.subscriptionsForType = defineScript<string[]>(redis, "hookbusSubscriptionsForType", 2, SUBSCRIPTIONS_FOR_TYPE);
    this.writeIfUnchanged = defineScript<number>(redis, "hookbusWriteSubscriptionIfUnchanged", 3, WRITE_IF_UNCHANGED);
    this.raiseCopy = defineScript<number>(redis, "hookbusRaiseVersionCopy", 1, RAISE_VERSION_COPY);
  }

  /** @param projectId the project it is made in: only that project's events reach it */
  async create(body: CreateSubscriptionBody, projectId: string = DEFAULT_PROJECT_ID, now = Date.now()): Promise<Subscription> {
    const settings = settingsOnCreate(body) as SubscriptionSettings;
    const subscription: Subscription = {
      ...settings,
      id: newId("sub", now),
      projectId,
      eventTypes: [...new Set(body.eventTypes)],
      timeoutMs: body.timeoutMs ?? DEFAULT_TIMEOUT_MS[settings.mode],
      retrySchedule: body.retrySchedule ? parseRetrySchedule(body.retrySchedule) : undefined,
      disabledReason: body.enabled === false ? "admin" : undefined,
      disabledAt: body.enabled === false ? now : undefined,
      secrets: [{ secret: newSigningSecret(), createdAt: now }],
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.write(subscription.id, "", subscription, { projectId, eventTypes: [] })))
      throw new UnavailableError(`subscription id ${subscription.id} is taken`);
    return subscription;
  }

  async get(id: string): Promise<Subscription> {
    return (await this.getStored(id)).subscription;
  }

  /** Several at once, in one round trip; unknown ids are left out. */
  async getMany(ids: string[]): Promise<Subscription[]> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.subscription(id)));
    return raws.flatMap((raw) => (raw ? [this.codec.decode(raw)] : []));
  }

  /**
   * One project's subscriptions to one event type, with the version they are at, read in one
   * step: what the caches hold.
   */
  async forEventType({ type, projectId }: ProjectType): Promise<VersionedSubscriptions> {
    const [version, ...values] = await this.subscriptionsForType.run(
      [this.keys.subscriptionsByType(type, projectId), this.keys.subscriptionsVersion()],
      [this.keys.subscription("")],
    );
    return { version: Number(version), subscriptions: values.map((raw) => this.codec.decode(raw)) };
  }

  /** How many changes subscriptions have had: one read, to tell whether a cache is stale. */
  async version(): Promise<number> {
    return Number((await this.redis.get(this.keys.subscriptionsVersion())) ?? 0);
  }

  /** The id of every subscription: the set is small next to the deliveries, one read. */
  async allIds(): Promise<string[]> {
    return this.redis.zrange(this.keys.subscriptions(), 0, -1);
  }

  /**
   * A page of subscriptions in creation order, after the cursor id; of one project when named.
   * A project's are picked out of all of them, page by page: subscriptions are few next to
   * deliveries, and this keeps one index of them.
   */
  async list(limit: number, cursor?: string, projectId?: string): Promise<{ items: Subscription[]; nextCursor?: string }> {
    const items: Subscription[] = [];
    let after = cursor;
    for (;;) {
      const { ids, nextCursor } = await this.idPage(limit, after);
      for (const subscription of await this.getMany(ids)) {
        if (projectId !== undefined && projectOf(subscription) !== projectId) continue;
        items.push(subscription);
        if (items.length === limit) return { items, nextCursor: subscription.id === ids[ids.length - 1] ? nextCursor : subscription.id };
      }
      if (!nextCursor) return { items };
      after = nextCursor;
    }
  }

  /** Every subscription of one project. */
  async ofProject(projectId: string): Promise<Subscription[]> {
    return (await this.list(Number.MAX_SAFE_INTEGER, undefined, projectId)).items;
  }

  /** Reseals (see `reseal`) a page of subscriptions in creation order, after the cursor id. */
  async resealPage(
    limit: number,
    cursor?: string,
  ): Promise<{ checked: number; resealed: number; unreadable: string[]; nextCursor?: string }> {
    const { ids, nextCursor } = await this.idPage(limit, cursor);
    const outcomes = await Promise.all(ids.map(async (id) => ({ id, outcome: await this.reseal(id) })));
    return {
      checked: ids.length,
      resealed: outcomes.filter((o) => o.outcome === "resealed").length,
      unreadable: outcomes.flatMap((o) => (o.outcome === "unreadable" ? [o.id] : [])),
      nextCursor,
    };
  }

  private async idPage(limit: number, cursor?: string): Promise<{ ids: string[]; nextCursor?: string }> {
    const ids = await this.redis.zrangebylex(this.keys.subscriptions(), cursor ? `(${cursor}` : "-", "+", "LIMIT", 0, limit + 1);
    const page = ids.slice(0, limit);
    return { ids: page, nextCursor: ids.length > limit ? page[page.length - 1] : undefined };
  }

  async update(id: string, patch: UpdateSubscriptionBody, now = Date.now()): Promise<{ before: Subscription; after: Subscription }> {
    let before: Subscription | undefined;
    const after = await this.change(id, (current) => {
      const next: Subscription = { ...current, updatedAt: now };
      for (const [field, value] of Object.entries(patch)) {
        if (value === undefined) continue;
        const target = next as unknown as Record<string, unknown>;
        if (value === null) delete target[field];
        else if (field === "retrySchedule") next.retrySchedule = parseRetrySchedule(value as (string | number)[]);
        else if (field === "eventTypes") next.eventTypes = [...new Set(value as EventType[])];
        else target[field] = value;
      }
      if (patch.mode && patch.timeoutMs === undefined && current.timeoutMs === DEFAULT_TIMEOUT_MS[current.mode]) {
        next.timeoutMs = DEFAULT_TIMEOUT_MS[patch.mode];
      }
      if (patch.timeoutMs === null) next.timeoutMs = DEFAULT_TIMEOUT_MS[next.mode];
      if (patch.enabled === true) {
        delete next.disabledReason;
        delete next.disabledAt;
      } else if (patch.enabled === false && current.enabled) {
        next.disabledReason = "admin";
        next.disabledAt = now;
      }
      before = current;
      return next;
    });
    return { before: before!, after };
  }

  /**
   * Disables a subscription for a reason (its endpoint is gone, or has only failed for too
   * long). Returns the disabled subscription, or undefined when it was already disabled (or
   * deleted): the caller announces a disable once.
   */
  async disable(id: string, reason: DisabledReason, now = Date.now()): Promise<Subscription | undefined> {
    let disabledNow = false;
    const after = await this.change(id, (current) => {
      disabledNow = current.enabled;
      return current.enabled ? { ...current, enabled: false, disabledReason: reason, disabledAt: now, updatedAt: now } : current;
    }).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    return disabledNow ? after : undefined;
  }

  async delete(id: string): Promise<void> {
    await this.change(id, () => null);
  }

  /**
   * A new current secret; the old ones keep signing beside it for `overlapMs`, so receivers
   * can switch without losing a delivery.
   */
  async rotateSecret(id: string, overlapMs: number, now = Date.now()): Promise<Subscription> {
    return this.change(id, (current) => {
      const kept = current.secrets
        .filter((s) => activeSecrets([s], now).length > 0)
        .map((s) => ({ ...s, expiresAt: Math.min(s.expiresAt ?? Infinity, now + overlapMs) }));
      return { ...current, secrets: [{ secret: newSigningSecret(), createdAt: now }, ...kept], updatedAt: now };
    });
  }

  /**
   * Seals a subscription's secrets again under the sealing key, if another sealed them, so
   * that the old key can be dropped. Written only if unchanged since read, like every change:
   * an update racing it is neither lost nor undone.
   */
  async reseal(id: string): Promise<ResealOutcome> {
    let outcome: ResealOutcome = "current";
    try {
      await this.change(id, (current, raw) => {
        if (current.unreadable) outcome = "unreadable";
        else if (this.codec.sealedWith(raw) !== this.codec.sealingKeyId) outcome = "resealed";
        else outcome = "current";
        // A copy is a change: written, so sealed with the sealing key.
        return outcome === "resealed" ? { ...current } : current;
      });
    } catch (error) {
      if (error instanceof NotFoundError) return "gone";
      throw error;
    }
    return outcome;
  }

  /** How many subscriptions each key seals, read without opening any. */
  async keyUsage(): Promise<KeyUsage> {
    const usage: KeyUsage = { byKey: new Map(), unsealed: 0 };
    const ids = await this.allIds();
    for (let start = 0; start < ids.length; start += CENSUS_PAGE) {
      const raws = await this.redis.mget(ids.slice(start, start + CENSUS_PAGE).map((id) => this.keys.subscription(id)));
      for (const raw of raws) {
        if (!raw) continue;
        const keyId = this.codec.sealedWith(raw);
        if (keyId === undefined) usage.unsealed++;
        else usage.byKey.set(keyId, (usage.byKey.get(keyId) ?? 0) + 1);
      }
    }
    return usage;
  }

  private async getStored(id: string): Promise<{ raw: string; subscription: Subscription }> {
    const raw = await this.redis.get(this.keys.subscription(id));
    if (!raw) throw new NotFoundError("subscription", id);
    return { raw, subscription: this.codec.decode(raw) };
  }

  /**
   * Read-modify-write of one subscription, atomic: `next` (null deletes) is made from what is
   * stored and written only if that is still what is stored; otherwise it is made again from
   * the newer value. A change racing a delete ends in NotFoundError, never in a resurrection.
   */
  private async change<T extends Subscription | null>(id: string, next: (current: Subscription, raw: string) => T): Promise<T> {
    for (let tries = 0; tries < MAX_CHANGE_TRIES; tries++) {
      const { raw, subscription } = await this.getStored(id);
      const changed = next(subscription, raw);
      // Nothing to change (a disable of a subscription already disabled): no write, no announcement.
      if (changed === subscription) return changed;
      // Written back it would lose its secrets for good: only a delete may touch it.
      if (subscription.unreadable && changed !== null)
        throw new UnprocessableError(
          `subscription ${id} cannot be changed while its secrets cannot be read (${subscription.unreadable}): give the key back to HOOKBUS_ENCRYPTION_KEY, or delete the subscription`,
        );
      if (await this.write(id, raw, changed, subscription)) return changed;
    }
    throw new UnavailableError(`subscription ${id} kept changing under this change; try again`);
  }

  /**
   * Writes (or with null deletes) a subscription and its indexes if `expected` is still stored,
   * and announces it. `previous` is what is stored: its project (which never changes) and types.
   */
  private async write(
    id: string,
    expected: string,
    subscription: Subscription | null,
    previous: Pick<Subscription, "projectId" | "eventTypes">,
  ): Promise<boolean> {
    const types = subscription?.eventTypes ?? [];
    const left = previous.eventTypes.filter((type) => !types.includes(type));
    const value = subscription ? this.codec.encode(subscription) : "";
    const written = await this.writeIfUnchanged.run(
      [this.keys.subscription(id), this.keys.subscriptions(), this.keys.subscriptionsVersion()],
      [
        expected,
        value,
        id,
        this.keys.subscriptionChanges(),
        this.keys.subscriptionsByType("", projectOf(previous)),
        left.length,
        ...left,
        ...types,
      ],
    );
    if (written === 0) return false;
    // Its endpoint's last outcomes are kept with its gate, in another slot.
    if (!subscription) await this.redis.del(this.keys.subscriptionOutcomes(id));
    await this.raiseVersionCopies(written);
    for (const listener of this.changeListeners) listener();
    return true;
  }

  /**
   * Raises each other partition's copy of the version to `version` (never lowers one: changes
   * racing each other may get here out of order), so that routing there sees the change before
   * it is answered. The worker's upkeep raises them to the version too, should a process die
   * between a change and this.
   */
  async raiseVersionCopies(version?: number): Promise<void> {
    const to = version ?? (await this.version());
    await Promise.all(
      this.keys
        .partitions()
        .filter((partition) => partition > 0)
        .map((partition) => this.raiseCopy.run([this.keys.subscriptionsVersion(partition)], [to])),
    );
  }

  /** Calls `listener` after every change this process makes. */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }
}
