import type { Redis } from "ioredis";
import type { SyncResult } from "@hookbus/schemas";
import type { AttemptErrorKind } from "../policy/domain.js";
import { OverloadedError } from "../policy/errors.js";
import type { Keys } from "./keys.js";

export type SyncOutcomeKind = SyncResult["outcome"];

/** What a worker reports of a delivery's first attempt, for the request waiting on it: the contract's sync result, for a delivery that exists. */
export type SyncOutcome = SyncResult & { deliveryId: string };

/** An attempt's outcome as a waiting publisher sees it: no error kind means it was delivered. */
export function syncOutcomeOf(error: AttemptErrorKind | undefined): SyncOutcomeKind {
  if (error === undefined) return "delivered";
  return error === "timeout" ? "timeout" : "failed";
}

export async function publishSyncOutcome(redis: Redis, keys: Keys, eventId: string, outcome: SyncOutcome): Promise<void> {
  await redis.publish(keys.syncOutcomes(eventId), JSON.stringify(outcome));
}

interface Waiter {
  subscriptionIds: Set<string>;
  outcomes: SyncOutcome[];
  resolve: () => void;
}

/**
 * Waits for sync outcomes on one subscriber connection shared by every waiting request of
 * this process: a request subscribes to its event's channel, so only the outcomes it waits
 * for reach this process, and the connection's listener count never grows.
 */
export class SyncOutcomeListener {
  private readonly waiters = new Map<string, Waiter>();

  constructor(
    private readonly subscriber: Redis,
    private readonly keys: Keys,
    /** Requests that may wait at once; each holds a connection and a subscription open. */
    private readonly maxWaiting = Infinity,
  ) {
    subscriber.on("message", (channel: string, message: string) => this.onMessage(channel, message));
  }

  /**
   * Listens on the event's channel. Call before the jobs that report to it are enqueued, and
   * before the event is stored: past the cap it throws OverloadedError at once, synchronously.
   */
  listen(eventId: string, subscriptionIds: string[]): Promise<void> {
    if (this.waiters.size >= this.maxWaiting) {
      throw new OverloadedError(`this ingest already holds ${this.maxWaiting} sync publishes waiting for receivers; try again shortly`, 1);
    }
    this.waiters.set(this.keys.syncOutcomes(eventId), {
      subscriptionIds: new Set(subscriptionIds),
      outcomes: [],
      resolve: () => undefined,
    });
    return this.subscriber.subscribe(this.keys.syncOutcomes(eventId)).then(() => undefined);
  }

  /** The outcomes that arrived by the deadline (ms since epoch); stops listening. */
  async collect(eventId: string, deadline: number): Promise<SyncOutcome[]> {
    const channel = this.keys.syncOutcomes(eventId);
    const waiter = this.waiters.get(channel);
    if (!waiter) return [];
    if (waiter.outcomes.length < waiter.subscriptionIds.size) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        waiter.resolve = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.stop(eventId);
    return waiter.outcomes;
  }

  /** Stops listening for an event's outcomes. */
  stop(eventId: string): void {
    const channel = this.keys.syncOutcomes(eventId);
    if (!this.waiters.delete(channel)) return;
    this.subscriber.unsubscribe(channel).catch(() => undefined);
  }

  get waiting(): number {
    return this.waiters.size;
  }

  private onMessage(channel: string, message: string): void {
    const waiter = this.waiters.get(channel);
    if (!waiter) return;
    const outcome = JSON.parse(message) as SyncOutcome;
    if (!waiter.subscriptionIds.has(outcome.subscriptionId)) return;
    if (waiter.outcomes.some((o) => o.subscriptionId === outcome.subscriptionId)) return;
    waiter.outcomes.push(outcome);
    if (waiter.outcomes.length === waiter.subscriptionIds.size) waiter.resolve();
  }
}
