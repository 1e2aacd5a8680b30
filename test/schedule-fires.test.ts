import { restoreLostTimers } from "@hookbus/core/flows";
import { clearScheduleTimer } from "@hookbus/core/queue";
import type { ScheduleFireView, ScheduleView } from "@hookbus/schemas";
import { checkInSchedule, clockPast, wholeSecondAfter } from "./fixtures/schedules.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { spawnWorker } from "./support/processes.js";
import { ReceiverPool, type TestReceiver } from "./support/receiver.js";

let hookbus: TestHookbus;
let receiver: TestReceiver;
const receivers = new ReceiverPool();
let workers: ReturnType<typeof spawnWorker>[] = [];

beforeAll(async () => {
  hookbus = await TestHookbus.start({ worker: false });
  receiver = await receivers.start();
  // A short timeout: an attempt a killed worker left is sent again once its lease (the timeout and a margin) lapses.
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["schedule.triggered"], timeoutMs: 2000 });
});
afterEach(async () => {
  await killWorkers();
});
afterAll(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

/**
 * Three worker processes, once each takes schedule wake-ups. A job a killed worker held is taken
 * over once its lock lapses: a short lock makes that seconds, not the default half minute.
 */
async function startWorkers(): Promise<void> {
  workers = [1, 2, 3].map(() => spawnWorker(hookbus.config, { HOOKBUS_JOB_LOCK: "2s" }));
  await waitFor(async () => (await hookbus.context().queues.schedule.getWorkersCount()) >= 3, "three workers taking wake-ups", 30_000, 100);
}

async function killWorkers(): Promise<void> {
  for (const worker of workers) worker.child.kill("SIGKILL");
  await Promise.all(workers.map((w) => w.exited));
  workers = [];
}

/**
 * The planned times the receiver was sent for one schedule, once per delivery (webhook-id): a
 * worker killed after sending, before recording, has its attempt sent again under the same id.
 */
function deliveredTimes(scheduleId: string): string[] {
  const byDelivery = new Map(
    receiver.requests.map((r) => [
      r.headers["webhook-id"],
      (JSON.parse(r.body) as { data: { scheduleId: string; triggeredAt: string } }).data,
    ]),
  );
  return [...byDelivery.values()]
    .filter((data) => data.scheduleId === scheduleId)
    .map((data) => data.triggeredAt)
    .sort();
}

async function create(body: Record<string, unknown>): Promise<ScheduleView> {
  const made = await hookbus.api("POST", "/v1/schedules", body);
  expect(made.status).toBe(201);
  return made.body as ScheduleView;
}

test("three workers, a schedule every second for ten seconds: ten fires, each planned time once, each delivered once", async () => {
  await startWorkers();
  const startAt = wholeSecondAfter(1000);
  const schedule = await create(
    checkInSchedule({ every: "1s", startAt: new Date(startAt).toISOString(), endAt: new Date(startAt + 9500).toISOString() }),
  );
  const ended = await waitFor(
    async () => {
      const read = await hookbus.client.schedules.get(schedule.id);
      return read.status === "ended" && read;
    },
    "the schedule's end",
    20_000,
  );
  const planned = Array.from({ length: 10 }, (_, i) => new Date(startAt + i * 1000).toISOString());
  expect(ended.fires).toBe(10);
  expect(ended.recentFires.map((f) => f.plannedAt).sort()).toEqual(planned);
  await waitFor(() => deliveredTimes(schedule.id).length >= 10, "ten deliveries");
  await clockPast(Date.now() + 1000);
  expect(deliveredTimes(schedule.id)).toEqual(planned);
});

/** A schedule's fires in planned order, with how late each was made. */
function firesOf(fires: ScheduleFireView[]) {
  return fires
    .map((f) => ({ eventId: f.eventId, planned: Date.parse(f.plannedAt), lagMs: Date.parse(f.firedAt) - Date.parse(f.plannedAt) }))
    .sort((a, b) => a.planned - b.planned);
}

/**
 * What a schedule fired for the planned times its workers' outage made it miss: those after the
 * kill and before its first fire on time again (the newest due when the workers were back). Fires
 * made late after that, by a worker slowed down by this shared machine, are not the outage's.
 */
function outage(fires: { planned: number; lagMs: number; eventId: string }[], killedAt: number) {
  const backOnTime = fires.find((f) => f.planned > killedAt && f.lagMs < 1000)!.planned;
  const firstMissed = Math.floor(killedAt / 1000) * 1000 + 1000;
  return {
    missed: (backOnTime - firstMissed) / 1000,
    backOnTime,
    fired: fires.filter((f) => f.planned > killedAt && f.planned < backOnTime),
  };
}

test("every worker killed for 5 s: catchUp last makes one fire up, none none, all each in order", async () => {
  await startWorkers();
  const startAt = new Date(wholeSecondAfter(1000)).toISOString();
  // One rhythm for the three, so that they miss the same planned times.
  const schedules = {
    last: await create(checkInSchedule({ every: "1s", startAt, catchUp: "last" }, 1)),
    none: await create(checkInSchedule({ every: "1s", startAt, catchUp: "none" }, 2)),
    all: await create(checkInSchedule({ every: "1s", startAt, catchUp: "all" }, 3)),
  };
  const ids = Object.values(schedules).map((s) => s.id);
  await waitFor(() => ids.every((id) => deliveredTimes(id).length >= 2), "two fires of each");
  await killWorkers();
  const killedAt = Date.now();
  await clockPast(killedAt + 5000);
  await startWorkers();
  const restartedAt = Date.now();
  // Each has fired twice on time since the restart.
  const read = await waitFor(
    async () => {
      const all = await Promise.all(ids.map((id) => hookbus.client.schedules.get(id)));
      return all.every((s) => Date.parse(s.lastFiredAt!) >= restartedAt + 1000) && all;
    },
    "fires after the restart",
    20_000,
  );

  const [last, none, all] = read.map((s) => outage(firesOf(s.recentFires), killedAt));
  // Five seconds and a restart: at least four planned times missed by each.
  for (const missed of [last, none, all]) expect(missed!.missed).toBeGreaterThanOrEqual(4);
  // none: nothing made up.
  expect(none!.fired).toEqual([]);
  // last: one fire, for the newest planned time missed, made late.
  expect(last!.fired).toHaveLength(1);
  expect(last!.fired[0]!.lagMs).toBeGreaterThanOrEqual(1000);
  expect(last!.fired[0]!.planned).toBe(last!.backOnTime - 1000);
  // all: each missed one made up, late, published in planned order.
  expect(all!.fired).toHaveLength(all!.missed);
  for (const fire of all!.fired) expect(fire.lagMs).toBeGreaterThanOrEqual(1000);
  expect(all!.fired.map((f) => f.eventId)).toEqual(all!.fired.map((f) => f.eventId).sort());

  // Every fire of each delivered exactly once (the schedules fire on meanwhile: later ones are left out).
  for (const [i, id] of ids.entries()) {
    const fired = read[i]!.recentFires.map((f) => f.plannedAt).sort();
    const inRange = () => deliveredTimes(id).filter((t) => t >= fired[0]! && t <= fired[fired.length - 1]!);
    await waitFor(() => inRange().length >= fired.length, `the deliveries of ${id}`, 30_000);
    expect(inRange()).toEqual(fired);
    expect(new Set(deliveredTimes(id)).size).toBe(deliveredTimes(id).length);
  }
  for (const id of ids) await hookbus.api("DELETE", `/v1/schedules/${id}`);
});

test("a schedule whose timer was lost gets it back from the upkeep, and makes up what it missed by its catchUp", async () => {
  await startWorkers();
  const schedule = await create(checkInSchedule({ every: "1s", catchUp: "last" }, 4));
  await waitFor(() => deliveredTimes(schedule.id).length >= 1, "a first fire");
  // The timer lost as BullMQ loses it when Redis refuses its next job: no wake-up comes any more.
  await clearScheduleTimer(hookbus.context().queues, schedule.id);
  const lostAt = Date.now();
  await clockPast(lostAt + 2000);
  const firesWhileLost = (await hookbus.client.schedules.get(schedule.id)).fires;

  // The upkeep, taking a timer as lost once a planned time is a second past with no wake-up (two minutes by default).
  expect(await restoreLostTimers(hookbus.context(), 1000)).toBe(1);
  // Woken, it makes up the newest missed time, and its timer fires on time again.
  const read = await waitFor(
    async () => {
      const now = await hookbus.client.schedules.get(schedule.id);
      return now.fires >= firesWhileLost + 3 && now;
    },
    "fires after the timer came back",
    20_000,
  );
  const afterLoss = read.recentFires.filter((f) => Date.parse(f.plannedAt) > lostAt);
  expect(afterLoss.length).toBeGreaterThanOrEqual(2);
  // catchUp last: the newest planned time missed while the timer was gone is made up, late.
  expect(afterLoss.some((f) => Date.parse(f.firedAt) - Date.parse(f.plannedAt) >= 1000)).toBe(true);
  // Nothing else to restore: its wake-ups come again (a planned time ten seconds past would be a loss).
  expect(await restoreLostTimers(hookbus.context(), 10_000)).toBe(0);
  await hookbus.api("DELETE", `/v1/schedules/${schedule.id}`);
});
