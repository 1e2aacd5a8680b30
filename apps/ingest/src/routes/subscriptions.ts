import { Router, type Request } from "express";
import {
  blockedRangeOfUrl,
  changedFields,
  MASKED,
  parseRetrySchedule,
  projectOf,
  scheduleBeyondRetention,
  UnprocessableError,
  type Subscription,
} from "@hookbus/core/policy";
import { announceDisabled, resumeDeliveries } from "@hookbus/core/flows";
import type { HookbusContext, Logger } from "@hookbus/core/runtime";
import type { Project } from "@hookbus/core/store";
import {
  createSubscriptionBody,
  DEFAULT_PROJECT_ID,
  sendSampleBody,
  subscriptionListQuery,
  updateSubscriptionBody,
  type Duration,
  type SendSampleResult,
  type SubscriptionPage,
  type SubscriptionWithSecret,
} from "@hookbus/schemas";
import { auditAttempt, recordAudit } from "../audit-record.js";
import type { Publisher } from "../publish/publisher.js";
import { sampleData } from "../samples.js";
import { parseOr422 } from "../validate.js";
import { subscriptionSettings, subscriptionStatsView, subscriptionView } from "../views.js";
import type { Guards } from "./guards.js";
import { requestedProject, visibleOr404 } from "./project-scope.js";

export interface SubscriptionRouteOptions {
  /** How long a rotated-out secret keeps signing, ms. */
  secretOverlapMs: number;
}

export function subscriptionsRouter(
  context: HookbusContext,
  publisher: Publisher,
  guards: Guards,
  options: SubscriptionRouteOptions,
  logger: Logger,
): Router {
  const router = Router();
  /** The subscription as the API shows it, with its endpoint's health. */
  const view = async (subscription: Subscription) => subscriptionView(subscription, await context.endpoints.health(subscription.id));
  /** A schedule must end within the retention of the subscription's project (its own, or the configured one). */
  const refuseScheduleBeyondRetention = (schedule: Duration[] | null | undefined, project: Pick<Project, "retention">) => {
    const retention = project.retention ?? context.config.retentionMs;
    const tooLong = schedule ? scheduleBeyondRetention(parseRetrySchedule(schedule), retention) : undefined;
    if (tooLong) throw new UnprocessableError(tooLong, ["retrySchedule"]);
  };
  const refusePrivateUrl = (url: string | undefined) => {
    const blocked = url && blockedRangeOfUrl(url, context.config.allowedNetworks);
    if (blocked) throw new UnprocessableError(`url targets ${blocked}, which is blocked (allow it with HOOKBUS_ALLOWED_NETWORKS)`, ["url"]);
  };

  /** The subscription of the path, when the request's key may see its project; else 404. */
  const own = async (request: Request) => {
    const id = request.params.id as string;
    return visibleOr404(request, await context.subscriptions.get(id), "subscription", id);
  };

  router.post("/v1/subscriptions", ...guards.admin, async (request, response) => {
    const { projectId: named, ...body } = parseOr422(createSubscriptionBody, request.body, "subscription");
    const project = await context.projects.get(requestedProject(request, named) ?? DEFAULT_PROJECT_ID);
    // The project's retry schedule is its subscriptions' default, taken when each is made.
    body.retrySchedule ??= project.retrySchedule;
    refusePrivateUrl(body.url);
    refuseScheduleBeyondRetention(body.retrySchedule, project);
    const subscription = await context.subscriptions.create(body, project.id);
    await recordAudit(context, request, {
      ...subscriptionResource(subscription),
      action: "subscription.create",
      after: subscriptionSettings(subscription),
    });
    response.status(201).json({ ...(await view(subscription)), secret: subscription.secrets[0]!.secret } satisfies SubscriptionWithSecret);
  });

  router.get("/v1/subscriptions", ...guards.admin, async (request, response) => {
    const query = parseOr422(subscriptionListQuery, request.query, "query");
    const page = await context.subscriptions.list(query.limit, query.cursor, requestedProject(request, query.projectId));
    const health = await context.endpoints.healthOfMany(page.items.map((s) => s.id));
    response.json({
      items: page.items.map((s) => subscriptionView(s, health.get(s.id)!)),
      nextCursor: page.nextCursor ?? null,
    } satisfies SubscriptionPage);
  });

  router.get("/v1/subscriptions/:id", ...guards.admin, async (request, response) => {
    response.json(await view(await own(request)));
  });

  router.patch("/v1/subscriptions/:id", ...guards.admin, async (request, response) => {
    const patch = parseOr422(updateSubscriptionBody, request.body, "subscription update");
    refusePrivateUrl(patch.url);
    const existing = await own(request);
    if (patch.retrySchedule) refuseScheduleBeyondRetention(patch.retrySchedule, await context.projects.get(projectOf(existing)));
    auditAttempt(response, { ...subscriptionResource(existing), action: "subscription.update" });
    const { before, after: updated } = await context.subscriptions.update(request.params.id as string, patch);
    await recordAudit(context, request, {
      ...subscriptionResource(updated),
      action: updateAction(before, updated),
      ...changedFields({ before, after: updated }, { before: subscriptionSettings(before), after: subscriptionSettings(updated) }),
    });
    if (before.enabled && !updated.enabled) await announceDisabled(context, updated);
    if (!before.enabled && updated.enabled) {
      // Its kept deliveries get their jobs back in the background; the reconciler is the safety net.
      resumeDeliveries(context, updated.id).catch((error: unknown) =>
        logger.warn({ err: error, subscriptionId: updated.id }, "resuming deliveries failed; the reconciler will resume them"),
      );
    }
    response.json(await view(updated));
  });

  router.delete("/v1/subscriptions/:id", ...guards.admin, async (request, response) => {
    const subscription = await own(request);
    auditAttempt(response, { ...subscriptionResource(subscription), action: "subscription.delete" });
    await context.subscriptions.delete(subscription.id);
    await recordAudit(context, request, {
      ...subscriptionResource(subscription),
      action: "subscription.delete",
      before: subscriptionSettings(subscription),
    });
    response.status(204).end();
  });

  router.post("/v1/subscriptions/:id/rotate-secret", ...guards.admin, async (request, response) => {
    auditAttempt(response, { ...subscriptionResource(await own(request)), action: "subscription.rotate-secret" });
    const subscription = await context.subscriptions.rotateSecret(request.params.id as string, options.secretOverlapMs);
    await recordAudit(context, request, {
      ...subscriptionResource(subscription),
      action: "subscription.rotate-secret",
      after: { secret: MASKED, previousSecretSignsFor: options.secretOverlapMs },
    });
    response.json({ ...(await view(subscription)), secret: subscription.secrets[0]!.secret } satisfies SubscriptionWithSecret);
  });

  router.get("/v1/subscriptions/:id/stats", ...guards.admin, async (request, response) => {
    const subscription = await own(request);
    response.json(subscriptionStatsView(subscription.id, await context.deliveries.stats(subscription.id)));
  });

  router.post("/v1/subscriptions/:id/test", ...guards.admin, async (request, response) => {
    const subscription = await own(request);
    const { type = subscription.eventTypes[0]! } = parseOr422(sendSampleBody, request.body ?? {}, "sample request");
    auditAttempt(response, { ...subscriptionResource(subscription), action: "subscription.send-sample" });
    if (!subscription.enabled)
      throw new UnprocessableError(`subscription ${subscription.id} is disabled: enable it to send a sample`, ["enabled"]);
    if (subscription.unreadable)
      throw new UnprocessableError(
        `subscription ${subscription.id} cannot be read (${subscription.unreadable}): nothing can be sent to it`,
      );
    const { event, result } = await publisher.sendSample(subscription, type, sampleData(type));
    await recordAudit(context, request, {
      ...subscriptionResource(subscription),
      action: "subscription.send-sample",
      after: { type, eventId: event.id, outcome: result.outcome, statusCode: result.statusCode },
    });
    response.json({ eventId: event.id, type, ...result } satisfies SendSampleResult);
  });

  return router;
}

function subscriptionResource(subscription: Subscription) {
  return { resourceType: "subscription", resourceId: subscription.id, projectId: projectOf(subscription) };
}

/** A PATCH is recorded as what it did: paused or resumed, switched between Test and Live, or changed. */
function updateAction(before: Subscription, after: Subscription) {
  if (before.enabled !== after.enabled) return after.enabled ? "subscription.enable" : "subscription.disable";
  if (before.environment !== after.environment) return "subscription.switch-environment";
  return "subscription.update";
}
