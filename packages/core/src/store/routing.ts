import type { ChainableCommander } from "ioredis";
import type { DeliveryLog } from "./delivery-log.js";
import type { VersionedSubscriptions } from "./subscription-store.js";
import type { EventRecord, RoutedDelivery, Subscription } from "../policy/domain.js";
import { subscriptionsReached } from "../policy/subscription-matcher.js";

/**
 * Routing, the one way it is done, by the route job and by the ingest for the sync publishes
 * it routes itself: makes one delivery (once, however often it is asked) to each candidate
 * an event reaches, for several events, each with its own candidates, in one round trip.
 * What runs the first attempts is the caller's choice.
 */
export async function routeEvents(
  deliveries: DeliveryLog,
  targets: { event: EventRecord; candidates: Subscription[] }[],
): Promise<RoutedDelivery[][]> {
  return deliveries.routeMany(targets.map(({ event, candidates }) => ({ event, subscriptions: subscriptionsReached(event, candidates) })));
}

/**
 * The same for an event just stored, in one round trip with the commands `alongside` adds
 * for the deliveries about to be made (DeliveryLog.routeNew).
 */
export async function routeNewEvent(
  deliveries: DeliveryLog,
  event: EventRecord,
  candidates: Subscription[],
  alongside: { pipeline: ChainableCommander; add: (routed: RoutedDelivery[]) => void },
): Promise<RoutedDelivery[]> {
  return deliveries.routeNew(event, subscriptionsReached(event, candidates), alongside);
}

/**
 * The same for an event being stored in the same round trip, from subscriptions read at
 * `version` (DeliveryLog.routeStoring): undefined when nothing was made, because the event was
 * not stored or the subscriptions have changed since.
 */
export function routeStoringEvent(
  deliveries: DeliveryLog,
  event: EventRecord,
  candidates: VersionedSubscriptions,
  alongside: { pipeline: ChainableCommander; add: (routed: RoutedDelivery[]) => void },
): Promise<RoutedDelivery[] | undefined> {
  return deliveries.routeStoring(event, subscriptionsReached(event, candidates.subscriptions), candidates.version, alongside);
}
