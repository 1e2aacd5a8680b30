import { Router } from "express";
import type { DeliveryFilter as StoredDeliveryFilter } from "@hookbus/core/store";
import type { HookbusContext } from "@hookbus/core/runtime";
import { deliveryListQuery, type DeliveryFilter, type DeliveryPage, type DeliveryWithAttempts } from "@hookbus/schemas";
import { parseOr422 } from "../validate.js";
import { attemptView, deliveryView } from "../views.js";
import type { Guards } from "./guards.js";
import { requestedProject, visibleOr404 } from "./project-scope.js";

/** The API's delivery filter (ISO 8601 times) as the delivery log takes it (ms). */
export function storedFilter({ since, until, ...rest }: DeliveryFilter): StoredDeliveryFilter {
  return {
    ...rest,
    since: since === undefined ? undefined : Date.parse(since),
    until: until === undefined ? undefined : Date.parse(until),
  };
}

export function deliveriesRouter(context: HookbusContext, guards: Guards): Router {
  const router = Router();

  router.get("/v1/deliveries", ...guards.admin, async (request, response) => {
    const { limit, cursor, projectId, ...filter } = parseOr422(deliveryListQuery, request.query, "query");
    const page = await context.deliveries.list({ ...storedFilter(filter), projectId: requestedProject(request, projectId) }, limit, cursor);
    response.json({ items: page.items.map(deliveryView), nextCursor: page.nextCursor ?? null } satisfies DeliveryPage);
  });

  router.get("/v1/deliveries/:id", ...guards.admin, async (request, response) => {
    const id = request.params.id as string;
    const delivery = visibleOr404(request, await context.deliveries.get(id), "delivery", id);
    const attempts = await context.deliveries.attempts(delivery.id);
    response.json({ ...deliveryView(delivery), attempts: attempts.map(attemptView) } satisfies DeliveryWithAttempts);
  });

  return router;
}
