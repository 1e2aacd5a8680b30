import { z } from "zod";
import { idOf, isoTime, retentionPeriod, retryDelay } from "./primitives.js";

/** The project that subscriptions, events and deliveries made before projects belong to. */
export const DEFAULT_PROJECT_ID = "default";

/**
 * A project's id: a MyDataHelps project's GUID, used as it is so that `data.projectId` names
 * the project; one Hookbus made (`prj_` and a ULID); or the default project.
 */
export const projectId = z.union([z.guid(), idOf("prj"), z.literal(DEFAULT_PROJECT_ID)]);

const projectName = z.string().trim().min(1).max(200);
const projectRetrySchedule = z.array(retryDelay).max(20);

export const createProjectBody = z.strictObject({
  id: z.guid().optional().describe("a MyDataHelps project GUID to use as the id; else one is made"),
  name: projectName,
  retrySchedule: projectRetrySchedule.optional().describe("the retry schedule of subscriptions made in it without one of their own"),
  retention: retentionPeriod
    .optional()
    .describe(
      'how long its events and deliveries are kept, e.g. "90d" (absent: HOOKBUS_RETENTION); applies to events published after it is set',
    ),
});
export type CreateProjectBody = z.infer<typeof createProjectBody>;

/** PATCH: `null` clears the retry schedule or the retention (back to the configured one). */
export const updateProjectBody = z
  .strictObject({
    name: projectName.optional(),
    retrySchedule: projectRetrySchedule.nullable().optional(),
    retention: retentionPeriod.nullable().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, "name at least one field to change");
export type UpdateProjectBody = z.infer<typeof updateProjectBody>;

export const projectView = z.object({
  id: projectId,
  name: z.string(),
  /** Delays (ms) given to subscriptions made in the project without a schedule of their own. */
  retrySchedule: z.array(z.number().int()).optional(),
  /** How long (ms) events published in it, and their deliveries, are kept; absent: the configured retention. */
  retention: z.number().int().optional(),
  createdAt: isoTime,
  updatedAt: isoTime,
});
export type ProjectView = z.infer<typeof projectView>;

export const projectList = z.object({ items: z.array(projectView) });
export type ProjectList = z.infer<typeof projectList>;

export const deleteProjectQuery = z.strictObject({
  cascade: z
    .enum(["true", "false"])
    .optional()
    .describe(
      "true deletes the project's subscriptions, schedules and keys with it; else a project with subscriptions or schedules is refused (409)",
    ),
});

/** A project key's role: an admin key manages its project, a publisher key publishes its events. */
export const projectKeyRole = z.enum(["admin", "publisher"]);
export type ProjectKeyRole = z.infer<typeof projectKeyRole>;

export const createProjectKeyBody = z.strictObject({
  role: projectKeyRole,
  name: z.string().trim().min(1).max(200),
});
export type CreateProjectKeyBody = z.infer<typeof createProjectKeyBody>;

export const projectKeyView = z.object({
  id: idOf("key"),
  projectId,
  name: z.string(),
  role: projectKeyRole,
  createdAt: isoTime,
  /** When an ingest last took it, to within a minute; absent if never used. */
  lastUsedAt: isoTime.optional(),
});
export type ProjectKeyView = z.infer<typeof projectKeyView>;

/** The answer to making a key: the only time the key itself is shown. */
export const projectKeyWithSecret = projectKeyView.extend({
  key: z.string().describe("the key, `hbk_` and 43 characters; shown only now, stored only as a hash"),
});
export type ProjectKeyWithSecret = z.infer<typeof projectKeyWithSecret>;

export const projectKeyList = z.object({ items: z.array(projectKeyView) });
export type ProjectKeyList = z.infer<typeof projectKeyList>;

/** A listing of a project's records, a page at a time: subscriptions, schedules. */
export const projectListingQuery = z.object({
  projectId: projectId.optional().describe("an operator key's choice of project; a project's key sees its own"),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().optional(),
});
