import { Router } from "express";
import type { HookbusContext } from "@hookbus/core/runtime";
import { overviewQuery, type OverviewView } from "@hookbus/schemas";
import { readOverview } from "../overview.js";
import { parseOr422 } from "../validate.js";
import type { Guards } from "./guards.js";
import { requestedProject } from "./project-scope.js";

/** The console's overview: the last minutes of deliveries, per minute, and the slowest endpoints. */
export function overviewRouter(context: HookbusContext, guards: Guards): Router {
  const router = Router();
  router.get("/v1/overview", ...guards.admin, async (request, response) => {
    const { minutes, projectId } = parseOr422(overviewQuery, request.query, "query");
    response.json((await readOverview(context, minutes, requestedProject(request, projectId))) satisfies OverviewView);
  });
  return router;
}
