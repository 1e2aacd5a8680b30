import cronstrue from "cronstrue";
import type { ScheduleView } from "@hookbus/schemas";
import { milliseconds } from "./format.js";

/** A cron pattern in words ("At 09:00 AM"), or undefined when cronstrue cannot read it. */
export function cronInWords(pattern: string): string | undefined {
  try {
    return cronstrue.toString(pattern, { throwExceptionOnParseError: true, verbose: false });
  } catch {
    return undefined;
  }
}

/** How a schedule is timed, in words: its cron read aloud in its zone, its period, or its one time. */
export function timingInWords(schedule: Pick<ScheduleView, "cron" | "timezone" | "every" | "at">): string {
  if (schedule.cron) return `${cronInWords(schedule.cron) ?? schedule.cron} (${schedule.timezone ?? "UTC"})`;
  if (schedule.every !== undefined) return `Every ${milliseconds(schedule.every)}`;
  return `Once, at ${schedule.at}`;
}

export const CATCH_UP_WORDS: Record<ScheduleView["catchUp"], string> = {
  last: "Make up one fire for what was missed",
  none: "Skip what was missed",
  all: "Make up every missed fire (at most 100)",
};

export const SCHEDULE_STATUS_WORDS: Record<ScheduleView["status"], string> = {
  active: "active",
  paused: "paused",
  ended: "ended",
};
