import type { DisabledReason } from "@hookbus/schemas";
import type { DeliveryStatus } from "./domain.js";
import { nextRetryDelay } from "./retry.js";

/** The longest wait a receiver's Retry-After may impose. */
export const MAX_RETRY_AFTER_MS = 3600_000;

/** Statuses whose Retry-After is honoured: the receiver asks for a pause, not a different request. */
const PAUSE_STATUSES = new Set([429, 503]);

export interface AttemptDecision {
  status: Extract<DeliveryStatus, "delivered" | "retrying" | "failed">;
  /** When the next attempt is due (retrying only), ms. */
  nextAttemptAt?: number;
  /** The subscription must be disabled, for this reason. */
  disable?: DisabledReason;
}

/** What the receiver answered, as far as the decision goes. */
export interface AttemptResponse {
  /** A 2xx within the timeout. */
  ok: boolean;
  statusCode?: number;
  /** The Retry-After header of a response that was not a 2xx. */
  retryAfter?: string;
}

export interface AttemptFacts {
  result: AttemptResponse;
  /** Delays (ms) before each retry of a run. */
  schedule: number[];
  /** Which attempt of the current run (first delivery or latest replay) this was, from 1. */
  attemptInRun: number;
  now: number;
  random?: () => number;
}

/**
 * What an attempt leads to: delivered on a 2xx; otherwise the next attempt on the retry
 * schedule, no sooner than a 429's or 503's Retry-After asks, or dead-lettered after the last
 * one. A 410 Gone disables the subscription: the delivery waits, never dead-lettered for it, so
 * that enabling the subscription again delivers it.
 */
export function decideAttemptOutcome({ result, schedule, attemptInRun, now, random }: AttemptFacts): AttemptDecision {
  if (result.ok) return { status: "delivered" };
  const delay = nextRetryDelay(schedule, attemptInRun, random);
  if (result.statusCode === 410) return { status: "retrying", nextAttemptAt: now + (delay ?? 0), disable: "gone" };
  if (delay === null) return { status: "failed" };
  const pause = PAUSE_STATUSES.has(result.statusCode ?? 0) ? retryAfterMs(result.retryAfter, now) : undefined;
  return { status: "retrying", nextAttemptAt: now + Math.max(delay, pause ?? 0) };
}

/** A Retry-After header (delay-seconds or an HTTP date) in ms from now, capped; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  // An HTTP date names its weekday and month; anything else that Date.parse would take ("-5") is not one.
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : /^[A-Za-z]{3}/.test(value) ? Date.parse(value) - now : NaN;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}
