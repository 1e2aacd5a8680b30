import { Router } from "express";
import { z } from "zod";
import { deliveryStatuses } from "@hookbus/core/policy";
import type { HookbusContext } from "@hookbus/core/runtime";
import { eventType } from "@hookbus/schemas";
import { parseOr422 } from "../validate.js";
import { attemptView, deliveryView } from "../views.js";
import type { Guards } from "./guards.js";

const time = z.iso.datetime({ offset: true }).transform((value) => Date.parse(value));

export const deliveryFilterQuery = z.strictObject({
  status: z.enum(deliveryStatuses).optional(),
  subscriptionId: z.string().optional(),
  eventType: eventType.optional(),
  since: time.optional(),
  until: time.optional(),
});

const listQuery = deliveryFilterQuery.extend({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().regex(/^dlv_[0-9A-Z]{26}$/, "a cursor from a previous page").optional(),
});

export function deliveriesRouter(context: HookbusContext, guards: Guards): Router {
  const router = Router();

  router.get("/v1/deliveries", ...guards.admin, async (request, response) => {
    const { limit, cursor, ...filter } = parseOr422(listQuery, request.query, "query");
    const page = await context.deliveries.list(filter, limit, cursor);
    response.json({ items: page.items.map(deliveryView), nextCursor: page.nextCursor ?? null });
  });

  router.get("/v1/deliveries/:id", ...guards.admin, async (request, response) => {
    const delivery = await context.deliveries.get(request.params.id as string);
    const attempts = await context.deliveries.attempts(delivery.id);
    response.json({ ...deliveryView(delivery), attempts: attempts.map(attemptView) });
  });

  return router;
}
