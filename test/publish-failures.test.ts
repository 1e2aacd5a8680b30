import { recordUpdated } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

/**
 * Makes Redis refuse the store of any event published with this idempotency key: a hash
 * planted where the key's string goes fails the store's script with WRONGTYPE.
 */
async function poisonIdempotencyKey(key: string): Promise<void> {
  // Idempotency keys are scoped to the API key: learn the publisher's scope from a probe's key.
  expect((await hookbus.publish({ ...recordUpdated(), id: "probe" })).status).toBe(202);
  const probeKey = (await hookbus.prefixKeys()).find((key) => /:idem:.*:probe$/.test(key));
  await hookbus.redisCommand("hset", probeKey!.replace(/:probe$/, `:${key}`), "planted", "1");
}

test("one event whose store Redis refuses fails only its own item in a batch: the others are stored and delivered", async () => {
  hookbus = await TestHookbus.start();
  const receiver = await receivers.start();
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"] });
  await poisonIdempotencyKey("poisoned");

  const events = [recordUpdated("a"), { ...recordUpdated("b"), id: "poisoned" }, recordUpdated("c")];
  const response = await hookbus.api("POST", "/v1/events/batch", { events }, hookbus.config.publisherKey);
  expect(response.status).toBe(202);
  const [first, refused, third] = response.body.items;
  expect(refused).toEqual({ error: expect.stringMatching(/WRONGTYPE.*same id/) });
  for (const item of [first, third]) expect(item).toMatchObject({ id: expect.stringMatching(/^evt_/), type: "record.updated" });

  const delivered = await receiver.waitForRequests(3); // the probe's and the two stored ones
  expect(delivered.map((r) => JSON.parse(r.body).data.formId).sort()).toEqual(["319", "a", "c"]);
});

test("a single publish Redis refuses is answered 503 with Retry-After, never 500", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  await poisonIdempotencyKey("poisoned");
  const response = await hookbus.publish({ ...recordUpdated(), id: "poisoned" });
  expect(response.status).toBe(503);
  expect(response.headers.get("retry-after")).toBe("1");
  expect(response.body.error).toMatch(/WRONGTYPE/);
});

test("events stored while their route jobs could not be added are answered 202, and the reconciler routes them", async () => {
  hookbus = await TestHookbus.start({ worker: false, env: { HOOKBUS_RECONCILE_AFTER: "1s" } });
  const receiver = await receivers.start();
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"] });
  // A string where BullMQ keeps the route queue's settings hash fails every route job's add.
  const routeQueueMeta = `${hookbus.config.queuePrefix}:route:meta`;
  await hookbus.redisCommand("del", routeQueueMeta);
  await hookbus.redisCommand("set", routeQueueMeta, "planted");

  const single = await hookbus.publish(recordUpdated("single"));
  const batch = await hookbus.api("POST", "/v1/events/batch", { events: [recordUpdated("b1"), recordUpdated("b2")] });
  expect([single.status, batch.status]).toEqual([202, 202]);
  const ids = [single.body.id, ...batch.body.items.map((item: { id: string }) => item.id)];
  for (const id of ids) expect((await hookbus.api("GET", `/v1/events/${id}`)).status).toBe(200);
  expect((await hookbus.queueCounts("route")).waiting).toBe(0);

  await hookbus.redisCommand("del", routeQueueMeta);
  await hookbus.startWorker({ maintenance: { intervalMs: 500 } });
  await receiver.waitForRequests(3);
  await waitFor(() => new Set(receiver.requests.map((r) => JSON.parse(r.body).data.formId)).size === 3, "the three events to be delivered");
});
