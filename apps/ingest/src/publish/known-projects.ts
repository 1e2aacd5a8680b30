import { NotFoundError, UnprocessableError } from "@hookbus/core/policy";
import type { Project, ProjectStore } from "@hookbus/core/store";
import { DEFAULT_PROJECT_ID } from "@hookbus/schemas";

/**
 * How long an ingest remembers a project: that it exists, and its retention. A project deleted
 * meanwhile may still be published in for this long (its events are stored and reach no
 * subscription, as it has none), and a retention changed applies to publishes after this long.
 */
const REMEMBER_MS = 60_000;

/** Projects remembered at once; past this the memory starts over. */
const MAX_REMEMBERED = 10_000;

/** Where a publish is stored: its project, and how long that project keeps events. */
export interface EventPlacement {
  projectId: string;
  /** The project's own retention (ms); undefined: the configured one. */
  retentionMs?: number;
}

/**
 * The projects publishes name, as read a while ago: an operator's are checked to exist (a typo
 * would otherwise store events that reach no one), and every one's retention is what its
 * events are kept for. Remembered a while, so that publishing in a project costs a Redis read a
 * minute, not one a publish.
 */
export class KnownProjects {
  private readonly remembered = new Map<string, { project?: Project; until: number }>();

  constructor(private readonly projects: ProjectStore) {}

  /**
   * Where an event of this project is stored. With `mustExist` (an operator named it), throws a
   * 422 naming `projectId` when there is no such project.
   */
  async placement(projectId: string, mustExist: boolean, now = Date.now()): Promise<EventPlacement> {
    const project = await this.read(projectId, now);
    if (mustExist && !project && projectId !== DEFAULT_PROJECT_ID)
      throw new UnprocessableError(`project ${projectId} does not exist`, ["projectId"]);
    return { projectId, retentionMs: project?.retention };
  }

  private async read(projectId: string, now: number): Promise<Project | undefined> {
    const known = this.remembered.get(projectId);
    if (known && known.until > now) return known.project;
    const project = await this.projects.get(projectId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
    this.remembered.set(projectId, { project, until: now + REMEMBER_MS });
    return project;
  }
}
