import { checkInSchedule, wholeSecondAfter } from "./fixtures/schedules.js";
import { TestHookbus, waitFor } from "./support/harness.js";

const SCHEDULES = 10_000;
const BATCH = 1000;

let hookbus: TestHookbus;

beforeAll(async () => {
  hookbus = await TestHookbus.start();
});
afterAll(async () => {
  await hookbus.stop();
});

/** The fire-lag histogram of the worker's /metrics: how many fires, and how many within each bound. */
async function fireLags(): Promise<{ count: number; within: Map<string, number>; sum: number }> {
  const text = await (await fetch(`http://127.0.0.1:${hookbus.workerMetricsPort}/metrics`)).text();
  const within = new Map(
    [...text.matchAll(/^hookbus_schedule_fire_lag_seconds_bucket\{le="([^"]+)",app="worker"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]),
  );
  const value = (name: string) =>
    Number(new RegExp(`^hookbus_schedule_fire_lag_seconds_${name}\\{app="worker"\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  return { count: value("count"), within, sum: value("sum") };
}

test("10,000 schedules due in the same minute all fire within that minute on one worker", async () => {
  // Far enough ahead for the batches to be made first, on a shared two-core machine.
  const due = wholeSecondAfter(20_000);
  const made = Date.now();
  for (let i = 0; i < SCHEDULES; i += BATCH) {
    const schedules = Array.from({ length: BATCH }, (_, j) =>
      checkInSchedule({ every: "1h", startAt: new Date(due).toISOString() }, i + j),
    );
    const answer = await hookbus.api("POST", "/v1/schedules/batch", { schedules });
    expect(answer.status).toBe(201);
    expect(answer.body.items.filter((item: { error?: string }) => item.error)).toEqual([]);
  }
  const madeInMs = Date.now() - made;
  expect(Date.now()).toBeLessThan(due);

  const lags = await waitFor(
    async () => {
      const seen = await fireLags();
      return seen.count >= SCHEDULES && seen;
    },
    "10,000 fires",
    due + 75_000 - Date.now(),
    1000,
  );
  expect(lags.count).toBe(SCHEDULES);
  // Every fire made within the minute after its planned time.
  expect(lags.within.get("60")).toBe(SCHEDULES);
  // Each schedule fired once, for its planned time.
  let listed = 0;
  for await (const schedule of hookbus.client.schedules.iterate()) {
    expect([schedule.fires, schedule.lastFiredAt]).toEqual([1, new Date(due).toISOString()]);
    listed++;
  }
  expect(listed).toBe(SCHEDULES);
  console.log(
    `${SCHEDULES} schedules made in ${madeInMs} ms; fired ${lags.within.get("5") ?? 0} within 5 s, ${lags.within.get("15") ?? 0} within 15 s, mean lag ${(lags.sum / lags.count).toFixed(2)} s`,
  );
});
