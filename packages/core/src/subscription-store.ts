import type { Redis } from "ioredis";
import { DEFAULT_MAX_IN_FLIGHT, type CreateSubscriptionBody, type DisabledReason, type EventType, type UpdateSubscriptionBody } from "@hookbus/schemas";
import { DEFAULT_TIMEOUT_MS, type Subscription } from "./domain.js";
import { NotFoundError } from "./errors.js";
import { newId } from "./ids.js";
import type { Keys } from "./keys.js";
import { defineScript } from "./redis.js";
import { parseRetrySchedule } from "./retry.js";
import { activeSecrets, newSigningSecret } from "./signing.js";

// The subscriptions to one event type, in one round trip. The values are read by a key
// built in the script: it shares the hash tag of the index key, so it is in the same
// Redis Cluster slot.
// KEYS: the type's index. ARGV: the subscription key prefix.
const SUBSCRIPTIONS_FOR_TYPE = `
local values = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local value = redis.call('GET', ARGV[1] .. id)
  if value then values[#values + 1] = value end
end
return values
`;

/** Subscriptions in Redis: one JSON value each, indexed by event type for routing. */
export class SubscriptionStore {
  private readonly subscriptionsForType;
  private readonly changeListeners: (() => void)[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {
    this.subscriptionsForType = defineScript<string[]>(redis, "hookbusSubscriptionsForType", 1, SUBSCRIPTIONS_FOR_TYPE);
  }

  async create(body: CreateSubscriptionBody, now = Date.now()): Promise<Subscription> {
    const mode = body.mode ?? "async";
    const subscription: Subscription = {
      id: newId("sub", now),
      url: body.url,
      eventTypes: [...new Set(body.eventTypes)],
      mode,
      environment: body.environment ?? "live",
      filter: body.filter,
      auth: body.auth,
      headers: body.headers,
      timeoutMs: body.timeoutMs ?? DEFAULT_TIMEOUT_MS[mode],
      retrySchedule: body.retrySchedule ? parseRetrySchedule(body.retrySchedule) : undefined,
      format: body.format ?? "envelope",
      legacyParameters: body.legacyParameters ?? false,
      description: body.description,
      enabled: body.enabled ?? true,
      disabledReason: body.enabled === false ? "admin" : undefined,
      disabledAt: body.enabled === false ? now : undefined,
      maxInFlight: body.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
      ratePerSecond: body.ratePerSecond,
      secrets: [{ secret: newSigningSecret(), createdAt: now }],
      createdAt: now,
      updatedAt: now,
    };
    await this.save(subscription, []);
    return subscription;
  }

  async get(id: string): Promise<Subscription> {
    const raw = await this.redis.get(this.keys.subscription(id));
    if (!raw) throw new NotFoundError("subscription", id);
    return JSON.parse(raw) as Subscription;
  }

  /** Several at once, in one round trip; unknown ids are left out. */
  async getMany(ids: string[]): Promise<Subscription[]> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.subscription(id)));
    return raws.flatMap((raw) => (raw ? [JSON.parse(raw) as Subscription] : []));
  }

  /** The subscriptions to one event type: what publishing and routing read for every event. */
  async forEventType(type: EventType): Promise<Subscription[]> {
    const values = await this.subscriptionsForType.run([this.keys.subscriptionsByType(type)], [this.keys.subscription("")]);
    return values.map((raw) => JSON.parse(raw) as Subscription);
  }

  /** The id of every subscription: the set is small next to the deliveries, one read. */
  async allIds(): Promise<string[]> {
    return this.redis.zrange(this.keys.subscriptions(), 0, -1);
  }

  /** A page of subscriptions in creation order, after the cursor id. */
  async list(limit: number, cursor?: string): Promise<{ items: Subscription[]; nextCursor?: string }> {
    const ids = await this.redis.zrangebylex(this.keys.subscriptions(), cursor ? `(${cursor}` : "-", "+", "LIMIT", 0, limit + 1);
    const page = ids.slice(0, limit);
    return { items: await this.getMany(page), nextCursor: ids.length > limit ? page[page.length - 1] : undefined };
  }

  async update(id: string, patch: UpdateSubscriptionBody, now = Date.now()): Promise<Subscription> {
    const current = await this.get(id);
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
    await this.save(next, current.eventTypes);
    return next;
  }

  /**
   * Disables a subscription for a reason (its endpoint is gone, or has only failed for too
   * long). Returns the disabled subscription, or undefined when it was already disabled (or
   * deleted): the caller announces a disable once.
   */
  async disable(id: string, reason: DisabledReason, now = Date.now()): Promise<Subscription | undefined> {
    const current = await this.getMany([id]);
    if (!current[0]?.enabled) return undefined;
    const next: Subscription = { ...current[0], enabled: false, disabledReason: reason, disabledAt: now, updatedAt: now };
    await this.save(next, current[0].eventTypes);
    return next;
  }

  async delete(id: string): Promise<void> {
    const current = await this.get(id);
    const multi = this.redis
      .multi()
      .del(this.keys.subscription(id), this.keys.subscriptionOutcomes(id))
      .zrem(this.keys.subscriptions(), id);
    for (const type of current.eventTypes) multi.srem(this.keys.subscriptionsByType(type), id);
    await this.commitChange(multi, id);
  }

  /**
   * A new current secret; the old ones keep signing beside it for `overlapMs`, so receivers
   * can switch without losing a delivery.
   */
  async rotateSecret(id: string, overlapMs: number, now = Date.now()): Promise<Subscription> {
    const current = await this.get(id);
    const kept = current.secrets
      .filter((s) => activeSecrets([s], now).length > 0)
      .map((s) => ({ ...s, expiresAt: Math.min(s.expiresAt ?? Infinity, now + overlapMs) }));
    const next: Subscription = { ...current, secrets: [{ secret: newSigningSecret(), createdAt: now }, ...kept], updatedAt: now };
    await this.save(next, current.eventTypes);
    return next;
  }

  private async save(subscription: Subscription, previousTypes: EventType[]): Promise<void> {
    const multi = this.redis
      .multi()
      .set(this.keys.subscription(subscription.id), JSON.stringify(subscription))
      .zadd(this.keys.subscriptions(), 0, subscription.id);
    for (const type of previousTypes) {
      if (!subscription.eventTypes.includes(type)) multi.srem(this.keys.subscriptionsByType(type), subscription.id);
    }
    for (const type of subscription.eventTypes) multi.sadd(this.keys.subscriptionsByType(type), subscription.id);
    await this.commitChange(multi, subscription.id);
  }

  /** Calls `listener` after every change this process makes. */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /** Applies a change and announces it: here at once, to other processes on the changes channel. */
  private async commitChange(multi: ReturnType<Redis["multi"]>, id: string): Promise<void> {
    await multi.publish(this.keys.subscriptionChanges(), id).exec();
    for (const listener of this.changeListeners) listener();
  }
}
