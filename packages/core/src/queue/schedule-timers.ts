import type { JobsOptions } from "bullmq";
import { Timetable } from "../policy/schedule-timetable.js";
import type { Schedule } from "../store/schedule-store.js";
import type { HookbusQueues } from "./queues.js";

/**
 * A wake-up may be run again if it fails: what it fires is idempotent (the schedule id and the
 * planned time), and a wake-up lost for good costs only lateness, since the next one fires
 * whatever is due by then.
 */
const SCHEDULE_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 500 },
  removeOnComplete: true,
  removeOnFail: true,
};

/** A single `at`'s timer: a delayed job of its own (BullMQ's job schedulers only repeat). */
const atJobId = (scheduleId: string) => `at-${scheduleId}`;

/**
 * Sets a schedule's timer from its next planned time after `now`: a BullMQ job scheduler for
 * cron and every, a delayed job for a single `at`. Any timer it had is replaced, so that a
 * changed start or period does not keep the old one's rhythm. BullMQ wakes the schedule at
 * each planned time; what fires then, and what is made up after an outage, is decided by the
 * wake-up itself (flows/fire-schedule), not by BullMQ, which runs a late job once and skips
 * the rest.
 */
export async function setScheduleTimer(queues: HookbusQueues, schedule: Schedule, now = Date.now()): Promise<void> {
  await clearScheduleTimer(queues, schedule.id);
  await startScheduleTimer(queues, schedule, now);
}

/** Starts the timer of a schedule that has none (a new one): setScheduleTimer without the clearing. */
export async function startScheduleTimer(queues: HookbusQueues, schedule: Schedule, now = Date.now()): Promise<void> {
  const next = new Timetable(schedule).nextAfter(now);
  if (next === undefined) return;
  const template = { name: "fire", data: { scheduleId: schedule.id }, opts: SCHEDULE_JOB_OPTIONS };
  if (schedule.at !== undefined) {
    await queues.schedule.add(template.name, template.data, { ...SCHEDULE_JOB_OPTIONS, jobId: atJobId(schedule.id), delay: next - now });
  } else if (schedule.cron !== undefined) {
    // cron-parser's next time is strictly after the start: one millisecond early makes `next` the first.
    const repeat = { pattern: schedule.cron, tz: schedule.timezone ?? "UTC", startDate: next - 1, endDate: schedule.endAt };
    await queues.schedule.upsertJobScheduler(schedule.id, repeat, template);
  } else {
    // Started on a planned time, BullMQ's every keeps to the schedule's own periods, also when it skips ahead after an outage.
    await queues.schedule.upsertJobScheduler(schedule.id, { every: schedule.every!, startDate: next, endDate: schedule.endAt }, template);
  }
}

/** Stops a schedule's timer (a wake-up already running finishes). */
export async function clearScheduleTimer(queues: HookbusQueues, scheduleId: string): Promise<void> {
  await queues.schedule.removeJobScheduler(scheduleId);
  // A job running now is locked and stays: it finds the schedule paused or gone.
  await (await queues.schedule.getJob(atJobId(scheduleId)))?.remove().catch(() => undefined);
}

/** Wakes a schedule now, to fire (by its catchUp) what came due while it was paused. */
export async function wakeSchedule(queues: HookbusQueues, scheduleId: string, now = Date.now()): Promise<void> {
  await queues.schedule.add("fire", { scheduleId }, { ...SCHEDULE_JOB_OPTIONS, jobId: `wake-${scheduleId}-${now}` });
}

/** The planned time a wake-up was set for: BullMQ names a scheduler's jobs `repeat:<id>:<ms>`; others are due when added. */
export function wakeUpTime(job: { id?: string; timestamp: number; delay: number }): number {
  const planned = job.id?.startsWith("repeat:") ? Number(job.id.slice(job.id.lastIndexOf(":") + 1)) : NaN;
  return Number.isFinite(planned) ? planned : job.timestamp + job.delay;
}
