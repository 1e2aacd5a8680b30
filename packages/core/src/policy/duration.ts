import ms from "ms";
import type { Duration } from "@hookbus/schemas";

/** "30s", "5m", "2h", "1d", "500ms" or a number of milliseconds -> milliseconds. */
export function parseDuration(value: Duration): number {
  if (typeof value === "number") return value;
  const trimmed = value.trim();
  const millis = /^\d+$/.test(trimmed) ? Number(trimmed) : ms(trimmed as ms.StringValue);
  if (typeof millis !== "number" || !Number.isFinite(millis) || millis < 0) {
    throw new Error(`"${value}" is not a duration such as 30s, 5m, 2h`);
  }
  return millis;
}
