import { z } from "zod";
import { projectId } from "./projects.js";
import { idOf, isoTime } from "./primitives.js";

/** How far back the overview looks, in minutes. */
export const overviewQuery = z.object({
  minutes: z.coerce.number().int().min(5).max(180).default(60),
  projectId: projectId.optional().describe("an operator key's choice of project; a project's key sees its own"),
});
export type OverviewQuery = { minutes?: number; projectId?: string };

const count = z.number().int().min(0);

/** One minute of the overview: what was created, attempted, failed and dead-lettered in it. */
export const overviewMinute = z.object({
  /** The minute's start. */
  at: isoTime,
  /** Deliveries created. */
  deliveries: count,
  attempts: count,
  /** Attempts that got no 2xx answer. */
  failedAttempts: count,
  /** Deliveries whose last attempt, in this minute, dead-lettered them. */
  deadLetters: count,
});

/** An endpoint by its attempts' durations in the window. */
export const endpointLatency = z.object({
  subscriptionId: idOf("sub"),
  /** Absent when the subscription has been deleted since. */
  url: z.string().optional(),
  attempts: count,
  averageMs: z.number(),
  maxMs: z.number(),
});

export const overviewView = z.object({
  since: isoTime,
  until: isoTime,
  /** Oldest first, one per minute. */
  minutes: z.array(overviewMinute),
  /** At most five, slowest average first. */
  slowestEndpoints: z.array(endpointLatency),
  /** More deliveries were created in the window than the overview reads: the oldest were left out. */
  truncated: z.boolean(),
});
export type OverviewView = z.infer<typeof overviewView>;
