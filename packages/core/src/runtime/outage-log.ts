import { redisReachable, type RedisConnection } from "../store/redis.js";
import type { Logger } from "./logger.js";

/**
 * How often the main connection is pinged, and how long its answer may take. A Redis that
 * stalls (stopped, swapping, busy with a long script) closes no connection and refuses
 * nothing: commands just wait, and only a ping left unanswered shows it.
 */
const PING_EVERY_MS = 1_000;
const PING_TIMEOUT_MS = 2_000;

/**
 * Logs a Redis outage once, not once per failed reconnect (ioredis and BullMQ report every
 * retry, a dozen times a second): the first error of an outage at error level (or the first
 * ping left unanswered), and one line when the main connection is ready, or answers, again.
 * Every connection of an app reports through one.
 */
export class OutageLog {
  private down = false;
  private suppressed = 0;
  private heartbeat?: NodeJS.Timeout;
  private pinging = false;

  constructor(private readonly logger: Logger) {}

  /** Follows the app's main connection: its `ready`, or a ping answered, ends the outage. */
  watch(redis: RedisConnection): void {
    redis.on("error", (error: Error) => this.error(error, "redis"));
    redis.on("ready", () => this.recovered());
    this.heartbeat = setInterval(() => void this.ping(redis), PING_EVERY_MS);
    this.heartbeat.unref();
  }

  /** Stops the pings (the app is closing its connections). */
  stop(): void {
    clearInterval(this.heartbeat);
  }

  /** One ping at a time; a connection that is down reports through its errors instead. */
  private async ping(redis: RedisConnection): Promise<void> {
    if (this.pinging || redis.status !== "ready") return;
    this.pinging = true;
    try {
      if (await redisReachable(redis, PING_TIMEOUT_MS)) this.recovered();
      else if (!this.down) {
        this.down = true;
        this.logger.error(
          { timeoutMs: PING_TIMEOUT_MS },
          "redis not answering: commands wait; further errors are not logged until it is back",
        );
      }
    } finally {
      this.pinging = false;
    }
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
