import type { RedisConnection } from "../store/redis.js";
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
  watch(redis: RedisConnection): void {
    redis.on("error", (error: Error) => this.error(error, "redis"));
    redis.on("ready", () => this.recovered());
  }

  /**
   * An error from any connection of the app (a subscriber, a BullMQ queue or worker). One that
   * is not about reaching Redis is logged every time: it is not part of an outage.
   */
  error(error: Error, source: string): void {
    if (!isConnectionError(error)) {
      this.logger.error({ err: error, source }, "redis error");
      return;
    }
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

/** Errors that mean Redis cannot be reached (refused, reset, timed out, closed), as Node and ioredis name them. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);
const CONNECTION_MESSAGES = /connection is closed|connect ETIMEDOUT|socket closed|stream isn't writeable|reached the max retries/i;

function isConnectionError(error: Error): boolean {
  const code = (error as { code?: string }).code;
  return (code !== undefined && CONNECTION_CODES.has(code)) || CONNECTION_MESSAGES.test(error.message);
}
