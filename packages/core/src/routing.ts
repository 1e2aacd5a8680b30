import type { DeliveryLog, RoutedDelivery } from "./delivery-log.js";
import type { EventRecord, Subscription } from "./domain.js";
import { enqueueFirstAttempts, type HookbusQueues } from "./queues.js";
import { subscriptionMatches } from "./subscription-matcher.js";

export interface RouteOptions {
  /** Report every first attempt to the waiting request (a sample sent by an admin), not only sync ones. */
  reportAll?: boolean;
}

/**
 * Routing, the one way it is done, by the route job and by the ingest for the sync
 * subscriptions it waits on: keeps the candidates the event reaches, makes one delivery each
 * (once, however often it is asked) and enqueues the first attempt of each that needs one.
 * A sample goes to the subscriptions it was sent to, whatever their environment.
 */
export async function routeEvent(
  parts: { deliveries: DeliveryLog; queues: HookbusQueues },
  event: EventRecord,
  candidates: Subscription[],
  options: RouteOptions = {},
): Promise<RoutedDelivery[]> {
  const reached = event.sample ? candidates : candidates.filter((s) => subscriptionMatches(s, event));
  const routed = await parts.deliveries.route(event, reached);
  await enqueueFirstAttempts(parts.queues, event.id, routed, options);
  return routed;
}
