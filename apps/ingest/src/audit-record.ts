import type { Request } from "express";
import type { AuditRecord } from "@hookbus/core/store";
import type { HookbusContext } from "@hookbus/core/runtime";
import type { AuditActor } from "@hookbus/schemas";

/** What a route says of its action; who, from where and under which request id come from the request. */
export type RouteAuditRecord = Omit<AuditRecord, "actor" | "requestId" | "clientAddress">;

/**
 * Records an admin action in the audit trail before the route answers, so that an action
 * answered as done is always in the trail.
 */
export async function recordAudit(context: HookbusContext, request: Request, record: RouteAuditRecord): Promise<void> {
  const requestId = request.res?.getHeader("x-request-id");
  await context.audit.append({
    ...record,
    actor: await actorOf(context, request),
    requestId: typeof requestId === "string" ? requestId : undefined,
    clientAddress: request.ip,
  });
}

async function actorOf(context: HookbusContext, request: Request): Promise<AuditActor> {
  const caller = request.caller!;
  const role = caller.role;
  // A project key's name is read only here: authentication has no use for it.
  const name = caller.name ?? (caller.projectId ? await context.projects.keyName(caller.projectId, caller.keyId) : undefined);
  return { keyId: caller.keyId, role, ...(name === undefined ? {} : { name }) };
}
