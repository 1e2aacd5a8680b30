import { ensureDeliverJob, ensureRouteJob, routeJobAlive, wakeDeliverJob } from "@hookbus/core/queue";
import { wakeInLane } from "@hookbus/core/flows";
import type { Delivery } from "@hookbus/core/policy";
import type { HookbusContext } from "@hookbus/core/runtime";

/** How many deliveries or events one pass reads at a time, and how many batches it takes at most. */
const BATCH = 500;
const MAX_BATCHES = 20;

export interface Reconciled {
  /** Deliveries whose job was missing and was put back. */
  requeued: number;
  /** Events whose route job was missing and was put back. */
  rerouted: number;
  /** Deliveries dead-lettered because they could not be attempted before their record expired. */
  expired: number;
}

/**
 * Reconciles the delivery log with the queues. The log is the truth and a job only moves a
 * delivery on, so a delivery can be left pending or retrying with no job behind it (its job
 * deleted by hand, failed past its own retries, stalled too often) and an event stored with no
 * route job (a publish cut off between the two). Every such delivery and event is watched from
 * the moment it is written; once one is overdue by the reconcile grace, this looks for its
 * job and puts back one that is missing, under the same job id (so the same webhook-id), due
 * when it was due. A delivery whose route job still runs is that job's to attempt.
 *
 * Deliveries that wait on purpose stay out of the way of the lost ones: a wait at the endpoint
 * moves the delivery's watch to when the wait ends (as its claim is given back), and one whose subscription
 * is disabled, left for the enable that resumes it, is looked at again only shortly before its
 * record would expire. One whose subscription cannot be read here is looked at every pass and
 * gets its job once the key is back. A delivery that has not been attempted by then is
 * dead-lettered with its reason, so that it stays visible and replayable instead of vanishing.
 */
export async function reconcile(context: HookbusContext, now = Date.now()): Promise<Reconciled> {
  const result: Reconciled = { requeued: 0, rerouted: 0, expired: 0 };
  for (const partition of context.keys.partitions()) await reconcilePartition(context, partition, now, result);
  return result;
}

/** One partition's overdue deliveries and events. */
async function reconcilePartition(context: HookbusContext, partition: number, now: number, result: Reconciled): Promise<void> {
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const ids = await context.deliveries.overdueForWatch(partition, now, BATCH);
    await reconcileDeliveries(context, ids, now, result);
    if (ids.length < BATCH) break;
  }
  const nextLook = now + context.config.reconcileAfterMs;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const eventIds = await context.events.overdueForRouting(partition, now, BATCH);
    const events = await context.events.getMany(eventIds);
    for (const id of eventIds) if (await ensureRouteJob(context.queues, id, events.get(id)?.routeJobId)) result.rerouted++;
    await context.events.watchRouting(eventIds, nextLook);
    if (eventIds.length < BATCH) break;
  }
}

async function reconcileDeliveries(context: HookbusContext, ids: string[], now: number, result: Reconciled): Promise<void> {
  const deliveries = await context.deliveries.getMany(ids);
  const unfinished = deliveries.filter((d) => d.status === "pending" || d.status === "retrying");
  const stillOpen = new Set(unfinished.map((d) => d.id));
  await context.deliveries.unwatch(ids.filter((id) => !stillOpen.has(id)));
  const [timesToLive, subscriptions, routing] = await Promise.all([
    context.deliveries.timeToLive(unfinished.map((d) => d.id)),
    context.subscriptions.getMany([...new Set(unfinished.map((d) => d.subscriptionId))]),
    eventsStillRouting(context, unfinished),
  ]);
  const disabled = new Set(subscriptions.filter((s) => !s.enabled).map((s) => s.id));
  const unreadable = new Set(subscriptions.filter((s) => s.unreadable !== undefined).map((s) => s.id));
  const margin = expiryMargin(context);
  const nextLook = now + context.config.reconcileAfterMs;
  const looks: { id: string; at: number }[] = [];
  for (const [i, delivery] of unfinished.entries()) {
    const timeToLive = timesToLive[i]!;
    if (timeToLive >= 0 && timeToLive < margin) {
      const why = disabled.has(delivery.subscriptionId) ? "its subscription was disabled" : "it could not be attempted";
      const { nextInLane } = await context.deliveries.deadLetter(delivery, `${why} until its retention ran out`);
      await wakeInLane(context, [nextInLane]);
      result.expired++;
    } else if (disabled.has(delivery.subscriptionId)) {
      looks.push({ id: delivery.id, at: now + timeToLive - margin });
    } else if (delivery.orderingKey !== undefined && !unreadable.has(delivery.subscriptionId) && !routing.has(delivery.eventId)) {
      if (await reconcileInLane(context, { ...delivery, orderingKey: delivery.orderingKey }, now)) result.requeued++;
    } else {
      looks.push({ id: delivery.id, at: nextLook });
      const attemptable = !unreadable.has(delivery.subscriptionId) && !routing.has(delivery.eventId);
      if (attemptable && (await ensureDeliverJob(context.queues, delivery, now))) result.requeued++;
    }
  }
  await context.deliveries.watchAt(looks);
}

/**
 * A delivery in a lane: one whose turn it is runs now, should the wake-up that was to run it
 * be lost (a worker died between finishing the one before and waking it), and is looked at
 * again on the next pass; one still waiting was watched again by its lane, as far as its job
 * sleeps. True when its job had to be put back or woken.
 */
async function reconcileInLane(context: HookbusContext, delivery: Delivery & { orderingKey: string }, now: number): Promise<boolean> {
  const turn = await context.lanes.turn(delivery);
  if (turn !== "go") return false;
  await context.deliveries.watchAgain([delivery.id], now + context.config.reconcileAfterMs);
  // Due (not a retry waiting out its delay): its job, delayed while it waited in the lane, runs now.
  if ((delivery.nextAttemptAt ?? now) <= now) return wakeDeliverJob(context.queues, delivery);
  return ensureDeliverJob(context.queues, delivery, now);
}

/**
 * The events of never-attempted deliveries whose route job still lives: the route job makes
 * their first attempts, and a deliver job beside it would only wait on its claim.
 */
async function eventsStillRouting(context: HookbusContext, deliveries: Delivery[]): Promise<Set<string>> {
  const eventIds = [...new Set(deliveries.filter((d) => d.attemptCount === 0 && d.replays === 0).map((d) => d.eventId))];
  const events = await context.events.getMany(eventIds);
  const alive = await Promise.all(eventIds.map((id) => routeJobAlive(context.queues, id, events.get(id)?.routeJobId)));
  return new Set(eventIds.filter((_, i) => alive[i]));
}

/**
 * How long before its record expires an unattempted delivery is dead-lettered: several
 * reconcile periods, so that a pass finds it in time, but at most half the retention window.
 */
function expiryMargin(context: HookbusContext): number {
  return Math.min(3 * context.config.reconcileAfterMs, context.config.retentionMs / 2);
}
