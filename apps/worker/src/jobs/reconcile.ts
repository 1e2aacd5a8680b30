import { deliveriesWait } from "@hookbus/core/policy";
import { ensureDeliverJob, ensureRouteJob } from "@hookbus/core/queue";
import type { HookbusContext } from "@hookbus/core/runtime";

/** How many deliveries or events one pass reads at a time, and how many batches it takes at most. */
const BATCH = 500;
const MAX_BATCHES = 20;

export interface Reconciled {
  /** Deliveries whose job was missing and was put back. */
  requeued: number;
  /** Events whose route job was missing and was put back. */
  rerouted: number;
}

/**
 * Reconciles the delivery log with the queues. The log is the truth and a job only moves a
 * delivery on, so a delivery can be left pending or retrying with no job behind it (its job
 * deleted by hand, failed past its own retries, stalled too often) and an event stored with no
 * route job (a publish cut off between the two). Every such delivery and event is watched from
 * the moment it is written; once one is overdue by the reconcile grace, this looks for its
 * job and puts back one that is missing, under the same job id (so the same webhook-id), due
 * when it was due. A delivery whose subscription is disabled is left for the enable that
 * resumes it, and one whose subscription cannot be read is left until it can; one whose
 * subscription is gone gets a job that dead-letters it.
 */
export async function reconcile(context: HookbusContext, now = Date.now()): Promise<Reconciled> {
  const nextLook = now + context.config.reconcileAfterMs;
  const result: Reconciled = { requeued: 0, rerouted: 0 };
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const ids = await context.deliveries.overdueForWatch(now, BATCH);
    const deliveries = await context.deliveries.getMany(ids);
    const unfinished = deliveries.filter((d) => d.status === "pending" || d.status === "retrying");
    const stillOpen = new Set(unfinished.map((d) => d.id));
    await context.deliveries.unwatch(ids.filter((id) => !stillOpen.has(id)));
    const subscriptionIds = [...new Set(unfinished.map((d) => d.subscriptionId))];
    const waiting = new Set((await context.subscriptions.getMany(subscriptionIds)).filter(deliveriesWait).map((s) => s.id));
    for (const delivery of unfinished) {
      if (!waiting.has(delivery.subscriptionId) && (await ensureDeliverJob(context.queues, delivery, now))) result.requeued++;
    }
    await context.deliveries.watchAgain([...stillOpen], nextLook);
    if (ids.length < BATCH) break;
  }
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const eventIds = await context.events.overdueForRouting(now, BATCH);
    const events = await context.events.getMany(eventIds);
    for (const id of eventIds) if (await ensureRouteJob(context.queues, id, events.get(id)?.routeJobId)) result.rerouted++;
    await context.events.watchRouting(eventIds, nextLook);
    if (eventIds.length < BATCH) break;
  }
  return result;
}
