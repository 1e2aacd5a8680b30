import type { EventRecord, Subscription } from "@hookbus/core/policy";
import { syncOutcomeOf, type DeliveryLog } from "@hookbus/core/store";
import type { SyncResult } from "@hookbus/schemas";

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
    const made = await deliveries.forEvent(event.id);
    const firsts = await Promise.all(
      subscriptions.map(async (subscription) => {
        const delivery = made.find((d) => d.subscriptionId === subscription.id);
        const [first] = delivery ? await deliveries.attempts(delivery.id) : [];
        return { subscription, delivery, first };
      }),
    );
    if (firsts.every(({ first }) => first) || Date.now() >= deadline) {
      return firsts.map(
        ({ subscription, delivery, first }): SyncResult =>
          first
            ? {
                subscriptionId: subscription.id,
                deliveryId: delivery!.id,
                outcome: syncOutcomeOf(first.error),
                statusCode: first.statusCode,
                body: first.responseBody,
                durationMs: first.durationMs,
              }
            : { subscriptionId: subscription.id, deliveryId: delivery?.id, outcome: "timeout", durationMs: deadline - started },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, REPEAT_POLL_MS));
  }
}
