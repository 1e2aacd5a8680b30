import { partitionOfId } from "@hookbus/core/policy";
import { enqueueRoute } from "@hookbus/core/queue";
import { surveySubmitted } from "./fixtures/events.js";
import { distinctiveParticipant, surveyOf } from "./fixtures/participants.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { spawnWorker } from "./support/processes.js";
import { ReceiverPool, type ReceivedRequest, type Reply } from "./support/receiver.js";

// Delivery in publish order per ordering key, against a real Redis, worker and receivers. Each
// event names its key and its place in it (surveyName "key#n"), so a receiver can tell which
// one each request carries.

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

afterEach(async () => {
  await hookbus?.stop();
  await receivers.stopAll();
});

/** Quick retries, so that a first attempt refused is sent again at once. */
const QUICK_RETRIES = [200, 200, 200, 200, 200];

const eventOf = (key: string, n: number) => ({ ...surveySubmitted(`${key}#${n}`), orderingKey: key });

/** The key and the place in it of the event a request carries. */
function placeOf(request: ReceivedRequest): { key: string; n: number } {
  const [key, n] = (JSON.parse(request.body) as { data: { surveyName: string } }).data.surveyName.split("#") as [string, string];
  return { key, n: Number(n) };
}

/** A receiver that refuses at random, with 500, the given share of first attempts (told apart by webhook-id). */
function failingFirstAttempts(share: number): (request: ReceivedRequest) => Reply {
  const seen = new Set<string>();
  return (request) => {
    const id = request.headers["webhook-id"] as string;
    const first = !seen.has(id);
    seen.add(id);
    return first && Math.random() < share ? { status: 500 } : { status: 200 };
  };
}

/**
 * Checks, key by key, what a receiver of an ordered subscription saw: every attempt of an event
 * came after every earlier event of its key had succeeded, so successes are in publish order.
 * `statuses` holds the answer given to each request, by index.
 */
function expectInOrder(requests: ReceivedRequest[], statuses: number[], keys: number, perKey: number): void {
  const succeeded = new Map<string, number>(); // key -> events of it succeeded so far
  for (const [i, request] of requests.entries()) {
    const { key, n } = placeOf(request);
    const done = succeeded.get(key) ?? 0;
    // Event n (1-based) may be attempted once events 1..n-1 succeeded; a repeat of an event that succeeded is allowed.
    expect({ key, n, attemptedAfter: Math.min(done, n - 1) }).toEqual({ key, n, attemptedAfter: n - 1 });
    if (statuses[i] === 200 && n === done + 1) succeeded.set(key, n);
  }
  expect([...succeeded.values()]).toEqual(Array.from({ length: keys }, () => perKey));
}

/** A receiver that records the status it answered to each request. */
async function recordingReceiver(reply: (request: ReceivedRequest) => Reply) {
  const statuses: number[] = [];
  const receiver = await receivers.start((request, index) => {
    const answer = reply(request);
    statuses[index] = answer === "hang" ? 0 : answer.status;
    return answer;
  });
  return { receiver, statuses };
}

test("20 keys of 10 events, published concurrently: an ordered subscription gets each key's events one at a time in publish order, through random failures; an unordered one on the same events gets them all", async () => {
  hookbus = await TestHookbus.start();
  const ordered = await recordingReceiver(failingFirstAttempts(0.3));
  const unordered = await receivers.start();
  const subscription = await hookbus.createSubscription({
    url: ordered.receiver.url,
    eventTypes: ["survey.submitted"],
    ordering: "key",
    retrySchedule: QUICK_RETRIES,
  });
  expect(subscription.ordering).toBe("key");
  await hookbus.createSubscription({ url: unordered.url, eventTypes: ["survey.submitted"] });

  const keys = Array.from({ length: 20 }, (_, k) => `participant-${k}`);
  // In order within a key (each publish answered before the next), keys in parallel.
  await Promise.all(
    keys.map(async (key) => {
      for (let n = 1; n <= 10; n++) expect((await hookbus.publish(eventOf(key, n))).status).toBe(202);
    }),
  );

  await unordered.waitForRequests(200, 60_000);
  await waitFor(() => ordered.statuses.filter((s) => s === 200).length >= 200, "200 successful ordered deliveries", 90_000, 100);
  expect(ordered.statuses.some((s) => s === 500)).toBe(true);
  expectInOrder(ordered.receiver.requests, ordered.statuses, 20, 10);
});

test("a batch of interleaved keys is delivered in its order per key, and each event shows its ordering key", async () => {
  hookbus = await TestHookbus.start();
  const ordered = await recordingReceiver(() => ({ status: 200, delayMs: 20 }));
  await hookbus.createSubscription({ url: ordered.receiver.url, eventTypes: ["survey.submitted"], ordering: "key" });

  const events = Array.from({ length: 5 }, (_, i) => ["a", "b", "c"].map((key) => eventOf(key, i + 1))).flat();
  const published = await hookbus.api<{ items: { id: string }[] }>("POST", "/v1/events/batch", { events }, hookbus.config.publisherKey);
  expect(published.status).toBe(202);

  await ordered.receiver.waitForRequests(15);
  expectInOrder(ordered.receiver.requests, ordered.statuses, 3, 5);
  const shown = await hookbus.api("GET", `/v1/events/${published.body.items[0]!.id}`);
  expect(shown.body.orderingKey).toBe("a");
});

test("a dead-lettered head releases the next event of its key at once", async () => {
  hookbus = await TestHookbus.start();
  const ordered = await recordingReceiver((request) => ({ status: placeOf(request).n === 1 ? 500 : 200 }));
  await hookbus.createSubscription({ url: ordered.receiver.url, eventTypes: ["survey.submitted"], ordering: "key", retrySchedule: [100] });

  const first = await hookbus.publish(eventOf("k", 1));
  await hookbus.publish(eventOf("k", 2));

  await ordered.receiver.waitForRequests(3);
  // Two attempts of the first (its one retry), then the second.
  expect(ordered.receiver.requests.map(placeOf).map((p) => p.n)).toEqual([1, 1, 2]);
  const [dead] = await hookbus.deliveriesOf(first.body.id);
  expect((await hookbus.deliveryWithStatus(dead.id, "failed")).attempts).toHaveLength(2);
});

test("a later event routed before an earlier one of its key waits for it: it is not sent until the earlier one is routed and delivered", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  const ordered = await recordingReceiver(() => ({ status: 200 }));
  await hookbus.createSubscription({ url: ordered.receiver.url, eventTypes: ["survey.submitted"], ordering: "key" });
  const first = await hookbus.publish(eventOf("k", 1));
  const second = await hookbus.publish(eventOf("k", 2));
  // The earlier event's route job is held back: the later one's runs first.
  const { queues, keys } = hookbus.context();
  expect(await queues.of(first.body.id).route.remove(first.body.id)).toBe(1);
  await hookbus.startWorker();

  const [waiting] = await hookbus.deliveriesOf(second.body.id);
  const blocked = keys.orderingKey("default", "k", "blocked", partitionOfId(first.body.id));
  await waitFor(
    async () => ((await hookbus.redisCommand("SMEMBERS", blocked)) as string[]).some((m) => m.startsWith(waiting.id)),
    "the later delivery to wait on the earlier event",
  );
  expect(ordered.receiver.requests).toHaveLength(0);

  await enqueueRoute(queues, first.body.id);
  await ordered.receiver.waitForRequests(2);
  expect(ordered.receiver.requests.map(placeOf).map((p) => p.n)).toEqual([1, 2]);
});

test("a worker killed with SIGKILL mid-lane: the lane recovers and every event of the key arrives, in order", async () => {
  hookbus = await TestHookbus.start({ worker: false, env: { HOOKBUS_RECONCILE_AFTER: "2s" } });
  const ordered = await recordingReceiver(() => ({ status: 200, delayMs: 300 }));
  await hookbus.createSubscription({ url: ordered.receiver.url, eventTypes: ["survey.submitted"], ordering: "key", timeoutMs: 1000 });
  const doomed = spawnWorker(hookbus.config);
  try {
    for (let n = 1; n <= 10; n++) await hookbus.publish(eventOf("k", n));
    await ordered.receiver.waitForRequests(3);
  } finally {
    doomed.child.kill("SIGKILL");
  }
  expect(await doomed.exited).toBe("SIGKILL");
  await hookbus.startWorker();

  await waitFor(() => new Set(ordered.receiver.requests.map((r) => placeOf(r).n)).size === 10, "all 10 events", 60_000, 100);
  expectInOrder(ordered.receiver.requests, ordered.statuses, 1, 10);
});

test("a lane whose wake-up was lost (its head finished by a process that died before waking the next) is recovered", async () => {
  hookbus = await TestHookbus.start({ worker: false, env: { HOOKBUS_RECONCILE_AFTER: "1s" } });
  await hookbus.startWorker({ maintenance: { intervalMs: 100 } });
  const ordered = await recordingReceiver((request) => ({ status: placeOf(request).n === 1 ? 500 : 200 }));
  // The head fails and would be retried in an hour: the next waits behind it.
  await hookbus.createSubscription({ url: ordered.receiver.url, eventTypes: ["survey.submitted"], ordering: "key", retrySchedule: ["1h"] });
  const first = await hookbus.publish(eventOf("k", 1));
  const second = await hookbus.publish(eventOf("k", 2));
  const [head] = await hookbus.deliveriesOf(first.body.id);
  const [next] = await hookbus.deliveriesOf(second.body.id);
  await hookbus.deliveryWithStatus(head.id, "retrying");
  expect(ordered.receiver.requests.map((r) => placeOf(r).n)).toEqual([1]);

  // Finished as a process that died before waking the next would leave it: recorded, nothing woken.
  const { deliveries } = hookbus.context();
  const { nextInLane } = await deliveries.deadLetter(await deliveries.get(head.id), "finished by hand");
  expect(nextInLane?.deliveryId).toBe(next.id);

  await hookbus.deliveryWithStatus(next.id, "delivered");
  expect(ordered.receiver.requests.map((r) => placeOf(r).n)).toEqual([1, 2]);
});

test("events without an ordering key, and subscriptions stored before ordering existed, are delivered as before: at once, in no lane", async () => {
  hookbus = await TestHookbus.start();
  const receiver = await receivers.start(() => ({ status: 200, delayMs: 300 }));
  const subscription = await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], ordering: "key" });
  const legacy = await receivers.start(() => ({ status: 200, delayMs: 300 }));
  const old = await hookbus.createSubscription({ url: legacy.url, eventTypes: ["survey.submitted"] });
  // As a version before ordering stored it: no such field.
  const { keys, redis } = hookbus.context();
  const raw = JSON.parse((await redis.get(keys.subscription(old.id)))!) as Record<string, unknown>;
  delete raw.ordering;
  await redis.set(keys.subscription(old.id), JSON.stringify(raw));
  await redis.incr(keys.subscriptionsVersion());
  expect((await hookbus.api("GET", `/v1/subscriptions/${old.id}`)).body.ordering).toBe("none");

  // With no key, nothing holds them back: sent side by side. With a key, the old subscription does not order them.
  for (let n = 1; n <= 5; n++) await hookbus.publish(surveySubmitted(`none#${n}`));
  for (let n = 1; n <= 5; n++) await hookbus.publish(eventOf("k", n));
  await receiver.waitForRequests(10);
  await legacy.waitForRequests(10);
  expect(receiver.maxInFlight).toBeGreaterThan(1);
  expect(legacy.maxInFlight).toBeGreaterThan(1);
  expect(await hookbus.keysMatching(`sub:${old.id}:lane:*`)).toEqual([]);
  // The ordered one's lane empties as its last delivery finishes.
  await waitFor(
    async () => (await hookbus.redisCommand("EXISTS", keys.lane(subscription.id, "k", keys.partitionOfOrderingKey("k")))) === 0,
    "the lane to empty",
  );
});

test("an ordering key is 1 to 256 characters, and ordering is none or key: anything else is 422", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  for (const orderingKey of ["", "x".repeat(257), 7]) {
    const answer = await hookbus.publish({ ...surveySubmitted(), orderingKey });
    expect(answer.status).toBe(422);
    expect(answer.body.issues[0].path).toEqual(["orderingKey"]);
  }
  const batch = await hookbus.api(
    "POST",
    "/v1/events/batch",
    { events: [{ ...surveySubmitted(), orderingKey: "" }] },
    hookbus.config.publisherKey,
  );
  expect(batch.body.items[0].issues[0].path).toEqual(["orderingKey"]);
  const refused = await hookbus.api("POST", "/v1/subscriptions", {
    url: "http://127.0.0.1:1/",
    eventTypes: ["survey.submitted"],
    ordering: "fifo",
  });
  expect(refused.status).toBe(422);
  expect(refused.body.issues[0].path).toEqual(["ordering"]);
});

test("erasing the participant of a lane's stuck first delivery lets the next of its key go on at once", async () => {
  hookbus = await TestHookbus.start();
  const alice = distinctiveParticipant("ALICE");
  const bob = distinctiveParticipant("BOB");
  // Alice's event is refused and waits an hour for its retry; Bob's, behind it in the lane, is accepted.
  const endpoint = await receivers.start((request) => ({ status: request.body.includes(alice.participantId) ? 500 : 200 }));
  await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["survey.submitted"], ordering: "key", retrySchedule: ["1h"] });
  const first = await hookbus.publish({ ...surveyOf(alice), orderingKey: "site-7" });
  const [aliceDelivery] = await hookbus.deliveriesOf(first.body.id);
  await hookbus.deliveryWithStatus(aliceDelivery.id, "retrying");
  const second = await hookbus.publish({ ...surveyOf(bob), orderingKey: "site-7" });
  const [bobDelivery] = await hookbus.deliveriesOf(second.body.id);
  expect(endpoint.requests).toHaveLength(1);

  await hookbus.client.erasures.create({ participantId: alice.participantId });
  await hookbus.deliveryWithStatus(bobDelivery.id, "delivered", 5_000);
  expect(endpoint.requests.map((r) => r.body.includes(bob.participantId))).toEqual([false, true]);
});
