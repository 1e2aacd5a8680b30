import type { Subscription } from "@hookbus/core/policy";
import type { HookbusContext } from "@hookbus/core/runtime";
import { LEASE_MARGIN_MS, type ParkedJob } from "@hookbus/core/store";
import { surveySubmitted } from "./fixtures/events.js";
import { TestHookbus } from "./support/harness.js";
import { TestReceiver } from "./support/receiver.js";

let hookbus: TestHookbus;
let context: HookbusContext;

beforeEach(async () => {
  hookbus = await TestHookbus.start({ worker: false });
  context = hookbus.context();
});

afterEach(async () => {
  await hookbus.stop();
});

/** A subscription and `count` deliveries to it, made as routing makes them, nothing attempted. */
async function deliveriesTo(body: Record<string, unknown>, count: number): Promise<{ subscription: Subscription; ids: string[] }> {
  const created = await hookbus.createSubscription({ url: "http://127.0.0.1:9/", eventTypes: ["survey.submitted"], ...body });
  const subscription = await context.subscriptions.get(created.id);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { event } = await context.events.store(surveySubmitted());
    const [routed] = await context.deliveries.route(event, [subscription]);
    ids.push(routed!.deliveryId);
  }
  return { subscription, ids };
}

const jobOf = (deliveryId: string): ParkedJob => ({ queue: "deliver", jobId: deliveryId, deliveryId });
const fresh = (id: string) => ({ id, attemptCount: 0 });
/** A caller's own delivery waiting for a slot, parked at the gate or not, as a release names it. */
const parkedHere = (id: string) => ({ delivery: fresh(id), parked: true });
const waitingUnparked = (id: string) => ({ delivery: fresh(id), parked: false });

test("a parked delivery that takes the slot on its own timer leaves the parked set: the slot it frees goes to the next one waiting, not to itself", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 1, timeoutMs: 1000 }, 4);
  const [crashed, a, b, c] = ids as [string, string, string, string];
  const leaseMs = subscription.timeoutMs + LEASE_MARGIN_MS;
  const t0 = Date.now();
  // A worker takes the only slot and dies holding it; three deliveries park behind it.
  expect(await context.endpoints.enter(subscription, fresh(crashed), jobOf(crashed), undefined, t0)).toEqual({ go: true });
  for (const [i, id] of [a, b, c].entries()) {
    expect(await context.endpoints.enter(subscription, fresh(id), jobOf(id), undefined, t0 + 1 + i)).toMatchObject({ why: "at_capacity" });
  }
  // Its lease lapses; `a` wakes on its own timer and takes the slot.
  const later = t0 + leaseMs + 10;
  expect(await context.endpoints.enter(subscription, fresh(a), jobOf(a), undefined, later)).toEqual({ go: true });
  const released = await context.endpoints.leave(subscription, a, "ok", later + 5);
  expect(released.handedOff.map((job) => job.deliveryId)).toEqual([b]);
  // `b` comes for the slot it was handed; `c` still waits for one.
  expect(await context.endpoints.enter(subscription, fresh(b), jobOf(b), undefined, later + 6)).toEqual({ go: true });
  expect(await context.endpoints.enter(subscription, fresh(c), jobOf(c), undefined, later + 7)).toMatchObject({ why: "at_capacity" });
  expect((await context.endpoints.leave(subscription, b, "ok", later + 8)).handedOff.map((job) => job.deliveryId)).toEqual([c]);
});

test("a parked delivery that becomes the half-open probe leaves the parked set: its release hands the slot on", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 5, timeoutMs: 1000 }, 3);
  const [probe, a, b] = ids as [string, string, string];
  const leaseMs = subscription.timeoutMs + LEASE_MARGIN_MS;
  const t0 = Date.now();
  await context.redis.hset(context.keys.endpointHealth(subscription.id), "openUntil", t0 - 1, "failures", 5, "cooldown", 30_000);
  // Half-open: one probe at a time, the others park behind it.
  expect(await context.endpoints.enter(subscription, fresh(probe), jobOf(probe), undefined, t0)).toEqual({ go: true });
  expect(await context.endpoints.enter(subscription, fresh(a), jobOf(a), undefined, t0 + 1)).toMatchObject({ why: "at_capacity" });
  expect(await context.endpoints.enter(subscription, fresh(b), jobOf(b), undefined, t0 + 2)).toMatchObject({ why: "at_capacity" });
  // The probe's worker dies; `a` wakes on its own timer and is the probe now.
  const later = t0 + leaseMs + 10;
  expect(await context.endpoints.enter(subscription, fresh(a), jobOf(a), undefined, later)).toEqual({ go: true });
  const released = await context.endpoints.leave(subscription, a, "ok", later + 5);
  expect(released.handedOff.map((job) => job.deliveryId)).toEqual([b]);
});

test("a delivery is claimed by one attempt at a time, and not at all once it moved on from the attempt count its caller loaded", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 10 }, 1);
  const [id] = ids as [string];
  expect(await context.endpoints.enter(subscription, fresh(id), jobOf(id))).toEqual({ go: true });
  expect(await context.endpoints.enter(subscription, fresh(id), jobOf(id))).toMatchObject({ go: false, why: "attempt_running" });
  const delivery = (await context.deliveries.getMany([id]))[0]!;
  await context.deliveries.recordAttempt(delivery, { at: Date.now(), statusCode: 500, durationMs: 1 }, "retrying", Date.now() + 10_000);
  await context.endpoints.leave(subscription, id, "fail");
  expect(await context.endpoints.enter(subscription, fresh(id), jobOf(id))).toMatchObject({ go: false, why: "stale" });
  expect(await context.endpoints.enter(subscription, { id, attemptCount: 1 }, jobOf(id))).toEqual({ go: true });
});

test("a release claims the caller's own parked delivery whose turn comes, unless it moved on; another's is handed the slot", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 1 }, 4);
  const [running, own, moved, other] = ids as [string, string, string, string];
  expect(await context.endpoints.enter(subscription, fresh(running), jobOf(running))).toEqual({ go: true });
  for (const id of [own, moved, other])
    expect(await context.endpoints.enter(subscription, fresh(id), jobOf(id))).toMatchObject({ why: "at_capacity" });

  // The caller names its own two waiting deliveries: the first in line is claimed for it.
  const first = await context.endpoints.leave(subscription, running, "ok", Date.now(), [parkedHere(own), parkedHere(moved)]);
  expect(first).toMatchObject({ claimedForCaller: [own], handedOff: [] });
  expect(await context.endpoints.enter(subscription, fresh(own), jobOf(own))).toMatchObject({ why: "attempt_running" });

  // The next in line was attempted elsewhere meanwhile: it is handed the slot (its own look at the gate finds it stale), not claimed.
  const movedOn = (await context.deliveries.getMany([moved]))[0]!;
  await context.deliveries.recordAttempt(movedOn, { at: Date.now(), statusCode: 200, durationMs: 1 }, "delivered");
  const second = await context.endpoints.leave(subscription, own, "ok", Date.now(), [parkedHere(moved)]);
  expect(second).toMatchObject({ claimedForCaller: [], handedOff: [jobOf(moved)] });
  // Its look at the gate finds it stale and hands the slot on to the next in line, another process's.
  expect(await context.endpoints.enter(subscription, fresh(moved), jobOf(moved))).toMatchObject({
    why: "stale",
    handedOff: [jobOf(other)],
  });
});

test("a caller's delivery that waits unparked, behind the caller's own attempts, gets a freed slot only once no parked delivery is left", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 1 }, 4);
  const [running, parked, unparked, gone] = ids as [string, string, string, string];
  expect(await context.endpoints.enter(subscription, fresh(running), jobOf(running))).toEqual({ go: true });
  expect(await context.endpoints.enter(subscription, fresh(parked), jobOf(parked))).toMatchObject({ why: "at_capacity" });

  // Another process's delivery parked first: it is handed the slot, although the caller's waits too.
  const first = await context.endpoints.leave(subscription, running, "ok", Date.now(), [waitingUnparked(unparked)]);
  expect(first).toMatchObject({ claimedForCaller: [], handedOff: [jobOf(parked)] });
  expect(await context.endpoints.enter(subscription, fresh(parked), jobOf(parked))).toEqual({ go: true });

  // None is parked now: the caller's first that can still be attempted is claimed, one attempted elsewhere meanwhile is not.
  const attemptedElsewhere = (await context.deliveries.getMany([gone]))[0]!;
  await context.deliveries.recordAttempt(attemptedElsewhere, { at: Date.now(), statusCode: 200, durationMs: 1 }, "delivered");
  const second = await context.endpoints.leave(subscription, parked, "ok", Date.now(), [waitingUnparked(gone), waitingUnparked(unparked)]);
  expect(second).toMatchObject({ claimedForCaller: [unparked], handedOff: [] });
  expect(await context.endpoints.enter(subscription, fresh(unparked), jobOf(unparked))).toMatchObject({ why: "attempt_running" });
});

test("a slot the previous version handed to a parked delivery (kept among the attempts in flight) still delivers it, once, when that lease ends", async () => {
  const receiver = await TestReceiver.start();
  try {
    const { subscription, ids } = await deliveriesTo({ url: receiver.url, maxInFlight: 1, timeoutMs: 1000 }, 1);
    const [id] = ids as [string];
    // What the previous version's release left: the parked delivery's id among the attempts in
    // flight, leased for the subscription's timeout plus the margin, and its job woken.
    const leaseEnd = Date.now() + 1000 + LEASE_MARGIN_MS;
    await context.redis.zadd(context.keys.endpointInFlight(subscription.id), leaseEnd, id);
    await context.queues.deliver.add(
      "deliver",
      { deliveryId: id, eventId: (await context.deliveries.get(id)).eventId, subscriptionId: subscription.id },
      { jobId: id },
    );
    await hookbus.startWorker();
    const [request] = await receiver.waitForRequests(1, 20_000);
    expect(request!.headers["webhook-id"]).toBe(id);
    expect(request!.at).toBeGreaterThanOrEqual(leaseEnd - 50);
    await hookbus.deliveryWithStatus(id, "delivered");
    expect(receiver.requests).toHaveLength(1);
  } finally {
    await receiver.stop();
  }
});
