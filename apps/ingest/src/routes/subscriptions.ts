import { Router } from "express";
import { z } from "zod";
import { blockedRangeOfUrl, UnprocessableError, type HookbusContext } from "@hookbus/core";
import { createSubscriptionBody, eventType, updateSubscriptionBody } from "@hookbus/schemas";
import type { Publisher } from "../publish.js";
import { sampleData } from "../samples.js";
import { parseOr422 } from "../validate.js";
import { subscriptionStatsView, subscriptionView } from "../views.js";
import type { Guards } from "./guards.js";

export interface SubscriptionRouteOptions {
  /** How long a rotated-out secret keeps signing, ms. */
  secretOverlapMs: number;
}

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().optional(),
});

export function subscriptionsRouter(context: HookbusContext, publisher: Publisher, guards: Guards, options: SubscriptionRouteOptions): Router {
  const router = Router();
  const refusePrivateUrl = (url: string | undefined) => {
    const blocked = url && blockedRangeOfUrl(url, context.config.allowedNetworks);
    if (blocked) throw new UnprocessableError(`url targets ${blocked}, which is blocked (allow it with HOOKBUS_ALLOWED_NETWORKS)`, ["url"]);
  };

  router.post("/v1/subscriptions", ...guards.admin, async (request, response) => {
    const body = parseOr422(createSubscriptionBody, request.body, "subscription");
    refusePrivateUrl(body.url);
    const subscription = await context.subscriptions.create(body);
    response.status(201).json({ ...subscriptionView(subscription), secret: subscription.secrets[0]!.secret });
  });

  router.get("/v1/subscriptions", ...guards.admin, async (request, response) => {
    const query = parseOr422(listQuery, request.query, "query");
    const page = await context.subscriptions.list(query.limit, query.cursor);
    response.json({ items: page.items.map(subscriptionView), nextCursor: page.nextCursor ?? null });
  });

  router.get("/v1/subscriptions/:id", ...guards.admin, async (request, response) => {
    response.json(subscriptionView(await context.subscriptions.get(request.params.id as string)));
  });

  router.patch("/v1/subscriptions/:id", ...guards.admin, async (request, response) => {
    const patch = parseOr422(updateSubscriptionBody, request.body, "subscription update");
    refusePrivateUrl(patch.url);
    response.json(subscriptionView(await context.subscriptions.update(request.params.id as string, patch)));
  });

  router.delete("/v1/subscriptions/:id", ...guards.admin, async (request, response) => {
    await context.subscriptions.delete(request.params.id as string);
    response.status(204).end();
  });

  router.post("/v1/subscriptions/:id/rotate-secret", ...guards.admin, async (request, response) => {
    const subscription = await context.subscriptions.rotateSecret(request.params.id as string, options.secretOverlapMs);
    response.json({ ...subscriptionView(subscription), secret: subscription.secrets[0]!.secret });
  });

  router.get("/v1/subscriptions/:id/stats", ...guards.admin, async (request, response) => {
    const subscription = await context.subscriptions.get(request.params.id as string);
    response.json(subscriptionStatsView(subscription.id, await context.deliveries.stats(subscription.id)));
  });

  router.post("/v1/subscriptions/:id/test", ...guards.admin, async (request, response) => {
    const subscription = await context.subscriptions.get(request.params.id as string);
    const { type = subscription.eventTypes[0]! } = parseOr422(sampleBody, request.body ?? {}, "sample request");
    const { event, result } = await publisher.sendSample(subscription, type, sampleData(type));
    response.json({ eventId: event.id, type, ...result });
  });

  return router;
}

const sampleBody = z.strictObject({ type: eventType.optional() });

