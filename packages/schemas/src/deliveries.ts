import { z } from "zod";
import { eventType } from "./events.js";
import { idOf, isoTime, pageOf } from "./primitives.js";
import { projectId } from "./projects.js";

export const deliveryStatuses = ["pending", "retrying", "delivered", "failed"] as const;
export const deliveryStatus = z.enum(deliveryStatuses);
export type DeliveryStatus = z.infer<typeof deliveryStatus>;
/**
 * What a delivery may show: a status, or `erased` once its participant's data was erased (it
 * keeps its ids and times, never its payload or attempts, and is never attempted again). Not
 * a status to filter or replay by.
 */
export const deliveryStates = [...deliveryStatuses, "erased"] as const;
export const deliveryState = z.enum(deliveryStates);
export type DeliveryState = z.infer<typeof deliveryState>;

export const attemptErrorKinds = ["timeout", "connection", "dns", "http", "ssrf_blocked"] as const;
export type AttemptErrorKind = (typeof attemptErrorKinds)[number];

/** Which deliveries: the one filter of the listing, the bulk replay and the CLI. */
export const deliveryFilter = z.strictObject({
  projectId: projectId.optional().describe("an operator key's choice of project; a project's key sees its own"),
  status: deliveryStatus.optional(),
  subscriptionId: z.string().optional(),
  eventType: eventType.optional(),
  /** Created at or after. */
  since: isoTime.optional(),
  /** Created before. */
  until: isoTime.optional(),
});
export type DeliveryFilter = z.infer<typeof deliveryFilter>;

export const deliveryListQuery = deliveryFilter.extend({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: idOf("dlv").optional().describe("the nextCursor of the previous page"),
});
export type DeliveryListQuery = z.input<typeof deliveryListQuery>;

export const deliveryView = z.object({
  id: idOf("dlv"),
  /** Its event's project. */
  projectId,
  eventId: idOf("evt"),
  subscriptionId: idOf("sub"),
  eventType,
  status: deliveryState,
  createdAt: isoTime,
  attemptCount: z.number().int(),
  nextAttemptAt: isoTime.optional(),
  lastAttemptAt: isoTime.optional(),
  /** How many times it was replayed. */
  replays: z.number().int(),
  /** The bulk replay its current run belongs to. */
  replayId: idOf("rpl").optional(),
  /**
   * Why it failed without an attempt to show for it: it could not be attempted within the
   * retention window (its subscription disabled, its endpoint's circuit open), or its
   * subscription or event was deleted. Cleared by a replay.
   */
  failureReason: z.string().optional(),
});
export type DeliveryView = z.infer<typeof deliveryView>;

export const attemptView = z.object({
  at: isoTime,
  statusCode: z.number().int().optional(),
  error: z.enum(attemptErrorKinds).optional(),
  message: z.string().optional(),
  durationMs: z.number(),
  /** The response body, cut to 4 KiB. */
  responseBody: z.string().optional(),
});
export type AttemptView = z.infer<typeof attemptView>;

export const deliveryWithAttempts = deliveryView.extend({ attempts: z.array(attemptView) });
export type DeliveryWithAttempts = z.infer<typeof deliveryWithAttempts>;

export const deliveryPage = pageOf(deliveryView);
export type DeliveryPage = z.infer<typeof deliveryPage>;

export const eventView = z.object({
  /** The project it was published in. */
  projectId,
  id: idOf("evt"),
  type: eventType,
  data: z.record(z.string(), z.unknown()),
  /** The publisher's ordering key, when it gave one. */
  orderingKey: z.string().optional(),
  occurredAt: isoTime,
  createdAt: isoTime,
  deliveries: z.array(z.object({ id: z.string(), subscriptionId: z.string(), status: deliveryState, attemptCount: z.number().int() })),
});
export type EventView = z.infer<typeof eventView>;
