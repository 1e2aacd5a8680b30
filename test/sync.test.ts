import vm from "node:vm";
import v8 from "node:v8";
import { Redis } from "ioredis";
import { createLogger } from "@hookbus/core/runtime";
import { startEmbeddedRedis } from "@hookbus/dev-redis";
import { startIngest } from "@hookbus/ingest";
import { recordUpdated } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

/** Tolerance of the contract: a sync publish never outlives its longest timeout by more. */
const OVERRUN_MS = 250;

let hookbus: TestHookbus;
const receivers = new ReceiverPool();
const receiver = receivers.start;

/** What a test started beyond Hookbus and its receivers, stopped after them. */
const alsoStop: (() => Promise<void>)[] = [];

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
  for (const stop of alsoStop.splice(0)) await stop();
});

async function timedPublish(body: Record<string, unknown>) {
  const started = performance.now();
  const response = await hookbus.publish(body);
  return { response, elapsedMs: performance.now() - started };
}

test("a sync publish answers 200 with the receiver's status and body", async () => {
  hookbus = await TestHookbus.start();
  const endpoint = await receiver(() => ({ status: 201, body: '{"accepted":"yes"}' }));
  const subscription = await hookbus.createSubscription({
    url: endpoint.url,
    eventTypes: ["record.updated"],
    mode: "sync",
    format: "native",
    auth: { type: "basic", username: "monitor@site.example", password: "pw" },
  });
  const { response } = await timedPublish(recordUpdated());
  expect(response.status).toBe(200);
  expect(response.body).toEqual({
    id: expect.stringMatching(/^evt_/),
    type: "record.updated",
    sync: [
      {
        subscriptionId: subscription.id,
        deliveryId: expect.stringMatching(/^dlv_/),
        outcome: "delivered",
        statusCode: 201,
        body: '{"accepted":"yes"}',
        durationMs: expect.any(Number),
      },
    ],
  });
  const [request] = endpoint.requests;
  expect(request!.body).toBe('{"trans_id":"435","form_id":"319","form_name":"Sample Form","OnUpdate":true}');
  expect(request!.headers.authorization).toBe(`Basic ${Buffer.from("monitor@site.example:pw").toString("base64")}`);
  const delivery = await hookbus.deliveryWithStatus(response.body.sync[0].deliveryId, "delivered");
  expect(delivery.attempts).toHaveLength(1);
});

test("async subscriptions of the same event are fanned out without being waited for", async () => {
  hookbus = await TestHookbus.start();
  const slow = await receiver(() => ({ status: 200, delayMs: 1500 }));
  const fast = await receiver();
  await hookbus.createSubscription({ url: slow.url, eventTypes: ["record.updated"] });
  const sync = await hookbus.createSubscription({ url: fast.url, eventTypes: ["record.updated"], mode: "sync", timeoutMs: 1000 });
  const { response, elapsedMs } = await timedPublish(recordUpdated());
  expect(response.body.sync).toEqual([expect.objectContaining({ subscriptionId: sync.id, outcome: "delivered" })]);
  expect(elapsedMs).toBeLessThan(1000);
  await slow.waitForRequests(1);
});

test("a receiver answering 500 gives outcome failed, and the delivery succeeds later on retry", async () => {
  hookbus = await TestHookbus.start();
  const endpoint = await receiver((_request, index) => (index === 0 ? { status: 500, body: "down for maintenance" } : { status: 200 }));
  await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["record.updated"], mode: "sync", retrySchedule: ["100ms"] });
  const { response } = await timedPublish(recordUpdated());
  expect(response.status).toBe(200);
  expect(response.body.sync[0]).toMatchObject({ outcome: "failed", statusCode: 500, body: "down for maintenance" });
  const delivery = await hookbus.deliveryWithStatus(response.body.sync[0].deliveryId, "delivered");
  expect(delivery.attempts.map((a: any) => a.statusCode)).toEqual([500, 200]);
});

test("a sync publish to an endpoint whose circuit is open is told at once, and why: nothing was sent", async () => {
  hookbus = await TestHookbus.start({ env: { HOOKBUS_CIRCUIT_FAILURES: "1" } });
  const endpoint = await receiver(() => ({ status: 500 }));
  await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["record.updated"], mode: "sync", retrySchedule: ["1h"] });
  const opening = await timedPublish(recordUpdated());
  expect(opening.response.body.sync[0]).toMatchObject({ outcome: "failed", statusCode: 500 });
  expect(opening.response.body.sync[0]).not.toHaveProperty("message");

  const { response } = await timedPublish(recordUpdated("320"));
  expect(response.body.sync[0]).toMatchObject({ outcome: "failed", durationMs: 0, message: "the endpoint's circuit is open" });
  expect(response.body.sync[0]).not.toHaveProperty("statusCode");
  expect(endpoint.requests).toHaveLength(1);
});

test("a receiver that hangs gives outcome timeout within its timeout + 250 ms", async () => {
  hookbus = await TestHookbus.start();
  const endpoint = await receiver(() => "hang");
  await hookbus.createSubscription({
    url: endpoint.url,
    eventTypes: ["record.updated"],
    mode: "sync",
    timeoutMs: 500,
    retrySchedule: ["1h"],
  });
  const { response, elapsedMs } = await timedPublish(recordUpdated());
  expect(response.body.sync[0]).toMatchObject({ outcome: "timeout" });
  expect(response.body.sync[0].statusCode).toBeUndefined();
  expect(elapsedMs).toBeGreaterThanOrEqual(490);
  expect(elapsedMs).toBeLessThan(500 + OVERRUN_MS);
  const delivery = await hookbus.deliveryWithStatus(response.body.sync[0].deliveryId, "retrying");
  expect(delivery.attempts[0]!.error).toBe("timeout");
});

test("with Redis not answering, a sync publish still answers by its timeout + 250 ms, and an async one with 503", async () => {
  // A Redis of its own: pausing the shared one would stall every other test file.
  const redis = await startEmbeddedRedis();
  alsoStop.push(() => redis.stop());
  hookbus = await TestHookbus.start({ env: { REDIS_URL: redis.url } });
  const endpoint = await receiver();
  await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["record.updated"], mode: "sync", timeoutMs: 500 });
  expect((await timedPublish(recordUpdated())).response.body.sync[0].outcome).toBe("delivered");

  // CLIENT PAUSE holds every connection's commands: Redis is up, but answers nothing.
  const admin = new Redis(redis.url);
  await admin.call("client", "pause", "6500", "ALL"); // outlasts both publishes below
  admin.disconnect();
  const sync = await timedPublish(recordUpdated());
  expect(sync.elapsedMs).toBeLessThan(500 + OVERRUN_MS);
  expect(sync.response.status).toBe(503);
  expect(sync.response.body.error).toMatch(/Redis did not answer in time.*same id/);

  const async = await timedPublish({ ...recordUpdated(), type: "record.created" });
  expect(async.response.status).toBe(503);
  expect(async.elapsedMs).toBeLessThan(5000 + OVERRUN_MS);
});

test("a sync subscription made through one ingest is waited for by another within moments", async () => {
  hookbus = await TestHookbus.start();
  const second = await startIngest(hookbus.config, { logger: createLogger("test", "silent") });
  alsoStop.push(() => second.close());
  const endpoint = await receiver();
  const publishThroughSecond = () =>
    fetch(`${second.url}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${hookbus.config.publisherKey}`, "content-type": "application/json" },
      body: JSON.stringify(recordUpdated()),
    });
  expect((await publishThroughSecond()).status).toBe(202);

  await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["record.updated"], mode: "sync" });
  const answered = await waitFor(
    async () => {
      const response = await publishThroughSecond();
      return response.status === 200 ? ((await response.json()) as { sync: { outcome: string }[] }) : undefined;
    },
    "the second ingest to see the new subscription",
    2000,
    10,
  );
  expect(answered.sync[0]!.outcome).toBe("delivered");
});

test("with no worker running the publisher gets timeout in time, and the delivery is made once a worker starts", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  const endpoint = await receiver();
  await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["record.updated"], mode: "sync", timeoutMs: 400 });
  const { response, elapsedMs } = await timedPublish(recordUpdated());
  expect(response.status).toBe(200);
  expect(response.body.sync[0]).toMatchObject({ outcome: "timeout", deliveryId: expect.stringMatching(/^dlv_/) });
  expect(elapsedMs).toBeLessThan(400 + OVERRUN_MS);
  expect(endpoint.requests).toHaveLength(0);

  await hookbus.startWorker();
  await endpoint.waitForRequests(1);
  await hookbus.deliveryWithStatus(response.body.sync[0].deliveryId, "delivered");
});

test("sync publishes never wait behind 10,000 queued async deliveries", async () => {
  hookbus = await TestHookbus.start({ worker: false, env: { HOOKBUS_ASYNC_CONCURRENCY: "5" } });
  const stuck = await receiver(() => "hang");
  const fast = await receiver();
  const asyncSubscriptions = 100;
  for (let i = 0; i < asyncSubscriptions; i++) {
    await hookbus.createSubscription({ url: stuck.url, eventTypes: ["record.updated"], timeoutMs: 1000, retrySchedule: [] });
  }
  for (let i = 0; i < 100; i++) expect((await hookbus.publish(recordUpdated(String(i)))).status).toBe(202);
  // The stuck receiver holds each route job (100 first attempts) for a second or more, 5 at a
  // time: the events wait to be routed, 100 deliveries each.
  const backlog = async () => {
    const counts = await hookbus.queueCounts("route");
    return { deliveries: (counts.waiting + counts.active) * asyncSubscriptions, routing: counts.active };
  };
  expect((await backlog()).deliveries).toBe(10_000);
  await hookbus.startWorker();
  // Five at a time on one Redis; on a cluster, a route job at a time in each partition's queue.
  await waitFor(async () => (await backlog()).routing >= 5, "the worker to be busy with the backlog");

  await hookbus.createSubscription({ url: fast.url, eventTypes: ["record.created"], mode: "sync", timeoutMs: 1000 });
  const { response, elapsedMs } = await timedPublish({ ...recordUpdated(), type: "record.created" });
  expect(response.body.sync[0].outcome).toBe("delivered");
  expect(elapsedMs).toBeLessThan(1000);
  expect((await backlog()).deliveries).toBeGreaterThanOrEqual(9_000);
});

test("1,000 concurrent sync publishes are all answered, and listeners and heap return to their level", async () => {
  hookbus = await TestHookbus.start();
  const endpoint = await receiver();
  // An endpoint that takes a thousand requests at once, so that its cap is not what this measures.
  await hookbus.createSubscription({
    url: endpoint.url,
    eventTypes: ["record.updated"],
    mode: "sync",
    timeoutMs: 10_000,
    maxInFlight: 1000,
  });
  const gc = exposeGc();
  const burst = async (count: number) => Promise.all(Array.from({ length: count }, (_, i) => hookbus.publish(recordUpdated(String(i)))));

  // The heap is compared at rest: the events' route jobs, which run beside the sync attempts
  // and may end after the answers, are done before each measure.
  const routingDone = () =>
    waitFor(async () => {
      const { waiting, active } = await hookbus.queueCounts("route");
      return waiting + active === 0;
    }, "the route jobs to finish");
  await burst(200); // warm-up: code paths compiled, pools filled
  await routingDone();
  gc();
  const before = { heap: process.memoryUsage().heapUsed, ...hookbus.ingest.syncWaitStats() };

  const responses = await burst(1000);
  expect(responses.filter((r) => r.status === 200)).toHaveLength(1000);
  // Every one delivered; any other shows what it got instead.
  expect(responses.map((r) => r.body.sync?.[0]).filter((sync) => sync?.outcome !== "delivered")).toEqual([]);

  await routingDone();
  gc();
  const after = { heap: process.memoryUsage().heapUsed, ...hookbus.ingest.syncWaitStats() };
  expect(after.waiting).toBe(0);
  expect(after.listeners).toBe(before.listeners);
  expect(after.heap - before.heap).toBeLessThan(16 * 1024 * 1024);
  const subscribedChannels = (
    (await hookbus.onEveryMaster("pubsub", "channels", `${hookbus.config.queuePrefix}:sync:*`)) as string[][]
  ).flat();
  // The ingest's own channel, subscribed once: none is left over from a request.
  expect(subscribedChannels).toHaveLength(1);
});

function exposeGc(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}
