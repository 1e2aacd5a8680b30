import { isoTime } from "@hookbus/schemas";

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const RELATIVE = /^(\d+)([smhdw])$/;

/**
 * Turns a --since/--until value into the ISO 8601 instant the API takes: `2h`, `30m`, `1d`
 * mean that long before `now`; an ISO 8601 date-time with a zone passes through unchanged.
 * A bare date or a zoneless time is refused rather than guessed in the local zone.
 */
export function toIsoInstant(value: string, now: number = Date.now()): string {
  const relative = RELATIVE.exec(value.trim());
  if (relative) {
    const unit = relative[2] as keyof typeof UNIT_MS;
    return new Date(now - Number(relative[1]) * UNIT_MS[unit]).toISOString();
  }
  // The API's own rule for times: a date, a time, and Z or an offset.
  if (isoTime.safeParse(value).success) return value;
  throw new Error(`"${value}" is neither a relative time (30s, 15m, 2h, 1d, 1w) nor an ISO 8601 date-time with a zone (2025-06-01T08:00:00Z)`);
}
