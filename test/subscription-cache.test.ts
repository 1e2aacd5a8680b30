import { SubscriptionCache } from "@hookbus/core/store";
import { createContext, createLogger, type HookbusContext } from "@hookbus/core/runtime";
import { testConfig } from "./support/harness.js";

// Two contexts on one Redis stand for two processes. Neither follows the change
// announcements, so only the version can tell the cache it is stale.
let routing: HookbusContext;
let admin: HookbusContext;
let cache: SubscriptionCache;

beforeEach(() => {
  const config = testConfig();
  routing = createContext(config, createLogger("test", "silent"));
  admin = createContext(config, createLogger("test", "silent"));
  cache = new SubscriptionCache(routing.subscriptions);
});

afterEach(async () => {
  cache.close();
  await Promise.all([routing.close(), admin.close()]);
});

const hook = { url: "http://127.0.0.1:9/hook", eventTypes: ["record.created" as const] };

test("a cached event type is read again when another process changed a subscription since", async () => {
  expect(await cache.forEventType({ type: "record.created" })).toEqual([]);

  const created = await admin.subscriptions.create(hook);
  // Without a version the cache answers from memory: it has not heard of the change.
  expect(await cache.forEventType({ type: "record.created" })).toEqual([]);
  const afterCreate = await admin.subscriptions.version();
  expect((await cache.forEventType({ type: "record.created" }, afterCreate)).map((s) => s.id)).toEqual([created.id]);

  await admin.subscriptions.update(created.id, { enabled: false });
  const [disabled] = await cache.forEventType({ type: "record.created" }, await admin.subscriptions.version());
  expect(disabled?.enabled).toBe(false);

  await admin.subscriptions.delete(created.id);
  expect(await cache.forEventType({ type: "record.created" }, await admin.subscriptions.version())).toEqual([]);
});

test("an entry as new as the version asked for is answered from memory", async () => {
  await admin.subscriptions.create(hook);
  const version = await admin.subscriptions.version();
  const first = await cache.forEventType({ type: "record.created" }, version);
  // Deleted behind the cache's back (no version bump): a cached answer still shows it.
  await routing.redis.del(routing.keys.subscriptionsByType("record.created", "default"));
  expect(await cache.forEventType({ type: "record.created" }, version)).toEqual(first);
});

test("each project's subscriptions to a type are indexed and cached apart: routing an event reads its own project's alone", async () => {
  const study = "6f1c2a4e-0b7d-4a51-9d3e-2f8b6c1e9a10";
  const ofStudy = await admin.subscriptions.create(hook, study);
  const ofDefault = await admin.subscriptions.create(hook);
  const version = await admin.subscriptions.version();
  expect((await cache.forEventType({ type: "record.created", projectId: study }, version)).map((s) => s.id)).toEqual([ofStudy.id]);
  expect((await cache.forEventType({ type: "record.created" }, version)).map((s) => s.id)).toEqual([ofDefault.id]);

  await admin.subscriptions.update(ofStudy.id, { eventTypes: ["record.updated"] });
  const changed = await admin.subscriptions.version();
  expect(await cache.forEventType({ type: "record.created", projectId: study }, changed)).toEqual([]);
  expect((await cache.forEventType({ type: "record.updated", projectId: study }, changed)).map((s) => s.id)).toEqual([ofStudy.id]);
  await admin.subscriptions.delete(ofStudy.id);
  expect(await cache.forEventType({ type: "record.updated", projectId: study }, await admin.subscriptions.version())).toEqual([]);
});
