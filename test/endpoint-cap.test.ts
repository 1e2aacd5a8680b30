import { surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

test("two workers keep an endpoint at its cap and no further, each delivery sent once, and every slot is free once they are done", async () => {
  hookbus = await TestHookbus.start();
  await hookbus.startWorker();
  const receiver = await receivers.start(() => ({ status: 200, delayMs: 15 }));
  const { id } = await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], maxInFlight: 2 });

  // Batches published at once: both workers route some, and each passes its slots on to its own next attempts.
  const batches = Array.from({ length: 6 }, (_, b) =>
    hookbus.api(
      "POST",
      "/v1/events/batch",
      { events: Array.from({ length: 10 }, () => surveySubmitted(`batch ${b}`)) },
      hookbus.config.publisherKey,
    ),
  );
  for (const published of await Promise.all(batches)) expect(published.status).toBe(202);

  // A worker's deliveries parked behind the other's passed-on slots would wait out a lease (20 s).
  await receiver.waitForRequests(60, 10_000);
  expect(receiver.maxInFlight).toBe(2);
  expect(new Set(receiver.requests.map((request) => request.headers["webhook-id"])).size).toBe(60);
  const { redis, keys } = hookbus.context();
  await waitFor(async () => (await redis.zcard(keys.endpointInFlight(id))) === 0, "every slot freed", 5_000);
  expect(await redis.zcard(keys.endpointParked(id))).toBe(0);
});
