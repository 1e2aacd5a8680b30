import type { DeliveryLog } from "./delivery-log.js";
import type { EventRecord, RoutedDelivery, Subscription } from "../policy/domain.js";
import { subscriptionsReached } from "../policy/subscription-matcher.js";

/**
 * Routing, the one way it is done, by the route job and by the ingest for the sync
 * subscriptions it waits on: makes one delivery (once, however often it is asked) to each
 * candidate the event reaches. What runs the first attempts is the caller's choice.
 */
export async function routeEvent(deliveries: DeliveryLog, event: EventRecord, candidates: Subscription[]): Promise<RoutedDelivery[]> {
  return deliveries.route(event, subscriptionsReached(event, candidates));
}

/** The same for several events, each with its own candidates, in one round trip. */
export async function routeEvents(
  deliveries: DeliveryLog,
  targets: { event: EventRecord; candidates: Subscription[] }[],
): Promise<RoutedDelivery[][]> {
  return deliveries.routeMany(targets.map(({ event, candidates }) => ({ event, subscriptions: subscriptionsReached(event, candidates) })));
}
