import { enqueueRoute, ensureDeliverJob, ensureRouteJob } from "@hookbus/core/queue";
import { surveySubmitted } from "./fixtures/events.js";
import { openQueue, TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

/** Maintenance every 100 ms, and anything 300 ms overdue is reconciled. */
const FAST_RECONCILE = { env: { HOOKBUS_RECONCILE_AFTER: "300ms" }, worker: false };
const FAST_MAINTENANCE = { maintenance: { intervalMs: 100 } };

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

async function removeJob(queueName: string, jobId: string): Promise<void> {
  const queue = openQueue(hookbus.config, queueName, jobId);
  try {
    expect(await queue.remove(jobId)).toBe(1);
  } finally {
    await queue.close();
  }
}

test("a delivery whose job was deleted by hand gets it back from the reconciler, with the same webhook-id", async () => {
  hookbus = await TestHookbus.start(FAST_RECONCILE);
  const receiver = await receivers.start((_r, index) => ({ status: index === 0 ? 500 : 200 }));
  await hookbus.startWorker(); // no fast maintenance yet: the job is deleted first
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule: ["1s"] });
  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  await hookbus.deliveryWithStatus(id, "retrying");
  await removeJob("deliver", id);
  await hookbus.stopWorkers();

  await hookbus.startWorker(FAST_MAINTENANCE);
  const delivered = await hookbus.deliveryWithStatus(id, "delivered");
  expect(delivered.attempts.map((a: any) => a.statusCode)).toEqual([500, 200]);
  expect(receiver.requests.map((r) => r.headers["webhook-id"])).toEqual([id, id]);
});

test("a job put back for a delivery of a rate-capped bulk replay stays part of the replay, under its cap", async () => {
  hookbus = await TestHookbus.start();
  const receiver = await receivers.start(() => ({ status: 500 }));
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule: [] });
  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  await hookbus.deliveryWithStatus(id, "failed");
  await hookbus.stopWorkers();
  // Claimed by a bulk replay capped at 3 a second, whose job was then lost.
  const { deliveries, queues } = hookbus.context();
  expect(await deliveries.claimForReplay(await deliveries.get(id), { id: "rpl_capped", ratePerSecond: 3 })).toBe(1);

  expect(await ensureDeliverJob(queues, await deliveries.get(id))).toBe(true);
  const job = await queues.of(id).deliver.getJob(`${id}-r1`);
  expect(job?.data).toMatchObject({ deliveryId: id, replayId: "rpl_capped", replayRatePerSecond: 3 });
});

test("an event whose route job is gone (failed past its retries, or deleted) is routed by the reconciler", async () => {
  hookbus = await TestHookbus.start(FAST_RECONCILE);
  const receiver = await receivers.start();
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  const published = await hookbus.publish(surveySubmitted());
  await removeJob("route", published.body.id);

  await hookbus.startWorker(FAST_MAINTENANCE);
  const [request] = await receiver.waitForRequests(1);
  const [delivery] = await hookbus.deliveriesOf(published.body.id);
  expect(request!.headers["webhook-id"]).toBe(delivery.id);
});

test("events published together share one route job, which the reconciler leaves alone while it lives; once it is gone, each event is routed", async () => {
  hookbus = await TestHookbus.start(FAST_RECONCILE);
  const receiver = await receivers.start();
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  const published = await hookbus.api(
    "POST",
    "/v1/events/batch",
    { events: ["A", "B", "C"].map((name) => surveySubmitted(name)) },
    hookbus.config.publisherKey,
  );
  const ids: string[] = published.body.items.map((item: { id: string }) => item.id);
  const { queues, events } = hookbus.context();
  expect((await queues.of(ids[0]!).route.getJob(ids[0]!))?.data).toEqual({ eventIds: ids });
  const stored = await events.getMany(ids);
  for (const id of ids.slice(1)) expect(await ensureRouteJob(queues, id, stored.get(id)!.routeJobId)).toBe(false);
  expect(await queues.of(ids[0]!).route.getWaitingCount()).toBe(1);

  await removeJob("route", ids[0]!);
  await hookbus.startWorker(FAST_MAINTENANCE);
  await receiver.waitForRequests(3);
  const deliveries = await Promise.all(ids.map(async (id) => (await hookbus.deliveriesOf(id))[0].id));
  expect(receiver.requests.map((r) => r.headers["webhook-id"]).sort()).toEqual(deliveries.sort());
});

test("a route job run again after a crash gives back the retry job its first run died before adding, without waiting for the reconciler", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  const receiver = await receivers.start();
  const subscription = await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  const published = await hookbus.publish(surveySubmitted());
  await removeJob("route", published.body.id);
  // What the first run left: the delivery made and its first attempt recorded (a 500, retry
  // due in half a second), then the process died before adding the retry job.
  const { events, deliveries, subscriptions, queues } = hookbus.context();
  const event = await events.get(published.body.id);
  const [routed] = await deliveries.route(event, [await subscriptions.get(subscription.id)]);
  const failedAt = Date.now();
  await deliveries.recordAttempt(
    { id: routed!.deliveryId, subscriptionId: subscription.id, eventId: event.id },
    { at: failedAt, statusCode: 500, error: "http", durationMs: 1 },
    "retrying",
    failedAt + 500,
  );

  // Stall recovery runs the route job again; the reconciler would look only after a minute.
  await enqueueRoute(queues, event.id);
  await hookbus.startWorker();
  const delivered = await hookbus.deliveryWithStatus(routed!.deliveryId, "delivered", 10_000);
  expect(delivered.attempts.map((a: any) => a.statusCode)).toEqual([500, 200]);
  expect(receiver.requests.map((r) => r.headers["webhook-id"])).toEqual([routed!.deliveryId]);
});

test("an event stored by a publish cut off before enqueueing its route job is routed by the reconciler", async () => {
  hookbus = await TestHookbus.start(FAST_RECONCILE);
  const receiver = await receivers.start();
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  // What a publish stores before anything else, and no more: the process stops right there.
  const { event } = await hookbus.context().events.store({ type: "survey.submitted", data: surveySubmitted().data });

  await hookbus.startWorker(FAST_MAINTENANCE);
  await receiver.waitForRequests(1);
  await hookbus.deliveriesOf(event.id);
  expect(await hookbus.routed(event.id)).toBe(true);
});

test("publishing again with the same id routes an event whose route job failed", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  const receiver = await receivers.start();
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  const first = await hookbus.publish({ ...surveySubmitted(), id: "order-17" });
  await removeJob("route", first.body.id);
  const again = await hookbus.publish({ ...surveySubmitted(), id: "order-17" });
  expect(again.body.id).toBe(first.body.id);

  await hookbus.startWorker();
  await receiver.waitForRequests(1);
});

test("a stale duplicate attempt cannot turn a delivered delivery back into retrying; its attempt is still logged", async () => {
  hookbus = await TestHookbus.start();
  const receiver = await receivers.start();
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  const delivered = await hookbus.deliveryWithStatus(id, "delivered");

  const deliveries = hookbus.context().deliveries;
  await deliveries.recordAttempt(delivered, { at: Date.now(), error: "timeout", durationMs: 15_000 }, "retrying", Date.now() + 5000);
  await deliveries.deadLetter(delivered, "a stale duplicate");
  const after = await hookbus.delivery(id);
  expect(after).toMatchObject({ status: "delivered", attemptCount: 2 });
  expect(after.nextAttemptAt).toBeUndefined();
  expect(after.attempts.map((a: any) => a.error ?? a.statusCode)).toEqual([200, "timeout"]);
});

test("each attempt extends the time to live of the delivery, its attempts and its event to a full retention window", async () => {
  hookbus = await TestHookbus.start({ env: { HOOKBUS_RETENTION: "1h", HOOKBUS_RETRY_SCHEDULE: "500ms" } });
  const receiver = await receivers.start((_r, index) => ({ status: index === 0 ? 500 : 200 }));
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule: ["500ms"] });
  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  await hookbus.deliveryWithStatus(id, "retrying");
  // As if the delivery were near the end of its window when its retry comes.
  const { keys: named } = hookbus.context();
  const keys = [named.delivery(id), named.attempts(id), named.event(published.body.id)];
  for (const key of keys) await hookbus.redisCommand("pexpire", key, "2000");

  await hookbus.deliveryWithStatus(id, "delivered");
  for (const key of keys) expect(Number(await hookbus.redisCommand("pttl", key))).toBeGreaterThan(3500_000);
});
