import type { Attempt, Delivery } from "@hookbus/core/policy";
import type { HookbusContext } from "@hookbus/core/runtime";
import type { OverviewView } from "@hookbus/schemas";

const MINUTE_MS = 60_000;
/** Deliveries read per page of the log, and at most in all: the overview is a glance, not a report. */
const PAGE_SIZE = 500;
const MOST_DELIVERIES = 20_000;
const SLOWEST_SHOWN = 5;

export interface DeliveryWithItsAttempts {
  delivery: Delivery;
  attempts: Attempt[];
}

const failed = (attempt: Attempt) =>
  attempt.error !== undefined || attempt.statusCode === undefined || attempt.statusCode < 200 || attempt.statusCode > 299;

/**
 * The last `minutes` minutes, per minute, from the deliveries created in them and their
 * attempts. Neither app keeps a time series (the metrics are counters that Prometheus turns
 * into one), so the console's overview reads the delivery log, whose index is ordered by time;
 * retries of deliveries created before the window are not counted.
 */
/** @param projectId only this project's deliveries; undefined: every project's */
export async function readOverview(context: HookbusContext, minutes: number, projectId?: string, now = Date.now()): Promise<OverviewView> {
  const firstMinute = Math.floor(now / MINUTE_MS) * MINUTE_MS - (minutes - 1) * MINUTE_MS;
  const read: DeliveryWithItsAttempts[] = [];
  let cursor: string | undefined;
  do {
    const page = await context.deliveries.list({ since: firstMinute, projectId }, PAGE_SIZE, cursor);
    const attempts = await Promise.all(page.items.map((delivery) => context.deliveries.attempts(delivery.id)));
    page.items.forEach((delivery, i) => read.push({ delivery, attempts: attempts[i]! }));
    cursor = page.nextCursor;
  } while (cursor && read.length < MOST_DELIVERIES);

  const summary = summariseOverview(read, firstMinute, minutes);
  const subscriptions = await context.subscriptions.getMany(summary.slowestEndpoints.map((e) => e.subscriptionId));
  const urls = new Map(subscriptions.map((s) => [s.id, s.url]));
  return {
    ...summary,
    slowestEndpoints: summary.slowestEndpoints.map((e) => ({ ...e, url: urls.get(e.subscriptionId) })),
    truncated: cursor !== undefined,
  };
}

/** The per-minute counts and the slowest endpoints of a window, from deliveries and their attempts. Pure. */
export function summariseOverview(read: DeliveryWithItsAttempts[], firstMinute: number, minutes: number): Omit<OverviewView, "truncated"> {
  const until = firstMinute + minutes * MINUTE_MS;
  const buckets = Array.from({ length: minutes }, (_, i) => ({
    at: firstMinute + i * MINUTE_MS,
    deliveries: 0,
    attempts: 0,
    failedAttempts: 0,
    deadLetters: 0,
  }));
  const bucketOf = (time: number) =>
    time >= firstMinute && time < until ? buckets[Math.floor((time - firstMinute) / MINUTE_MS)] : undefined;
  const latency = new Map<string, { attempts: number; totalMs: number; maxMs: number }>();

  for (const { delivery, attempts } of read) {
    const created = bucketOf(delivery.createdAt);
    if (created) created.deliveries++;
    for (const attempt of attempts) {
      const bucket = bucketOf(attempt.at);
      if (!bucket) continue;
      bucket.attempts++;
      if (failed(attempt)) bucket.failedAttempts++;
      const endpoint = latency.get(delivery.subscriptionId) ?? { attempts: 0, totalMs: 0, maxMs: 0 };
      endpoint.attempts++;
      endpoint.totalMs += attempt.durationMs;
      endpoint.maxMs = Math.max(endpoint.maxMs, attempt.durationMs);
      latency.set(delivery.subscriptionId, endpoint);
    }
    const lastAttempt = attempts[attempts.length - 1];
    if (delivery.status === "failed" && lastAttempt) {
      const deadLettered = bucketOf(lastAttempt.at);
      if (deadLettered) deadLettered.deadLetters++;
    }
  }

  const slowestEndpoints = [...latency]
    .map(([subscriptionId, e]) => ({
      subscriptionId,
      attempts: e.attempts,
      averageMs: round(e.totalMs / e.attempts),
      maxMs: round(e.maxMs),
    }))
    .sort((a, b) => b.averageMs - a.averageMs)
    .slice(0, SLOWEST_SHOWN);
  return {
    since: new Date(firstMinute).toISOString(),
    until: new Date(until).toISOString(),
    minutes: buckets.map((b) => ({ ...b, at: new Date(b.at).toISOString() })),
    slowestEndpoints,
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
