import express, { type RequestHandler } from "express";
import { rateLimit } from "express-rate-limit";
import { everyNode, type RedisConnection } from "@hookbus/core/store";
import { RedisStore, type RedisReply } from "rate-limit-redis";
import type { Logger } from "@hookbus/core/runtime";
import { HttpError } from "./http-errors.js";

/** Body size limit of the contract. */
export const MAX_BODY = "1mb";

/**
 * The JSON body parser, run only after a request was authenticated and let through the rate
 * limit, so that nobody without a key makes the ingest parse a megabyte. A request that has a
 * body in anything but JSON gets 415 rather than being read.
 */
export function jsonBody(): RequestHandler[] {
  const requireJson: RequestHandler = (request, _response, next) => {
    const hasBody = request.headers["transfer-encoding"] !== undefined || Number(request.headers["content-length"] ?? 0) > 0;
    if (hasBody && !request.is("application/json")) {
      return next(new HttpError(415, `the body must be application/json, not ${request.headers["content-type"] ?? "untyped"}`));
    }
    next();
  };
  return [requireJson, express.json({ limit: MAX_BODY, type: "application/json" })];
}

/**
 * How long a request waits for its rate-limit count before going on uncounted: the limit
 * must not hold requests while Redis does not answer, or a publish could not answer 503 by
 * its own deadline.
 */
const RATE_COUNT_TIMEOUT_MS = 50;

/**
 * Sends a command, and rejects when a count (EVALSHA) takes longer than RATE_COUNT_TIMEOUT_MS.
 * A script is loaded on every node of a cluster, replicas too: SCRIPT LOAD names no key, so it
 * would go to any one node, and counts on the others (or on a replica once it took over) would
 * be refused (NOSCRIPT) and go uncounted. The first node to take it answers: one that is down
 * would hold the load, and every request waiting on it, until it came back.
 */
function sendRateLimitCommand(redis: RedisConnection) {
  return async ({ command: [command, ...args] }: { command: string[] }): Promise<RedisReply> => {
    // Loading the scripts waits as long as it takes: a failed load would stop counting for good.
    if (command === "SCRIPT") {
      return (await Promise.any(everyNode(redis).map((node) => node.call(command, ...args)))) as RedisReply;
    }
    const reply = redis.call(command!, ...args) as Promise<RedisReply>;
    if (command !== "EVALSHA") return reply;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("Redis did not count this request in time")), RATE_COUNT_TIMEOUT_MS);
    });
    try {
      return await Promise.race([reply, late]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Per-key requests per second, counted in Redis so that every ingest process shares one
 * budget per key; a refusal says when to come back (Retry-After). A request Redis cannot count
 * in time goes on uncounted.
 */
export function rateLimiter(redis: RedisConnection, keyPrefix: string, perSecond: number, logger: Logger): RequestHandler[] {
  if (perSecond === 0) return [];
  return [
    rateLimit({
      windowMs: 1000,
      limit: perSecond,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      store: new RedisStore({ prefix: `${keyPrefix}:ratelimit:`, sendCommandCluster: sendRateLimitCommand(redis) }),
      passOnStoreError: true,
      logger: {
        error: (error, message) => logger.warn({ err: error }, message ?? "rate limit store error"),
        warn: (error, message) => logger.warn({ err: error }, message ?? "rate limit warning"),
      },
      keyGenerator: (request) => request.apiKeyId ?? "anonymous",
      handler: (_request, response, next) => {
        // Whole seconds, at least one: the window is a second long.
        response.setHeader("Retry-After", "1");
        next(new HttpError(429, `rate limit of ${perSecond} requests per second exceeded`));
      },
    }),
  ];
}
