import type { ErrorRequestHandler } from "express";
import type { ZodError } from "zod";
import { ConflictError, NotFoundError, OverloadedError, UnavailableError, UnprocessableError } from "@hookbus/core/policy";
import type { Logger } from "@hookbus/core/runtime";
import { isRedisFailure } from "@hookbus/core/store";
import type { ErrorBody } from "@hookbus/schemas";

/** 400-499 answers raised inside the HTTP layer itself. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: ErrorBody["issues"],
  ) {
    super(message);
  }
}

export class RequestValidationError extends HttpError {
  constructor(what: string, error: ZodError) {
    super(
      422,
      `invalid ${what}`,
      error.issues.map((issue) => ({
        path: issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
        message: issue.message,
        code: issue.code,
      })),
    );
  }
}

/** body-parser's errors carry a `type`; these are the ones a client caused. */
const BODY_PARSER_ERRORS: Record<string, [number, string]> = {
  "entity.parse.failed": [400, "malformed JSON body"],
  "entity.too.large": [413, "body larger than 1 MiB"],
  "encoding.unsupported": [415, "unsupported content encoding"],
  "charset.unsupported": [415, "unsupported charset"],
};

/** When a client told 503 for want of Redis should come back: a restart or failover takes seconds. */
const REDIS_RETRY_AFTER_S = 1;

/** The one place where a failure becomes an HTTP status and an error body. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, request, response, _next) => {
    const [status, body] = errorBody(error);
    if (status >= 500 && !(error instanceof OverloadedError))
      logger.error({ err: error, method: request.method, path: request.path }, "request failed");
    if (status === 503)
      response.setHeader("Retry-After", String(error instanceof OverloadedError ? error.retryAfterSeconds : REDIS_RETRY_AFTER_S));
    response.status(status).json(body);
  };
}

/** A failure as the API reports it: its status and error body (also one item's answer in a batch). */
export function errorBody(error: unknown): [number, ErrorBody] {
  if (error instanceof HttpError) return [error.status, { error: error.message, ...(error.issues ? { issues: error.issues } : {}) }];
  if (error instanceof NotFoundError) return [404, { error: error.message }];
  if (error instanceof UnprocessableError) return [422, { error: error.message, issues: [{ path: error.path, message: error.message }] }];
  if (error instanceof ConflictError) return [409, { error: error.message }];
  if (error instanceof UnavailableError) return [503, { error: error.message }];
  if (isRedisFailure(error)) return [503, { error: `Redis could not carry out the request (${error.message}); try again` }];
  const parserError = BODY_PARSER_ERRORS[(error as { type?: string }).type ?? ""];
  if (parserError) return [parserError[0], { error: parserError[1] }];
  return [500, { error: "internal error" }];
}
