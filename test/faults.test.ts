import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedRedis } from "@hookbus/dev-redis";
import { Redis } from "ioredis";
import { recordUpdated, surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { spawnWorker } from "./support/processes.js";
import { ReceiverPool } from "./support/receiver.js";

let running: TestHookbus | undefined;
const receivers = new ReceiverPool();

/** Stops the test's Hookbus before the Redis it runs on, where a test has a Redis of its own. */
async function stopHookbus(): Promise<void> {
  await running?.stop();
  running = undefined;
}

afterEach(async () => {
  await stopHookbus();
  await receivers.stopAll();
});

test("a worker killed with SIGKILL mid-attempt: its delivery is taken over once its lock and its attempt's lease lapse, and delivered with the same webhook-id", async () => {
  const hookbus = (running = await TestHookbus.start({ worker: false, env: { HOOKBUS_JOB_LOCK: "1s" } }));
  const receiver = await receivers.start((_r, index) => (index === 0 ? "hang" : { status: 200 }));
  // The attempt's lease is its timeout plus a margin: until then the dead worker's claim stands.
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], timeoutMs: 2000 });
  const doomed = spawnWorker(hookbus.config, { HOOKBUS_JOB_LOCK: "1s" });
  try {
    const published = await hookbus.publish(surveySubmitted());
    await receiver.waitForRequests(1);
    doomed.child.kill("SIGKILL");
    expect(await doomed.exited).toBe("SIGKILL");
  } finally {
    doomed.child.kill("SIGKILL");
  }

  await hookbus.startWorker();
  const [first, second] = await receiver.waitForRequests(2, 30_000);
  expect(second!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
  const delivered = await hookbus.deliveryWithStatus(first!.headers["webhook-id"] as string, "delivered");
  expect(delivered.attempts.map((a: any) => a.statusCode)).toEqual([200]);
});

test("Redis restarting under load: what was accepted before is delivered after, and Hookbus takes new events again", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hookbus-faults-"));
  let redis = await startEmbeddedRedis({ dataDir });
  try {
    // A job lost with the connection (its delivery recorded as retrying, its retry job not yet
    // added) is the reconciler's to give back: here it looks every half second, after 2 s,
    // rather than every minute.
    const hookbus = (running = await TestHookbus.start({
      env: { REDIS_URL: redis.url, HOOKBUS_CIRCUIT_FAILURES: "10000", HOOKBUS_RECONCILE_AFTER: "2s" },
      worker: false,
    }));
    await hookbus.startWorker({ maintenance: { intervalMs: 500 } });
    let up = false;
    const receiver = await receivers.start(() => ({ status: up ? 200 : 503 }));
    // Retries every second, twenty times: every delivery must still be retrying when Redis comes
    // back, however slow the machine is in between (a schedule that ran out first would
    // dead-letter it, as it should, and the test would measure the schedule, not the restart).
    await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"], retrySchedule: Array(20).fill("1s") });
    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => hookbus.publish(recordUpdated(`before-${i}`))));
    expect(before.every((r) => r.status === 202)).toBe(true);
    // Retries are requests too: wait for twenty different deliveries, not twenty requests.
    await waitFor(() => new Set(receiver.requests.map((r) => r.headers["webhook-id"])).size >= 20, "a first attempt of each");

    await redis.stop();
    redis = await startEmbeddedRedis({ dataDir, port: redis.port });
    up = true;
    const after = await waitFor(
      async () => {
        const response = await hookbus.publish(recordUpdated("after"));
        return response.status === 202 ? response : undefined;
      },
      "a publish to be accepted again",
      20_000,
      200,
    );

    const ids = [...before.map((r) => r.body.id as string), after.body.id as string];
    const deliveries = (await Promise.all(ids.map((id) => hookbus.deliveriesOf(id)))).flat();
    await Promise.all(deliveries.map((d) => hookbus.deliveryWithStatus(d.id, "delivered", 30_000)));
    const delivered = new Set(receiver.requests.filter((r) => r.headers["webhook-id"]).map((r) => r.headers["webhook-id"]));
    expect(delivered.size).toBe(21);
  } finally {
    await stopHookbus();
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("Redis refusing writes just as a receiver answers: the attempt is recorded once Redis takes writes again, and never sent twice", async () => {
  // A Redis of its own: its memory limit is cut to nothing while the receiver answers, so every
  // write (the attempt's record, its slot's release) is refused with OOM until it is lifted.
  const redis = await startEmbeddedRedis();
  const admin = new Redis(redis.url);
  try {
    const hookbus = (running = await TestHookbus.start({ env: { REDIS_URL: redis.url } }));
    let refusedAt = 0;
    const receiver = await receivers.start(() => {
      void admin.config("SET", "maxmemory", "1").then(() => (refusedAt = Date.now()));
      return { status: 200, delayMs: 300 };
    });
    await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"] });
    const published = await hookbus.publish(recordUpdated());
    expect(published.status).toBe(202);
    await waitFor(() => refusedAt > 0, "Redis to refuse writes");
    const [{ id }] = await hookbus.deliveriesOf(published.body.id);
    // Answered, but not recorded while Redis refuses it (reads still work).
    await waitFor(() => receiver.requests.length === 1 && Date.now() > refusedAt + 1_000, "the answer, and a second of refusals");
    expect((await hookbus.api("GET", `/v1/deliveries/${id}`)).body.status).toBe("pending");
    await admin.config("SET", "maxmemory", "0");

    const delivered = await hookbus.deliveryWithStatus(id, "delivered");
    expect(delivered.attempts.map((a: any) => a.statusCode)).toEqual([200]);
    expect(receiver.requests).toHaveLength(1);
  } finally {
    await stopHookbus();
    await admin.quit();
    await redis.stop();
  }
});
