import { createRedis, SubscriptionCache, SyncOutcomeListener } from "@hookbus/core/store";
import { createContext, createLogger, type HookbusContext } from "@hookbus/core/runtime";
import { startWorker, type RunningWorker } from "@hookbus/worker";
import { DEFAULT_PROJECT_ID } from "@hookbus/schemas";
import { Publisher } from "../apps/ingest/src/publish/publisher.js";
import { recordUpdated } from "./fixtures/events.js";
import { testConfig } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

// A sync publish makes its deliveries from the subscriptions its ingest's cache holds, in the
// round trip that stores the event. The cache hears of a change within a round trip; here it
// follows no announcements, so it is stale for certain, as it can be for a moment in an ingest.
const silent = createLogger("test", "silent");
const receivers = new ReceiverPool();
const stops: (() => Promise<unknown> | void)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await receivers.stopAll();
});

async function publisherWithStaleCache(): Promise<{
  publisher: Publisher;
  cache: SubscriptionCache;
  admin: HookbusContext;
  context: HookbusContext;
}> {
  const config = testConfig();
  const context = createContext(config, silent);
  const admin = createContext(config, silent);
  const subscriber = createRedis(config);
  const outcomes = new SyncOutcomeListener(subscriber, context.keys, context.deliveries);
  await outcomes.start();
  const cache = new SubscriptionCache(context.subscriptions);
  const worker: RunningWorker = await startWorker(config, { logger: silent });
  stops.push(
    () => context.close(),
    () => admin.close(),
    () => subscriber.disconnect(),
    () => cache.close(),
    () => worker.close(),
  );
  return { publisher: new Publisher(context, outcomes, cache), cache, admin, context };
}

test("a sync publish from a stale cache still reaches the subscriptions made since, and makes no delivery twice", async () => {
  const { publisher, cache, admin, context } = await publisherWithStaleCache();
  const syncEndpoint = await receivers.start();
  const laterEndpoint = await receivers.start();
  const sync = await admin.subscriptions.create({ url: syncEndpoint.url, eventTypes: ["record.updated"], mode: "sync" });
  await cache.warm();
  const later = await admin.subscriptions.create({ url: laterEndpoint.url, eventTypes: ["record.updated"] });
  expect((await cache.forEventType({ type: "record.updated" })).map((s) => s.id)).toEqual([sync.id]);

  const { event, sync: results } = await publisher.publish(recordUpdated(), "publisher", { projectId: DEFAULT_PROJECT_ID });

  expect(results).toEqual([expect.objectContaining({ subscriptionId: sync.id, outcome: "delivered", statusCode: 200 })]);
  const deliveries = await context.deliveries.forEvent(event.id);
  expect(deliveries.map((d) => d.subscriptionId).sort()).toEqual([sync.id, later.id].sort());
  await laterEndpoint.waitForRequests(1);
  expect(syncEndpoint.requests).toHaveLength(1);
});
