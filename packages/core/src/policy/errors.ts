/** Failures a caller can act on; the ingest maps each to one HTTP status in one place. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource} ${id} not found`);
  }
}

/** A request that is well-formed but cannot be carried out as asked (maps to 422). */
export class UnprocessableError extends Error {
  override name = "UnprocessableError";
  constructor(
    message: string,
    readonly path: (string | number)[] = [],
  ) {
    super(message);
  }
}

/** The key may not do this to this resource (maps to 403). */
export class ForbiddenError extends Error {
  override name = "ForbiddenError";
}

/** The request contradicts what was stored before: an idempotency key reused for another request (maps to 409). */
export class ConflictError extends Error {
  override name = "ConflictError";
}

/** Redis or the queue did not answer in time (maps to 503). */
export class UnavailableError extends Error {
  override name = "UnavailableError";
}

/** This process holds as much of some work as it may; the caller should come back later (503 with Retry-After). */
export class OverloadedError extends UnavailableError {
  override name = "OverloadedError";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
