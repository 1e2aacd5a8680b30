import cronParser from "cron-parser";

/** How a schedule is timed, in milliseconds: exactly one of cron (with its zone), every or at. */
export interface ScheduleTiming {
  cron?: string;
  /** IANA zone of `cron`; UTC when absent. */
  timezone?: string;
  every?: number;
  at?: number;
  startAt?: number;
  endAt?: number;
  /** When it was made: what an `every` without a start counts its periods from. */
  createdAt: number;
  /** When a change named a new `every` without a start: what it counts its periods from since. */
  rhythmFrom?: number;
}

/** Planned fire times in a window, oldest first. */
export interface PlannedTimes {
  /** At most the newest `max` of them. */
  times: number[];
  /** How many there are in all (a cron's are counted up to MAX_COUNTED_TIMES). */
  count: number;
}

/** How far back a cron's missed times are counted: past this, the count is only a floor. */
export const MAX_COUNTED_TIMES = 10_000;

/**
 * A schedule's planned fire times. Cron patterns are read by cron-parser (the library BullMQ's
 * own job schedulers use, so both agree on every time, daylight-saving changes included); an
 * `every` is its start plus whole periods, which needs no calendar.
 */
export class Timetable {
  constructor(private readonly timing: ScheduleTiming) {}

  /** The first planned time after `after`; undefined when none is left. */
  nextAfter(after: number): number | undefined {
    const lower = this.lowerBound(after);
    const { cron, every, at, endAt } = this.timing;
    let next: number | undefined;
    if (at !== undefined) next = at > lower ? at : undefined;
    else if (every !== undefined) next = this.anchor + this.periodsAfter(lower) * every;
    else next = this.cronFrom(lower).next().getTime();
    return next !== undefined && (endAt === undefined || next <= endAt) ? next : undefined;
  }

  /** The planned times in (after, until], oldest first: at most the newest `max`. */
  between(after: number, until: number, max: number): PlannedTimes {
    const lower = this.lowerBound(after);
    const upper = Math.min(until, this.timing.endAt ?? Infinity);
    if (upper <= lower) return { times: [], count: 0 };
    const { every, at } = this.timing;
    if (at !== undefined) return at > lower && at <= upper ? { times: [at], count: 1 } : { times: [], count: 0 };
    if (every !== undefined) {
      const first = this.periodsAfter(lower);
      const last = Math.floor((upper - this.anchor) / every);
      const count = Math.max(0, last - first + 1);
      const shown = Math.min(count, max);
      return { times: Array.from({ length: shown }, (_, i) => this.anchor + (last - shown + 1 + i) * every), count };
    }
    return this.cronBetween(lower, upper, max);
  }

  /**
   * A cron's times in (lower, upper]. cron-parser's walk forward is the one BullMQ schedules by,
   * and the only one right across daylight-saving changes (walking back, it skips a skipped
   * night's moved time and repeats a repeated hour), so the times kept are walked forward; the
   * walk back only finds where to start after a long gap, one time early, and counts them.
   */
  private cronBetween(lower: number, upper: number, max: number): PlannedTimes {
    const back = this.cronFrom(upper + 1);
    let count = 0;
    let start = lower;
    while (count < MAX_COUNTED_TIMES) {
      const time = back.prev().getTime();
      if (time <= lower) break;
      count++;
      if (count > max) {
        start = time - 1;
        break;
      }
    }
    const forward = this.cronFrom(start);
    const times: number[] = [];
    for (let time = forward.next().getTime(); time <= upper; time = forward.next().getTime()) times.push(time);
    // Past `max`, the walk back stopped counting: it counts on to its bound for the metric.
    if (count > max) while (count < MAX_COUNTED_TIMES && back.prev().getTime() > lower) count++;
    return { times: times.slice(-max), count: count > max ? count : times.length };
  }

  /** What an `every` counts its periods from. */
  private get anchor(): number {
    return this.timing.rhythmFrom ?? this.timing.startAt ?? this.timing.createdAt;
  }

  /** The number of whole periods from the anchor to the first time after `lower`. */
  private periodsAfter(lower: number): number {
    return Math.max(0, Math.floor((lower - this.anchor) / this.timing.every!) + 1);
  }

  /** Nothing before startAt: a time equal to it counts. */
  private lowerBound(after: number): number {
    return this.timing.startAt === undefined ? after : Math.max(after, this.timing.startAt - 1);
  }

  private cronFrom(time: number) {
    return cronParser.parseExpression(this.timing.cron!, { currentDate: new Date(time), tz: this.timing.timezone ?? "UTC" });
  }
}
