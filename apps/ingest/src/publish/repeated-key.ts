import type { EventRecord, Subscription } from "@hookbus/core/policy";
import { loggedSyncOutcomes, type DeliveryLog } from "@hookbus/core/store";
import type { SyncResult } from "@hookbus/schemas";
import { toSyncResult } from "./sync-results.js";

/** How often a repeated sync publish looks for the first one's outcomes in the delivery log. */
const REPEAT_POLL_MS = 20;

/**
 * For a repeated idempotency key: the first attempt of each sync delivery, read from the
 * delivery log as soon as it is there (the first publish may still be waiting on it), up to
 * the same deadline; one not attempted by then is a timeout, as it would have been the first time.
 */
export async function firstOutcomesOf(
  deliveries: DeliveryLog,
  event: EventRecord,
  subscriptions: Subscription[],
  started: number,
  deadline: number,
): Promise<SyncResult[]> {
  for (;;) {
    const { deliveryIds, outcomes } = await loggedSyncOutcomes(
      deliveries,
      event.id,
      subscriptions.map((s) => s.id),
    );
    if (outcomes.length === subscriptions.length || Date.now() >= deadline) {
      return subscriptions.map((s) => toSyncResult(s, outcomes, deliveryIds, deadline - started));
    }
    await new Promise((resolve) => setTimeout(resolve, REPEAT_POLL_MS));
  }
}
