import type { CatchUpPolicy } from "@hookbus/schemas";
import type { PlannedTimes } from "./schedule-timetable.js";

/**
 * A fire made later than this after its planned time is missed, and follows the schedule's
 * catchUp. So is any fire whose next planned time has come too: only the newest due one can
 * still be on time.
 */
export const SCHEDULE_GRACE_MS = 60_000;

/** The most missed fires `catchUp: "all"` makes up, the newest ones. */
export const MAX_CAUGHT_UP_FIRES = 100;

export interface FirePlan {
  /** The planned times to fire now, oldest first. */
  fire: number[];
  /** Whether the newest of them is on time; the rest make up missed ones. */
  onTime: boolean;
  /** Planned times missed: made up here or skipped. */
  missed: number;
}

/**
 * Which of the planned times due now to fire, by the schedule's catchUp: "none" fires only one
 * on time, "last" makes up the newest missed one besides, "all" each missed one (the newest
 * MAX_CAUGHT_UP_FIRES). At most `remaining` fires, for a schedule with a limit.
 * @param due the times due, as Timetable.between gives them with max MAX_CAUGHT_UP_FIRES + 1
 */
export function planFires(due: PlannedTimes, now: number, catchUp: CatchUpPolicy, remaining = Infinity): FirePlan {
  const newest = due.times[due.times.length - 1];
  const onTime = newest !== undefined && now - newest <= SCHEDULE_GRACE_MS;
  const missedTimes = onTime ? due.times.slice(0, -1) : due.times;
  const madeUp = catchUp === "all" ? missedTimes.slice(-MAX_CAUGHT_UP_FIRES) : catchUp === "last" ? missedTimes.slice(-1) : [];
  const fire = [...madeUp, ...(onTime ? [newest] : [])].slice(0, Math.max(0, remaining));
  return { fire, onTime: onTime && fire[fire.length - 1] === newest, missed: due.count - (onTime ? 1 : 0) };
}
