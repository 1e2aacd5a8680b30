import { randomBytes } from "node:crypto";
import { verifyWebhook } from "@hookbus/client";
import { newEncryptionKey, SecretBox, type Subscription } from "@hookbus/core/policy";
import { Keys, SubscriptionStore } from "@hookbus/core/store";
import { createLogger } from "@hookbus/core/runtime";
import { startIngest } from "@hookbus/ingest";
import { startWorker } from "@hookbus/worker";
import { CapturedLogs } from "./support/captured-logs.js";
import { openRedis, testConfig, TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";
import { recordUpdated } from "./fixtures/events.js";

const receivers = new ReceiverPool();
afterAll(() => receivers.stopAll());

/** Subscriptions written, under the prefix, by a process holding a key (k0) that the test's Hookbus does not hold. */
async function writtenUnderAnotherKey(prefix: string, foreignKey: string, urls: string[]): Promise<Subscription[]> {
  const redis = openRedis(testConfig());
  try {
    const store = new SubscriptionStore(redis, new Keys(prefix), SecretBox.parse(`k0:${foreignKey}`));
    return await Promise.all(urls.map((url) => store.create({ url, eventTypes: ["record.updated"] })));
  } finally {
    await redis.quit();
  }
}

test("a subscription sealed under a key nobody holds harms only itself: the apps start, its type's other subscriptions deliver, it is shown unreadable, its delivery waits for the key, and it can be deleted", async () => {
  const HOOKBUS_QUEUE_PREFIX = `{test-${randomBytes(6).toString("hex")}}`;
  const foreignKey = newEncryptionKey();
  const [waiting, deleted] = await Promise.all([receivers.start(), receivers.start()]);
  const [unreadable, toDelete] = await writtenUnderAnotherKey(HOOKBUS_QUEUE_PREFIX, foreignKey, [waiting.url, deleted.url]);

  // The reconciler looks often, so a waiting delivery it mistook for a lost one would be sent at once.
  const env = { HOOKBUS_QUEUE_PREFIX, HOOKBUS_RECONCILE_AFTER: "300ms" };
  let hookbus = await TestHookbus.start({ env, worker: false });
  await hookbus.startWorker({ maintenance: { intervalMs: 100 } });
  let published: string;
  try {
    const readable = await receivers.start();
    const other = await hookbus.createSubscription({ url: readable.url, eventTypes: ["record.updated"] });
    const publish = await hookbus.publish(recordUpdated());
    expect(publish.status).toBe(202);
    published = publish.body.id;
    const [request] = await readable.waitForRequests(1);
    expect(() => verifyWebhook(other.secret, request!.body, request!.headers)).not.toThrow();

    // Its delivery was made and waits, with nothing attempted.
    const deliveries = await hookbus.deliveriesOf(published, 3);
    expect(deliveries.find((d) => d.subscriptionId === unreadable!.id)).toMatchObject({ status: "pending", attemptCount: 0 });

    const shown = (await hookbus.api("GET", `/v1/subscriptions/${unreadable!.id}`)).body;
    expect(shown.health.unreadable).toMatch(/key "k0"/);
    const listed = (await hookbus.client.subscriptions.list()).items.find((s) => s.id === unreadable!.id);
    expect(listed?.health.unreadable).toMatch(/key "k0"/);
    expect(await hookbus.client.secrets.keys()).toMatchObject({
      keys: expect.arrayContaining([{ id: "k0", subscriptions: 2, held: false }]),
    });

    // Nothing goes out unsigned, not even a sample.
    const sample = await hookbus.api("POST", `/v1/subscriptions/${unreadable!.id}/test`, {});
    expect([sample.status, sample.body.error]).toEqual([422, expect.stringMatching(/cannot be read/)]);

    // Changing it would write it back without its secrets: refused, with the way out.
    const patch = await hookbus.api("PATCH", `/v1/subscriptions/${unreadable!.id}`, { description: "x" });
    expect(patch.status).toBe(422);
    expect(patch.body.error).toMatch(/cannot be read.*delete/);

    expect((await hookbus.api("DELETE", `/v1/subscriptions/${toDelete!.id}`)).status).toBe(204);
    expect((await hookbus.api("GET", `/v1/subscriptions/${toDelete!.id}`)).status).toBe(404);
  } finally {
    await hookbus.stop();
  }

  // The key is given back: the delivery that waited goes out, once, signed with its own secret.
  hookbus = await TestHookbus.start({
    env: { ...env, HOOKBUS_ENCRYPTION_KEY: `${hookbus.config.env.HOOKBUS_ENCRYPTION_KEY},k0:${foreignKey}` },
    worker: false,
  });
  try {
    await hookbus.startWorker({ maintenance: { intervalMs: 100 } });
    const [request] = await waiting.waitForRequests(1);
    expect(() => verifyWebhook(unreadable!.secrets[0]!.secret, request!.body, request!.headers)).not.toThrow();
    const delivery = (await hookbus.deliveriesOf(published, 2)).find((d) => d.subscriptionId === unreadable!.id)!;
    expect((await hookbus.deliveryWithStatus(delivery.id, "delivered")).attempts).toHaveLength(1);
    expect(deleted.requests).toHaveLength(0);
  } finally {
    await hookbus.stop();
  }
});

test("each app names at start a key in use that it does not hold, and logs an unreadable subscription once however often it is read", async () => {
  const config = testConfig();
  const [unreadable] = await writtenUnderAnotherKey(config.queuePrefix, newEncryptionKey(), ["http://127.0.0.1:9/unused"]);
  const [ingestLogs, workerLogs] = [new CapturedLogs(), new CapturedLogs()];
  const ingest = await startIngest(config, { logger: createLogger("hookbus-ingest", "info", ingestLogs.destination) });
  const worker = await startWorker(config, { logger: createLogger("hookbus-worker", "info", workerLogs.destination) });
  const api = (method: string, path: string, key: string, body?: unknown) =>
    fetch(`${ingest.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((response) => response.json());
  try {
    // Each event is routed from a fresh read of its type's subscriptions.
    for (let n = 0; n < 3; n++) {
      const { id } = await api("POST", "/v1/events", config.publisherKey, recordUpdated());
      await waitFor(async () => (await api("GET", `/v1/events/${id}`, config.adminKey)).deliveries?.length === 1, `event ${id} routed`);
      // A new subscription changes the version, so the next event's routing reads them all again.
      await api("POST", "/v1/subscriptions", config.adminKey, { url: "http://127.0.0.1:9/other", eventTypes: ["survey.submitted"] });
    }
    for (const logs of [ingestLogs, workerLogs]) {
      expect(
        logs.withMessage("HOOKBUS_ENCRYPTION_KEY lacks a key that seals subscriptions: their deliveries wait until it is given back"),
      ).toEqual([expect.objectContaining({ keyId: "k0", subscriptions: 1 })]);
      expect(logs.withMessage("subscription unreadable: its deliveries wait until the key is back or it is deleted")).toEqual([
        expect.objectContaining({ subscriptionId: unreadable!.id, reason: expect.stringMatching(/key "k0"/) }),
      ]);
    }
  } finally {
    await worker.close();
    await ingest.close();
  }
});
