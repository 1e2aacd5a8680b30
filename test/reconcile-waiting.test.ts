import { partitionOfId } from "@hookbus/core/policy";
import { reconcile } from "../apps/worker/src/jobs/reconcile.js";
import { surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

/** A delivery that failed its first attempt and waits for its retry. */
async function retryingDelivery(retrySchedule: string[]): Promise<{ id: string; subscriptionId: string }> {
  const receiver = await receivers.start(() => ({ status: 500 }));
  const subscription = await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule });
  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  await hookbus.deliveryWithStatus(id, "retrying");
  return { id, subscriptionId: subscription.id };
}

test("a delivery not attempted before its retention runs out (its subscription disabled) ends as failed with its reason, and a replay delivers it", async () => {
  hookbus = await TestHookbus.start({
    env: { HOOKBUS_RETENTION: "8s", HOOKBUS_RETRY_SCHEDULE: "1s", HOOKBUS_RECONCILE_AFTER: "300ms" },
    worker: false,
  });
  await hookbus.startWorker({ maintenance: { intervalMs: 100 } });
  const { id, subscriptionId } = await retryingDelivery(["2s"]);
  await hookbus.api("PATCH", `/v1/subscriptions/${subscriptionId}`, { enabled: false });

  const failed = await hookbus.deliveryWithStatus(id, "failed", 20_000);
  expect(failed.failureReason).toBe("its subscription was disabled until its retention ran out");
  expect(failed.attempts).toHaveLength(1);
  const listed = await hookbus.client.deliveries.list({ status: "failed", subscriptionId });
  expect(listed.items.map((d) => d.id)).toEqual([id]);

  const receiver = await receivers.start();
  await hookbus.api("PATCH", `/v1/subscriptions/${subscriptionId}`, { enabled: true, url: receiver.url });
  expect((await hookbus.api("POST", `/v1/deliveries/${id}/replay`)).status).toBeLessThan(300);
  const delivered = await hookbus.deliveryWithStatus(id, "delivered");
  expect(delivered.failureReason).toBeUndefined();
  expect(receiver.requests.map((r) => r.headers["webhook-id"])).toEqual([id]);
});

test("deliveries waiting on purpose are not re-read by every reconcile pass: a disabled subscription's until shortly before they expire", async () => {
  hookbus = await TestHookbus.start({ env: { HOOKBUS_RECONCILE_AFTER: "300ms" } });
  const { id, subscriptionId } = await retryingDelivery(["1h"]);
  await hookbus.api("PATCH", `/v1/subscriptions/${subscriptionId}`, { enabled: false });
  const { keys, redis } = hookbus.context();
  // Overdue now, as a delivery whose job went missing would be.
  const watch = keys.deliveriesToWatch(partitionOfId(id));
  await redis.zadd(watch, "XX", Date.now() - 1000, id);
  await reconcile(hookbus.context());
  const watchAt = Number(await redis.zscore(watch, id));
  const expiresAt = Date.now() + (await redis.pttl(keys.delivery(id)));
  expect(watchAt).toBeGreaterThan(Date.now() + 24 * 3600_000);
  expect(watchAt).toBeLessThan(expiresAt);
});

test("a delivery waiting for its endpoint's circuit is watched from when the circuit closes, not every reconcile pass", async () => {
  hookbus = await TestHookbus.start({
    env: { HOOKBUS_CIRCUIT_FAILURES: "1", HOOKBUS_CIRCUIT_COOLDOWN: "10m", HOOKBUS_RECONCILE_AFTER: "300ms" },
  });
  const { subscriptionId } = await retryingDelivery(["100ms"]);
  const { keys, redis } = hookbus.context();
  const openUntil = Number(await redis.hget(keys.endpointHealth(subscriptionId), "openUntil"));
  expect(openUntil).toBeGreaterThan(Date.now() + 5 * 60_000);
  // The retry is due at once, finds the circuit open and waits for it.
  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  await waitFor(
    async () => Number(await redis.zscore(keys.deliveriesToWatch(partitionOfId(id)), id)) >= openUntil,
    "the delivery's watch to move past the circuit's cool-down",
  );
});

test("the retention sweep keeps the index entries of a delivery whose lifetime a replay extended, and drops those whose records expired", async () => {
  hookbus = await TestHookbus.start();
  const receiver = await receivers.start();
  const subscription = await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  const [kept, expired] = await Promise.all([hookbus.publish(surveySubmitted()), hookbus.publish(surveySubmitted())]);
  const keptId = (await hookbus.deliveriesOf(kept.body.id))[0].id;
  const expiredId = (await hookbus.deliveriesOf(expired.body.id))[0].id;
  await Promise.all([hookbus.deliveryWithStatus(keptId, "delivered"), hookbus.deliveryWithStatus(expiredId, "delivered")]);
  const { deliveries, keys, redis } = hookbus.context();
  // A retention window later: one record has expired; the other was replayed and lives on.
  await redis.del(keys.delivery(expiredId));
  const later = Date.now() + hookbus.config.retentionMs + 60_000;
  expect(await deliveries.sweepExpired([subscription.id], later)).toBe(1);

  const listed = await hookbus.client.deliveries.list({ subscriptionId: subscription.id });
  expect(listed.items.map((d) => d.id)).toEqual([keptId]);
  for (const status of ["delivered"] as const)
    expect((await hookbus.client.deliveries.list({ status, eventType: "survey.submitted" })).items.map((d) => d.id)).toEqual([keptId]);
  expect(await redis.zscore(keys.deliveriesByStatus("delivered", partitionOfId(expiredId)), expiredId)).toBeNull();
  expect(await redis.zscore(keys.deliveriesAll(partitionOfId(expiredId)), expiredId)).toBeNull();
});
