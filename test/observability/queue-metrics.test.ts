import { createLogger } from "@hookbus/core/runtime";
import { surveySubmitted as survey } from "../fixtures/events.js";
import { startWorker, type RunningWorker } from "@hookbus/worker";
import { TestHookbus, waitFor } from "../support/harness.js";
import { TestReceiver } from "../support/receiver.js";
import { sampleValue, scrape } from "./support.js";

const ANSWER_AFTER_MS = 2000;

let hookbus: TestHookbus;
let receiver: TestReceiver;
let worker: RunningWorker | undefined;

beforeEach(async () => {
  // One delivery at a time to a receiver that takes its time: a backlog builds behind it.
  hookbus = await TestHookbus.start({ worker: false, env: { HOOKBUS_ASYNC_CONCURRENCY: "1" } });
  receiver = await TestReceiver.start(() => ({ status: 200, delayMs: ANSWER_AFTER_MS }));
});

afterEach(async () => {
  await worker?.close();
  await hookbus.stop();
  await receiver.stop();
});

test("the queue gauges report the backlog behind a slow receiver, its age, and drain back to zero", async () => {
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  const publishedAt = Date.now();
  for (let i = 0; i < 3; i++) expect((await hookbus.publish(survey())).status).toBe(202);

  worker = await startWorker(hookbus.config, { logger: createLogger("test", "silent"), queueMetricsIntervalMs: 50 });
  const metricsUrl = `http://127.0.0.1:${worker.metricsPort}/metrics`;
  // First attempts are made by the route job: the backlog is of events waiting to be routed.
  const routeJobs = (text: string, state: string) => sampleValue(text, "hookbus_queue_jobs", { queue: "route", state });
  const oldestWaiting = (text: string) => sampleValue(text, "hookbus_queue_oldest_waiting_age_seconds", { queue: "route" });

  // The first delivery is with the receiver; the other two wait.
  const backlog = await waitFor(async () => {
    const text = await scrape(metricsUrl);
    return routeJobs(text, "active") === 1 && routeJobs(text, "waiting") === 2 ? text : undefined;
  }, "a backlog of 2 waiting route jobs behind 1 active");
  expect(routeJobs(backlog, "delayed")).toBe(0);
  expect(routeJobs(backlog, "failed")).toBe(0);
  expect(sampleValue(backlog, "hookbus_queue_jobs", { queue: "deliver", state: "waiting" })).toBe(0);
  expect(sampleValue(backlog, "hookbus_queue_jobs", { queue: "deliver-sync", state: "waiting" })).toBe(0);

  // The age grows with the wait and never exceeds the time since the events were published.
  const aged = await waitFor(async () => {
    const age = oldestWaiting(await scrape(metricsUrl));
    return age !== undefined && age >= 1 ? age : undefined;
  }, "the oldest waiting job to be a second old");
  expect(aged).toBeLessThanOrEqual((Date.now() - publishedAt) / 1000);
  expect(routeJobs(await scrape(metricsUrl), "waiting")).toBeGreaterThan(0);

  await receiver.waitForRequests(3, 15_000);
  await waitFor(async () => {
    const text = await scrape(metricsUrl);
    return routeJobs(text, "waiting") === 0 && routeJobs(text, "active") === 0 && oldestWaiting(text) === 0;
  }, "the route queue to drain");
});

test("the subscription gauge counts subscriptions by mode and environment, and forgets deleted ones", async () => {
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.created"] });
  const syncTest = await hookbus.createSubscription({
    url: receiver.url,
    eventTypes: ["record.updated"],
    mode: "sync",
    environment: "test",
  });

  worker = await startWorker(hookbus.config, { logger: createLogger("test", "silent"), queueMetricsIntervalMs: 50 });
  const metricsUrl = `http://127.0.0.1:${worker.metricsPort}/metrics`;
  const text = await waitFor(async () => {
    const scraped = await scrape(metricsUrl);
    return sampleValue(scraped, "hookbus_subscriptions", { mode: "async", environment: "live" }) === 2 ? scraped : undefined;
  }, "2 async live subscriptions counted");
  expect(sampleValue(text, "hookbus_subscriptions", { mode: "sync", environment: "test" })).toBe(1);
  expect(sampleValue(text, "hookbus_subscriptions", { mode: "sync", environment: "live" })).toBeUndefined();

  // A deleted subscription's combination disappears rather than keeping its last count.
  expect((await hookbus.api("DELETE", `/v1/subscriptions/${syncTest.id}`)).status).toBeLessThan(300);
  await waitFor(
    async () => sampleValue(await scrape(metricsUrl), "hookbus_subscriptions", { mode: "sync", environment: "test" }) === undefined,
    "the sync test subscription to be gone from the gauge",
  );
});
