import { DEFAULT_PROJECT_ID, type PublishBody } from "@hookbus/schemas";
import { ForbiddenError } from "./errors.js";

/** The project a record belongs to: the default one for those written before projects. */
export function projectOf(record: { projectId?: string }): string {
  return record.projectId ?? DEFAULT_PROJECT_ID;
}

/** The event types whose data names their MyDataHelps project. */
function dataProjectOf(body: PublishBody): string | undefined {
  return body.type === "survey.submitted" || body.type === "schedule.triggered" ? body.data.projectId : undefined;
}

/**
 * The project an event is published in. An operator key (bound to no project) names it in the
 * body, else the default project. A project's key publishes only in its project: naming another
 * one, or a MyDataHelps event whose `data.projectId` is another project, is forbidden; TrialKit
 * events carry no project and take the key's.
 * @param keyProject the project the publishing key belongs to; undefined for an operator key
 */
export function publishProject(body: PublishBody, keyProject: string | undefined): string {
  if (keyProject === undefined) return body.projectId ?? DEFAULT_PROJECT_ID;
  if (body.projectId !== undefined && body.projectId !== keyProject)
    throw new ForbiddenError(`this key publishes for project ${keyProject} only, not for project ${body.projectId}`);
  const named = dataProjectOf(body);
  if (named !== undefined && named !== keyProject)
    throw new ForbiddenError(
      `data.projectId ${named} is not this key's project (${keyProject}): a project's key publishes its own project's events only`,
    );
  return keyProject;
}
