import { partitionOfId } from "@hookbus/core/policy";
import { recordUpdated } from "./fixtures/events.js";
import { TestHookbus } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

// A project's own retention: its events, their deliveries and attempts, and its publishers'
// idempotency keys are kept that long instead of HOOKBUS_RETENTION (30 days by default).

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

beforeAll(async () => {
  hookbus = await TestHookbus.start();
});

afterAll(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

const DAY = 86_400_000;

/** How long Redis keeps a key, in ms. */
async function timeToLive(key: string): Promise<number> {
  return (await hookbus.redisCommand("PTTL", key)) as number;
}

/** Publishes one event in a project, with an idempotency key, to a subscription that fails its first attempt; waits for it delivered. */
async function deliveredInProject(projectId: string) {
  const receiver = await receivers.start((_request, index) => ({ status: index === 0 ? 500 : 200 }));
  await hookbus.createSubscription({ projectId, url: receiver.url, eventTypes: ["record.updated"], retrySchedule: [100] });
  const published = await hookbus.publish({ ...recordUpdated(), id: `retention-${projectId}`, projectId });
  expect(published.status).toBe(202);
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  // Delivered at its retry: each status change extends what it keeps, by its project's window.
  await hookbus.deliveryWithStatus(id, "delivered");
  const { keys } = hookbus.context();
  const [idempotencyKey] = (await hookbus.redisCommand(
    "KEYS",
    `${keys.idempotency("*", partitionOfId(published.body.id))}:retention-${projectId}`,
  )) as string[];
  return {
    event: await timeToLive(keys.event(published.body.id)),
    delivery: await timeToLive(keys.delivery(id)),
    attempts: await timeToLive(keys.attempts(id)),
    idempotency: await timeToLive(idempotencyKey!),
    participantIndex: await participantIndexTimeToLive(projectId, partitionOfId(published.body.id)),
  };
}

/** How long Redis keeps the erasure index of the fixtures' participant (transId) in a project, in ms. */
async function participantIndexTimeToLive(projectId: string, partition: number): Promise<number> {
  const indexKeys = (await hookbus.redisCommand(
    "KEYS",
    hookbus.context().keys.participantIndex(projectId, "transId", "*", partition),
  )) as string[];
  expect(indexKeys).toHaveLength(1);
  return timeToLive(indexKeys[0]!);
}

test("a project with its own retention keeps its events, deliveries and attempts that long; another project keeps the configured retention", async () => {
  const short = await hookbus.api("POST", "/v1/projects", { name: "Short-lived study", retention: "2d" });
  expect(short.status).toBe(201);
  expect(short.body.retention).toBe(2 * DAY);
  const plain = await hookbus.api("POST", "/v1/projects", { name: "Plain study" });
  expect(plain.body.retention).toBeUndefined();

  const kept = await deliveredInProject(short.body.id);
  for (const ttl of [kept.event, kept.delivery, kept.attempts, kept.idempotency]) {
    expect(ttl).toBeGreaterThan(2 * DAY - 60_000);
    expect(ttl).toBeLessThanOrEqual(2 * DAY);
  }
  // The participant's erasure index outlives their events by one window, theirs.
  expect(kept.participantIndex).toBeGreaterThan(4 * DAY - 60_000);
  expect(kept.participantIndex).toBeLessThanOrEqual(4 * DAY);
  const configured = await deliveredInProject(plain.body.id);
  for (const ttl of [configured.event, configured.delivery, configured.attempts, configured.idempotency])
    expect(ttl).toBeGreaterThan(29 * DAY);
  expect(configured.participantIndex).toBeGreaterThan(59 * DAY);
});

test("a retention shortened later never cuts a participant's erasure index short of the events it holds", async () => {
  const project = await hookbus.api("POST", "/v1/projects", { name: "Study shortened", retention: "2d" });
  // An event stored while the project kept events 20 days (a publish reads its project's retention a minute late at most).
  const first = await hookbus.context().events.store({ ...recordUpdated(), projectId: project.body.id, retentionMs: 20 * DAY });
  const published = await hookbus.publish({ ...recordUpdated(), projectId: project.body.id });
  expect(published.status).toBe(202);
  expect(await timeToLive(hookbus.context().keys.event(published.body.id))).toBeLessThanOrEqual(2 * DAY);
  // The first event is kept 20 days: an index cut to 4 would lose it to an erasure on day 5.
  expect(await participantIndexTimeToLive(project.body.id, partitionOfId(first.event.id))).toBeGreaterThan(40 * DAY - 60_000);
});

test("a retention is 1d to 3650d and holds the project's retry schedule; null gives the configured one back", async () => {
  for (const retention of ["1h", 60_000, "3651d", "soon"]) {
    const refused = await hookbus.api("POST", "/v1/projects", { name: "Bad", retention });
    expect(refused.status).toBe(422);
    expect(refused.body.issues[0].path).toEqual(["retention"]);
  }
  const tooShort = await hookbus.api("POST", "/v1/projects", { name: "Bad", retention: "1d", retrySchedule: ["5d"] });
  expect(tooShort.status).toBe(422);
  expect(tooShort.body.issues[0].path).toEqual(["retention"]);

  const made = await hookbus.api("POST", "/v1/projects", { name: "Study", retention: "90d" });
  expect((await hookbus.api("PATCH", `/v1/projects/${made.body.id}`, { retrySchedule: ["6d", "6d"] })).status).toBe(200);
  expect((await hookbus.api("PATCH", `/v1/projects/${made.body.id}`, { retention: "7d" })).status).toBe(422);
  const cleared = await hookbus.api("PATCH", `/v1/projects/${made.body.id}`, { retention: null });
  expect(cleared.status).toBe(200);
  expect(cleared.body.retention).toBeUndefined();
  // A subscription's own schedule must fit its project's retention too.
  const shortLived = await hookbus.api("POST", "/v1/projects", { name: "Brief", retention: "1d" });
  const subscription = await hookbus.api("POST", "/v1/subscriptions", {
    projectId: shortLived.body.id,
    url: "http://127.0.0.1:1/hook",
    eventTypes: ["record.updated"],
    retrySchedule: ["2d"],
  });
  expect(subscription.status).toBe(422);
  expect(subscription.body.issues[0].path).toEqual(["retrySchedule"]);
});
