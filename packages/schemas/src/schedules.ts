import cronParser from "cron-parser";
import { z } from "zod";
import { errorBody } from "./errors.js";
import { scheduleTriggeredData } from "./events.js";
import { duration, idOf, isoTime, pageOf, parseDuration } from "./primitives.js";
import { projectId, projectListingQuery } from "./projects.js";

/**
 * What a fire's `schedule.triggered` event carries of the schedule's own: the participant and
 * whatever else the type allows. Hookbus adds scheduleId, scheduleName and triggeredAt itself.
 */
export const scheduleData = scheduleTriggeredData.omit({ scheduleId: true, scheduleName: true, triggeredAt: true });
export type ScheduleData = z.infer<typeof scheduleData>;

/** What happens to fires missed while nothing ran (workers down, the schedule paused). */
export const catchUpPolicies = ["none", "last", "all"] as const;
export type CatchUpPolicy = (typeof catchUpPolicies)[number];

/** The shortest `every` a schedule may have. */
export const MIN_SCHEDULE_EVERY_MS = 1000;
/** How many schedules one batch may create. */
export const MAX_BATCH_SCHEDULES = 1000;

/** Five fields (minute hour day-of-month month day-of-week), as cron-parser reads them: one issue, the first found. */
export const cronPattern = z
  .string()
  .trim()
  .superRefine((pattern, context) => {
    if (pattern.split(/\s+/).length !== 5)
      return context.addIssue({ code: "custom", message: "five fields: minute hour day-of-month month day-of-week" });
    try {
      cronParser.parseExpression(pattern);
    } catch (error) {
      context.addIssue({ code: "custom", message: `not a valid cron pattern: ${(error as Error).message}` });
    }
  });

/** An IANA time zone name the runtime knows, such as "America/New_York" or "UTC". */
export const timeZone = z.string().refine((name) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}, "not an IANA time zone (such as America/New_York or UTC)");

/** At least a second, in the API's one duration grammar (a string out of the grammar is the grammar's issue). */
const everyAtLeastASecond = duration.refine((value) => {
  try {
    return parseDuration(value) >= MIN_SCHEDULE_EVERY_MS;
  } catch {
    return true;
  }
}, `at least 1s (${MIN_SCHEDULE_EVERY_MS} ms)`);

const scheduleName = z.string().trim().min(1).max(1000);

const timing = {
  cron: cronPattern.optional().describe("five cron fields, read in `timezone`"),
  timezone: timeZone.optional().describe("the IANA time zone of `cron` (default UTC)"),
  every: everyAtLeastASecond.optional().describe('a fire every this long: milliseconds or "30s", "5m", "2h", "1d"'),
  at: isoTime.optional().describe("one fire at this time, which must be in the future"),
};

const bounds = {
  startAt: isoTime.optional().describe("no fire before this time"),
  endAt: isoTime.optional().describe("no fire after this time"),
  limit: z.number().int().min(1).optional().describe("at most this many fires"),
  catchUp: z
    .enum(catchUpPolicies)
    .optional()
    .describe('fires missed while nothing ran: "none" skips them, "last" (default) makes one up, "all" makes each up (at most 100)'),
};

/** The checks that span fields: exactly one way to time it, a zone only for cron, an end after the start. */
function checkTiming(
  body: { cron?: string; every?: unknown; at?: string; timezone?: string; startAt?: string | null; endAt?: string | null },
  context: z.RefinementCtx,
): void {
  const given = (["cron", "every", "at"] as const).filter((field) => body[field] !== undefined);
  if (given.length !== 1)
    context.addIssue({
      code: "custom",
      path: given.length > 1 ? [given[1]!] : [],
      message: `exactly one of cron, every or at${given.length > 1 ? `, not ${given.join(" and ")}` : ""}`,
    });
  if (body.timezone !== undefined && body.cron === undefined)
    context.addIssue({ code: "custom", path: ["timezone"], message: "timezone goes with cron only" });
  if (body.startAt && body.endAt && Date.parse(body.endAt) <= Date.parse(body.startAt))
    context.addIssue({ code: "custom", path: ["endAt"], message: "endAt is not after startAt" });
}

/**
 * An `at` must lie ahead when a request sets it; a schedule whose `at` has passed (it fired
 * and ended) may still be renamed or otherwise changed.
 */
function checkAtAhead(body: { at?: string }, context: z.RefinementCtx): void {
  if (body.at !== undefined && Date.parse(body.at) <= Date.now())
    context.addIssue({ code: "custom", path: ["at"], message: "at is in the past" });
}

const scheduleFields = z.strictObject({
  name: scheduleName.describe("its name: the event's scheduleName, which subscription filters match"),
  data: scheduleData,
  ...timing,
  ...bounds,
  projectId: projectId
    .optional()
    .describe("the project it fires in, named by an operator key (absent: the default project); a project's key makes its own"),
});

export const createScheduleBody = scheduleFields.superRefine(checkTiming).superRefine(checkAtAhead);
export type CreateScheduleBody = z.infer<typeof createScheduleBody>;

/**
 * PATCH: any field; `null` clears startAt, endAt or limit. Naming one of cron, every or at
 * replaces how the schedule is timed; the result is checked as a whole when applied.
 */
export const updateScheduleBody = z
  .strictObject({
    name: scheduleName.optional(),
    data: scheduleData.optional(),
    ...timing,
    startAt: isoTime.nullable().optional(),
    endAt: isoTime.nullable().optional(),
    limit: z.number().int().min(1).nullable().optional(),
    catchUp: z.enum(catchUpPolicies).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, "name at least one field to change")
  .superRefine(checkAtAhead);
export type UpdateScheduleBody = z.infer<typeof updateScheduleBody>;

/** A schedule as checked once a PATCH is applied to it: what a create is checked against, less the project. */
export const scheduleDefinition = scheduleFields.omit({ projectId: true }).superRefine(checkTiming);

/** Active: it fires. Paused: by an admin, until resumed. Ended: its limit, endAt or single `at` is behind it. */
export const scheduleStatuses = ["active", "paused", "ended"] as const;
export type ScheduleStatus = (typeof scheduleStatuses)[number];

export const scheduleView = z.object({
  id: idOf("sch"),
  projectId,
  name: z.string(),
  data: scheduleData,
  cron: z.string().optional(),
  timezone: z.string().optional(),
  /** Milliseconds. */
  every: z.number().int().optional(),
  at: isoTime.optional(),
  startAt: isoTime.optional(),
  endAt: isoTime.optional(),
  limit: z.number().int().optional(),
  catchUp: z.enum(catchUpPolicies),
  status: z.enum(scheduleStatuses),
  /** How many times it has fired. */
  fires: z.number().int(),
  nextFireAt: isoTime.nullable(),
  /** The planned time of its latest fire. */
  lastFiredAt: isoTime.nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
});
export type ScheduleView = z.infer<typeof scheduleView>;

/** One fire: the event it published, when it was planned and when it was made. */
export const scheduleFireView = z.object({
  eventId: idOf("evt"),
  plannedAt: isoTime,
  firedAt: isoTime,
});
export type ScheduleFireView = z.infer<typeof scheduleFireView>;

/** GET of one schedule: with its latest fires, newest first. */
export const scheduleWithFires = scheduleView.extend({ recentFires: z.array(scheduleFireView) });
export type ScheduleWithFires = z.infer<typeof scheduleWithFires>;

export const scheduleListQuery = projectListingQuery;
export type ScheduleListQuery = z.input<typeof scheduleListQuery>;
export const schedulePage = pageOf(scheduleView);
export type SchedulePage = z.infer<typeof schedulePage>;

/** Up to 1,000 schedules (one per participant, say), each made or refused on its own. */
export const createScheduleBatchBody = z.strictObject({
  schedules: z.array(createScheduleBody).min(1).max(MAX_BATCH_SCHEDULES),
});
/** What the ingest checks of a batch before its items, which are then checked one by one. */
export const createScheduleBatchEnvelope = createScheduleBatchBody.extend({
  schedules: z.array(z.unknown()).min(1).max(MAX_BATCH_SCHEDULES),
});
export type CreateScheduleBatchBody = z.infer<typeof createScheduleBatchBody>;
export const scheduleBatchResult = z.object({ items: z.array(z.union([scheduleView, errorBody])) });
export type ScheduleBatchResult = z.infer<typeof scheduleBatchResult>;
