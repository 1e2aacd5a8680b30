import { recordUpdated, surveySubmitted } from "./fixtures/events.js";
import { createContext, createLogger } from "@hookbus/core/runtime";
import { TestHookbus, waitFor } from "./support/harness.js";
import { TestReceiver } from "./support/receiver.js";
import { runBulkReplay } from "../apps/worker/src/jobs/bulk-replay.js";

let hookbus: TestHookbus;
let receiver: TestReceiver;

afterEach(async () => {
  await hookbus.stop();
  await receiver.stop();
});

/** Publishes `events` record.updated events to `subscriptions` subscriptions, `parallel` at a time. */
async function publishMany(events: number, parallel = 20): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < events; i += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, events - i) }, (_, j) => hookbus.publish(recordUpdated(String(i + j)))),
    );
    ids.push(...batch.map((r) => r.body.id));
  }
  return ids;
}

/** The attempts of dead letters whose webhook-id the receiver never saw. */
async function attemptsNotReceived(received: Set<unknown>): Promise<unknown[]> {
  const missing: unknown[] = [];
  let cursor: string | null = null;
  do {
    const page: any = (await hookbus.api("GET", `/v1/deliveries?status=failed&limit=500${cursor ? `&cursor=${cursor}` : ""}`)).body;
    for (const { id } of page.items) if (!received.has(id)) missing.push({ id, attempts: (await hookbus.delivery(id)).attempts });
    cursor = page.nextCursor;
  } while (cursor);
  return missing;
}

/** A bulk replay's progress once it is done. */
async function replayFinished(replayId: string): Promise<any> {
  return waitFor(async () => {
    const body = (await hookbus.api("GET", `/v1/replays/${replayId}`)).body;
    return body.status === "done" ? body : undefined;
  }, `replay ${replayId} to finish`);
}

/** These tests make dead letters in bulk: the circuit breaker, which would hold them back instead, stays out of the way. */
const NO_CIRCUIT = { env: { HOOKBUS_CIRCUIT_FAILURES: "10000" } };

async function countByStatus(status: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page: any = (await hookbus.api("GET", `/v1/deliveries?status=${status}&limit=500${cursor ? `&cursor=${cursor}` : ""}`)).body;
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}

test("1,000 dead letters, replayed in bulk twice at once once the receiver recovers: each delivered once, with its original webhook-id", async () => {
  hookbus = await TestHookbus.start(NO_CIRCUIT);
  receiver = await TestReceiver.start(() => ({ status: 503 }));
  for (let i = 0; i < 10; i++) await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"], retrySchedule: [] });
  await publishMany(100);
  await waitFor(async () => (await countByStatus("failed")) === 1000, "1,000 dead letters", 60_000, 200);
  const firstWebhookIds = new Set(receiver.requests.map((r) => r.headers["webhook-id"]));
  // Each dead letter's one attempt reached the receiver; any that did not shows why.
  expect(await attemptsNotReceived(firstWebhookIds)).toEqual([]);
  expect(firstWebhookIds.size).toBe(1000);

  const dryRun = await hookbus.api("POST", "/v1/deliveries/replay", { status: "failed", dryRun: true });
  expect(dryRun.body).toEqual({ dryRun: true, count: 1000 });
  expect(receiver.requests).toHaveLength(1000);

  receiver.answer(() => ({ status: 200 }));
  receiver.requests.length = 0;
  const [first, second] = await Promise.all([
    hookbus.api("POST", "/v1/deliveries/replay", { status: "failed" }),
    hookbus.api("POST", "/v1/deliveries/replay", { status: "failed" }),
  ]);
  expect([first.status, second.status]).toEqual([202, 202]);
  expect(first.body).toMatchObject({ id: expect.stringMatching(/^rpl_/), replayed: 1000, status: "running" });

  const finished = await waitFor(
    async () => {
      const progress = await Promise.all([first, second].map(async (r) => (await hookbus.api("GET", `/v1/replays/${r.body.id}`)).body));
      return progress.every((p) => p.status === "done") ? progress : undefined;
    },
    "both replays to finish",
    60_000,
    100,
  );
  // Between them the two replays took every delivery exactly once.
  expect(finished[0].done + finished[1].done).toBe(1000);
  expect(finished[0].skipped + finished[1].skipped).toBe(finished[0].total + finished[1].total - 1000);
  expect(finished.every((p) => p.failed === 0)).toBe(true);

  expect(await countByStatus("delivered")).toBe(1000);
  expect(receiver.requests).toHaveLength(1000);
  const replayedWebhookIds = receiver.requests.map((r) => r.headers["webhook-id"]);
  expect(new Set(replayedWebhookIds)).toEqual(firstWebhookIds);
  // Every claim's job was enqueued: nothing is left for recovery.
  expect(await hookbus.keysMatching("rpl:unqueued")).toEqual([]);
});

test("a rate-capped bulk replay sends no more than the cap per second, as the receiver measures it", async () => {
  hookbus = await TestHookbus.start(NO_CIRCUIT);
  receiver = await TestReceiver.start(() => ({ status: 500 }));
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"], retrySchedule: [] });
  await publishMany(30);
  await waitFor(async () => (await countByStatus("failed")) === 30, "30 dead letters");
  receiver.answer(() => ({ status: 200 }));
  receiver.requests.length = 0;

  const replay = await hookbus.api("POST", "/v1/deliveries/replay", { ratePerSecond: 10 });
  expect(replay.body.replayed).toBe(30);
  await receiver.waitForRequests(30, 20_000);
  const arrivals = receiver.requests.map((r) => r.at).sort((a, b) => a - b);
  // 30 at 10 per second: the first and the last are at least 2.9 s apart (29 intervals of 100 ms),
  // and no one-second window holds more than the cap (+1 for the window's edge).
  expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(2800);
  for (const start of arrivals) expect(arrivals.filter((t) => t >= start && t < start + 1000).length).toBeLessThanOrEqual(11);
  const progress = await replayFinished(replay.body.id);
  expect(progress).toMatchObject({ total: 30, done: 30, failed: 0, ratePerSecond: 10, finishedAt: expect.any(String) });
});

test("replaying one delivery sends it again now, with the same webhook-id, and appends the attempt", async () => {
  hookbus = await TestHookbus.start();
  receiver = await TestReceiver.start((_request, index) => ({ status: index === 0 ? 500 : 200 }));
  const subscription = await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule: [] });
  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  await hookbus.deliveryWithStatus(id, "failed");

  const replayed = await hookbus.api("POST", `/v1/deliveries/${id}/replay`);
  expect(replayed.status).toBe(202);
  const delivered = await hookbus.deliveryWithStatus(id, "delivered");
  expect(delivered.attempts.map((a: any) => a.statusCode)).toEqual([500, 200]);
  expect(receiver.requests.map((r) => r.headers["webhook-id"])).toEqual([id, id]);

  const stats = (await hookbus.api("GET", `/v1/subscriptions/${subscription.id}/stats`)).body;
  expect(stats).toMatchObject({ subscriptionId: subscription.id, delivered: 1, failed: 0, pending: 0, retrying: 0 });
  expect(Date.parse(stats.lastSuccessAt)).toBeGreaterThanOrEqual(Date.parse(stats.lastFailureAt));
  expect((await hookbus.api("POST", "/v1/deliveries/dlv_missing/replay")).status).toBe(404);
});

test("a replay of a delivery waiting for its next retry brings that retry forward instead of adding one", async () => {
  hookbus = await TestHookbus.start();
  receiver = await TestReceiver.start((_request, index) => ({ status: index === 0 ? 500 : 200 }));
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule: ["1h"] });
  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  await hookbus.deliveryWithStatus(id, "retrying");
  await hookbus.api("POST", `/v1/deliveries/${id}/replay`);
  const delivered = await hookbus.deliveryWithStatus(id, "delivered");
  expect(delivered.attempts).toHaveLength(2);
  expect(receiver.requests).toHaveLength(2);
});

test("a delivery claimed by a replayer that died before enqueueing it is delivered by a worker's recovery", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  receiver = await TestReceiver.start((_request, index) => ({ status: index === 0 ? 500 : 200 }));
  await hookbus.startWorker();
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule: [] });
  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  await hookbus.deliveryWithStatus(id, "failed");

  // The replayer's first step alone, as if its process died right after it.
  const context = createContext(hookbus.config, createLogger("test", "silent"));
  try {
    expect(await context.deliveries.claimForReplay(await context.deliveries.get(id))).toBe(1);
  } finally {
    await context.close();
  }
  expect((await hookbus.delivery(id)).status).toBe("pending");
  expect(receiver.requests).toHaveLength(1);

  await hookbus.startWorker({ maintenance: { intervalMs: 100, orphanedClaimAfterMs: 0 } });
  const delivered = await hookbus.deliveryWithStatus(id, "delivered");
  expect(delivered.attempts).toHaveLength(2);
  expect(receiver.requests.map((r) => r.headers["webhook-id"])).toEqual([id, id]);
  expect(await hookbus.keysMatching("rpl:unqueued")).toEqual([]);
});

test("paging through 2,500 deliveries while new ones are written sees every one exactly once", async () => {
  hookbus = await TestHookbus.start();
  receiver = await TestReceiver.start();
  for (let i = 0; i < 25; i++) await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"] });
  await publishMany(100);
  const existing = await waitFor(
    async () => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = (await hookbus.api("GET", `/v1/deliveries?limit=500${cursor ? `&cursor=${cursor}` : ""}`)).body;
        ids.push(...page.items.map((d: any) => d.id));
        cursor = page.nextCursor;
      } while (cursor);
      return ids.length === 2500 ? new Set(ids) : undefined;
    },
    "2,500 deliveries",
    60_000,
    200,
  );

  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing; i++) await hookbus.publish(recordUpdated(`new-${i}`));
  })();
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: any = (await hookbus.api("GET", `/v1/deliveries?limit=97${cursor ? `&cursor=${cursor}` : ""}`)).body;
    seen.push(...page.items.map((d: any) => d.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  writing = false;
  await writer;

  expect(pages).toBeGreaterThanOrEqual(26);
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen.filter((id) => existing.has(id))).toHaveLength(2500);
  // Newest first, as ids sort.
  expect([...seen].sort().reverse()).toEqual(seen);
});

test("a bulk replay whose job runs again (stalled, restarted) resumes from its cursor and counts nothing twice", async () => {
  hookbus = await TestHookbus.start(NO_CIRCUIT);
  receiver = await TestReceiver.start(() => ({ status: 500 }));
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"], retrySchedule: [] });
  await publishMany(30);
  await waitFor(async () => (await countByStatus("failed")) === 30, "30 dead letters");
  await hookbus.stopWorkers();
  receiver.answer(() => ({ status: 200 }));

  const replay = (await hookbus.api("POST", "/v1/deliveries/replay", { status: "failed" })).body;
  // The replay job, run by hand twice over, as a worker that died after the first run would leave it.
  const context = createContext(hookbus.config, createLogger("test", "silent"));
  try {
    await runBulkReplay(context, replay.id);
    expect(await context.replays.cursor(replay.id)).toMatch(/^dlv_/);
    await runBulkReplay(context, replay.id);
  } finally {
    await context.close();
  }
  await hookbus.startWorker();
  const progress = await replayFinished(replay.id);
  expect(progress).toMatchObject({ total: 30, done: 30, failed: 0, skipped: 0 });
  expect(receiver.requests).toHaveLength(60);
});

test("a bulk replay over deliveries whose subscription was deleted counts them as failed, and ends", async () => {
  hookbus = await TestHookbus.start(NO_CIRCUIT);
  receiver = await TestReceiver.start(() => ({ status: 500 }));
  const subscription = await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"], retrySchedule: [] });
  await publishMany(5);
  await waitFor(async () => (await countByStatus("failed")) === 5, "5 dead letters");
  expect((await hookbus.api("DELETE", `/v1/subscriptions/${subscription.id}`)).status).toBe(204);

  const replay = (await hookbus.api("POST", "/v1/deliveries/replay", { status: "failed" })).body;
  const progress = await replayFinished(replay.id);
  expect(progress).toMatchObject({ total: 5, done: 0, failed: 5, skipped: 0 });
  expect(receiver.requests).toHaveLength(5);
});
