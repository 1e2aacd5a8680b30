import type { ErrorRequestHandler } from "express";
import type { ZodError } from "zod";
import { ConflictError, ForbiddenError, NotFoundError, OverloadedError, UnavailableError, UnprocessableError } from "@hookbus/core/policy";
import type { Logger } from "@hookbus/core/runtime";
import { isRedisFailure } from "@hookbus/core/store";
import type { ErrorBody } from "@hookbus/schemas";
import { logQuietly } from "./request-log.js";

/** 400-499 answers raised inside the HTTP layer itself. */
export class HttpError extends Error {
  override name = "HttpError";
  /** When set, the answer says in Retry-After when to come back. */
  readonly retryAfterSeconds?: number;
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: ErrorBody["issues"],
  ) {
    super(message);
  }
}

/** Issues a 422 lists at most: a hostile body can have one per element of every list in it. */
export const MAX_ISSUES = 100;

/** A 422 with the zod issues, the first `maxIssues` of them; the message says when some were left out. */
export class RequestValidationError extends HttpError {
  constructor(what: string, error: ZodError, maxIssues = MAX_ISSUES) {
    const shown = error.issues.slice(0, maxIssues);
    const more = error.issues.length > shown.length ? ` (the first ${shown.length} of ${error.issues.length} issues)` : "";
    super(
      422,
      `invalid ${what}${more}`,
      shown.map((issue) => ({
        path: issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
        message: issueMessage(issue),
        code: issue.code,
      })),
    );
  }
}

/** zod says only "Invalid key in record" of a bad key: what was wrong with it is one level down. */
function issueMessage(issue: ZodError["issues"][number]): string {
  if (issue.code !== "invalid_key") return issue.message;
  return `${issue.message}: ${issue.issues.map((inner) => inner.message).join("; ")}`;
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
    // Anyone can send these by the thousand: a line each at warn would drown the log.
    if (error instanceof URIError) logQuietly(response);
    if (status >= 500 && !(error instanceof OverloadedError))
      logger.error({ err: error, method: request.method, path: request.path }, "request failed");
    const retryAfter =
      (error instanceof OverloadedError || error instanceof HttpError ? error.retryAfterSeconds : undefined) ??
      (status === 503 ? REDIS_RETRY_AFTER_S : undefined);
    if (retryAfter !== undefined) response.setHeader("Retry-After", String(retryAfter));
    response.status(status).json(body);
  };
}

/** A failure as the API reports it: its status and error body (also one item's answer in a batch). */
export function errorBody(error: unknown): [number, ErrorBody] {
  if (error instanceof HttpError) return [error.status, { error: error.message, ...(error.issues ? { issues: error.issues } : {}) }];
  if (error instanceof NotFoundError) return [404, { error: error.message }];
  if (error instanceof UnprocessableError) return [422, { error: error.message, issues: [{ path: error.path, message: error.message }] }];
  if (error instanceof ConflictError) return [409, { error: error.message }];
  if (error instanceof ForbiddenError) return [403, { error: error.message }];
  if (error instanceof UnavailableError) return [503, { error: error.message }];
  if (isRedisFailure(error)) return [503, { error: `Redis could not carry out the request (${error.message}); try again` }];
  // The router's decodeURIComponent of a path parameter such as %c0.
  if (error instanceof URIError) return [400, { error: "malformed percent-escape in the path" }];
  const parserError = BODY_PARSER_ERRORS[(error as { type?: string }).type ?? ""];
  if (parserError) return [parserError[0], { error: parserError[1] }];
  if (isUndecodableBody(error)) return [400, { error: "the body could not be decoded as its Content-Encoding says" }];
  return [500, { error: "internal error" }];
}

/**
 * body-parser passes on the inflate stream's own error (gzip, deflate, br) with status 400 but
 * no `type`; zlib errors carry a numeric errno.
 */
function isUndecodableBody(error: unknown): boolean {
  const { status, errno, type } = error as { status?: unknown; errno?: unknown; type?: unknown };
  return status === 400 && typeof errno === "number" && type === undefined;
}
