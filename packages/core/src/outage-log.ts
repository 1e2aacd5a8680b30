import type { Redis } from "ioredis";
import type { Logger } from "./logger.js";

/**
 * Logs a Redis outage once, not once per failed reconnect (ioredis and BullMQ report every
 * retry, a dozen times a second): the first error of an outage at error level, and one line
 * when the main connection is ready again. Every connection of an app reports through one.
 */
export class OutageLog {
  private down = false;
  private suppressed = 0;

  constructor(private readonly logger: Logger) {}

  /** Follows the app's main connection: its `ready` ends the outage. */
  watch(redis: Redis): void {
    redis.on("error", (error: Error) => this.error(error, "redis"));
    redis.on("ready", () => this.recovered());
  }

  /** An error from any connection of the app (a subscriber, a BullMQ queue or worker). */
  error(error: Error, source: string): void {
    if (this.down) {
      this.suppressed++;
      return;
    }
    this.down = true;
    this.logger.error({ err: error, source }, "redis unreachable: retrying; further errors are not logged until it is back");
  }

  private recovered(): void {
    if (!this.down) return;
    this.logger.warn({ suppressedErrors: this.suppressed }, "redis reachable again");
    this.down = false;
    this.suppressed = 0;
  }
}
