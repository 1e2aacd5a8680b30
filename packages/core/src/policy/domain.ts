import type { AttemptErrorKind, DeliveryStatus, EventType, SubscriptionSettings } from "@hookbus/schemas";

export interface SigningSecret {
  secret: string;
  createdAt: number;
  /** Set on a rotated-out secret: it keeps signing until then (ms). */
  expiresAt?: number;
}

/** A subscription as stored: its settings (from the contract's field table) and what Hookbus keeps beside them. */
export interface Subscription extends SubscriptionSettings {
  id: string;
  /** The project it belongs to; absent in subscriptions made before projects: the default project. */
  projectId?: string;
  /** Newest first. */
  secrets: SigningSecret[];
  createdAt: number;
  updatedAt: number;
  /**
   * Set, when read, on a subscription whose secrets this process cannot open (sealed with a
   * key it does not hold): why. It then has no secrets, password or header values, so it is
   * never attempted nor written back; its deliveries wait, and it can only be deleted.
   */
  unreadable?: string;
}

export interface EventRecord {
  id: string;
  /** The project it was published in; absent in events stored before projects: the default project. */
  projectId?: string;
  type: EventType;
  data: Record<string, unknown>;
  /** The publisher's idempotency key, when it gave one. */
  idempotencyKey?: string;
  /** Whose key it is (the API key's non-secret id), where its record is found; absent in events stored before erasure. */
  idempotencyScope?: string;
  /** When it happened (the publisher's occurredAt, else createdAt), ms. */
  occurredAt: number;
  createdAt: number;
  /** Samples sent by "send sample" reach test subscriptions only. */
  sample?: boolean;
  /** The route job it was published with, when that job is named after another event of its group. */
  routeJobId?: string;
  /** Its project's retention (ms) when the project set one: its deliveries are kept as long. */
  retentionMs?: number;
  /** The publisher's ordering key, and the event's place among its key's events (1, 2, ...), fixed when it was stored. */
  orderingKey?: string;
  orderingSeq?: number;
}

export { deliveryStatuses, type AttemptErrorKind, type DeliveryState, type DeliveryStatus } from "@hookbus/schemas";
import type { DeliveryState } from "@hookbus/schemas";

/** Whether a delivery will not be attempted again by itself: delivered, dead-lettered or erased. */
export function isSettled(status: DeliveryState): boolean {
  return status === "delivered" || status === "failed" || status === "erased";
}

export interface Attempt {
  at: number;
  statusCode?: number;
  error?: AttemptErrorKind;
  /** A human-readable detail of the error, never a secret. */
  message?: string;
  durationMs: number;
  responseBody?: string;
}

export interface Delivery {
  id: string;
  /** Its event's project; absent for the default project (and in deliveries made before projects). */
  projectId?: string;
  eventId: string;
  subscriptionId: string;
  eventType: EventType;
  status: DeliveryState;
  createdAt: number;
  attemptCount: number;
  nextAttemptAt?: number;
  lastAttemptAt?: number;
  /** How many times it was replayed: its current job is the replay with this number. */
  replays: number;
  /** The bulk replay its current run belongs to, if any. */
  replayId?: string;
  /** That replay's cap, sends per second: a job put back for the delivery keeps it. */
  replayRatePerSecond?: number;
  /** Its attempt count when its current run (first delivery or latest replay) began. */
  runStartedAtAttempt: number;
  /** Why it failed with no attempt to show for it (never attempted within retention, say). */
  failureReason?: string;
  /** Its event's ordering key, when its subscription orders by key: it waits its turn in that key's lane until finished. */
  orderingKey?: string;
}

/** The result of routing one subscription: its delivery and whether it still needs a job. */
export interface RoutedDelivery {
  deliveryId: string;
  subscription: Subscription;
  /** True when nothing has been attempted yet, so a first delivery job must exist. */
  needsJob: boolean;
  /** The delivery as routing found it, when it existed already (a route job run again). */
  found?: Delivery;
}

export const DEFAULT_TIMEOUT_MS = { async: 15_000, sync: 5_000 } as const;
