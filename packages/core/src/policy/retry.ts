import { parseDuration, type Duration } from "@hookbus/schemas";

/** 5s, 5m, 30m, 2h, 5h, 10h, 10h: 8 attempts over about 28 hours. */
export const DEFAULT_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000].map((s) => s * 1000);

/** How far a delay may move either way, so that retries of one outage do not all land together. */
export const JITTER_RATIO = 0.1;

export function parseRetrySchedule(delays: Duration[]): number[] {
  return delays.map((d) => parseDuration(typeof d === "string" ? d.trim() : d));
}

/** The subscription's own schedule, or the default one. */
export function effectiveSchedule(subscriptionSchedule: number[] | undefined, defaultSchedule: number[]): number[] {
  return subscriptionSchedule ?? defaultSchedule;
}

export function maxAttempts(schedule: number[]): number {
  return schedule.length + 1;
}

/**
 * The delay before the next attempt after `attemptsMade` attempts failed, or null when
 * the last one has been made and the delivery is dead-lettered.
 */
export function nextRetryDelay(schedule: number[], attemptsMade: number, random: () => number = Math.random): number | null {
  const base = schedule[attemptsMade - 1];
  if (base === undefined) return null;
  const jitter = base * JITTER_RATIO * (random() * 2 - 1);
  return Math.max(0, Math.round(base + jitter));
}

/** How long a schedule may keep a delivery going, first attempt to last, at the most jitter adds (ms). */
export function scheduleSpan(schedule: number[]): number {
  return Math.round(schedule.reduce((sum, delay) => sum + delay, 0) * (1 + JITTER_RATIO));
}

/**
 * Why a schedule cannot be kept within the retention window, or undefined when it can: a
 * delivery whose attempts run past the window would outlive the event it delivers.
 */
export function scheduleBeyondRetention(schedule: number[], retentionMs: number): string | undefined {
  const span = scheduleSpan(schedule);
  if (span < retentionMs) return undefined;
  return `the retry schedule spans up to ${exactDuration(span)} with jitter, not less than the retention of ${exactDuration(retentionMs)} (HOOKBUS_RETENTION)`;
}

/** A duration in the largest unit that states it exactly ("66m", not a rounded "1h"). */
function exactDuration(value: number): string {
  const units: [string, number][] = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ];
  const [unit, size] = units.find(([, size]) => value % size === 0) ?? ["ms", 1];
  return `${value / size}${unit}`;
}
