import type { ChainableCommander } from "ioredis";
import type { DeliveryLog } from "../store/delivery-log.js";
import type { VersionedSubscriptions } from "../store/subscription-store.js";
import type { EventRecord, RoutedDelivery, Subscription } from "../policy/domain.js";
import { subscriptionsReached } from "../policy/subscription-matcher.js";

/**
 * A subscription whose secrets cannot be read still gets its deliveries, which wait: no first
 * attempt is planned for them (one would go out unsigned). The reconciler keeps them in
 * view and gives them their jobs once the subscription can be read again.
 */
function leavingUnreadableToWait(routed: RoutedDelivery): RoutedDelivery {
  return routed.subscription.unreadable ? { ...routed, needsJob: false } : routed;
}

/** The same for the first attempts a publish plans alongside its routing. */
function withoutUnreadable(alongside: Alongside): Alongside {
  return { pipeline: alongside.pipeline, add: (routed) => alongside.add(routed.filter((r) => !r.subscription.unreadable)) };
}

interface Alongside {
  pipeline: ChainableCommander;
  add: (routed: RoutedDelivery[]) => void;
}

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
  const routed = await deliveries.routeMany(
    targets.map(({ event, candidates }) => ({ event, subscriptions: subscriptionsReached(event, candidates) })),
  );
  return routed.map((forEvent) => forEvent.map(leavingUnreadableToWait));
}

/**
 * The same for an event just stored, in one round trip with the commands `alongside` adds
 * for the deliveries about to be made (DeliveryLog.routeNew).
 */
export async function routeNewEvent(
  deliveries: DeliveryLog,
  event: EventRecord,
  candidates: Subscription[],
  alongside: Alongside,
): Promise<RoutedDelivery[]> {
  const routed = await deliveries.routeNew(event, subscriptionsReached(event, candidates), withoutUnreadable(alongside));
  return routed.map(leavingUnreadableToWait);
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
  alongside: Alongside,
): Promise<RoutedDelivery[] | undefined> {
  return deliveries
    .routeStoring(event, subscriptionsReached(event, candidates.subscriptions), candidates.version, withoutUnreadable(alongside))
    .then((routed) => routed?.map(leavingUnreadableToWait));
}
