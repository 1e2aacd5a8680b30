// The shapes of the Hookbus HTTP API (v1) as this client reads them. The CLI speaks only
// HTTP, so these mirror the contract rather than importing the server's types.

export type DeliveryStatus = "pending" | "retrying" | "delivered" | "failed";
export const deliveryStatuses: DeliveryStatus[] = ["pending", "retrying", "delivered", "failed"];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Delivery {
  id: string;
  eventId: string;
  subscriptionId: string;
  eventType: string;
  status: DeliveryStatus;
  createdAt: string;
  attemptCount: number;
  nextAttemptAt?: string;
  lastAttemptAt?: string;
}

export interface Attempt {
  at: string;
  statusCode?: number;
  /** The kind of failure: timeout, connection, dns, http, ssrf_blocked. */
  error?: string;
  message?: string;
  durationMs: number;
  responseBody?: string;
}

export interface DeliveryWithAttempts extends Delivery {
  attempts: Attempt[];
}

export interface Subscription {
  id: string;
  url: string;
  eventTypes: string[];
  mode: "async" | "sync";
  environment: "live" | "test";
  enabled: boolean;
  description?: string;
  createdAt: string;
}

export interface CreatedSubscription extends Subscription {
  secret: string;
}

export interface SingleReplayAccepted {
  id: string;
  status: DeliveryStatus;
}

export interface BulkReplayDryRun {
  dryRun: true;
  count: number;
}

export interface BulkReplayAccepted {
  id: string;
  replayed: number;
  status: "running";
}

export interface Replay {
  id: string;
  status: "running" | "done";
  total: number;
  done: number;
  failed: number;
  /** Taken by another replay running at the same time, or no longer in the status asked for. */
  skipped: number;
  ratePerSecond?: number;
  createdAt: string;
  finishedAt?: string;
}

export interface SampleOutcome {
  eventId: string;
  deliveryId: string;
  type: string;
  outcome: "delivered" | "failed" | "timeout";
  statusCode?: number;
  body?: string;
  durationMs: number;
}

export interface ErrorBody {
  error: string;
  issues?: { path: (string | number)[]; message: string; code?: string }[];
}

/** One event's answer in a batch publish: accepted (perhaps already published under its id), or refused. */
export type BatchItem = { id: string; type: string; duplicate?: true } | { error: string; issues?: unknown[] };
