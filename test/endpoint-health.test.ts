import { recordUpdated, surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool, type ReceivedRequest } from "./support/receiver.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

const gaps = (requests: ReceivedRequest[]) => requests.slice(1).map((r, i) => r.at - requests[i]!.at);

/** Waits until no job of the deliver queues is waiting, active or delayed: nothing more will be attempted. */
async function deliverQueuesIdle(): Promise<void> {
  await waitFor(async () => {
    const counts = await Promise.all(["deliver", "deliver-sync"].map((q) => hookbus.queueCounts(q)));
    return counts.every((c) => c.waiting + c.active + c.delayed === 0);
  }, "the deliver queues to be idle");
}

test("429 and 503 with Retry-After push the next attempt at least that far, past a shorter schedule", async () => {
  hookbus = await TestHookbus.start();
  const pauseUntil = () => new Date(Date.now() + 2000).toUTCString();
  const receiver = await receivers.start((_r, index) =>
    index === 0
      ? { status: 429, headers: { "retry-after": "2" } }
      : index === 1
        ? { status: 503, headers: { "retry-after": pauseUntil() } }
        : { status: 200 },
  );
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule: ["100ms", "100ms", "100ms"] });
  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  const delivered = await hookbus.deliveryWithStatus(id, "delivered", 20_000);
  expect(delivered.attempts.map((a: any) => a.statusCode)).toEqual([429, 503, 200]);
  const [afterSeconds, afterDate] = gaps(receiver.requests);
  expect(afterSeconds).toBeGreaterThanOrEqual(1950);
  // An HTTP date has one-second precision: at least the whole seconds it names.
  expect(afterDate).toBeGreaterThanOrEqual(1000);
});

test("410 Gone disables the subscription at once, announces it, and keeps the delivery until the subscription is enabled again", async () => {
  hookbus = await TestHookbus.start();
  let gone = true;
  const receiver = await receivers.start(() => ({ status: gone ? 410 : 200 }));
  const ops = await receivers.start();
  await hookbus.createSubscription({ url: ops.url, eventTypes: ["subscription.disabled"] });
  const subscription = await hookbus.createSubscription({
    url: receiver.url,
    eventTypes: ["survey.submitted"],
    retrySchedule: ["100ms", "100ms"],
  });

  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  const disabled = await waitFor(async () => {
    const body = (await hookbus.api("GET", `/v1/subscriptions/${subscription.id}`)).body;
    return body.enabled === false ? body : undefined;
  }, "the subscription to be disabled");
  expect(disabled).toMatchObject({ enabled: false, disabledReason: "gone", disabledAt: expect.any(String) });

  const [announcement] = await ops.waitForRequests(1);
  expect(JSON.parse(announcement!.body)).toMatchObject({
    type: "subscription.disabled",
    data: { subscriptionId: subscription.id, url: receiver.url, reason: "gone" },
  });

  // Nothing more is attempted, and the delivery is kept, not dead-lettered.
  await deliverQueuesIdle();
  expect(receiver.requests).toHaveLength(1);
  expect(await hookbus.delivery(id)).toMatchObject({ status: "retrying", attemptCount: 1 });
  expect((await hookbus.api("POST", `/v1/deliveries/${id}/replay`)).status).toBe(422);
  expect((await hookbus.api("POST", `/v1/subscriptions/${subscription.id}/test`, {})).status).toBe(422);

  gone = false;
  const enabled = await hookbus.api("PATCH", `/v1/subscriptions/${subscription.id}`, { enabled: true });
  expect(enabled.body).toMatchObject({ enabled: true });
  expect(enabled.body.disabledReason).toBeUndefined();
  const delivered = await hookbus.deliveryWithStatus(id, "delivered");
  expect(delivered.attempts.map((a: any) => a.statusCode)).toEqual([410, 200]);
  expect(receiver.requests.map((r) => r.headers["webhook-id"])).toEqual([id, id]);
});

test("an admin's disable stops retries at once and is announced; enabling it again delivers what was kept", async () => {
  hookbus = await TestHookbus.start();
  let up = false;
  const receiver = await receivers.start(() => ({ status: up ? 200 : 500 }));
  const ops = await receivers.start();
  await hookbus.createSubscription({ url: ops.url, eventTypes: ["subscription.disabled"] });
  const subscription = await hookbus.createSubscription({
    url: receiver.url,
    eventTypes: ["survey.submitted"],
    retrySchedule: ["300ms", "300ms", "300ms"],
  });
  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  await hookbus.deliveryWithStatus(id, "retrying");

  const patched = await hookbus.api("PATCH", `/v1/subscriptions/${subscription.id}`, { enabled: false });
  expect(patched.body).toMatchObject({ enabled: false, disabledReason: "admin" });
  const [announcement] = await ops.waitForRequests(1);
  expect(JSON.parse(announcement!.body).data).toMatchObject({ subscriptionId: subscription.id, reason: "admin" });

  await deliverQueuesIdle();
  const attemptsWhileDisabled = receiver.requests.length;
  expect(attemptsWhileDisabled).toBeLessThanOrEqual(2); // the first, and one already in flight at the PATCH at most
  expect((await hookbus.delivery(id)).status).toBe("retrying");
  // Events published while it is disabled do not reach it.
  const later = await hookbus.publish(surveySubmitted("Weekly"));
  await waitFor(() => hookbus.routed(later.body.id), "the event to be routed");
  expect((await hookbus.api("GET", `/v1/events/${later.body.id}`)).body.deliveries).toEqual([]);
  await deliverQueuesIdle();
  expect(receiver.requests).toHaveLength(attemptsWhileDisabled);

  up = true;
  await hookbus.api("PATCH", `/v1/subscriptions/${subscription.id}`, { enabled: true });
  await hookbus.deliveryWithStatus(id, "delivered");
  expect(ops.requests).toHaveLength(1);
});

test("a circuit opens after consecutive failures: deliveries wait without spending attempts, then one probe closes it", async () => {
  hookbus = await TestHookbus.start({ env: { HOOKBUS_CIRCUIT_FAILURES: "3", HOOKBUS_CIRCUIT_COOLDOWN: "1500ms" } });
  let up = false;
  const receiver = await receivers.start(() => ({ status: up ? 200 : 500 }));
  const subscription = await hookbus.createSubscription({
    url: receiver.url,
    eventTypes: ["record.updated"],
    retrySchedule: Array(5).fill("50ms"),
    maxInFlight: 1,
  });
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push((await hookbus.publish(recordUpdated(`f${i}`))).body.id);

  const open = await waitFor(async () => {
    const body = (await hookbus.api("GET", `/v1/subscriptions/${subscription.id}`)).body;
    return body.health.circuit === "open" ? body.health : undefined;
  }, "the circuit to open");
  expect(open).toMatchObject({ circuit: "open", consecutiveFailures: 3, openUntil: expect.any(String) });
  const attemptsWhenOpened = receiver.requests.length;
  expect(attemptsWhenOpened).toBe(3);

  up = true;
  const deliveries = (await Promise.all(ids.map((id) => hookbus.deliveriesOf(id)))).flat();
  const delivered = await Promise.all(deliveries.map((d) => hookbus.deliveryWithStatus(d.id, "delivered")));
  // The first request after the cool-down is the probe; nothing was sent while the circuit was open.
  const probe = receiver.requests[attemptsWhenOpened]!;
  expect(probe.at - receiver.requests[attemptsWhenOpened - 1]!.at).toBeGreaterThanOrEqual(1400);
  // No delivery was dead-lettered, and none spent more attempts than it made while the endpoint was down.
  expect(delivered.reduce((sum, d) => sum + d.attemptCount, 0)).toBe(receiver.requests.length);
  expect((await hookbus.api("GET", `/v1/subscriptions/${subscription.id}`)).body.health).toEqual({
    circuit: "closed",
    consecutiveFailures: 0,
  });

  const metrics = await (await fetch(`http://127.0.0.1:${hookbus.workerMetricsPort}/metrics`)).text();
  expect(metrics).toMatch(/hookbus_delivery_waits_total\{reason="circuit_open",app="worker"\} [1-9]/);
});

test("a subscription that has only failed for HOOKBUS_DISABLE_AFTER is disabled as failing, and announced", async () => {
  hookbus = await TestHookbus.start({ env: { HOOKBUS_DISABLE_AFTER: "1s", HOOKBUS_CIRCUIT_FAILURES: "10000" } });
  const receiver = await receivers.start(() => ({ status: 500 }));
  const ops = await receivers.start();
  await hookbus.createSubscription({ url: ops.url, eventTypes: ["subscription.disabled"] });
  const subscription = await hookbus.createSubscription({
    url: receiver.url,
    eventTypes: ["survey.submitted"],
    retrySchedule: Array(20).fill("200ms"),
  });
  await hookbus.publish(surveySubmitted());
  const [announcement] = await ops.waitForRequests(1);
  expect(JSON.parse(announcement!.body).data).toMatchObject({ subscriptionId: subscription.id, reason: "failing" });
  const body = (await hookbus.api("GET", `/v1/subscriptions/${subscription.id}`)).body;
  expect(body).toMatchObject({ enabled: false, disabledReason: "failing" });
  const [first, ...rest] = receiver.requests;
  expect(rest.at(-1)!.at - first!.at).toBeGreaterThanOrEqual(1000);
});

test("a rate limit spaces an endpoint's attempts evenly, without spending attempts on the wait", async () => {
  hookbus = await TestHookbus.start();
  const receiver = await receivers.start();
  const subscription = await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"], ratePerSecond: 5 });
  expect(subscription).toMatchObject({ ratePerSecond: 5, maxInFlight: 10 });
  await Promise.all(Array.from({ length: 12 }, (_, i) => hookbus.publish(recordUpdated(`r${i}`))));
  const arrivals = (await receiver.waitForRequests(12)).map((r) => r.at).sort((a, b) => a - b);
  // 12 at 5 per second: 11 intervals of 200 ms, and no one-second window holds more than 5 (+1 at its edge).
  expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(2100);
  for (const start of arrivals) expect(arrivals.filter((t) => t >= start && t < start + 1000).length).toBeLessThanOrEqual(6);
  const deliveries = (await hookbus.api("GET", `/v1/deliveries?subscriptionId=${subscription.id}`)).body.items;
  expect(deliveries.every((d: any) => d.attemptCount === 1)).toBe(true);
});

test("the cap and the rate are validated, shown, and changed with PATCH", async () => {
  hookbus = await TestHookbus.start();
  const receiver = await receivers.start();
  const bad = await hookbus.api("POST", "/v1/subscriptions", {
    url: receiver.url,
    eventTypes: ["record.updated"],
    maxInFlight: 0,
    ratePerSecond: -1,
  });
  expect(bad.status).toBe(422);
  expect(bad.body.issues.map((i: any) => i.path[0]).sort()).toEqual(["maxInFlight", "ratePerSecond"]);
  const subscription = await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"] });
  expect(subscription).toMatchObject({ maxInFlight: 10, health: { circuit: "closed", consecutiveFailures: 0 } });
  expect(subscription.ratePerSecond).toBeUndefined();
  const patched = await hookbus.api("PATCH", `/v1/subscriptions/${subscription.id}`, { maxInFlight: 3, ratePerSecond: 20 });
  expect(patched.body).toMatchObject({ maxInFlight: 3, ratePerSecond: 20 });
  const cleared = await hookbus.api("PATCH", `/v1/subscriptions/${subscription.id}`, { ratePerSecond: null });
  expect(cleared.body.ratePerSecond).toBeUndefined();
});
