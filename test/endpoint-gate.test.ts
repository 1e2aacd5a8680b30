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
const parkedHere = (deliveryId: string) => ({ deliveryId, parked: true });
const waitingUnparked = (deliveryId: string) => ({ deliveryId, parked: false });
const leaseOf = (subscription: Subscription) => subscription.timeoutMs + LEASE_MARGIN_MS;

test("a parked delivery that takes the slot on its own timer leaves the parked set: the slot it frees goes to the next one waiting, not to itself", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 1, timeoutMs: 1000 }, 4);
  const [crashed, a, b, c] = ids as [string, string, string, string];
  const leaseMs = leaseOf(subscription);
  const t0 = Date.now();
  // A worker takes the only slot and dies holding it; three deliveries park behind it.
  expect(await context.endpoints.enter(subscription, jobOf(crashed), undefined, t0)).toEqual({ go: true });
  for (const [i, id] of [a, b, c].entries()) {
    expect(await context.endpoints.enter(subscription, jobOf(id), undefined, t0 + 1 + i)).toMatchObject({ why: "at_capacity" });
  }
  // Its lease lapses; `a` wakes on its own timer and takes the slot.
  const later = t0 + leaseMs + 10;
  expect(await context.endpoints.enter(subscription, jobOf(a), undefined, later)).toEqual({ go: true });
  const released = await context.endpoints.leave(subscription, a, "ok", { now: later + 5 });
  expect(released.handedOff.map((job) => job.deliveryId)).toEqual([b]);
  // `b` comes for the slot it was handed; `c` still waits for one.
  expect(await context.endpoints.enter(subscription, jobOf(b), undefined, later + 6)).toEqual({ go: true });
  expect(await context.endpoints.enter(subscription, jobOf(c), undefined, later + 7)).toMatchObject({ why: "at_capacity" });
  expect((await context.endpoints.leave(subscription, b, "ok", { now: later + 8 })).handedOff.map((job) => job.deliveryId)).toEqual([c]);
});

test("a parked delivery that becomes the half-open probe leaves the parked set: its release hands the slot on", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 5, timeoutMs: 1000 }, 3);
  const [probe, a, b] = ids as [string, string, string];
  const leaseMs = leaseOf(subscription);
  const t0 = Date.now();
  await context.redis.hset(context.keys.endpointHealth(subscription.id), "openUntil", t0 - 1, "failures", 5, "cooldown", 30_000);
  // Half-open: one probe at a time, the others park behind it.
  expect(await context.endpoints.enter(subscription, jobOf(probe), undefined, t0)).toEqual({ go: true });
  expect(await context.endpoints.enter(subscription, jobOf(a), undefined, t0 + 1)).toMatchObject({ why: "at_capacity" });
  expect(await context.endpoints.enter(subscription, jobOf(b), undefined, t0 + 2)).toMatchObject({ why: "at_capacity" });
  // The probe's worker dies; `a` wakes on its own timer and is the probe now.
  const later = t0 + leaseMs + 10;
  expect(await context.endpoints.enter(subscription, jobOf(a), undefined, later)).toEqual({ go: true });
  const released = await context.endpoints.leave(subscription, a, "ok", { now: later + 5 });
  expect(released.handedOff.map((job) => job.deliveryId)).toEqual([b]);
});

test("a delivery is claimed by one attempt at a time, and not at all once it moved on from the attempt count its caller loaded", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 10 }, 1);
  const [id] = ids as [string];
  const first = await context.claims.take(fresh(id), leaseOf(subscription));
  expect(first).toMatchObject({ go: true });
  const second = await context.claims.take(fresh(id), leaseOf(subscription));
  expect(second).toMatchObject({ go: false, why: "attempt_running" });
  expect((second as { until: number }).until).toBeGreaterThan(Date.now() + leaseOf(subscription) - 5_000);
  // Only its owner gives it back.
  await context.claims.drop(id, "someone else");
  expect(await context.claims.take(fresh(id), leaseOf(subscription))).toMatchObject({ why: "attempt_running" });
  // The attempt's record gives it back; the delivery has moved on from the count it was loaded at.
  const delivery = (await context.deliveries.getMany([id]))[0]!;
  const owner = (first as { owner: string }).owner;
  await context.deliveries.recordAttempt(
    delivery,
    { at: Date.now(), statusCode: 500, durationMs: 1 },
    "retrying",
    Date.now() + 10_000,
    owner,
  );
  expect(await context.claims.heldUntil(id)).toBeUndefined();
  expect(await context.claims.take(fresh(id), leaseOf(subscription))).toEqual({ go: false, why: "stale" });
  const third = await context.claims.take({ id, attemptCount: 1 }, leaseOf(subscription));
  expect(third).toMatchObject({ go: true });
  await context.claims.drop(id, (third as { owner: string }).owner);
  expect(await context.claims.take({ id, attemptCount: 1 }, leaseOf(subscription))).toMatchObject({ go: true });
});

test("an attempt holding a slot keeps another attempt of its delivery out of the gate until its lease ends", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 10 }, 1);
  const [id] = ids as [string];
  const t0 = Date.now();
  expect(await context.endpoints.enter(subscription, jobOf(id), undefined, t0)).toEqual({ go: true });
  expect(await context.endpoints.enter(subscription, jobOf(id), undefined, t0 + 1)).toMatchObject({
    why: "attempt_running",
    until: t0 + leaseOf(subscription),
  });
  expect(await context.endpoints.enter(subscription, jobOf(id), undefined, t0 + leaseOf(subscription) + 1)).toEqual({ go: true });
});

test("a release gives its slot to the caller's own parked delivery whose turn comes; another's is handed the slot", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 1 }, 4);
  const [running, own, moved, other] = ids as [string, string, string, string];
  expect(await context.endpoints.enter(subscription, jobOf(running))).toEqual({ go: true });
  for (const id of [own, moved, other])
    expect(await context.endpoints.enter(subscription, jobOf(id))).toMatchObject({ why: "at_capacity" });

  // The caller names its own two waiting deliveries: the first in line is given the slot.
  const first = await context.endpoints.leave(subscription, running, "ok", { waitingHere: [parkedHere(own), parkedHere(moved)] });
  expect(first).toMatchObject({ givenToCaller: [own], handedOff: [] });
  expect(await context.endpoints.enter(subscription, jobOf(own))).toMatchObject({ why: "attempt_running" });

  // The next in line was attempted elsewhere meanwhile: given the slot, its claim finds it stale,
  // and the slot it gives back goes to the next in line, another process's.
  const movedOn = (await context.deliveries.getMany([moved]))[0]!;
  await context.deliveries.recordAttempt(movedOn, { at: Date.now(), statusCode: 200, durationMs: 1 }, "delivered");
  const second = await context.endpoints.leave(subscription, own, "ok", { waitingHere: [parkedHere(moved)] });
  expect(second).toMatchObject({ givenToCaller: [moved], handedOff: [] });
  expect(await context.claims.take(fresh(moved), leaseOf(subscription))).toEqual({ go: false, why: "stale" });
  expect(await context.endpoints.leave(subscription, moved, "none")).toMatchObject({ givenToCaller: [], handedOff: [jobOf(other)] });
});

test("a caller's delivery that waits unparked, behind the caller's own attempts, gets a freed slot only once no parked delivery is left", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 1 }, 3);
  const [running, parked, unparked] = ids as [string, string, string];
  expect(await context.endpoints.enter(subscription, jobOf(running))).toEqual({ go: true });
  expect(await context.endpoints.enter(subscription, jobOf(parked))).toMatchObject({ why: "at_capacity" });

  // Another process's delivery parked first: it is handed the slot, although the caller's waits too.
  const first = await context.endpoints.leave(subscription, running, "ok", { waitingHere: [waitingUnparked(unparked)] });
  expect(first).toMatchObject({ givenToCaller: [], handedOff: [jobOf(parked)] });
  expect(await context.endpoints.enter(subscription, jobOf(parked))).toEqual({ go: true });

  // None is parked now: the caller's is given the slot.
  const second = await context.endpoints.leave(subscription, parked, "ok", { waitingHere: [waitingUnparked(unparked)] });
  expect(second).toMatchObject({ givenToCaller: [unparked], handedOff: [] });
  expect(await context.endpoints.enter(subscription, jobOf(unparked))).toMatchObject({ why: "attempt_running" });
});

test("a slot passed on at an attempt's answer is held by the delivery it went to; passing on stops while another delivery is parked", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 1 }, 4);
  const [first, passedTo, parked, later] = ids as [string, string, string, string];
  expect(await context.endpoints.enter(subscription, jobOf(first))).toEqual({ go: true });
  expect(await context.endpoints.leave(subscription, first, "ok", { passedTo })).toMatchObject({ mayPassOn: true, handedOff: [] });
  // The slot is the passed-to delivery's now: nobody else gets in, and it counts as running.
  expect(await context.endpoints.enter(subscription, jobOf(passedTo))).toMatchObject({ why: "attempt_running" });
  expect(await context.endpoints.enter(subscription, jobOf(parked))).toMatchObject({ why: "at_capacity" });

  // Another delivery parked: the release that passes the slot on says not to pass the next one on.
  expect(await context.endpoints.leave(subscription, passedTo, "ok", { passedTo: later })).toMatchObject({
    mayPassOn: false,
    handedOff: [],
  });
  // The release that frees the slot hands it to the parked one, first in line.
  expect(await context.endpoints.leave(subscription, later, "ok")).toMatchObject({ mayPassOn: true, handedOff: [jobOf(parked)] });
  expect(await context.endpoints.enter(subscription, jobOf(parked))).toEqual({ go: true });
});

test("a cap lowered while its slots are passed on stops the passing on: the next releases free slots down to the new cap", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 2 }, 4);
  const [a, b, c, d] = ids as [string, string, string, string];
  for (const id of [a, b]) expect(await context.endpoints.enter(subscription, jobOf(id))).toEqual({ go: true });
  const lowered = { ...subscription, maxInFlight: 1 };
  expect(await context.endpoints.leave(lowered, a, "ok", { passedTo: c })).toMatchObject({ mayPassOn: false });
  expect(await context.endpoints.leave(lowered, b, "ok")).toMatchObject({ mayPassOn: true });
  expect(await context.endpoints.enter(lowered, jobOf(d))).toMatchObject({ why: "at_capacity" });
});

test("a release that passed its slot on, reaching the gate after the release of the delivery it passed it to, takes no slot", async () => {
  const { subscription, ids } = await deliveriesTo({ maxInFlight: 1 }, 3);
  const [first, passedTo, next] = ids as [string, string, string];
  expect(await context.endpoints.enter(subscription, jobOf(first))).toEqual({ go: true });
  // The first release failed and was tried again, after the passed-to delivery's own release.
  await context.endpoints.leave(subscription, passedTo, "ok");
  await context.endpoints.leave(subscription, first, "ok", { passedTo });
  // Both attempts ended: the slot is free, not held by a finished attempt until its lease ends.
  expect(await context.endpoints.enter(subscription, jobOf(next))).toEqual({ go: true });
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
    await context.queues
      .of(id)
      .deliver.add(
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
