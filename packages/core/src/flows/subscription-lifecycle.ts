import type { DisabledReason } from "@hookbus/schemas";
import type { Subscription } from "../policy/domain.js";
import { projectOf } from "../policy/project-scope.js";
import { enqueueRoute, ensureDeliverJob, type HookbusQueues } from "../queue/queues.js";
import type { DeliveryLog } from "../store/delivery-log.js";
import type { EndpointGate } from "../store/endpoint-gate.js";
import type { EventStore } from "../store/event-store.js";
import type { SubscriptionStore } from "../store/subscription-store.js";
import { systemActor, type AuditTrail } from "../store/audit-trail.js";

/**
 * The stores and queues a change of a subscription's life touches: the apps pass their
 * HookbusContext, which holds them all.
 */
export interface LifecycleContext {
  subscriptions: SubscriptionStore;
  events: EventStore;
  deliveries: DeliveryLog;
  endpoints: EndpointGate;
  queues: HookbusQueues;
  audit: AuditTrail;
}

/**
 * Announces a disabled subscription on the bus as the operational event
 * `subscription.disabled`, routed like any event, so ops can subscribe to it.
 */
export async function announceDisabled(context: LifecycleContext, subscription: Subscription): Promise<void> {
  const { event } = await context.events.store({
    // Its own project's subscriptions alone hear of it: the URL is no other project's business.
    projectId: subscription.projectId,
    type: "subscription.disabled",
    data: {
      subscriptionId: subscription.id,
      // Everyone subscribed to this event sees it: not the query string, which may hold the receiver's token.
      url: withoutQuery(subscription.url),
      reason: subscription.disabledReason ?? "admin",
      disabledAt: new Date(subscription.disabledAt ?? Date.now()).toISOString(),
    },
  });
  await enqueueRoute(context.queues, event.id);
}

function withoutQuery(url: string): string {
  const parsed = new URL(url);
  parsed.search = "";
  parsed.hash = "";
  return parsed.href;
}

/**
 * Disables a subscription for a reason the worker found (410 Gone, failing too long) and
 * announces it, once: a second worker finding the same thing changes nothing.
 */
export async function disableSubscription(
  context: LifecycleContext,
  id: string,
  reason: DisabledReason,
): Promise<Subscription | undefined> {
  const disabled = await context.subscriptions.disable(id, reason);
  if (!disabled) return undefined;
  await context.audit.append({
    actor: systemActor(reason),
    action: "subscription.disable",
    resourceType: "subscription",
    resourceId: id,
    projectId: projectOf(disabled),
    before: { enabled: true },
    after: { enabled: false, disabledReason: reason },
  });
  await announceDisabled(context, disabled);
  return disabled;
}

/**
 * After a subscription is enabled again: its circuit starts closed, and each of its pending or
 * retrying deliveries (kept while it was disabled) gets its job back, due when it was due.
 * Returns how many jobs were added.
 */
export async function resumeDeliveries(context: LifecycleContext, subscriptionId: string): Promise<number> {
  await context.endpoints.reset(subscriptionId);
  let resumed = 0;
  for (const status of ["pending", "retrying"] as const) {
    for await (const { items } of context.deliveries.scan({ subscriptionId, status })) {
      for (const delivery of items) if (await ensureDeliverJob(context.queues, delivery)) resumed++;
    }
  }
  return resumed;
}
