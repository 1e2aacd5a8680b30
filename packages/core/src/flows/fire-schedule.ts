import { ConflictError, NotFoundError } from "../policy/errors.js";
import { MAX_CAUGHT_UP_FIRES, planFires, type FirePlan } from "../policy/fire-plan.js";
import { Timetable } from "../policy/schedule-timetable.js";
import { enqueueRoutes, type HookbusQueues } from "../queue/queues.js";
import { clearScheduleTimer } from "../queue/schedule-timers.js";
import type { EventStore, NewEvent } from "../store/event-store.js";
import type { Schedule, ScheduleFire, ScheduleStore } from "../store/schedule-store.js";

export interface FireContext {
  schedules: ScheduleStore;
  events: EventStore;
  queues: HookbusQueues;
}

/** What one wake-up of a schedule did. */
export interface ScheduleRun extends FirePlan {
  /** The fires it made: a planned time another run fired already is not made again. */
  fired: ScheduleFire[];
  /** Its limit, endAt or single `at` is behind it now. */
  ended: boolean;
}

/** Whose idempotency keys a schedule's fires are: no API key's id looks like this. */
const SCHEDULE_IDEMPOTENCY_SCOPE = "schedule";

/**
 * A schedule woken (by its timer, or by a resume): fires what came due since the last run, by
 * its catchUp, each fire a `schedule.triggered` event published as any event is (stored, then
 * routed to the project's subscriptions). Its idempotency key is the schedule and the planned
 * time, so a fire is one event however many workers, retries and restarts see it.
 * @param wokenFor the planned time the wake-up was set for: what is due counts from the later of it and `now`
 */
export async function fireSchedule(
  context: FireContext,
  scheduleId: string,
  wokenFor: number,
  now = Date.now(),
): Promise<ScheduleRun | undefined> {
  const schedule = await context.schedules.get(scheduleId).catch((error: unknown) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });
  if (!schedule || schedule.paused || schedule.endedAt !== undefined) return undefined;
  const state = await context.schedules.state(schedule.id);
  const until = Math.max(now, wokenFor);
  const timetable = new Timetable(schedule);
  const due = timetable.between(state.through, until, MAX_CAUGHT_UP_FIRES + 1);
  const plan = planFires(due, now, schedule.catchUp, schedule.limit === undefined ? Infinity : schedule.limit - state.fires);
  const fired = await publishFires(context, schedule, plan.fire, now);
  const fires = await context.schedules.recordRun(schedule.id, until, fired);
  if (fires === undefined) return undefined;
  const ended = (schedule.limit !== undefined && fires >= schedule.limit) || timetable.nextAfter(until) === undefined;
  if (ended) await endSchedule(context, schedule, now);
  return { ...plan, fired, ended };
}

/** Stores the fires' events in one round trip and routes them; returns the fires made now. */
async function publishFires(context: FireContext, schedule: Schedule, planned: number[], now: number): Promise<ScheduleFire[]> {
  if (planned.length === 0) return [];
  const stored = await context.events.storeMany(
    planned.map((time) => fireEvent(schedule, time)),
    now,
  );
  const routed: string[] = [];
  const fired: ScheduleFire[] = [];
  stored.forEach((result, i) => {
    // The same planned time under another name or data: an earlier run fired it before a change.
    if (result instanceof ConflictError) return;
    if (result instanceof Error) throw result;
    // A repeated key is routed again too: its first run may have stopped before routing it.
    routed.push(result.event.id);
    if (result.created) fired.push({ eventId: result.event.id, plannedAt: planned[i]!, firedAt: now });
  });
  await enqueueRoutes(context.queues, routed);
  return fired;
}

function fireEvent(schedule: Schedule, planned: number): NewEvent {
  const triggeredAt = new Date(planned).toISOString();
  return {
    projectId: schedule.projectId,
    type: "schedule.triggered",
    data: { ...schedule.data, scheduleId: schedule.id, scheduleName: schedule.name, triggeredAt },
    idempotencyKey: `${schedule.id}@${triggeredAt}`,
    idempotencyScope: SCHEDULE_IDEMPOTENCY_SCOPE,
    occurredAt: planned,
  };
}

/** Marks a schedule ended and stops its timer; a change of its definition may start it again. */
async function endSchedule(context: FireContext, schedule: Schedule, now: number): Promise<void> {
  await context.schedules.save({ ...schedule, endedAt: now }).catch((error: unknown) => {
    if (!(error instanceof NotFoundError)) throw error;
  });
  await clearScheduleTimer(context.queues, schedule.id);
}
