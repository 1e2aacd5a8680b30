import type { Attempt, Delivery, EventRecord, Subscription } from "@hookbus/core/policy";
import { maxInFlight, type EndpointHealth, type ReplayProgress, type SubscriptionStats } from "@hookbus/core/store";

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** What the API shows in place of a custom header's value: tokens often travel there. */
export const MASKED_HEADER_VALUE = "********";

/**
 * A subscription as the API shows it, with its endpoint's health: never its secrets, its
 * Basic auth password, nor its header values.
 */
export function subscriptionView(subscription: Subscription, health: EndpointHealth) {
  const { secrets: _secrets, auth, headers, createdAt, updatedAt, disabledAt, ...rest } = subscription;
  return {
    ...rest,
    maxInFlight: maxInFlight(subscription),
    headers: headers ? Object.fromEntries(Object.keys(headers).map((name) => [name, MASKED_HEADER_VALUE])) : undefined,
    auth: auth ? { type: auth.type, username: auth.username } : undefined,
    disabledAt: iso(disabledAt),
    health: { circuit: health.circuit, consecutiveFailures: health.consecutiveFailures, openUntil: iso(health.openUntil) },
    createdAt: iso(createdAt),
    updatedAt: iso(updatedAt),
  };
}

export function eventView(event: EventRecord, deliveries: Delivery[]) {
  return {
    id: event.id,
    type: event.type,
    data: event.data,
    occurredAt: iso(event.occurredAt),
    createdAt: iso(event.createdAt),
    deliveries: deliveries.map((d) => ({ id: d.id, subscriptionId: d.subscriptionId, status: d.status, attemptCount: d.attemptCount })),
  };
}

export function deliveryView(delivery: Delivery) {
  return {
    ...delivery,
    createdAt: iso(delivery.createdAt),
    nextAttemptAt: iso(delivery.nextAttemptAt),
    lastAttemptAt: iso(delivery.lastAttemptAt),
  };
}

export function attemptView(attempt: Attempt) {
  return { ...attempt, at: iso(attempt.at) };
}

export function subscriptionStatsView(subscriptionId: string, stats: SubscriptionStats) {
  return { subscriptionId, ...stats, lastSuccessAt: iso(stats.lastSuccessAt), lastFailureAt: iso(stats.lastFailureAt) };
}

export function replayView(replay: ReplayProgress) {
  return {
    ...replay,
    filter: { ...replay.filter, since: iso(replay.filter.since), until: iso(replay.filter.until) },
    createdAt: iso(replay.createdAt),
    finishedAt: iso(replay.finishedAt),
  };
}
