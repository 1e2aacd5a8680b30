import { surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

test("a worker takes only the route jobs it can start: the rest wait in Redis, where a second worker takes them", async () => {
  // Four attempt slots route eight events at once: one batch of ten at a time.
  hookbus = await TestHookbus.start({ env: { HOOKBUS_ASYNC_CONCURRENCY: "4" } });
  const receiver = await receivers.start(() => ({ status: 200, delayMs: 6000 }));
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], maxInFlight: 100 });
  const batches = [];
  for (let i = 0; i < 5; i++) {
    const published = await hookbus.api(
      "POST",
      "/v1/events/batch",
      { events: Array.from({ length: 10 }, () => surveySubmitted(`batch ${i}`)) },
      hookbus.config.publisherKey,
    );
    batches.push(published.body.items.map((item: { id: string }) => item.id) as string[]);
  }
  await receiver.waitForRequests(4);
  expect(await hookbus.queueCounts("route")).toMatchObject({ active: 1, waiting: 4 });

  // A second worker takes a batch the first could not start, while the first still waits on its receiver.
  await hookbus.startWorker();
  await waitFor(() => receiver.requests.length >= 8, "the second worker's first attempts", 5000);
  const surveys = new Set(receiver.requests.map((r) => JSON.parse(r.body).data.surveyName));
  expect(surveys.size).toBe(2);
});
