import { ConflictError, NotFoundError } from "../policy/errors.js";
import { MAX_CAUGHT_UP_FIRES, planFires, type FirePlan } from "../policy/fire-plan.js";
import { Timetable } from "../policy/schedule-timetable.js";
import { enqueueRoutes, type HookbusQueues } from "../queue/queues.js";
import { clearScheduleTimer } from "../queue/schedule-timers.js";
import type { EventStore } from "../store/event-store.js";
import type { Schedule, ScheduleFire, ScheduleStore } from "../store/schedule-store.js";
import type { Candidate, StoreCoalescer } from "./store-coalescer.js";

export interface FireContext {
  schedules: ScheduleStore;
  /** What names a fire's event, and so its partition. */
  events: Pick<EventStore, "newEventId">;
  queues: HookbusQueues;
  /** Where fires are stored and routed: with the other fires of the moment, as publishes are. */
  store: StoreCoalescer;
}

/** How long a fire's store may wait on Redis: past it, nothing is stored, and the wake-up is run again. */
const FIRE_STORE_DEADLINE_MS = 10_000;

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
  const [schedule, state] = await Promise.all([
    context.schedules.get(scheduleId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }),
    context.schedules.state(scheduleId),
  ]);
  if (!schedule || schedule.paused || schedule.endedAt !== undefined) return undefined;
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

/**
 * Stores the fires' events and routes them, in the round trip of the fires of the moment;
 * returns the fires made now.
 */
async function publishFires(context: FireContext, schedule: Schedule, planned: number[], now: number): Promise<ScheduleFire[]> {
  if (planned.length === 0) return [];
  const stored = await context.store.store(planned.map((time) => fireEvent(context, schedule, time, now + FIRE_STORE_DEADLINE_MS)));
  const repeated: string[] = [];
  const fired: ScheduleFire[] = [];
  stored.forEach((result, i) => {
    // The same planned time under another name or data: an earlier run fired it before a change.
    if (result instanceof ConflictError) return;
    if (result instanceof Error) throw result;
    if (result.created) fired.push({ eventId: result.event.id, plannedAt: planned[i]!, firedAt: now });
    else repeated.push(result.event.id);
  });
  // An earlier run's event is routed again, as a repeated publish is: that run may have stopped before routing it.
  await enqueueRoutes(context.queues, repeated);
  return fired;
}

function fireEvent(context: FireContext, schedule: Schedule, planned: number, deadline: number): Candidate {
  const triggeredAt = new Date(planned).toISOString();
  const event = {
    deadline,
    projectId: schedule.projectId,
    type: "schedule.triggered" as const,
    data: { ...schedule.data, scheduleId: schedule.id, scheduleName: schedule.name, triggeredAt },
    idempotencyKey: `${schedule.id}@${triggeredAt}`,
    idempotencyScope: SCHEDULE_IDEMPOTENCY_SCOPE,
    occurredAt: planned,
  };
  return { ...event, id: context.events.newEventId(event) };
}

/** Marks a schedule ended and stops its timer; a change of its definition may start it again. */
async function endSchedule(context: FireContext, schedule: Schedule, now: number): Promise<void> {
  await context.schedules.save({ ...schedule, endedAt: now }).catch((error: unknown) => {
    if (!(error instanceof NotFoundError)) throw error;
  });
  await clearScheduleTimer(context.queues, schedule.id);
}
