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
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["schedule.triggered"] });
});
afterEach(async () => {
  await killWorkers();
});
afterAll(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

/** Three worker processes, once each takes schedule wake-ups. */
async function startWorkers(): Promise<void> {
  workers = [1, 2, 3].map(() => spawnWorker(hookbus.config));
  await waitFor(async () => (await hookbus.context().queues.schedule.getWorkersCount()) >= 3, "three workers taking wake-ups", 30_000, 100);
}

async function killWorkers(): Promise<void> {
  for (const worker of workers) worker.child.kill("SIGKILL");
  await Promise.all(workers.map((w) => w.exited));
  workers = [];
}

/** The planned times the receiver was sent for one schedule, each as often as it came. */
function deliveredTimes(scheduleId: string): string[] {
  return receiver.requests
    .map((r) => (JSON.parse(r.body) as { data: { scheduleId: string; triggeredAt: string } }).data)
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

/** The planned seconds between a schedule's first and last fire that it did not fire. */
function gaps(fires: { planned: number }[]): number {
  const first = fires[0]!.planned;
  const last = fires[fires.length - 1]!.planned;
  return (last - first) / 1000 + 1 - fires.length;
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
  const [last, none, all] = read.map((s) => firesOf(s.recentFires));

  // none: a gap of at least four planned times, and every fire made on time.
  expect(gaps(none!)).toBeGreaterThanOrEqual(4);
  expect(none!.filter((f) => f.lagMs >= 1000)).toEqual([]);
  // last: one fire made up for the gap, late; the gap one shorter than none's would be.
  const madeUp = last!.filter((f) => f.lagMs >= 1000);
  expect(madeUp).toHaveLength(1);
  expect(gaps(last!)).toBeGreaterThanOrEqual(3);
  expect(last!.some((f) => f.planned === madeUp[0]!.planned - 1000)).toBe(false);
  // all: no gap; each missed one made up, late, published in planned order.
  expect(gaps(all!)).toBe(0);
  expect(all!.filter((f) => f.lagMs >= 1000).length).toBeGreaterThanOrEqual(4);
  expect(all!.map((f) => f.eventId)).toEqual(all!.map((f) => f.eventId).sort());

  // Every fire of each delivered exactly once.
  for (const [i, id] of ids.entries()) {
    const fired = read[i]!.recentFires.map((f) => f.plannedAt).sort();
    await waitFor(() => deliveredTimes(id).length >= read[i]!.fires, `the deliveries of ${id}`);
    expect(deliveredTimes(id).slice(-fired.length)).toEqual(fired);
    expect(new Set(deliveredTimes(id)).size).toBe(deliveredTimes(id).length);
  }
  for (const id of ids) await hookbus.api("DELETE", `/v1/schedules/${id}`);
});
