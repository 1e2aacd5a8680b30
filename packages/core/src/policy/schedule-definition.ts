import type { ScheduleTiming } from "./schedule-timetable.js";
import { parseDuration, type CreateScheduleBody, type UpdateScheduleBody } from "@hookbus/schemas";

/** A schedule's definition as the API takes it (ISO times, durations in the API's grammar), less its project. */
export type ScheduleDefinition = Omit<CreateScheduleBody, "projectId">;

/** The stored fields a definition sets, times in milliseconds. */
export interface DefinedSchedule extends Omit<ScheduleTiming, "createdAt"> {
  name: string;
  data: CreateScheduleBody["data"];
  limit?: number;
  catchUp: NonNullable<CreateScheduleBody["catchUp"]>;
}

const ms = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));
const iso = (time: number | undefined) => (time === undefined ? undefined : new Date(time).toISOString());

/** A checked definition as the fields to store; catchUp defaults to "last". */
export function definedSchedule(definition: ScheduleDefinition): DefinedSchedule {
  // Fields left undefined are not stored: JSON leaves them out.
  return {
    name: definition.name,
    data: definition.data,
    cron: definition.cron,
    timezone: definition.cron === undefined ? undefined : (definition.timezone ?? "UTC"),
    every: definition.every === undefined ? undefined : parseDuration(definition.every),
    at: ms(definition.at),
    startAt: ms(definition.startAt),
    endAt: ms(definition.endAt),
    limit: definition.limit,
    catchUp: definition.catchUp ?? "last",
  };
}

/**
 * The definition a PATCH leads to, to be checked as a whole: `null` clears a bound, and naming
 * one of cron, every or at replaces how the schedule is timed (a zone goes with its cron: a
 * new cron keeps the zone of the one it replaces unless the PATCH names another).
 */
export function patchedDefinition(current: DefinedSchedule, patch: UpdateScheduleBody): Record<string, unknown> {
  const retimed = patch.cron !== undefined || patch.every !== undefined || patch.at !== undefined;
  const timing = retimed
    ? {
        cron: patch.cron,
        timezone: patch.timezone ?? (patch.cron !== undefined ? current.timezone : undefined),
        every: patch.every,
        at: patch.at,
      }
    : {
        cron: current.cron,
        timezone: patch.timezone ?? current.timezone,
        // As text: the number form stops at a week, the text form does not.
        every: current.every === undefined ? undefined : `${current.every}ms`,
        at: iso(current.at),
      };
  const bound = <T>(value: T | null | undefined, was: T | undefined) => (value === null ? undefined : (value ?? was));
  return {
    name: patch.name ?? current.name,
    data: patch.data ?? current.data,
    ...timing,
    startAt: bound(patch.startAt, iso(current.startAt)),
    endAt: bound(patch.endAt, iso(current.endAt)),
    limit: bound(patch.limit, current.limit),
    catchUp: patch.catchUp ?? current.catchUp,
  };
}

/** Whether a change of definition changes when it fires. */
export function timingChanged(before: DefinedSchedule, after: DefinedSchedule): boolean {
  return (["cron", "timezone", "every", "at", "startAt", "endAt"] as const).some((field) => before[field] !== after[field]);
}
