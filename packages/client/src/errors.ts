import type { ErrorBody } from "@hookbus/schemas";

/** The API answered with an error status; carries the API's own message and zod issues. */
export class HookbusApiError extends Error {
  override name = "HookbusApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly issues: NonNullable<ErrorBody["issues"]> = [],
  ) {
    super(message);
  }
}

/** No answer at all: refused, unresolvable, reset, or no answer within the timeout. */
export class HookbusUnreachableError extends Error {
  override name = "HookbusUnreachableError";
  constructor(baseUrl: string, cause: unknown) {
    super(`cannot reach the Hookbus API at ${baseUrl}: ${describeNetworkFailure(cause)}`, { cause });
  }
}

/** fetch hides the useful part (ECONNREFUSED, ENOTFOUND, ...) in `cause`. */
function describeNetworkFailure(error: unknown): string {
  if (error instanceof DOMException && error.name === "TimeoutError") return "no answer in time";
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** An error answer as the client reports it: the API's own `{error, issues}`, or what came instead. */
export function toApiError(status: number, parsed: unknown, text: string): HookbusApiError {
  const body = parsed as Partial<ErrorBody> | undefined;
  if (typeof body?.error === "string") return new HookbusApiError(status, body.error, Array.isArray(body.issues) ? body.issues : []);
  // Not the API's error shape: probably a proxy or another server on that port.
  return new HookbusApiError(status, `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ""}`);
}
