import { randomBytes } from "node:crypto";
import { verifyWebhook } from "@hookbus/client";
import { newEncryptionKey, SecretBox } from "@hookbus/core/policy";
import { Keys, SubscriptionStore } from "@hookbus/core/store";
import type { ErasureView, SubscriptionWithSecret } from "@hookbus/schemas";
import { openRedis, TestHookbus } from "./support/harness.js";
import { ReceiverPool, type TestReceiver } from "./support/receiver.js";
import { recordUpdated } from "./fixtures/events.js";

// A rolling key rotation, each phase a restart of the ingest and the worker on the same Redis
// and prefix with the new setting, as a deploy would do it.

const receivers = new ReceiverPool();
afterAll(() => receivers.stopAll());

/** The Hookbus of the phase a test is in: stopped after it, should an assertion end it early. */
let running: TestHookbus | undefined;
async function stopRunning(): Promise<void> {
  await running?.stop();
  running = undefined;
}
afterEach(stopRunning);

const prefix = () => `{test-${randomBytes(6).toString("hex")}}`;
const [K1, K2] = [newEncryptionKey(), newEncryptionKey()];
const PHASE_0 = { HOOKBUS_ENCRYPTION_KEY: `k1:${K1}` };
const PHASE_1 = { HOOKBUS_ENCRYPTION_KEY: `k1:${K1},k2:${K2}` };
const PHASE_2 = { HOOKBUS_ENCRYPTION_KEY: `k1:${K1},k2:${K2}`, HOOKBUS_SEALING_KEY: "k2" };
const AFTER_RESEAL = { HOOKBUS_ENCRYPTION_KEY: `k2:${K2}` };

interface Subscribed {
  subscription: SubscriptionWithSecret;
  receiver: TestReceiver;
}

/** Publishes one event and checks that each subscription's receiver gets it, signed with its own secret. */
async function publishReachesAll(hookbus: TestHookbus, subscribed: Subscribed[]): Promise<void> {
  const counts = subscribed.map(({ receiver }) => receiver.requests.length);
  expect((await hookbus.publish(recordUpdated())).status).toBe(202);
  await Promise.all(
    subscribed.map(async ({ subscription, receiver }, i) => {
      const requests = await receiver.waitForRequests(counts[i]! + 1);
      const request = requests[counts[i]!]!;
      expect(() => verifyWebhook(subscription.secret, request.body, request.headers)).not.toThrow();
    }),
  );
}

/** A store reading with a process's setting, to show what a process still on it would read. */
async function readsWith(env: { HOOKBUS_ENCRYPTION_KEY: string }, hookbus: TestHookbus, ids: string[]): Promise<(string | undefined)[]> {
  const redis = openRedis(hookbus.config);
  try {
    const store = new SubscriptionStore(redis, new Keys(hookbus.config.queuePrefix), SecretBox.parse(env.HOOKBUS_ENCRYPTION_KEY));
    return (await store.getMany(ids)).map((s) => s.unreadable);
  } finally {
    await redis.quit();
  }
}

/** Erases a TrialKit record's events and waits for the receipt to say done. */
async function erased(hookbus: TestHookbus, transId: string): Promise<ErasureView> {
  const made = await hookbus.client.erasures.create({ transId });
  return made.status === "done" ? made : hookbus.erasureDone(made.id);
}

async function subscribe(hookbus: TestHookbus): Promise<Subscribed> {
  const receiver = await receivers.start();
  return { receiver, subscription: await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"] }) };
}

test("two-phase rotation from k1 to k2, then reseal and k2 alone: every subscription keeps delivering, and a process one phase behind reads everything", async () => {
  const HOOKBUS_QUEUE_PREFIX = prefix();
  const start = async (env: Record<string, string>) => (running = await TestHookbus.start({ env: { HOOKBUS_QUEUE_PREFIX, ...env } }));

  let hookbus = await start(PHASE_0);
  const subscribed = [await subscribe(hookbus)];
  await publishReachesAll(hookbus, subscribed);
  // A first erasure scans every event once; the ones after it read the participant index alone.
  expect((await erased(hookbus, "no-such-record")).events).toBe(0);
  await stopRunning();

  // Phase 1: every process learns k2; k1 still seals, so a process not yet restarted reads what is written.
  hookbus = await start(PHASE_1);
  subscribed.push(await subscribe(hookbus));
  await publishReachesAll(hookbus, subscribed);
  expect(await readsWith(PHASE_0, hookbus, [subscribed[1]!.subscription.id])).toEqual([undefined]);
  await stopRunning();

  // Phase 2: k2 seals; a process still on phase 1 reads what k2 sealed.
  hookbus = await start(PHASE_2);
  subscribed.push(await subscribe(hookbus));
  await publishReachesAll(hookbus, subscribed);
  expect(await readsWith(PHASE_1, hookbus, [subscribed[2]!.subscription.id])).toEqual([undefined]);
  expect(await hookbus.client.secrets.keys()).toEqual({
    sealingKeyId: "k2",
    keys: expect.arrayContaining([
      { id: "k1", subscriptions: 2, held: true },
      { id: "k2", subscriptions: 1, held: true },
    ]),
    unsealed: 0,
  });

  const progress: number[] = [];
  const resealed = await hookbus.client.secrets.reseal({ pageSize: 2, onProgress: (soFar) => progress.push(soFar.checked) });
  expect(progress).toEqual([2, 3]);
  // The record's events of phases 0 and 1 were indexed under k1: that index set is renamed under k2.
  expect(resealed).toMatchObject({ checked: 3, resealed: 2, unreadable: [], reindexed: 1 });
  expect(resealed.keys).toEqual({ sealingKeyId: "k2", keys: [{ id: "k2", subscriptions: 3, held: true }], unsealed: 0 });
  await stopRunning();

  // k1 dropped: everything was sealed again under k2.
  hookbus = await start(AFTER_RESEAL);
  try {
    await publishReachesAll(hookbus, subscribed);
    const { items } = await hookbus.client.subscriptions.list();
    expect(items.map((s) => s.health.unreadable)).toEqual([undefined, undefined, undefined]);
    // An erasure finds the record's events of every phase, those indexed while k1 sealed among them.
    expect((await erased(hookbus, "435")).events).toBe(4);
  } finally {
    await stopRunning();
  }
});

test("a reseal racing an update loses neither: the update stays and the secrets end sealed with the sealing key", async () => {
  const hookbus = await TestHookbus.start({ env: PHASE_1, worker: false });
  const redis = openRedis(hookbus.config);
  try {
    const created = await hookbus.createSubscription({ url: "http://127.0.0.1:9/unused", eventTypes: ["record.updated"] });
    // One connection sends both changes' reads before either write: the update (from a process
    // still sealing with k1) writes first, so the reseal must read again and keep the update.
    const keys = new Keys(hookbus.config.queuePrefix);
    const updater = new SubscriptionStore(redis, keys, SecretBox.parse(PHASE_1.HOOKBUS_ENCRYPTION_KEY));
    const store = new SubscriptionStore(redis, keys, SecretBox.parse(PHASE_2.HOOKBUS_ENCRYPTION_KEY, "k2"));
    const [patched, resealed] = await Promise.all([updater.update(created.id, { description: "patched" }), store.reseal(created.id)]);
    expect(patched.after.description).toBe("patched");
    expect(resealed).toBe("resealed");
    const after = await store.get(created.id);
    expect(after).toMatchObject({ description: "patched", secrets: [{ secret: created.secret }] });
    expect(store.codec.sealedWith((await redis.get(keys.subscription(created.id)))!)).toBe("k2");
  } finally {
    await redis.quit();
    await hookbus.stop();
  }
});
