import type { EventType, SubscriptionFilter } from "@hookbus/schemas";
import type { EventRecord, Subscription } from "./domain.js";
import { projectOf } from "./project-scope.js";

/** The payload field each filter narrows on, and the event types that carry that field. */
const FILTERS: Record<keyof SubscriptionFilter, { field: string; types: EventType[] }> = {
  surveyNames: { field: "surveyName", types: ["survey.submitted"] },
  scheduleNames: { field: "scheduleName", types: ["schedule.triggered"] },
  formIds: { field: "formId", types: ["record.created", "record.updated", "record.review_changed"] },
};

/**
 * Does a published event reach this subscription? Only enabled live subscriptions of the
 * event's project get published events; test ones get the samples sent to them by name.
 */
export function subscriptionMatches(subscription: Subscription, event: Pick<EventRecord, "type" | "data" | "projectId">): boolean {
  return (
    subscription.enabled &&
    projectOf(subscription) === projectOf(event) &&
    subscription.environment === "live" &&
    subscription.eventTypes.includes(event.type) &&
    filterMatches(subscription.filter, event)
  );
}

/**
 * The candidates an event reaches: a published event the ones it matches; a sample the ones it
 * was sent to, whatever their environment.
 */
export function subscriptionsReached(event: EventRecord, candidates: Subscription[]): Subscription[] {
  return event.sample ? candidates : candidates.filter((s) => subscriptionMatches(s, event));
}

/**
 * Are its deliveries kept waiting rather than attempted? While it is disabled (enabling it
 * resumes them) or its secrets cannot be read here (they go on once the key is back).
 */
export function deliveriesWait(subscription: Subscription): boolean {
  return !subscription.enabled || subscription.unreadable !== undefined;
}

/** A filter narrows only the event types that carry its field; an event lacking the field does not pass. */
function filterMatches(filter: SubscriptionFilter | undefined, event: Pick<EventRecord, "type" | "data">): boolean {
  if (!filter) return true;
  return (Object.keys(FILTERS) as (keyof SubscriptionFilter)[]).every((name) => {
    const allowed = filter[name];
    const { field, types } = FILTERS[name];
    if (!allowed || !types.includes(event.type)) return true;
    const value = event.data[field];
    return typeof value === "string" && allowed.includes(value);
  });
}
