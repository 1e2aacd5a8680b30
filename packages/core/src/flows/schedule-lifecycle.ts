import { definedSchedule, newId, SCHEDULE_GRACE_MS, Timetable, timingChanged, type ScheduleDefinition } from "../policy/index.js";
import { clearScheduleTimer, setScheduleTimer, startScheduleTimer, wakeSchedule } from "../queue/schedule-timers.js";
import type { HookbusQueues } from "../queue/queues.js";
import type { Schedule, ScheduleStore } from "../store/schedule-store.js";

/** The store and queue a schedule's life touches: the apps pass their HookbusContext. */
export interface ScheduleContext {
  schedules: ScheduleStore;
  queues: HookbusQueues;
}

/**
 * Every change of a schedule happens in one of these functions, each one action (create,
 * update, pause, resume, delete): the place to record who did what.
 */

/**
 * Makes schedules, each handled from its start or from now, whichever is later, stored in
 * one round trip, then their timers set.
 * @param projectId per schedule, its project; undefined: the default one
 */
export async function createSchedules(
  context: ScheduleContext,
  items: { definition: ScheduleDefinition; projectId?: string }[],
  now = Date.now(),
): Promise<Schedule[]> {
  const made = items.map(({ definition, projectId }) => {
    const schedule: Schedule = {
      id: newId("sch", now),
      projectId,
      ...definedSchedule(definition),
      paused: false,
      createdAt: now,
      updatedAt: now,
    };
    // Nothing planned before it was made fires: a start in the past only sets an every's rhythm.
    return { schedule, through: schedule.startAt === undefined ? now : Math.max(now, schedule.startAt - 1) };
  });
  await context.schedules.create(made);
  await Promise.all(made.map(({ schedule }) => startScheduleTimer(context.queues, schedule, now)));
  return made.map(({ schedule }) => schedule);
}

/**
 * Changes a schedule's definition. A new timing starts from now: times it would have had
 * before the change are not made up, and a new `every` counts its periods from now (from its
 * start, if the change names one). A schedule that had ended fires again if the new definition
 * leaves it times.
 */
export async function updateSchedule(
  context: ScheduleContext,
  schedule: Schedule,
  definition: ScheduleDefinition,
  now = Date.now(),
): Promise<Schedule> {
  const updated: Schedule = { ...schedule, ...clearedDefinition, ...definedSchedule(definition), updatedAt: now };
  updated.rhythmFrom = rhythmAfterChange(schedule, updated, now);
  const retimed = timingChanged(schedule, updated) || updated.limit !== schedule.limit;
  if (retimed) delete updated.endedAt;
  await context.schedules.save(updated);
  if (retimed) {
    if (timingChanged(schedule, updated)) await context.schedules.recordRun(schedule.id, now, []);
    if (!updated.paused) await setScheduleTimer(context.queues, updated, now);
  }
  return updated;
}

/** What an `every` counts its periods from after a change: now for a new period, its start for a new start, else as before. */
function rhythmAfterChange(before: Schedule, after: Schedule, now: number): number | undefined {
  if (after.every === undefined || after.startAt !== before.startAt) return undefined;
  return after.every !== before.every ? now : before.rhythmFrom;
}

/** What a definition may leave out: cleared unless the new one sets it. */
const clearedDefinition = {
  cron: undefined,
  timezone: undefined,
  every: undefined,
  at: undefined,
  startAt: undefined,
  endAt: undefined,
  limit: undefined,
};

/** Stops a schedule's fires until it is resumed; its timer goes. */
export async function pauseSchedule(context: ScheduleContext, schedule: Schedule, now = Date.now()): Promise<Schedule> {
  if (schedule.paused) return schedule;
  const paused = { ...schedule, paused: true, updatedAt: now };
  await context.schedules.save(paused);
  await clearScheduleTimer(context.queues, schedule.id);
  return paused;
}

/** Fires again: its timer back, and a wake-up now that fires what came due while paused, by its catchUp. */
export async function resumeSchedule(context: ScheduleContext, schedule: Schedule, now = Date.now()): Promise<Schedule> {
  if (!schedule.paused) return schedule;
  const resumed = { ...schedule, paused: false, updatedAt: now };
  await context.schedules.save(resumed);
  await restartTimer(context, resumed, now);
  return resumed;
}

/** Sets a schedule's timer again and wakes it now, to fire by its catchUp what came due while it had none. */
async function restartTimer(context: ScheduleContext, schedule: Schedule, now: number): Promise<void> {
  await setScheduleTimer(context.queues, schedule, now);
  await wakeSchedule(context.queues, schedule.id, now);
}

/** Deletes a schedule and its timer; the events it fired stay, as published events do. */
export async function deleteSchedule(context: ScheduleContext, schedule: Schedule): Promise<void> {
  await clearScheduleTimer(context.queues, schedule.id);
  await context.schedules.delete(schedule);
}

/** How long past its planned time a fire may wait for its wake-up before the schedule's timer is taken as lost. */
const TIMER_LOST_AFTER_MS = 2 * SCHEDULE_GRACE_MS;

/** Schedules read at a time when looking for lost timers. */
const TIMER_CHECK_PAGE = 500;

/**
 * Gives its timer back to every active schedule whose next planned time is long past with no
 * wake-up having handled it. BullMQ adds a job scheduler's next job as the current one starts,
 * and drops it when Redis refuses that add for another reason than a lost connection (memory
 * full, a slot moving): the schedule would never fire again. Its timer is set again, and it is
 * woken to make up what it missed by its catchUp. Returns how many it gave back.
 * @param lostAfterMs how long past its planned time a fire may wait for its wake-up before the timer counts as lost
 */
export async function restoreLostTimers(context: ScheduleContext, lostAfterMs = TIMER_LOST_AFTER_MS, now = Date.now()): Promise<number> {
  let restored = 0;
  for (let cursor: string | undefined; ; ) {
    const page = await context.schedules.list(TIMER_CHECK_PAGE, cursor);
    const active = page.items.filter((schedule) => !schedule.paused && schedule.endedAt === undefined);
    const states = await context.schedules.states(active.map((schedule) => schedule.id));
    for (const [i, schedule] of active.entries()) {
      const next = new Timetable(schedule).nextAfter(states[i]!.through);
      if (next === undefined || now - next < lostAfterMs) continue;
      await restartTimer(context, schedule, now);
      restored++;
    }
    if (page.nextCursor === undefined) return restored;
    cursor = page.nextCursor;
  }
}
