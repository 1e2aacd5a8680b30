import { z } from "zod";

/** The API's one rule for times: ISO 8601 with a date, a time, and Z or an offset. */
export const isoTime = z.iso.datetime({ offset: true });

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
/** The one duration grammar, for the API, the configuration and the CLI alike. */
const DURATION_TEXT = /^(\d+)(ms|s|m|h|d|w)?$/;
const DURATION_HINT = 'milliseconds, or a whole number with a unit: "500ms", "30s", "5m", "2h", "1d", "1w"';

/** A delay: milliseconds, or a whole number with a unit such as "30s", "5m", "2h", "1d", "1w". */
export const duration = z.union([
  z
    .number()
    .int()
    .min(0)
    .max(7 * UNIT_MS.d),
  z.string().regex(DURATION_TEXT, DURATION_HINT),
]);
export type Duration = z.infer<typeof duration>;

/**
 * A delay before a retry: a duration of at most a week, as the number form already is. Checked
 * of the text form alone, and only once the grammar took it: zod runs this on a refused value too.
 */
export const retryDelay = duration.refine(
  (value) => typeof value !== "string" || !DURATION_TEXT.test(value) || parseDuration(value) <= UNIT_MS.w,
  `at most 1w (${UNIT_MS.w} ms)`,
);

/**
 * How long events and deliveries are kept: milliseconds or a duration text, from a day (the
 * longest delay of the default retry schedule fits) to ten years.
 */
export const retentionPeriod = z
  .union([z.number().int(), z.string().regex(DURATION_TEXT, DURATION_HINT)])
  .refine((value) => typeof value !== "string" || DURATION_TEXT.test(value), DURATION_HINT)
  .refine((value) => {
    if (typeof value === "string" && !DURATION_TEXT.test(value)) return true; // said above
    const ms = parseDuration(value);
    return ms >= UNIT_MS.d && ms <= 3650 * UNIT_MS.d;
  }, "from 1d to 3650d");

/**
 * Attempts or deliveries per second: at least one a day (slower would outlast every delay the
 * gate can keep), at most 10,000.
 */
export const ratePerSecond = z
  .number()
  .min(1 / 86_400, "at least 1/86400 (one a day)")
  .max(10_000, "at most 10000");

/** A duration in milliseconds; a string out of the grammar throws, saying what it expected. */
export function parseDuration(value: number | string): number {
  if (typeof value === "number") return value;
  const match = DURATION_TEXT.exec(value.trim());
  if (!match) throw new Error(`"${value}" is not a duration: ${DURATION_HINT}`);
  return Number(match[1]) * UNIT_MS[(match[2] ?? "ms") as keyof typeof UNIT_MS];
}

/** Ids: a prefix and a time-sortable ULID. */
export const idOf = (prefix: "evt" | "sub" | "dlv" | "rpl" | "prj" | "key" | "aud" | "era" | "sch") =>
  z.string().regex(new RegExp(`^${prefix}_[0-9A-Z]{26}$`), `a ${prefix}_ id`);

/** A page of a listing: `nextCursor` goes in the next request's `cursor`, null on the last page. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });
