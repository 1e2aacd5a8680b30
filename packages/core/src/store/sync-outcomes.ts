import type { RedisConnection } from "./redis.js";
import type { SyncResult } from "@hookbus/schemas";
import type { AttemptErrorKind } from "../policy/domain.js";
import { OverloadedError } from "../policy/errors.js";
import { newId } from "../policy/ids.js";
import type { DeliveryQueries } from "./delivery-queries.js";
import type { Keys } from "./keys.js";

export type SyncOutcomeKind = SyncResult["outcome"];

/** What a worker reports of a delivery's first attempt, for the request waiting on it: the contract's sync result, for a delivery that exists. */
export type SyncOutcome = SyncResult & { deliveryId: string };

/** An attempt's outcome as a waiting publisher sees it: no error kind means it was delivered. */
export function syncOutcomeOf(error: AttemptErrorKind | undefined): SyncOutcomeKind {
  if (error === undefined) return "delivered";
  return error === "timeout" ? "timeout" : "failed";
}

/** Reports a first attempt to the ingest process waiting on it, on the channel it named in the job. */
export async function publishSyncOutcome(
  redis: RedisConnection,
  keys: Keys,
  listenerId: string,
  eventId: string,
  outcome: SyncOutcome,
): Promise<void> {
  await redis.publish(keys.syncOutcomes(listenerId), JSON.stringify({ eventId, outcome }));
}

/** What the delivery log holds of an event's sync deliveries: their ids, and the outcomes of those attempted. */
export interface LoggedSyncOutcomes {
  /** By subscription id. */
  deliveryIds: Map<string, string>;
  outcomes: SyncOutcome[];
}

/**
 * The first attempts of an event's deliveries to these subscriptions, read from the delivery
 * log: what a waiting publisher is told when a worker's report did not reach it. The log keeps
 * a response body cut at 4 KiB, where the report carries up to 64 KiB, so that is all such a
 * publisher gets of the body; status code, outcome and duration are the same.
 */
export async function loggedSyncOutcomes(
  deliveries: DeliveryQueries,
  eventId: string,
  subscriptionIds: string[],
): Promise<LoggedSyncOutcomes> {
  const made = (await deliveries.forEvent(eventId)).filter((d) => subscriptionIds.includes(d.subscriptionId));
  const firsts = await Promise.all(made.map(async (delivery) => ({ delivery, first: (await deliveries.attempts(delivery.id))[0] })));
  return {
    deliveryIds: new Map(made.map((d) => [d.subscriptionId, d.id])),
    outcomes: firsts.flatMap(({ delivery, first }) =>
      first
        ? [
            {
              subscriptionId: delivery.subscriptionId,
              deliveryId: delivery.id,
              outcome: syncOutcomeOf(first.error),
              statusCode: first.statusCode,
              body: first.responseBody,
              durationMs: first.durationMs,
              message: first.message,
            },
          ]
        : [],
    ),
  };
}

interface Waiter {
  subscriptionIds: Set<string>;
  outcomes: SyncOutcome[];
  resolve: () => void;
}

/**
 * Waits for sync outcomes on one subscriber connection shared by every waiting request of
 * this process. The process listens on a channel of its own, subscribed once at start, and
 * names it (`id`) in the jobs whose first attempt a request waits on: a request needs no
 * subscribe of its own (a round trip before every sync publish), and only the outcomes this
 * process waits for reach it.
 *
 * Pub/sub is fire-and-forget: a report published while the connection is down (a network
 * blip, a Redis restart, Redis closing it at its output-buffer limit) is lost. So after every
 * resubscribe the waiting requests' first attempts are read from the delivery log, which a
 * worker writes before it reports (and the caller reads it once more before answering timeout).
 */
export class SyncOutcomeListener {
  readonly id = newId("lsn");
  /** By event id. */
  private readonly waiters = new Map<string, Waiter>();

  constructor(
    private readonly subscriber: RedisConnection,
    private readonly keys: Keys,
    private readonly deliveries: DeliveryQueries,
    /** Requests that may wait at once. */
    private readonly maxWaiting = Infinity,
  ) {
    subscriber.on("message", (channel: string, message: string) => {
      if (channel === this.keys.syncOutcomes(this.id)) this.onMessage(message);
    });
  }

  /** Subscribes to this process's channel; call once, before any request listens. */
  async start(): Promise<void> {
    await this.subscriber.subscribe(this.keys.syncOutcomes(this.id));
    this.subscriber.on("ready", () => void this.recoverLostReports());
  }

  /**
   * Starts collecting an event's outcomes. Call before the jobs that report them are
   * enqueued. Past the cap it throws OverloadedError.
   */
  listen(eventId: string, subscriptionIds: string[]): void {
    if (this.waiters.size >= this.maxWaiting) {
      throw new OverloadedError(`this ingest already holds ${this.maxWaiting} sync publishes waiting for receivers; try again shortly`, 1);
    }
    this.waiters.set(eventId, { subscriptionIds: new Set(subscriptionIds), outcomes: [], resolve: () => undefined });
  }

  /** The outcomes that arrived by the deadline (ms since epoch); stops listening. */
  async collect(eventId: string, deadline: number): Promise<SyncOutcome[]> {
    const waiter = this.waiters.get(eventId);
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
    this.waiters.delete(eventId);
  }

  get waiting(): number {
    return this.waiters.size;
  }

  /** The subscriptions whose outcome this event still waits for (none once it stops listening). */
  missing(eventId: string): string[] {
    const waiter = this.waiters.get(eventId);
    return waiter ? [...waiter.subscriptionIds].filter((id) => !waiter.outcomes.some((o) => o.subscriptionId === id)) : [];
  }

  /**
   * After a reconnect: once the channel is subscribed again (ioredis resubscribes by itself;
   * this subscribe's reply says when it is in effect), every report published while it was not
   * is in the log by now, so the outcomes still missing are read from there.
   */
  private async recoverLostReports(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.keys.syncOutcomes(this.id));
      await Promise.all(
        [...this.waiters.keys()].map(async (eventId) => {
          const missing = this.missing(eventId);
          if (missing.length === 0) return;
          const { outcomes } = await loggedSyncOutcomes(this.deliveries, eventId, missing);
          for (const outcome of outcomes) this.accept(eventId, outcome);
        }),
      );
    } catch {
      // Connection lost again: the next reconnect recovers, and each request reads the log before answering timeout.
    }
  }

  private onMessage(message: string): void {
    const { eventId, outcome } = JSON.parse(message) as { eventId: string; outcome: SyncOutcome };
    this.accept(eventId, outcome);
  }

  private accept(eventId: string, outcome: SyncOutcome): void {
    const waiter = this.waiters.get(eventId);
    if (!waiter || !waiter.subscriptionIds.has(outcome.subscriptionId)) return;
    if (waiter.outcomes.some((o) => o.subscriptionId === outcome.subscriptionId)) return;
    waiter.outcomes.push(outcome);
    if (waiter.outcomes.length === waiter.subscriptionIds.size) waiter.resolve();
  }
}
