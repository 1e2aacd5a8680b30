import type { ErrorRequestHandler, Request, Response } from "express";
import type { AuditRecord } from "@hookbus/core/store";
import type { HookbusContext, Logger } from "@hookbus/core/runtime";
import type { AuditActor } from "@hookbus/schemas";
import { errorBody } from "./http-errors.js";

/** What a route says of its action; who, from where and under which request id come from the request. */
export type RouteAuditRecord = Omit<AuditRecord, "actor" | "requestId" | "clientAddress">;

/**
 * Records an admin action in the audit trail before the route answers, so that an action
 * answered as done is always in the trail.
 */
export async function recordAudit(context: HookbusContext, request: Request, record: RouteAuditRecord): Promise<void> {
  // Recorded, the attempt on that resource is settled; an action on another one (a cascade's) leaves it open.
  const attempt = request.res!.locals.auditAttempt as RouteAuditRecord | undefined;
  if (attempt?.resourceType === record.resourceType && attempt.resourceId === record.resourceId) delete request.res!.locals.auditAttempt;
  const requestId = request.res?.getHeader("x-request-id");
  await context.audit.append({
    ...record,
    actor: await actorOf(context, request),
    requestId: typeof requestId === "string" ? requestId : undefined,
    clientAddress: request.ip,
  });
}

/**
 * Marks the action a route is about to take on a resource it has found: should the action fail
 * from here on (refused as a conflict, Redis gone), the failure is recorded with `outcome:
 * "failed"`. Requests refused earlier (bad input, an unknown id) changed nothing and are only logged.
 */
export function auditAttempt(response: Response, attempt: Omit<RouteAuditRecord, "outcome">): void {
  response.locals.auditAttempt = attempt;
}

/** Error middleware, ahead of the error handler: records an attempted action that failed, then passes the error on. */
export function recordFailedAttempts(context: HookbusContext, logger: Logger): ErrorRequestHandler {
  return (error, request, response, next) => {
    const attempt = response.locals.auditAttempt as Omit<RouteAuditRecord, "outcome"> | undefined;
    if (!attempt) return next(error);
    const [status, { error: message }] = errorBody(error);
    recordAudit(context, request, { ...attempt, outcome: "failed", after: { ...attempt.after, status, error: message } })
      .catch((failure: unknown) =>
        logger.warn({ err: failure, action: attempt.action }, "recording a failed action in the audit trail failed"),
      )
      .finally(() => next(error));
  };
}

async function actorOf(context: HookbusContext, request: Request): Promise<AuditActor> {
  const { keyId, role, name: operatorKeyName, projectId } = request.caller!;
  // A project key's name is read only here: authentication has no use for it.
  const name = operatorKeyName ?? (projectId ? await context.projects.keyName(projectId, keyId) : undefined);
  return { keyId, role, ...(name === undefined ? {} : { name }) };
}
