import express, { type RequestHandler } from "express";
import { rateLimit } from "express-rate-limit";
import type { Redis } from "ioredis";
import { RedisStore, type RedisReply } from "rate-limit-redis";
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
 * Per-key requests per second, counted in Redis so that every ingest process shares one
 * budget per key; a refusal says when to come back (Retry-After).
 */
export function rateLimiter(redis: Redis, keyPrefix: string, perSecond: number): RequestHandler[] {
  if (perSecond === 0) return [];
  return [
    rateLimit({
      windowMs: 1000,
      limit: perSecond,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      store: new RedisStore({
        prefix: `${keyPrefix}:ratelimit:`,
        sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
      }),
      keyGenerator: (request) => request.apiKeyId ?? "anonymous",
      handler: (_request, response, next) => {
        // Whole seconds, at least one: the window is a second long.
        response.setHeader("Retry-After", "1");
        next(new HttpError(429, `rate limit of ${perSecond} requests per second exceeded`));
      },
    }),
  ];
}
