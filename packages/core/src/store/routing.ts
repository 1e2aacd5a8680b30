import type { DeliveryLog, RoutedDelivery } from "./delivery-log.js";
import type { EventRecord, Subscription } from "../policy/domain.js";
import { subscriptionMatches } from "../policy/subscription-matcher.js";

/**
 * Routing, the one way it is done, by the route job and by the ingest for the sync
 * subscriptions it waits on: keeps the candidates the event reaches and makes one delivery
 * each (once, however often it is asked). A sample goes to the subscriptions it was sent to,
 * whatever their environment. What runs the first attempts is the caller's choice.
 */
export async function routeEvent(deliveries: DeliveryLog, event: EventRecord, candidates: Subscription[]): Promise<RoutedDelivery[]> {
  const reached = event.sample ? candidates : candidates.filter((s) => subscriptionMatches(s, event));
  return deliveries.route(event, reached);
}
