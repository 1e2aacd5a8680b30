import type { RedisConnection } from "./redis.js";

/**
 * This process's view of Redis's clock, so that a deadline set on this process's clock is
 * judged by Redis on Redis's clock alone (the two may be far apart). It keeps how far Redis's
 * clock is ahead, as a lower bound: Redis's time read in a reply, less this process's time when
 * the reply was read (which is later than when Redis read it). A deadline moved onto Redis's
 * clock by that bound is never later than the local one: what Redis carries out by it was
 * carried out before the local deadline, and its reply read by then, given the reply takes no
 * longer than the one measured. Every store reply brings a new reading, so a local clock that
 * steps is followed at the next one.
 */
export class RedisClock {
  private aheadBy?: number;

  constructor(private readonly now: () => number = Date.now) {}

  get calibrated(): boolean {
    return this.aheadBy !== undefined;
  }

  /** Notes Redis's time (ms), read in a reply this process has just received. */
  observe(redisNow: number): void {
    this.aheadBy = redisNow - this.now();
  }

  /** Reads Redis's time once, for a clock that has seen no reply yet. */
  async calibrate(redis: RedisConnection): Promise<void> {
    const [seconds, micros] = await redis.time();
    this.observe(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
  }

  /** A deadline on this process's clock, on Redis's (see the class); call once calibrated. */
  onRedisClock(localDeadline: number): number {
    return localDeadline + this.aheadBy!;
  }
}
