import type { Request } from "express";
import { NotFoundError, projectOf } from "@hookbus/core/policy";

/**
 * The project a request acts in: its key's; for an operator key the one it names, undefined
 * meaning every project. A project's key naming another project finds nothing there (404).
 */
export function requestedProject(request: Request, named?: string): string | undefined {
  if (request.apiProject === undefined) return named;
  if (named !== undefined && named !== request.apiProject) throw new NotFoundError("project", named);
  return request.apiProject;
}

/**
 * The record, when the request's key may see its project; else the 404 of an unknown id, so
 * that another project's ids do not even show that they exist.
 */
export function visibleOr404<T extends { projectId?: string }>(request: Request, record: T, resource: string, id: string): T {
  if (request.apiProject !== undefined && projectOf(record) !== request.apiProject) throw new NotFoundError(resource, id);
  return record;
}

/** Throws the 404 of an unknown project unless the request's key may see this one. */
export function projectVisibleOr404(request: Request, projectId: string): void {
  if (request.apiProject !== undefined && projectId !== request.apiProject) throw new NotFoundError("project", projectId);
}
