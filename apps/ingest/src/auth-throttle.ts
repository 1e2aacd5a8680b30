import type { Request, Response } from "express";
import type { RedisConnection } from "@hookbus/core/store";
import type { Logger } from "@hookbus/core/runtime";
import { HttpError } from "./http-errors.js";
import { logQuietly } from "./request-log.js";

/** The window failed authentications are counted over. */
const WINDOW_MS = 60_000;

/** A 429 that says when the address may try again. */
export class TooManyFailuresError extends HttpError {
  constructor(override readonly retryAfterSeconds: number) {
    super(429, "too many failed authentications from this address; try again later");
  }
}

/**
 * Failed authentications (a key Hookbus does not know) per client address, counted in Redis so
 * that every ingest shares one count. Past `limit` in a minute, the address is refused with 429
 * until the minute is over, whatever key it sends: else a guess could go on until it was right.
 *
 * Good requests cost nothing here: an ingest learns that an address is refused from the count a
 * failure returns, and keeps that in memory. Each failure's request line goes out at debug; an
 * address crossing its limit is logged once, with its count.
 */
export class AuthFailureThrottle {
  /** Addresses this ingest refuses, and until when (ms since epoch). */
  private readonly refusedUntil = new Map<string, number>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly keyPrefix: string,
    /** Failures an address may have in a minute; 0 turns the throttle off. */
    private readonly limit: number,
    private readonly logger: Logger,
  ) {}

  /** The 429 for an address past its limit, checked before its key is; else undefined. */
  refusal(request: Request): TooManyFailuresError | undefined {
    const address = addressOf(request);
    const until = this.refusedUntil.get(address);
    if (until === undefined) return undefined;
    const left = until - Date.now();
    if (left > 0) return new TooManyFailuresError(Math.ceil(left / 1000));
    this.refusedUntil.delete(address);
    return undefined;
  }

  /** Counts a failed authentication; resolves to the error to answer: `error`, or 429 past the limit. */
  async failed(request: Request, response: Response, error: HttpError): Promise<HttpError> {
    logQuietly(response);
    if (this.limit === 0) return error;
    const address = addressOf(request);
    const key = `${this.keyPrefix}:auth-failures:${address}`;
    let count: number;
    let ttl: number;
    try {
      const replies = await this.redis.multi().set(key, 0, "PX", WINDOW_MS, "NX").incr(key).pttl(key).exec();
      [count, ttl] = [Number(replies?.[1]?.[1]), Number(replies?.[2]?.[1])];
    } catch {
      // Redis is not counting: the answer stays a 401 rather than becoming an error.
      return error;
    }
    if (!(count > this.limit)) return error;
    const left = ttl > 0 ? ttl : WINDOW_MS;
    this.forgetLapsed();
    this.refusedUntil.set(address, Date.now() + left);
    if (count === this.limit + 1)
      this.logger.warn({ address, failures: count, limit: this.limit }, "failed authentications from this address are refused for a while");
    return new TooManyFailuresError(Math.ceil(left / 1000));
  }

  /** Drops refusals that ran out, of addresses that never came back: refusals are few, so a sweep each is cheap. */
  private forgetLapsed(): void {
    const now = Date.now();
    for (const [address, until] of this.refusedUntil) if (until <= now) this.refusedUntil.delete(address);
  }
}

function addressOf(request: Request): string {
  return request.ip ?? request.socket.remoteAddress ?? "unknown";
}
