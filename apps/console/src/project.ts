import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { ProjectView } from "@hookbus/schemas";

/** The project the console shows. */
export const ProjectContext = createContext<ProjectView | null>(null);

/** The project the pages show; pages below the project header only. */
export function useProject(): ProjectView {
  const project = useContext(ProjectContext);
  if (!project) throw new Error("useProject outside a project");
  return project;
}

/** The id every page's API calls name, where the API takes one. */
export function useProjectId(): string {
  return useProject().id;
}

/**
 * The project to show: the one the URL names, else the first the API lists. Undefined when the
 * URL names one the key may not see.
 */
export function pickProject(projects: ProjectView[], named: string | null): ProjectView | undefined {
  return named ? projects.find((p) => p.id === named) : projects[0];
}
