import { NotFoundError, UnprocessableError } from "@hookbus/core/policy";
import type { ProjectStore } from "@hookbus/core/store";
import { DEFAULT_PROJECT_ID } from "@hookbus/schemas";

/**
 * How long an ingest remembers that a project exists. A project deleted meanwhile may still be
 * published in for this long: its events are stored and reach no subscription, as it has none.
 */
const REMEMBER_MS = 60_000;

/** Projects remembered at once; past this the memory starts over. */
const MAX_REMEMBERED = 10_000;

/**
 * The projects an operator's publishes name, checked to exist: a typo would otherwise store
 * events that reach no one. Projects that exist are remembered a while, so that publishing in
 * one costs a Redis read a minute, not one a publish.
 */
export class KnownProjects {
  private readonly existUntil = new Map<string, number>();

  constructor(private readonly projects: ProjectStore) {}

  /** Throws a 422 naming `projectId` when there is no such project. */
  async check(projectId: string, now = Date.now()): Promise<void> {
    if (projectId === DEFAULT_PROJECT_ID || (this.existUntil.get(projectId) ?? 0) > now) return;
    await this.projects.get(projectId).catch((error: unknown) => {
      throw error instanceof NotFoundError ? new UnprocessableError(`project ${projectId} does not exist`, ["projectId"]) : error;
    });
    if (this.existUntil.size >= MAX_REMEMBERED) this.existUntil.clear();
    this.existUntil.set(projectId, now + REMEMBER_MS);
  }
}
