import type { RedisConnection } from "./redis.js";
import type { CatchUpPolicy, ScheduleData } from "@hookbus/schemas";
import { NotFoundError } from "../policy/errors.js";
import { projectOf } from "../policy/project-scope.js";
import type { ScheduleTiming } from "../policy/schedule-timetable.js";
import type { Keys } from "./keys.js";
import { defineScript, readLua } from "./redis.js";

/** A schedule as stored; times in milliseconds. */
export interface Schedule extends ScheduleTiming {
  id: string;
  /** Absent: the default project. */
  projectId?: string;
  name: string;
  data: ScheduleData;
  catchUp: CatchUpPolicy;
  paused: boolean;
  /** Set once its limit, endAt or single `at` is behind it: it fires no more. */
  endedAt?: number;
  limit?: number;
  updatedAt: number;
}

/** How far a schedule has fired. */
export interface ScheduleState {
  /** Every planned time up to this one has been handled: fired, or skipped by catchUp. */
  through: number;
  fires: number;
  /** The planned time of its latest fire. */
  lastFiredAt?: number;
}

/** One fire: the event it published. */
export interface ScheduleFire {
  eventId: string;
  plannedAt: number;
  firedAt: number;
}

/** How many of a schedule's fires are kept for the console to show. */
export const RECENT_FIRES_KEPT = 20;

const RECORD_SCHEDULE_FIRES = readLua(import.meta.url, "record-schedule-fires.lua");

/**
 * Schedules in Redis: each definition one JSON value, its state a hash beside it (written by
 * the fires, so that a change of the definition never races with one), its latest fires a list.
 */
export class ScheduleStore {
  private readonly recordFiresScript;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
  ) {
    this.recordFiresScript = defineScript<number>(redis, "hookbusRecordScheduleFires", 3, RECORD_SCHEDULE_FIRES);
  }

  /** Stores new schedules in one round trip, each handled through `through` (nothing before it fires). */
  async create(schedules: { schedule: Schedule; through: number }[]): Promise<void> {
    if (schedules.length === 0) return;
    const multi = this.redis.multi();
    for (const { schedule, through } of schedules) {
      multi
        .set(this.keys.schedule(schedule.id), JSON.stringify(schedule))
        .hset(this.keys.scheduleState(schedule.id), "through", through, "fires", 0)
        .zadd(this.keys.schedules(), 0, schedule.id)
        .zadd(this.keys.schedules(projectOf(schedule)), 0, schedule.id);
    }
    await multi.exec();
  }

  async get(id: string): Promise<Schedule> {
    const raw = await this.redis.get(this.keys.schedule(id));
    if (!raw) throw new NotFoundError("schedule", id);
    return JSON.parse(raw) as Schedule;
  }

  /** Several schedules in one round trip; unknown ids are left out. */
  async getMany(ids: string[]): Promise<Schedule[]> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.schedule(id)));
    return raws.flatMap((raw) => (raw ? [JSON.parse(raw) as Schedule] : []));
  }

  /** A page of schedules in creation order after the cursor id: every project's, or one's. */
  async list(limit: number, cursor?: string, projectId?: string): Promise<{ items: Schedule[]; nextCursor?: string }> {
    const ids = await this.redis.zrangebylex(this.keys.schedules(projectId), cursor ? `(${cursor}` : "-", "+", "LIMIT", 0, limit + 1);
    const page = ids.slice(0, limit);
    return { items: await this.getMany(page), nextCursor: ids.length > limit ? page[page.length - 1] : undefined };
  }

  /** Every schedule of one project. */
  async ofProject(projectId: string): Promise<Schedule[]> {
    return (await this.list(Number.MAX_SAFE_INTEGER, undefined, projectId)).items;
  }

  /** Writes a changed definition; NotFoundError when it was deleted meanwhile (XX: a delete is not undone). */
  async save(schedule: Schedule): Promise<void> {
    if ((await this.redis.set(this.keys.schedule(schedule.id), JSON.stringify(schedule), "XX")) !== "OK")
      throw new NotFoundError("schedule", schedule.id);
  }

  async delete(schedule: Schedule): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.schedule(schedule.id), this.keys.scheduleState(schedule.id), this.keys.scheduleFires(schedule.id))
      .zrem(this.keys.schedules(), schedule.id)
      .zrem(this.keys.schedules(projectOf(schedule)), schedule.id)
      .exec();
  }

  /** The states of several schedules, in their order, in one round trip. */
  async states(ids: string[]): Promise<ScheduleState[]> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.scheduleState(id));
    const replies = (await pipeline.exec()) ?? [];
    return ids.map((_, i) => {
      const [error, hash] = replies[i] ?? [new Error("Redis sent no reply")];
      if (error) throw error;
      return stateOf(hash as Record<string, string>);
    });
  }

  async state(id: string): Promise<ScheduleState> {
    const [state] = await this.states([id]);
    return state!;
  }

  /** The latest fires, newest first. */
  async recentFires(id: string): Promise<ScheduleFire[]> {
    return (await this.redis.lrange(this.keys.scheduleFires(id), 0, RECENT_FIRES_KEPT - 1)).map((raw) => JSON.parse(raw) as ScheduleFire);
  }

  /**
   * Records a run: every planned time through `through` handled, and the fires it made (oldest
   * first). Returns the schedule's fires so far, or undefined when it was deleted meanwhile.
   */
  async recordRun(id: string, through: number, fires: ScheduleFire[]): Promise<number | undefined> {
    const latest = fires.length > 0 ? Math.max(...fires.map((f) => f.plannedAt)) : "";
    const total = await this.recordFiresScript.run(
      [this.keys.schedule(id), this.keys.scheduleState(id), this.keys.scheduleFires(id)],
      [through, latest, RECENT_FIRES_KEPT, ...fires.map((f) => JSON.stringify(f))],
    );
    return total < 0 ? undefined : total;
  }
}

function stateOf(hash: Record<string, string>): ScheduleState {
  return {
    through: Number(hash.through ?? 0),
    fires: Number(hash.fires ?? 0),
    ...(hash.last ? { lastFiredAt: Number(hash.last) } : {}),
  };
}
