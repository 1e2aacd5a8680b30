import type { Subscription } from "@hookbus/core/policy";
import type { SyncOutcome } from "@hookbus/core/store";
import type { SyncResult } from "@hookbus/schemas";

/** A sync subscription's answer to its publisher: its first attempt's outcome, or a timeout when there is none. */
export function toSyncResult(
  subscription: Subscription,
  outcomes: SyncOutcome[],
  deliveryIds: Map<string, string>,
  waitedMs: number,
): SyncResult {
  const reported = outcomes.find((o) => o.subscriptionId === subscription.id);
  if (reported) return reported;
  return { subscriptionId: subscription.id, deliveryId: deliveryIds.get(subscription.id), outcome: "timeout", durationMs: waitedMs };
}
