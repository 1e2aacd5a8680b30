import { NotFoundError } from "@hookbus/core/policy";
import { Keys, SubscriptionStore } from "@hookbus/core/store";
import { openRedis, TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";
import { recordUpdated } from "./fixtures/events.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

beforeAll(async () => {
  hookbus = await TestHookbus.start();
});
afterAll(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

const PASSWORD = "pw-7f3a9c1e-plaintext";
const HEADER_VALUE = "token-5b2d8e44-plaintext";

test("Redis holds no signing secret, password or header value in plaintext; the receiver still gets them", async () => {
  const target = await receivers.start();
  const created = await hookbus.createSubscription({
    url: target.url,
    eventTypes: ["record.updated"],
    auth: { type: "basic", username: "monitor@site.example", password: PASSWORD },
    headers: { "X-Api-Token": HEADER_VALUE },
  });
  const rotated = (await hookbus.api("POST", `/v1/subscriptions/${created.id}/rotate-secret`)).body;
  await hookbus.publish(recordUpdated());
  const [request] = await target.waitForRequests(1);
  expect(request!.headers.authorization).toBe(`Basic ${Buffer.from(`monitor@site.example:${PASSWORD}`).toString("base64")}`);
  expect(request!.headers["x-api-token"]).toBe(HEADER_VALUE);
  await waitFor(
    async () => (await hookbus.api("GET", `/v1/deliveries?subscriptionId=${created.id}`)).body.items[0]?.status === "delivered",
    "the delivery",
  );

  const dump = await hookbus.dumpRedis();
  expect(dump).toContain(created.id);
  for (const plaintext of [PASSWORD, HEADER_VALUE, created.secret, rotated.secret, created.secret.slice(6), rotated.secret.slice(6)]) {
    expect([plaintext, dump.includes(plaintext)]).toEqual([plaintext, false]);
  }
});

test("header values are masked in every response: create, get, list, patch, rotate", async () => {
  const target = await receivers.start();
  const created = await hookbus.createSubscription({
    url: target.url,
    eventTypes: ["record.updated"],
    headers: { "X-Api-Token": HEADER_VALUE },
  });
  const responses = [
    created,
    (await hookbus.api("GET", `/v1/subscriptions/${created.id}`)).body,
    (await hookbus.api("GET", "/v1/subscriptions")).body,
    (await hookbus.api("PATCH", `/v1/subscriptions/${created.id}`, { description: "masked" })).body,
    (await hookbus.api("POST", `/v1/subscriptions/${created.id}/rotate-secret`)).body,
  ];
  for (const body of responses) {
    expect(JSON.stringify(body)).not.toContain(HEADER_VALUE);
    expect(JSON.stringify(body)).toContain(`"X-Api-Token":"********"`);
  }
});

test("racing changes: a PATCH never undoes a rotation, and a PATCH never brings back a deleted subscription", async () => {
  // One connection sends both changes' reads before either write: the interleaving that lost
  // a rotated secret and resurrected deleted subscriptions.
  const redis = openRedis(hookbus.config);
  const store = new SubscriptionStore(redis, new Keys(hookbus.config.queuePrefix), hookbus.config.encryption);
  try {
    const created = await hookbus.createSubscription({ url: "http://127.0.0.1:9/unused", eventTypes: ["record.updated"] });
    const [, rotated] = await Promise.all([store.update(created.id, { description: "patched" }), store.rotateSecret(created.id, 60_000)]);
    const afterRotation = await store.get(created.id);
    expect(afterRotation.description).toBe("patched");
    expect(afterRotation.secrets.map((s) => s.secret)).toEqual([rotated.secrets[0]!.secret, created.secret]);

    // The delete's write lands between the PATCH's read and its write.
    const [, patched] = await Promise.allSettled([
      store.delete(created.id),
      store.update(created.id, { eventTypes: ["survey.submitted"] }),
    ]);
    expect(patched).toMatchObject({ status: "rejected", reason: expect.any(NotFoundError) });
    expect((await hookbus.api("GET", `/v1/subscriptions/${created.id}`)).status).toBe(404);
    for (const type of ["record.updated", "survey.submitted"]) {
      expect(await redis.sismember(`${hookbus.config.queuePrefix}:subs:type:${type}`, created.id)).toBe(0);
    }
  } finally {
    await redis.quit();
  }
});
