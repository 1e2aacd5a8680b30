import type { DisabledReason } from "@hookbus/schemas";
import type { HookbusContext } from "../runtime/context.js";
import type { Subscription } from "../policy/domain.js";
import { enqueueRoute, ensureDeliverJob } from "../queue/queues.js";

/**
 * Announces a disabled subscription on the bus as the operational event
 * `subscription.disabled`, routed like any event, so ops can subscribe to it.
 */
export async function announceDisabled(context: HookbusContext, subscription: Subscription): Promise<void> {
  const { event } = await context.events.store({
    type: "subscription.disabled",
    data: {
      subscriptionId: subscription.id,
      url: subscription.url,
      reason: subscription.disabledReason ?? "admin",
      disabledAt: new Date(subscription.disabledAt ?? Date.now()).toISOString(),
    },
  });
  await enqueueRoute(context.queues, event.id);
}

/**
 * Disables a subscription for a reason the worker found (410 Gone, failing too long) and
 * announces it, once: a second worker finding the same thing changes nothing.
 */
export async function disableSubscription(context: HookbusContext, id: string, reason: DisabledReason): Promise<Subscription | undefined> {
  const disabled = await context.subscriptions.disable(id, reason);
  if (disabled) await announceDisabled(context, disabled);
  return disabled;
}

/**
 * After a subscription is enabled again: its circuit starts closed, and each of its pending or
 * retrying deliveries (kept while it was disabled) gets its job back, due when it was due.
 * Returns how many jobs were added.
 */
export async function resumeDeliveries(context: HookbusContext, subscriptionId: string): Promise<number> {
  await context.endpoints.reset(subscriptionId);
  let resumed = 0;
  for (const status of ["pending", "retrying"] as const) {
    for await (const { items } of context.deliveries.scan({ subscriptionId, status })) {
      for (const delivery of items) if (await ensureDeliverJob(context.queues, delivery)) resumed++;
    }
  }
  return resumed;
}
