import { surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { spawnWorker } from "./support/processes.js";
import { ReceiverPool, type TestReceiver } from "./support/receiver.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

const EVENTS = 300;

/**
 * A worker process with the default settings takes a backlog, and is killed with SIGKILL while
 * its attempts are in flight, just after `beforeKill`.
 */
async function killWorkerMidBacklog(receiver: TestReceiver, beforeKill: () => Promise<unknown> = async () => undefined): Promise<number> {
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], maxInFlight: 1000 });
  const doomed = spawnWorker(hookbus.config);
  try {
    const events = Array.from({ length: EVENTS }, () => surveySubmitted());
    for (let i = 0; i < EVENTS; i += 100) {
      const published = await hookbus.api("POST", "/v1/events/batch", { events: events.slice(i, i + 100) }, hookbus.config.publisherKey);
      expect(published.status).toBe(202);
    }
    await receiver.waitForRequests(20);
    await beforeKill();
  } finally {
    doomed.child.kill("SIGKILL");
  }
  expect(await doomed.exited).toBe("SIGKILL");
  return Date.now();
}

/** When the receiver had seen every delivery at least once. */
async function everyDeliveryArrived(receiver: TestReceiver): Promise<number> {
  return waitFor(
    () => new Set(receiver.requests.map((r) => r.headers["webhook-id"])).size === EVENTS && Math.max(...receiver.requests.map((r) => r.at)),
    `${EVENTS} deliveries`,
    60_000,
    100,
  );
}

test("with the defaults, every delivery a worker killed with SIGKILL held arrives within 30 s of the kill while a second worker runs", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  const receiver = await receivers.start(() => ({ status: 200, delayMs: 1000 }));
  const killedAt = await killWorkerMidBacklog(receiver, () => hookbus.startWorker());
  expect((await everyDeliveryArrived(receiver)) - killedAt).toBeLessThan(30_000);
});

test("with the defaults, every delivery a worker killed with SIGKILL held arrives within 45 s of the kill when the worker is started again", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  const receiver = await receivers.start(() => ({ status: 200, delayMs: 1000 }));
  const killedAt = await killWorkerMidBacklog(receiver);
  await hookbus.startWorker();
  expect((await everyDeliveryArrived(receiver)) - killedAt).toBeLessThan(45_000);
});
