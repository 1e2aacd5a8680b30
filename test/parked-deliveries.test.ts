import { surveySubmitted } from "./fixtures/events.js";
import { openQueue, TestHookbus, waitFor } from "./support/harness.js";
import { spawnWorker } from "./support/processes.js";
import { ReceiverPool } from "./support/receiver.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

test("ten deliveries parked behind a worker killed while holding an endpoint's only slot all arrive together once its lease lapses", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  const receiver = await receivers.start((_r, index) => (index === 0 ? "hang" : { status: 200 }));
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], maxInFlight: 1, timeoutMs: 3000 });
  const doomed = spawnWorker(hookbus.config);
  try {
    await hookbus.publish(surveySubmitted());
    await receiver.waitForRequests(1);
  } finally {
    doomed.child.kill("SIGKILL");
  }
  expect(await doomed.exited).toBe("SIGKILL");

  await hookbus.startWorker();
  const published = await Promise.all(Array.from({ length: 10 }, () => hookbus.publish(surveySubmitted())));
  const parked = await Promise.all(published.map(async (p) => (await hookbus.deliveriesOf(p.body.id))[0].id));
  // The lease is the 3 s timeout plus a margin; each parked delivery then goes as the one before it frees the slot.
  const requests = await receiver.waitForRequests(11, 30_000);
  const arrivals = requests.filter((r) => parked.includes(r.headers["webhook-id"] as string)).map((r) => r.at);
  expect(arrivals).toHaveLength(10);
  expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeLessThan(3000);
});

test("a retry due in 10 s is not sent early when its job is woken before then", async () => {
  hookbus = await TestHookbus.start();
  const receiver = await receivers.start((_r, index) => ({ status: index === 0 ? 500 : 200 }));
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], maxInFlight: 1, retrySchedule: ["10s"] });
  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  const retrying = await hookbus.deliveryWithStatus(id, "retrying");
  const due = Date.parse(retrying.nextAttemptAt!);
  // What a freed slot or a reconciler's job does to a waiting delivery: its job runs now.
  const { Queue } = await import("bullmq");
  const deliver = openQueue(hookbus.config, "deliver", id);
  try {
    const job = await waitFor(async () => (await deliver.getJob(id)) ?? undefined, "the retry's job");
    await job.promote();
  } finally {
    await deliver.close();
  }
  const [first, second] = await receiver.waitForRequests(2, 20_000);
  // The schedule's 10 s, with its jitter, as the delivery log set it.
  expect(due - first!.at).toBeGreaterThan(8_000);
  expect(second!.at).toBeGreaterThanOrEqual(due);
  expect((await hookbus.delivery(id)).status).toBe("delivered");
});
