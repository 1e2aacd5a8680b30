import type { DeliveryState, DeliveryStatus, DisabledReason, EventType, SubscriptionView } from "@hookbus/schemas";

/** Every event type, by the name people know it by. A Record, so a new type fails the build until named here. */
export const EVENT_TYPE_NAMES: Record<EventType, string> = {
  "survey.submitted": "Survey submitted",
  "schedule.triggered": "Schedule triggered",
  "record.created": "Record created",
  "record.updated": "Record updated",
  "record.review_changed": "Record review changed",
  "subscription.disabled": "Webhook disabled",
};
export const EVENT_TYPES = Object.keys(EVENT_TYPE_NAMES) as EventType[];

export const STATUS_WORDS: Record<DeliveryState, string> = {
  pending: "pending",
  retrying: "retrying",
  delivered: "delivered",
  failed: "failed",
  erased: "erased",
};
/** The statuses a listing filters by: an erased delivery is shown, not looked for. */
export const DELIVERY_STATUSES = (Object.keys(STATUS_WORDS) as DeliveryState[]).filter((s): s is DeliveryStatus => s !== "erased");

export const DISABLED_REASON_WORDS: Record<DisabledReason, string> = {
  admin: "Disabled by an admin",
  gone: "Disabled: the receiver answered 410 Gone",
  failing: "Disabled: it kept failing for too long",
};

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

/** A time for a table cell: the time alone when it is today. */
export function when(iso: string | undefined): string {
  if (!iso) return "never";
  const date = new Date(iso);
  return date.toDateString() === new Date().toDateString() ? timeOnly.format(date) : dateTime.format(date);
}

export function milliseconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s` : `${Math.round(ms)} ms`;
}

export function circuitWords(health: SubscriptionView["health"]): string {
  if (health.circuit === "open") return `circuit open${health.openUntil ? ` until ${when(health.openUntil)}` : ""}`;
  if (health.circuit === "half-open") return "circuit half-open: probing";
  return health.consecutiveFailures > 0 ? `circuit closed, ${health.consecutiveFailures} failures in a row` : "circuit closed: healthy";
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

/** `datetime-local` speaks local time without a zone; the API wants ISO 8601 with one. */
export const toIso = (local: string) => (local ? new Date(local).toISOString() : undefined);
export const toLocal = (iso: string | undefined) => {
  if (!iso) return "";
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
