import { duration, isoTime, parseDuration } from "@hookbus/schemas";

/**
 * Turns a --since/--until value into the ISO 8601 instant the API takes: `2h`, `30m`, `1d`
 * mean that long before `now`; an ISO 8601 date-time with a zone passes through unchanged.
 * A bare date or a zoneless time is refused rather than guessed in the local zone.
 */
export function toIsoInstant(value: string, now: number = Date.now()): string {
  // The API's own rule for times: a date, a time, and Z or an offset.
  if (isoTime.safeParse(value).success) return value;
  // The API's own duration grammar, less its bare numbers (milliseconds there): "30" is more likely a slip.
  if (!/^\d+$/.test(value) && duration.safeParse(value).success) return new Date(now - parseDuration(value)).toISOString();
  throw new Error(
    `"${value}" is neither a relative time (30s, 15m, 2h, 1d, 1w) nor an ISO 8601 date-time with a zone (2025-06-01T08:00:00Z)`,
  );
}
