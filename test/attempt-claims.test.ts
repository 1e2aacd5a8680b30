import { surveySubmitted } from "./fixtures/events.js";
import { openQueue, TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool, type TestReceiver } from "./support/receiver.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

/** How many requests each webhook-id got. */
function requestsPerWebhookId(receiver: TestReceiver): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of receiver.requests) {
    const id = request.headers["webhook-id"] as string;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Waits until every delivery of these events is delivered. */
async function allDelivered(eventIds: string[]): Promise<void> {
  await waitFor(
    async () => {
      const events = await Promise.all(eventIds.map((id) => hookbus.client.events.get(id)));
      return events.every((e) => e.deliveries.length > 0 && e.deliveries.every((d) => d.status === "delivered"));
    },
    "every delivery delivered",
    30_000,
    100,
  );
}

const publishedId = (n: number) => `claim-${n}-${Date.now()}`;

test("a publisher retrying a batch and single publishes with the same ids while the first attempts are in flight: each webhook-id is sent once", async () => {
  hookbus = await TestHookbus.start();
  const receiver = await receivers.start(() => ({ status: 200, delayMs: 800 }));
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], maxInFlight: 100 });

  const batch = Array.from({ length: 15 }, (_, i) => ({ ...surveySubmitted(), id: publishedId(i) }));
  const singles = Array.from({ length: 15 }, (_, i) => ({ ...surveySubmitted(), id: publishedId(100 + i) }));
  const publishBatch = () => hookbus.api("POST", "/v1/events/batch", { events: batch }, hookbus.config.publisherKey);
  const publishSingles = () => Promise.all(singles.map((body) => hookbus.publish(body)));

  const [first] = await Promise.all([publishBatch(), publishSingles()]);
  expect(first.status).toBe(202);
  // The retries come while the first attempts wait on the receiver.
  await receiver.waitForRequests(1);
  await Promise.all([publishBatch(), publishBatch(), publishSingles()]);

  const eventIds = [...first.body.items.map((item: { id: string }) => item.id), ...(await publishSingles()).map((r) => r.body.id)];
  await allDelivered(eventIds);
  const counts = requestsPerWebhookId(receiver);
  expect(counts.size).toBe(30);
  expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
});

test("a delivery waiting for one of its route job's attempt slots is left to the route job by the reconciler: each webhook-id is sent once", async () => {
  // Two attempt slots for a fan-out of eight behind receivers answering in 1.5 s: most of the
  // route job's deliveries wait in it for seconds, well past the reconcile grace.
  hookbus = await TestHookbus.start({ env: { HOOKBUS_ASYNC_CONCURRENCY: "2", HOOKBUS_RECONCILE_AFTER: "300ms" }, worker: false });
  await hookbus.startWorker({ maintenance: { intervalMs: 100 } });
  const receiver = await receivers.start(() => ({ status: 200, delayMs: 1500 }));
  for (let i = 0; i < 8; i++) await hookbus.createSubscription({ url: `${receiver.url}/${i}`, eventTypes: ["survey.submitted"] });

  const published = await hookbus.publish(surveySubmitted());
  await allDelivered([published.body.id]);
  const counts = requestsPerWebhookId(receiver);
  expect(counts.size).toBe(8);
  expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
});

test("a route job run again while its first run's attempts are still sending sends nothing twice", async () => {
  hookbus = await TestHookbus.start();
  const receiver = await receivers.start(() => ({ status: 200, delayMs: 1000 }));
  for (let i = 0; i < 3; i++) await hookbus.createSubscription({ url: `${receiver.url}/${i}`, eventTypes: ["survey.submitted"] });

  const published = await hookbus.publish(surveySubmitted());
  await receiver.waitForRequests(3);
  // The same job again, as BullMQ runs a route job that failed once: same events, another run.
  const route = openQueue(hookbus.config, "route", published.body.id);
  try {
    await route.add("route", { eventIds: [published.body.id] }, { jobId: `${published.body.id}-again` });
  } finally {
    await route.close();
  }
  await allDelivered([published.body.id]);
  await waitFor(
    async () => (await hookbus.queueCounts("route")).active === 0 && (await hookbus.queueCounts("route")).waiting === 0,
    "the second run to end",
  );
  const counts = requestsPerWebhookId(receiver);
  expect(counts.size).toBe(3);
  expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
});
