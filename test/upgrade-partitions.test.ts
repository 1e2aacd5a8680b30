import { partitionOfId, partitionOfKey } from "@hookbus/core/policy";
import { scopedIdempotencyKey } from "@hookbus/core/store";
import { surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

const receivers = new ReceiverPool();
let running: TestHookbus | undefined;

afterEach(async () => {
  await running?.stop();
  await receivers.stopAll();
});

// The single-tag layout is what Hookbus writes with one partition: every key under the prefix,
// ids that name no partition. An installation that ran it is started again with four.
test("started with partitions on what the single-tag layout left, Hookbus delivers its pending retries, replays its dead letters and honours its idempotency keys", async () => {
  let failing = true;
  const flaky = await receivers.start(() => ({ status: failing ? 503 : 200 }));
  const before = await TestHookbus.start({ env: { HOOKBUS_PARTITIONS: "1" } });
  running = before;
  const retried = await before.createSubscription({ url: `${flaky.url}/retried`, eventTypes: ["survey.submitted"], retrySchedule: ["2s"] });
  const dead = await before.createSubscription({ url: `${flaky.url}/dead`, eventTypes: ["record.updated"], retrySchedule: [] });

  const ids = Array.from({ length: 12 }, (_, i) => `before-${i}`);
  const surveys = await Promise.all(ids.map((id) => before.publish({ ...surveySubmitted(id), id })));
  const records = await Promise.all(
    ["r1", "r2", "r3"].map((name) => before.publish({ type: "record.updated", data: { transId: name, formId: "319", formName: "F" } })),
  );
  const pending = await Promise.all(surveys.map(async ({ body }) => (await before.deliveriesOf(body.id))[0].id));
  const deadLetters = await Promise.all(records.map(async ({ body }) => (await before.deliveriesOf(body.id))[0].id));
  for (const id of pending) await before.deliveryWithStatus(id, "retrying");
  for (const id of deadLetters) await before.deliveryWithStatus(id, "failed");
  expect([...pending, ...deadLetters].every((id) => partitionOfId(id) === 0)).toBe(true);
  // Some of the keys belong to other partitions than 0 once there are four.
  const scope = (await before.context().events.get(surveys[0]!.body.id)).idempotencyScope;
  expect(ids.some((id) => partitionOfKey(scopedIdempotencyKey(scope, id), 4) !== 0)).toBe(true);
  await before.stop();

  failing = false;
  const recovered = Date.now();
  const after = await TestHookbus.start({ restartOf: before, env: { HOOKBUS_PARTITIONS: "4" }, worker: false });
  running = after;
  // Idempotency keys first, before a worker has had the chance to move them: the same event, not stored again.
  for (const [i, id] of ids.entries()) {
    const again = await after.publish({ ...surveySubmitted(id), id });
    expect([again.status, again.body.id, again.body.duplicate]).toEqual([202, surveys[i]!.body.id, true]);
  }
  const conflicting = await after.publish({ ...surveySubmitted("another survey"), id: ids[1]! });
  expect(conflicting.status).toBe(409);

  await after.startWorker();
  // The pending retries are delivered, each under its old webhook-id.
  for (const id of pending) await after.deliveryWithStatus(id, "delivered");
  const retriedIds = flaky.requests.filter((r) => r.path.endsWith("/retried") && r.at >= recovered).map((r) => r.headers["webhook-id"]);
  expect(new Set(retriedIds)).toEqual(new Set(pending));

  // The dead letters are replayed in bulk, and delivered under theirs.
  const replay = await after.api("POST", "/v1/deliveries/replay", { status: "failed", subscriptionId: dead.id });
  expect(replay.status).toBe(202);
  for (const id of deadLetters) await after.deliveryWithStatus(id, "delivered");
  const replayedIds = flaky.requests.filter((r) => r.path.endsWith("/dead") && r.at >= recovered).map((r) => r.headers["webhook-id"]);
  expect(new Set(replayedIds)).toEqual(new Set(deadLetters));
  await waitFor(async () => (await after.api("GET", `/v1/replays/${replay.body.id}`)).body.status === "done", "the replay to end");

  // Once the worker has moved the keys, they are still honoured from their partitions.
  await after.context().events.legacyKeys.moveAll();
  for (const [i, id] of ids.entries()) {
    const again = await after.publish({ ...surveySubmitted(id), id });
    expect([again.body.id, again.body.duplicate]).toEqual([surveys[i]!.body.id, true]);
  }

  // New events go to the other partitions too, and are delivered.
  const fresh = await Promise.all(
    Array.from({ length: 8 }, (_, i) => after.publish({ ...surveySubmitted(`after-${i}`), id: `after-${i}` })),
  );
  expect(new Set(fresh.map(({ body }) => partitionOfId(body.id))).size).toBeGreaterThan(1);
  for (const { body } of fresh) await after.deliveryWithStatus((await after.deliveriesOf(body.id))[0].id, "delivered");
});

test("the partitions may be raised, never lowered: an app started with fewer than the Redis holds events in refuses to start, and says why", async () => {
  const four = await TestHookbus.start({ env: { HOOKBUS_PARTITIONS: "4" }, worker: false });
  running = four;
  await four.stop();
  await expect(TestHookbus.start({ restartOf: four, env: { HOOKBUS_PARTITIONS: "2" }, worker: false })).rejects.toThrow(
    /HOOKBUS_PARTITIONS: 2, but this Redis holds events in 4 partitions/,
  );
  const more = await TestHookbus.start({ restartOf: four, env: { HOOKBUS_PARTITIONS: "8" } });
  running = more;
  expect((await more.publish(surveySubmitted())).status).toBe(202);
});
