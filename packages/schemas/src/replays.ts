import { z } from "zod";
import { deliveryFilter } from "./deliveries.js";
import { idOf, isoTime, ratePerSecond } from "./primitives.js";

/** A replay takes dead letters (the default) or delivered deliveries again. */
export const replayableStatuses = ["failed", "delivered"] as const;

export const bulkReplayBody = deliveryFilter.extend({
  status: z.enum(replayableStatuses).default("failed"),
  /** Count what would be replayed, and replay nothing. */
  dryRun: z.boolean().default(false),
  /** Deliveries sent per second at most, across the whole replay. */
  ratePerSecond: ratePerSecond.optional(),
});
export type BulkReplayBody = z.input<typeof bulkReplayBody>;

export const replayDryRun = z.object({ dryRun: z.literal(true), count: z.number().int() });
export type ReplayDryRun = z.infer<typeof replayDryRun>;

export const replayStarted = z.object({ id: idOf("rpl"), replayed: z.number().int(), status: z.enum(["running", "done"]) });
export type ReplayStarted = z.infer<typeof replayStarted>;

export const replayView = z.object({
  id: idOf("rpl"),
  /** done once every delivery it took has its outcome. */
  status: z.enum(["running", "done"]),
  total: z.number().int(),
  /** Replayed and delivered. */
  done: z.number().int(),
  /** Replayed and dead-lettered again, or undeliverable. */
  failed: z.number().int(),
  /** Not taken: another replay took them, they left the status, or their subscription is disabled. */
  skipped: z.number().int(),
  filter: deliveryFilter.extend({ status: z.enum(replayableStatuses) }),
  ratePerSecond: z.number().optional(),
  createdAt: isoTime,
  finishedAt: isoTime.optional(),
});
export type ReplayView = z.infer<typeof replayView>;
