import { Redis } from "ioredis";
import { startEmbeddedRedis, type EmbeddedRedis } from "@hookbus/dev-redis";
import { recordUpdated, surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

let hookbus: TestHookbus;
let ownRedis: EmbeddedRedis | undefined;
const receivers = new ReceiverPool();

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
  await ownRedis?.stop();
  ownRedis = undefined;
});

test("an idempotency key belongs to the API key that used it: another key's same id is another event", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  const body = { ...surveySubmitted(), id: "result-1" };
  const byPublisher = await hookbus.publish(body, hookbus.config.publisherKey);
  const byAdmin = await hookbus.publish(body, hookbus.config.adminKey);
  const again = await hookbus.publish(body, hookbus.config.publisherKey);
  expect([byPublisher.status, byAdmin.status, again.status]).toEqual([202, 202, 202]);
  expect(byAdmin.body.id).not.toBe(byPublisher.body.id);
  expect(byAdmin.body.duplicate).toBeUndefined();
  expect(again.body).toMatchObject({ id: byPublisher.body.id, duplicate: true });
});

test("the same idempotency key with another body is 409, whatever the order of the fields; the first event is untouched", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  const body = { ...surveySubmitted(), id: "result-2" };
  const first = await hookbus.publish(body);
  const reordered = { id: "result-2", data: Object.fromEntries(Object.entries(body.data).reverse()), type: body.type };
  expect((await hookbus.publish(reordered)).body).toMatchObject({ id: first.body.id, duplicate: true });

  const conflicting = await hookbus.publish({ ...body, data: { ...body.data, surveyName: "Weekly" } });
  expect(conflicting.status).toBe(409);
  expect(conflicting.body.error).toMatch(/idempotency key "result-2" was used for event evt_\w+ with another type, data or occurredAt/);
  expect((await hookbus.publish({ ...body, occurredAt: "2026-11-26T00:00:00Z" })).status).toBe(409);
  expect((await hookbus.api("GET", `/v1/events/${first.body.id}`)).body.data.surveyName).toBe("Daily Symptoms");
});

test("a sync publish repeated while the first still waits gets the receiver's answer, not a timeout", async () => {
  hookbus = await TestHookbus.start();
  const endpoint = await receivers.start(() => ({ status: 201, body: '{"stored":true}', delayMs: 600 }));
  const subscription = await hookbus.createSubscription({
    url: endpoint.url,
    eventTypes: ["record.updated"],
    mode: "sync",
    timeoutMs: 3000,
  });
  const body = { ...recordUpdated(), id: "record-435-v2" };
  const first = hookbus.publish(body);
  await endpoint.waitForRequests(1);
  const repeated = await hookbus.publish(body);
  for (const response of [await first, repeated]) {
    expect(response.status).toBe(200);
    expect(response.body.sync[0]).toMatchObject({ outcome: "delivered", statusCode: 201, body: '{"stored":true}' });
  }
  expect(repeated.body.duplicate).toBe(true);
  expect(endpoint.requests).toHaveLength(1);
  // The repeat stored nothing, so the deliveries it would have made in the same round trip were not made either.
  const deliveries = (await hookbus.api("GET", `/v1/deliveries?subscriptionId=${subscription.id}`)).body.items;
  expect(deliveries.map((d: { eventId: string }) => d.eventId)).toEqual([repeated.body.id]);
});

test("a publish answered 503 while Redis was not answering is never stored afterwards", async () => {
  ownRedis = await startEmbeddedRedis();
  hookbus = await TestHookbus.start({ env: { REDIS_URL: ownRedis.url } });
  const endpoint = await receivers.start();
  await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["record.created"] });

  // CLIENT PAUSE holds every command: the publish's store reaches Redis and waits there.
  const admin = new Redis(ownRedis.url);
  await admin.call("client", "pause", "6000", "ALL");
  admin.disconnect();
  const body = { ...recordUpdated(), type: "record.created", id: "late-1" };
  const refused = await hookbus.publish(body);
  expect(refused.status).toBe(503);

  // Once Redis answers again, the held store has run and found itself past its deadline.
  const accepted = await waitFor(
    async () => {
      const response = await hookbus.publish({ ...body, id: "after-the-pause" });
      return response.status === 202 ? response : undefined;
    },
    "Redis to answer again",
    15_000,
    200,
  );
  expect(accepted.body.duplicate).toBeUndefined();
  const retried = await hookbus.publish(body);
  expect(retried.status).toBe(202);
  expect(retried.body.duplicate).toBeUndefined();
  // The two accepted events are delivered; the refused one never was.
  const deliveries = (await Promise.all([accepted, retried].map((r) => hookbus.deliveriesOf(r.body.id)))).flat();
  await Promise.all(deliveries.map((d) => hookbus.deliveryWithStatus(d.id, "delivered")));
  expect((await hookbus.api("GET", "/v1/deliveries")).body.items).toHaveLength(2);
});
