import { z } from "zod";
import { errorBody } from "./errors.js";
import { idOf, isoTime } from "./primitives.js";
import { projectId } from "./projects.js";

/**
 * Ids are strings on both platforms; MyDataHelps ones are GUIDs. z.guid() accepts any
 * 8-4-4-4-12 hex id: the platform's own samples do not all carry an RFC 4122 variant.
 */
const uuid = z.guid();
const text = z.string().min(1).max(1000);

const myDataHelpsParticipant = {
  projectId: uuid,
  participantId: uuid,
  participantIdentifier: text,
};

export const surveySubmittedData = z.strictObject({
  ...myDataHelpsParticipant,
  surveyResultId: uuid,
  surveyId: text.optional(),
  surveyName: text,
  submittedAt: isoTime.optional(),
});

export const scheduleTriggeredData = z.strictObject({
  ...myDataHelpsParticipant,
  scheduleId: text,
  scheduleName: text.optional(),
  triggeredAt: isoTime.optional(),
});

const trialKitRecord = {
  transId: text,
  formId: text,
  formName: text,
};

export const recordChangedData = z.strictObject(trialKitRecord);

export const recordReviewChangedData = z.strictObject({
  ...trialKitRecord,
  workflow: z.strictObject({
    id: text,
    name: text,
    description: text.optional(),
  }),
});

/** Why a subscription was disabled: its endpoint answered 410 Gone, it kept failing, or an admin paused it. */
export const disabledReasons = ["gone", "failing", "admin"] as const;
export type DisabledReason = (typeof disabledReasons)[number];

/** Hookbus's own operational event, published on the bus when a subscription is disabled. */
export const subscriptionDisabledData = z.strictObject({
  subscriptionId: z.string().min(1),
  url: z.string().min(1),
  reason: z.enum(disabledReasons),
  disabledAt: isoTime,
});

/** The `data` schema of each event type: the single list every other part reads. */
export const eventDataSchemas = {
  "survey.submitted": surveySubmittedData,
  "schedule.triggered": scheduleTriggeredData,
  "record.created": recordChangedData,
  "record.updated": recordChangedData,
  "record.review_changed": recordReviewChangedData,
  "subscription.disabled": subscriptionDisabledData,
} as const;

export const eventTypes = Object.keys(eventDataSchemas) as [EventType, ...EventType[]];
export type EventType = keyof typeof eventDataSchemas;
export const eventType = z.enum(eventTypes);

export type SurveySubmittedData = z.infer<typeof surveySubmittedData>;
export type ScheduleTriggeredData = z.infer<typeof scheduleTriggeredData>;
export type RecordChangedData = z.infer<typeof recordChangedData>;
export type RecordReviewChangedData = z.infer<typeof recordReviewChangedData>;
export type SubscriptionDisabledData = z.infer<typeof subscriptionDisabledData>;
export type EventData = { [T in EventType]: z.infer<(typeof eventDataSchemas)[T]> }[EventType];

/** The publisher's idempotency key: printable, no spaces, bounded. */
export const idempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces");

/**
 * Events with the same ordering key reach a subscription with `ordering: "key"` one at a time,
 * in the order they were published (the order their publishes were stored in).
 */
export const orderingKey = z.string().min(1).max(256);

function publishBodyFor<T extends EventType>(type: T) {
  return z.strictObject({
    type: z.literal(type),
    data: eventDataSchemas[type],
    id: idempotencyKey.optional(),
    occurredAt: isoTime.optional(),
    orderingKey: orderingKey
      .optional()
      .describe('events with one key reach a subscription with ordering "key" one at a time, in publish order'),
    projectId: projectId
      .optional()
      .describe("the project to publish in, named by an operator key (absent: the default project); a project's key publishes in its own"),
  });
}

/** What publishers may publish: the platforms' event types. Operational events are Hookbus's own. */
export const publishBody = z.discriminatedUnion("type", [
  publishBodyFor("survey.submitted"),
  publishBodyFor("schedule.triggered"),
  publishBodyFor("record.created"),
  publishBodyFor("record.updated"),
  publishBodyFor("record.review_changed"),
]);
export type PublishBody = z.infer<typeof publishBody>;

/** How many events one batch publish may carry. */
export const MAX_BATCH_EVENTS = 1000;

/** A batch publish: events as POST /v1/events takes them, each accepted or refused on its own. */
export const publishBatchBody = z.strictObject({
  events: z.array(publishBody).min(1).max(MAX_BATCH_EVENTS),
});
export type PublishBatchBody = z.infer<typeof publishBatchBody>;

/**
 * What the ingest checks of a batch before its items: the list itself. Each item is then
 * checked against publishBody on its own, so a bad one rejects only itself.
 */
export const publishBatchEnvelope = publishBatchBody.extend({ events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS) });

/** What a publish answers: the event's id and type; `duplicate` when its idempotency key named an earlier event. */
export const publishResult = z.object({
  id: idOf("evt"),
  type: eventType,
  duplicate: z.literal(true).optional(),
});
export type PublishResult = z.infer<typeof publishResult>;

/** One item of a batch's answer, in the order of the events sent: accepted, or why not. */
export const batchItemResult = z.union([publishResult, errorBody]);
export type BatchItemResult = z.infer<typeof batchItemResult>;
export const batchPublishResult = z.object({ items: z.array(batchItemResult) });
export type BatchPublishResult = z.infer<typeof batchPublishResult>;

export const syncOutcomes = ["delivered", "failed", "timeout"] as const;

/** The first attempt of a delivery someone waits on: a sync publish, or a sample. */
export const syncResult = z.object({
  subscriptionId: idOf("sub"),
  deliveryId: idOf("dlv").optional(),
  outcome: z.enum(syncOutcomes),
  statusCode: z.number().int().optional(),
  body: z.string().optional(),
  durationMs: z.number(),
  message: z
    .string()
    .optional()
    .describe("why an attempt failed without an answer (refused, timed out, the endpoint's circuit open and nothing sent)"),
});
export type SyncResult = z.infer<typeof syncResult>;

/** A publish that sync subscriptions matched: answered once their first attempts are done. */
export const syncPublishResult = publishResult.extend({ sync: z.array(syncResult) });
export type SyncPublishResult = z.infer<typeof syncPublishResult>;
