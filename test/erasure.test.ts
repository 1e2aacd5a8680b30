import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { startEmbeddedRedis, type EmbeddedRedis } from "@hookbus/dev-redis";
import { Eraser, type ErasureReceipt } from "@hookbus/core/flows";
import { formatValueHash, ParticipantHasher } from "@hookbus/core/policy";
import type { ErasureView } from "@hookbus/schemas";
import { distinctiveParticipant, recordOf, scheduleOf, surveyOf, valuesOf, type Participant } from "./fixtures/participants.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool, type ReceivedRequest } from "./support/receiver.js";

let redis: EmbeddedRedis;
let dataDir: string;
let hookbus: TestHookbus;
const receivers = new ReceiverPool();

beforeAll(async () => {
  // A Redis of its own with an append-only file, to prove no file under its data directory
  // keeps what was erased. Rewritten as plain commands (no RDB preamble, whose compression
  // could hide a value from a text search), so the search is meaningful both ways.
  dataDir = mkdtempSync(join(tmpdir(), "hookbus-erasure-"));
  redis = await startEmbeddedRedis({ dataDir });
});

afterAll(async () => {
  await redis.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  // Receivers fail on purpose here: the circuit breaker, which would hold their deliveries back, stays out of the way.
  hookbus = await TestHookbus.start({ env: { REDIS_URL: redis.url, HOOKBUS_CIRCUIT_FAILURES: "10000" } });
  await hookbus.redisCommand("CONFIG", "SET", "aof-use-rdb-preamble", "no");
});

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

/** Every file under the Redis data directory, read whole. */
function dataFiles(): string {
  const read = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? read(path) : [readFileSync(path, "latin1")];
    });
  return read(dataDir).join("\n");
}

/** The values of `participant` found in `text`. */
function found(participant: Participant, text: string): string[] {
  return valuesOf(participant).filter((value) => text.includes(value));
}

const echo = (status: number) => (request: ReceivedRequest) => ({ status, body: request.body });

/** Answers 500 with the body to a delivery's first attempt, 200 after: its retry is the one that gets through. */
function failFirstThenAccept() {
  const seen = new Set<unknown>();
  return (request: ReceivedRequest) => {
    const first = !seen.has(request.headers["webhook-id"]);
    seen.add(request.headers["webhook-id"]);
    return { status: first ? 500 : 200, body: request.body };
  };
}

async function statusCount(status: string): Promise<number> {
  return (await hookbus.client.deliveries.list({ status: status as "failed", limit: 500 })).items.length;
}

test("erasing a participant removes their events on every path, with deliveries, attempts, idempotency records and the append-only file's copy; the other participant's are intact and still delivered", async () => {
  const alice = distinctiveParticipant("ALICE");
  const bob = distinctiveParticipant("BOB");
  const accepting = await receivers.start(echo(200));
  const failing = await receivers.start(echo(500));
  const retrying = await receivers.start(failFirstThenAccept());
  const allTypes = ["survey.submitted", "schedule.triggered", "record.created", "record.updated"];
  await hookbus.createSubscription({ url: accepting.url, eventTypes: allTypes });
  // Native bodies with the legacy PatientID/PatientIdentifier, echoed back in the error answer: dead letters.
  await hookbus.createSubscription({
    url: failing.url,
    eventTypes: ["survey.submitted", "schedule.triggered"],
    format: "native",
    legacyParameters: true,
    retrySchedule: [],
  });
  // Native TrialKit bodies whose first attempt fails: a retry waits in BullMQ's delayed set.
  await hookbus.createSubscription({
    url: retrying.url,
    eventTypes: ["record.created", "record.updated"],
    format: "native",
    retrySchedule: ["1h"],
  });
  await hookbus.createSubscription({ url: accepting.url, eventTypes: ["record.created"], mode: "sync" });

  const eventIds = new Map<Participant, string[]>();
  for (const p of [alice, bob]) {
    const ids = [
      (await hookbus.publish({ ...surveyOf(p), id: `survey-${p.participantIdentifier}` })).body.id,
      (await hookbus.publish(scheduleOf(p))).body.id,
      ...(await hookbus.publisher.publishBatch([surveyOf(p, "Weekly"), recordOf(p)])).items.map((item) => ("id" in item ? item.id : "")),
      (await hookbus.publish(recordOf(p))).body.id,
    ];
    const sync = await hookbus.publish(recordOf(p, "record.created"));
    expect(sync.body.sync[0].outcome).toBe("delivered");
    eventIds.set(p, [...ids, sync.body.id]);
  }
  // Per participant: 6 events; accepted 6 + 1 sync, dead-lettered 3, retrying 3.
  await waitFor(
    async () => (await statusCount("delivered")) === 14 && (await statusCount("failed")) === 6 && (await statusCount("retrying")) === 6,
    "every first attempt",
    30_000,
    100,
  );
  const aliceDeliveries = (await Promise.all(eventIds.get(alice)!.map((id) => hookbus.client.events.get(id)))).flatMap((e) => e.deliveries);
  expect(aliceDeliveries).toHaveLength(13);
  expect(found(alice, await hookbus.dumpRedis())).toEqual(valuesOf(alice));

  // MyDataHelps events by the participant's id, TrialKit records by their trans_id.
  const byId = await hookbus.client.erasures.run({ participantId: alice.participantId }, { pollMs: 50 });
  const byTransId = await hookbus.client.erasures.run({ transId: alice.transId }, { pollMs: 50 });
  for (const [receipt, deliveries] of [
    [byId, 6],
    [byTransId, 7],
  ] as [ErasureView, number][]) {
    expect(receipt).toMatchObject({ status: "done", events: 3, deliveries, attempts: deliveries, persistence: { status: "rewritten" } });
    expect(receipt.persistence.finishedAt).toBeDefined();
    expect(JSON.stringify(receipt)).not.toContain(alice.participantId);
    expect(await hookbus.client.erasures.get(receipt.id)).toEqual(receipt);
  }
  expect(byId.field).toBe("participantId");

  for (const id of eventIds.get(alice)!) expect((await hookbus.api("GET", `/v1/events/${id}`)).status).toBe(404);
  for (const { id } of aliceDeliveries) {
    const delivery = await hookbus.delivery(id);
    expect(delivery).toMatchObject({ status: "erased", attempts: [] });
    expect((await hookbus.api("POST", `/v1/deliveries/${id}/replay`)).status).toBe(422);
  }
  expect(await hookbus.keysMatching(`idem:*survey-${alice.participantIdentifier}`)).toEqual([]);

  // The retries: Bob's brought forward, Alice's woken too (their jobs were left in the delayed set).
  const requestsForAlice = () => retrying.requests.filter((r) => found(alice, r.body).length > 0).length;
  expect(requestsForAlice()).toBe(3);
  const bobRetrying = (await hookbus.client.deliveries.list({ status: "retrying", limit: 500 })).items;
  expect(bobRetrying).toHaveLength(3);
  for (const { id } of bobRetrying) await hookbus.client.deliveries.replay(id);
  const deliverQueue = new Queue("deliver", { connection: { url: redis.url }, prefix: hookbus.config.queuePrefix });
  await deliverQueue.promoteJobs();
  await deliverQueue.close();
  for (const { id } of bobRetrying) await hookbus.deliveryWithStatus(id, "delivered");
  await waitFor(async () => {
    const counts = await hookbus.queueCounts("deliver");
    return counts.waiting + counts.active + counts.delayed === 0;
  }, "the deliver queue to drain");
  expect(requestsForAlice()).toBe(3);

  // Every key and value (BullMQ's jobs among them), and every file of the data directory.
  const dump = await hookbus.dumpRedis();
  expect(found(alice, dump)).toEqual([]);
  expect(found(bob, dump)).toEqual(valuesOf(bob));
  const files = dataFiles();
  expect(found(alice, files)).toEqual([]);
  expect(found(bob, files)).toEqual(valuesOf(bob));
  for (const id of eventIds.get(bob)!) expect((await hookbus.client.events.get(id)).data).toBeDefined();
  // The erased event's idempotency key is free again.
  const again = await hookbus.publish({ ...scheduleOf(bob), id: `survey-${alice.participantIdentifier}` });
  expect(again.status).toBe(202);
  expect(eventIds.get(alice)).not.toContain(again.body.id);
}, 90_000);

/** Runs an erasure of a value no event carries: the first one scans for events stored before the index, and later ones need not. */
async function completeTheIndex(): Promise<void> {
  const first = await hookbus.client.erasures.run({ participantIdentifier: "nobody" }, { pollMs: 50 });
  expect(first.events).toBe(0);
}

test("an attempt in flight when its delivery is erased: the erasure answers once it has ended, and nothing of it is recorded", async () => {
  const alice = distinctiveParticipant("ALICE");
  const slow = await receivers.start((request) => ({ status: 500, body: request.body, delayMs: 1000 }));
  await hookbus.createSubscription({ url: slow.url, eventTypes: ["survey.submitted"], retrySchedule: ["1h"] });
  await completeTheIndex();
  const { id } = (await hookbus.publish(surveyOf(alice))).body;
  await slow.waitForRequests(1);
  expect(slow.inFlight).toBe(1);

  const answer = await hookbus.api("POST", "/v1/erasures", { participantId: alice.participantId });
  expect(slow.inFlight).toBe(0);
  expect(answer.status).toBe(201);
  expect(answer.body).toMatchObject({ status: "done", events: 1, deliveries: 1, attempts: 0 });
  const [delivery] = (await hookbus.client.deliveries.list({})).items;
  expect(await hookbus.delivery(delivery!.id)).toMatchObject({ eventId: id, status: "erased", attempts: [] });
  expect(found(alice, await hookbus.dumpRedis())).toEqual([]);
});

test("an event stored before the participant index (an upgrade in place) is found by a one-time scan, its idempotency record too", async () => {
  const alice = distinctiveParticipant("ALICE");
  const { id } = (await hookbus.publish({ ...recordOf(alice), id: "legacy-key" })).body;
  // As an earlier version left it: in no index, its idempotency record's owner not named, and
  // the index begun after it.
  const context = hookbus.context();
  const stored = JSON.parse((await context.redis.get(context.keys.event(id)))!);
  delete stored.idempotencyScope;
  await context.redis.set(context.keys.event(id), JSON.stringify(stored));
  const indexKeys = await hookbus.keysMatching("pidx:default:*");
  expect(indexKeys.length).toBeGreaterThan(0);
  for (const key of indexKeys) await context.redis.del(key);
  await context.redis.set(context.keys.participantIndexSince(), Date.now() + 1);

  const scanned = await hookbus.api("POST", "/v1/erasures", { transId: alice.transId });
  expect(scanned.status).toBe(202);
  const receipt = await hookbus.erasureDone(scanned.body.id);
  expect(receipt).toMatchObject({ events: 1, total: 1 });
  expect((await hookbus.api("GET", `/v1/events/${id}`)).status).toBe(404);
  expect(await hookbus.keysMatching("idem:*legacy-key")).toEqual([]);
  expect(found(alice, await hookbus.dumpRedis())).toEqual([]);
  // No event from before the index is left: the next erasure reads the index alone, and answers done.
  const next = await hookbus.api("POST", "/v1/erasures", { transId: "another" });
  expect(next.status).toBe(201);
});

test("an erasure names exactly one participant field, is an admin's, and its receipt is found by id", async () => {
  for (const body of [{}, { participantId: "a", transId: "b" }, { projectId: "default" }, { transId: "" }, { transId: "x", extra: 1 }]) {
    const answer = await hookbus.api("POST", "/v1/erasures", body);
    expect(answer.status).toBe(422);
    expect(answer.body.issues.length).toBeGreaterThan(0);
  }
  expect((await hookbus.api("POST", "/v1/erasures", { transId: "x" }, hookbus.config.publisherKey)).status).toBe(403);
  expect((await hookbus.api("GET", "/v1/erasures/era_01J0000000000000000000000A")).status).toBe(404);
});

test("a project's admin key erases in its own project only; an operator key without projectId erases in every project", async () => {
  const alice = distinctiveParticipant("ALICE");
  const project = (await hookbus.api("POST", "/v1/projects", { name: "Sleep study" })).body;
  const projectAdmin = (await hookbus.api("POST", `/v1/projects/${project.id}/keys`, { role: "admin", name: "coordinator" })).body.key;
  await completeTheIndex();
  const inProject = (await hookbus.publish({ ...recordOf(alice), projectId: project.id })).body.id;
  const inDefault = (await hookbus.publish(recordOf(alice))).body.id;

  const own = await hookbus.api("POST", "/v1/erasures", { transId: alice.transId }, projectAdmin);
  expect(own.status).toBe(201);
  expect(own.body).toMatchObject({ projectId: project.id, events: 1 });
  expect((await hookbus.api("GET", `/v1/events/${inProject}`)).status).toBe(404);
  expect((await hookbus.api("GET", `/v1/events/${inDefault}`)).status).toBe(200);
  expect((await hookbus.api("POST", "/v1/erasures", { transId: alice.transId, projectId: "default" }, projectAdmin)).status).toBe(404);

  const everywhere = await hookbus.api("POST", "/v1/erasures", { transId: alice.transId });
  expect(everywhere.body).toMatchObject({ events: 1 });
  expect(everywhere.body.projectId).toBeUndefined();
  expect((await hookbus.api("GET", `/v1/events/${inDefault}`)).status).toBe(404);
  // The operator's erasure across projects is no project's to read.
  expect((await hookbus.api("GET", `/v1/erasures/${everywhere.body.id}`, undefined, projectAdmin)).status).toBe(404);
  expect((await hookbus.api("GET", `/v1/erasures/${own.body.id}`, undefined, projectAdmin)).status).toBe(200);
});

test("once done, an erasure hands its receipt and the value's keyed hash, never the value, to the hook its audit entry is appended by", async () => {
  const alice = distinctiveParticipant("ALICE");
  await completeTheIndex();
  await hookbus.publish(surveyOf(alice));
  const context = hookbus.context();
  const hasher = new ParticipantHasher(hookbus.config.encryption);
  const handed: { receipt: ErasureReceipt; valueHash: string }[] = [];
  const { keys, redis, participants, projects, queues } = context;
  const eraser = new Eraser(redis, keys, hookbus.config.encryption, hasher, participants, projects, queues, async (receipt, valueHash) => {
    handed.push({ receipt, valueHash });
  });
  const { receipt, finished } = await eraser.start({ field: "participantIdentifier", value: alice.participantIdentifier });
  expect(finished).toBe(true);
  expect(handed).toEqual([{ receipt, valueHash: formatValueHash(hasher.hash(alice.participantIdentifier)) }]);
  expect(handed[0]!.valueHash).toMatch(/^hmac-sha256:/);
  expect(JSON.stringify(handed)).not.toContain(alice.participantIdentifier);
  // Run again (a job retried after it finished), it hands nothing twice.
  await eraser.run(receipt.id);
  expect(handed).toHaveLength(1);
});
