import { Webhook } from "standardwebhooks";
import { AllowedNetworks } from "@hookbus/core/policy";
import { createLogger } from "@hookbus/core/runtime";
import { startWorker } from "@hookbus/worker";
import { TestHookbus } from "./support/harness.js";
import { TestReceiver } from "./support/receiver.js";
import { surveySubmitted as survey } from "./fixtures/events.js";

let hookbus: TestHookbus;
let receiver: TestReceiver;

beforeEach(async () => {
  hookbus = await TestHookbus.start();
});

afterEach(async () => {
  await hookbus.stop();
  await receiver?.stop();
});

test("a published event reaches the receiver signed with the secret the API returned", async () => {
  receiver = await TestReceiver.start();
  const subscription = await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  expect(subscription.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32,}$/);

  const published = await hookbus.publish(survey());
  expect(published.status).toBe(202);
  expect(published.body).toEqual({ id: expect.stringMatching(/^evt_/), type: "survey.submitted" });

  const [request] = await receiver.waitForRequests(1);
  const verified = new Webhook(subscription.secret).verify(request!.body, {
    "webhook-id": request!.headers["webhook-id"] as string,
    "webhook-timestamp": request!.headers["webhook-timestamp"] as string,
    "webhook-signature": request!.headers["webhook-signature"] as string,
  });
  expect(verified).toEqual({ type: "survey.submitted", timestamp: expect.any(String), data: survey().data });
  expect(request!.headers["content-type"]).toBe("application/json");
  expect(() =>
    new Webhook(`whsec_${Buffer.from("another secret of 24 bytes").toString("base64")}`).verify(
      request!.body,
      request!.headers as Record<string, string>,
    ),
  ).toThrow();

  const [delivery] = await hookbus.deliveriesOf(published.body.id);
  expect(request!.headers["webhook-id"]).toBe(delivery.id);
  const done = await hookbus.deliveryWithStatus(delivery.id, "delivered");
  expect(done.attempts).toHaveLength(1);
  expect(done.attempts[0]).toMatchObject({ statusCode: 200, durationMs: expect.any(Number) });
});

test("a receiver that fails twice gets the delivery on the third attempt, with every attempt logged", async () => {
  receiver = await TestReceiver.start((_request, index) => ({ status: index < 2 ? 503 : 200, body: `{"try":${index}}` }));
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule: ["50ms", 50, "50ms"] });
  const published = await hookbus.publish(survey());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);

  const delivery = await hookbus.deliveryWithStatus(id, "delivered");
  expect(delivery.attemptCount).toBe(3);
  expect(delivery.attempts.map((a: any) => a.statusCode)).toEqual([503, 503, 200]);
  expect(delivery.attempts.map((a: any) => a.error ?? null)).toEqual(["http", "http", null]);
  expect(delivery.attempts[2]!.responseBody).toBe('{"try":2}');
  for (const attempt of delivery.attempts) expect(attempt.durationMs).toBeGreaterThan(0);
  const webhookIds = new Set(receiver.requests.map((r) => r.headers["webhook-id"]));
  expect(webhookIds).toEqual(new Set([id]));
});

test("a receiver that always fails dead-letters the delivery after the last attempt, and no attempt follows", async () => {
  receiver = await TestReceiver.start(() => ({ status: 500 }));
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule: ["20ms", "20ms"] });
  const published = await hookbus.publish(survey());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);

  const delivery = await hookbus.deliveryWithStatus(id, "failed");
  expect(delivery.attempts).toHaveLength(3);
  expect(delivery.nextAttemptAt).toBeUndefined();
  // Nothing is left in the queue that could attempt it again.
  const counts = await hookbus.queueCounts("deliver");
  expect(counts).toMatchObject({ waiting: 0, delayed: 0, active: 0 });
  expect(receiver.requests).toHaveLength(3);
  const deadLetters = await hookbus.api("GET", "/v1/deliveries?status=failed");
  expect(deadLetters.body.items.map((d: any) => d.id)).toEqual([id]);
});

test("a receiver that never answers: the attempt ends at the subscription's timeout and counts as a failure", async () => {
  receiver = await TestReceiver.start(() => "hang");
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], timeoutMs: 300, retrySchedule: [] });
  const published = await hookbus.publish(survey());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);

  const delivery = await hookbus.deliveryWithStatus(id, "failed");
  expect(delivery.attempts).toHaveLength(1);
  expect(delivery.attempts[0]!.error).toBe("timeout");
  expect(delivery.attempts[0]!.statusCode).toBeUndefined();
  expect(delivery.attempts[0]!.durationMs).toBeGreaterThanOrEqual(290);
  expect(delivery.attempts[0]!.durationMs).toBeLessThan(2000);
});

test("a receiver that is down at first gets the delivery on a later retry", async () => {
  receiver = await TestReceiver.start();
  const url = receiver.url;
  await receiver.stop();
  await hookbus.createSubscription({ url, eventTypes: ["survey.submitted"], retrySchedule: ["300ms", "300ms", "300ms"] });
  const published = await hookbus.publish(survey());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  const retrying = await hookbus.deliveryWithStatus(id, "retrying");
  expect(retrying.attempts[0]!.error).toBe("connection");

  receiver = await TestReceiver.startOn(Number(new URL(url).port));
  const delivered = await hookbus.deliveryWithStatus(id, "delivered");
  expect(delivered.attempts.at(-1)!.statusCode).toBe(200);
  expect(receiver.requests).toHaveLength(1);
});

test("a stopping worker lets the attempt in flight finish and be recorded, and takes no new one", async () => {
  receiver = await TestReceiver.start(() => ({ status: 200, delayMs: 500 }));
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  const first = await hookbus.publish(survey());
  await receiver.waitForRequests(1);

  await hookbus.stopWorkers();
  const [{ id }] = await hookbus.deliveriesOf(first.body.id);
  expect((await hookbus.delivery(id)).status).toBe("delivered");

  const second = await hookbus.publish(survey());
  expect(second.status).toBe(202);
  // With no worker left, the new event waits in the queue: nothing was lost, nothing sent.
  expect(receiver.requests).toHaveLength(1);
  await hookbus.startWorker();
  const [{ id: secondId }] = await hookbus.deliveriesOf(second.body.id);
  await hookbus.deliveryWithStatus(secondId, "delivered");
  expect(receiver.requests).toHaveLength(2);
});

test("a worker with no allowed networks blocks a loopback receiver and logs the attempt as ssrf_blocked", async () => {
  receiver = await TestReceiver.start();
  await hookbus.stopWorkers();
  const strictWorker = await startWorker(
    { ...hookbus.config, allowedNetworks: new AllowedNetworks() },
    { opsServer: false, logger: createLogger("test", "silent") },
  );
  try {
    // Subscribed through an ingest that allows loopback, delivered by a worker that does not.
    await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule: [] });
    const published = await hookbus.publish(survey());
    const [{ id }] = await hookbus.deliveriesOf(published.body.id);
    const delivery = await hookbus.deliveryWithStatus(id, "failed");
    expect(delivery.attempts[0]).toMatchObject({ error: "ssrf_blocked" });
    expect(receiver.requests).toHaveLength(0);
  } finally {
    await strictWorker.close();
  }
});
