import type { ScheduleView, ScheduleWithFires } from "@hookbus/schemas";
import { checkInSchedule, clockPast, STUDY_GUID, wholeSecondAfter } from "./fixtures/schedules.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool, type TestReceiver } from "./support/receiver.js";

let hookbus: TestHookbus;
let receiver: TestReceiver;
const receivers = new ReceiverPool();

beforeAll(async () => {
  hookbus = await TestHookbus.start();
  receiver = await receivers.start();
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["schedule.triggered"] });
});
afterAll(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

/** What the receiver got from one schedule: each delivery's data. */
function deliveredFor(scheduleId: string): Record<string, string>[] {
  return receiver.requests
    .map((r) => (JSON.parse(r.body) as { data: Record<string, string> }).data)
    .filter((data) => data.scheduleId === scheduleId);
}

async function create(body: Record<string, unknown>): Promise<ScheduleView> {
  const made = await hookbus.api("POST", "/v1/schedules", body);
  expect(made.status).toBe(201);
  return made.body as ScheduleView;
}

describe("bad schedules get 422 with the zod issues", () => {
  test.each([
    ["an invalid cron", { cron: "61 * * * *" }, ["cron"], /not a valid cron/],
    ["a cron of six fields", { cron: "0 0 9 * * *" }, ["cron"], /five fields/],
    ["an unknown timezone", { cron: "0 9 * * *", timezone: "Mars/Olympus_Mons" }, ["timezone"], /IANA/],
    ["at in the past", { at: "2020-01-01T00:00:00Z" }, ["at"], /past/],
    ["two of cron/every/at", { cron: "0 9 * * *", every: "1h" }, ["every"], /exactly one of cron, every or at/],
    ["none of them", {}, [], /exactly one of cron, every or at/],
    ["an every under a second", { every: "500ms" }, ["every"], /at least 1s/],
    ["a timezone without cron", { every: "1h", timezone: "UTC" }, ["timezone"], /cron only/],
    ["an end before the start", { every: "1h", startAt: "2099-01-02T00:00:00Z", endAt: "2099-01-01T00:00:00Z" }, ["endAt"], /not after/],
  ])("%s", async (_, timing, path, message) => {
    const answer = await hookbus.api("POST", "/v1/schedules", { ...checkInSchedule({}), ...timing });
    expect(answer.status).toBe(422);
    expect(answer.body.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path, message: expect.stringMatching(message) })]),
    );
  });

  test("data that schedule.triggered does not allow", async () => {
    const body = checkInSchedule();
    const answer = await hookbus.api("POST", "/v1/schedules", { ...body, data: { ...body.data, surveyName: "x" } });
    expect(answer.status).toBe(422);
    expect(answer.body.issues[0].path).toEqual(["data"]);
  });
});

test("each fire is a schedule.triggered event delivered like a published one, with the schedule's id, name and planned time", async () => {
  const startAt = wholeSecondAfter(500);
  const schedule = await create(checkInSchedule({ every: "1s", startAt: new Date(startAt).toISOString() }));
  expect(schedule).toMatchObject({ status: "active", catchUp: "last", every: 1000, fires: 0, lastFiredAt: null });
  expect(schedule.nextFireAt).toBe(new Date(startAt).toISOString());

  const delivered = await waitFor(() => deliveredFor(schedule.id).length >= 2 && deliveredFor(schedule.id), "two fires delivered");
  expect(delivered[0]).toEqual({
    ...checkInSchedule().data,
    scheduleId: schedule.id,
    scheduleName: "Daily check-in",
    triggeredAt: new Date(startAt).toISOString(),
  });
  const read = (await hookbus.api("GET", `/v1/schedules/${schedule.id}`)).body as ScheduleWithFires;
  expect(read.fires).toBeGreaterThanOrEqual(2);
  expect(Date.parse(read.lastFiredAt!)).toBeGreaterThanOrEqual(startAt + 1000);
  expect(Date.parse(read.nextFireAt!)).toBeGreaterThan(Date.parse(read.lastFiredAt!));
  // The fires are listed newest first, each naming its event, whose deliveries are the receiver's.
  const [newest] = read.recentFires;
  expect(newest!.plannedAt).toBe(read.lastFiredAt);
  const event = await hookbus.client.events.get(read.recentFires[read.recentFires.length - 1]!.eventId);
  expect(event).toMatchObject({ type: "schedule.triggered", data: { triggeredAt: new Date(startAt).toISOString() } });
  expect(event.deliveries).toHaveLength(1);
  await hookbus.api("DELETE", `/v1/schedules/${schedule.id}`);
});

test("pause stops the fires; resume with catchUp none makes none up, with all each, in order", async () => {
  const startAt = new Date(wholeSecondAfter(500)).toISOString();
  const none = await create(checkInSchedule({ every: "1s", startAt, catchUp: "none" }, 1));
  const all = await create(checkInSchedule({ every: "1s", startAt, catchUp: "all" }, 2));
  await waitFor(() => deliveredFor(none.id).length >= 1 && deliveredFor(all.id).length >= 1, "a first fire of each");
  const paused = await Promise.all([none, all].map((s) => hookbus.api("POST", `/v1/schedules/${s.id}/pause`)));
  expect(paused.map((p) => [p.status, p.body.status, p.body.nextFireAt])).toEqual([
    [200, "paused", null],
    [200, "paused", null],
  ]);
  const firesAtPause = await Promise.all([none, all].map(async (s) => (await hookbus.client.schedules.get(s.id)).fires));
  await clockPast(Date.now() + 3500);
  // Paused, neither fired: what a run in flight at the pause made is counted already.
  expect(await Promise.all([none, all].map(async (s) => (await hookbus.client.schedules.get(s.id)).fires))).toEqual(firesAtPause);

  const resumedAt = Date.now();
  for (const s of [none, all]) expect((await hookbus.api("POST", `/v1/schedules/${s.id}/resume`)).body.status).toBe("active");
  const allFires = await waitFor(async () => {
    const read = await hookbus.client.schedules.get(all.id);
    return read.fires >= firesAtPause[1]! + 3 && read;
  }, "the missed fires made up");
  // All: the three or more seconds paused are made up, one event each, in planned order.
  const plannedTimes = allFires.recentFires.map((f) => Date.parse(f.plannedAt)).reverse();
  for (let i = 1; i < plannedTimes.length; i++) expect(plannedTimes[i]! - plannedTimes[i - 1]!).toBe(1000);
  // None: nothing made up; its first fire since is the newest due at the resume's wake-up, or a later one.
  await clockPast(resumedAt + 1500);
  const noneRead = await hookbus.client.schedules.get(none.id);
  const noneFires = noneRead.recentFires.map((f) => Date.parse(f.plannedAt)).reverse();
  const made = noneFires.slice(firesAtPause[0]!);
  expect(made.length).toBeGreaterThanOrEqual(1);
  expect(made[0]!).toBeGreaterThan(resumedAt - 1000);
  for (const fire of noneRead.recentFires) expect(Date.parse(fire.firedAt) - Date.parse(fire.plannedAt)).toBeLessThan(1000);
  for (const s of [none, all]) await hookbus.api("DELETE", `/v1/schedules/${s.id}`);

  // The worker counts the missed fires, made up (all's) and skipped (none's), and late fires as catch-up.
  const metrics = await (await fetch(`http://127.0.0.1:${hookbus.workerMetricsPort}/metrics`)).text();
  const counted = (series: string) => Number(new RegExp(`^${series} (\\d+)$`, "m").exec(metrics)?.[1] ?? 0);
  expect(counted('hookbus_schedule_fires_missed_total{outcome="made_up",app="worker"}')).toBeGreaterThanOrEqual(2);
  expect(counted('hookbus_schedule_fires_missed_total{outcome="skipped",app="worker"}')).toBeGreaterThanOrEqual(2);
  expect(counted('hookbus_schedule_fires_total{timing="catch_up",app="worker"}')).toBeGreaterThanOrEqual(2);
  expect(counted('hookbus_schedule_fires_total{timing="on_time",app="worker"}')).toBeGreaterThanOrEqual(2);
});

test("a deleted schedule fires no more and answers 404", async () => {
  const schedule = await create(checkInSchedule({ every: "1s" }, 3));
  await waitFor(() => deliveredFor(schedule.id).length >= 1, "a first fire");
  expect((await hookbus.api("DELETE", `/v1/schedules/${schedule.id}`)).status).toBe(204);
  const firesAtDelete = deliveredFor(schedule.id).length;
  await clockPast(Date.now() + 2500);
  // A fire in flight at the delete may still arrive; none after it.
  expect(deliveredFor(schedule.id).length).toBeLessThanOrEqual(firesAtDelete + 1);
  expect((await hookbus.api("GET", `/v1/schedules/${schedule.id}`)).status).toBe(404);
  expect(await hookbus.context().redis.exists(hookbus.context().keys.scheduleState(schedule.id))).toBe(0);
});

test("endAt and limit end a schedule: it fires no more, and says so", async () => {
  const startAt = wholeSecondAfter(500);
  const ending = await create(
    checkInSchedule({ every: "1s", startAt: new Date(startAt).toISOString(), endAt: new Date(startAt + 1500).toISOString() }, 4),
  );
  const limited = await create(checkInSchedule({ every: "1s", limit: 3 }, 5));
  for (const [schedule, fires] of [
    [ending, 2],
    [limited, 3],
  ] as const) {
    const ended = await waitFor(async () => {
      const read = await hookbus.client.schedules.get(schedule.id);
      return read.status === "ended" && read;
    }, `${schedule.id} ended`);
    expect(ended).toMatchObject({ fires, nextFireAt: null });
  }
  await clockPast(Date.now() + 1500);
  expect(deliveredFor(ending.id)).toHaveLength(2);
  expect(deliveredFor(limited.id)).toHaveLength(3);
});

test("an at schedule fires once, at its time; once past it may still be renamed, but not given a past time", async () => {
  const at = wholeSecondAfter(1000);
  const schedule = await create(checkInSchedule({ at: new Date(at).toISOString() }, 6));
  expect(schedule.nextFireAt).toBe(new Date(at).toISOString());
  const ended = await waitFor(async () => {
    const read = await hookbus.client.schedules.get(schedule.id);
    return read.status === "ended" && read;
  }, "the at schedule ended");
  expect(ended.recentFires).toHaveLength(1);
  expect(ended.recentFires[0]!.plannedAt).toBe(new Date(at).toISOString());
  await waitFor(() => deliveredFor(schedule.id).length === 1, "its one delivery");

  const renamed = await hookbus.api("PATCH", `/v1/schedules/${schedule.id}`, { name: "Week 1 check-in" });
  expect(renamed.status).toBe(200);
  expect(renamed.body).toMatchObject({ name: "Week 1 check-in", status: "ended", at: new Date(at).toISOString(), fires: 1 });
  const backdated = await hookbus.api("PATCH", `/v1/schedules/${schedule.id}`, { at: "2020-01-01T00:00:00Z" });
  expect(backdated.status).toBe(422);
  expect(backdated.body.issues).toEqual([expect.objectContaining({ path: ["at"], message: expect.stringMatching(/past/) })]);
});

test("PATCH changes the name the events carry, retimes from now, and clears a limit", async () => {
  const schedule = await create(checkInSchedule({ cron: "0 9 * * *", timezone: "America/New_York", limit: 5 }, 7));
  const patched = await hookbus.api("PATCH", `/v1/schedules/${schedule.id}`, { name: "Evening check-in", every: "1s", limit: null });
  expect(patched.status).toBe(200);
  expect(patched.body).toMatchObject({ name: "Evening check-in", every: 1000, status: "active" });
  expect(patched.body).not.toHaveProperty("cron");
  expect(patched.body).not.toHaveProperty("timezone");
  expect(patched.body).not.toHaveProperty("limit");
  const [fire] = await waitFor(() => deliveredFor(schedule.id).length >= 1 && deliveredFor(schedule.id), "a fire");
  expect(fire!.scheduleName).toBe("Evening check-in");
  const bad = await hookbus.api("PATCH", `/v1/schedules/${schedule.id}`, { timezone: "Nowhere/None" });
  expect(bad.status).toBe(422);
  const twoTimings = await hookbus.api("PATCH", `/v1/schedules/${schedule.id}`, { cron: "* * * * *", at: "2099-01-01T00:00:00Z" });
  expect(twoTimings.status).toBe(422);
  await hookbus.api("DELETE", `/v1/schedules/${schedule.id}`);
});

test("PATCH of a cron keeps its time zone unless it names another; PATCH of an every counts its periods from the change", async () => {
  const schedule = await create(checkInSchedule({ cron: "0 9 * * *", timezone: "America/New_York" }, 8));
  const recron = await hookbus.api("PATCH", `/v1/schedules/${schedule.id}`, { cron: "30 8 * * *" });
  expect(recron.status).toBe(200);
  expect(recron.body).toMatchObject({ cron: "30 8 * * *", timezone: "America/New_York" });
  // 08:30 in New York is 13:30 or 12:30 UTC, never 08:30.
  expect(new Date(recron.body.nextFireAt).getUTCHours()).toBeGreaterThanOrEqual(12);
  const rezoned = await hookbus.api("PATCH", `/v1/schedules/${schedule.id}`, { timezone: "Europe/London" });
  expect(rezoned.body).toMatchObject({ cron: "30 8 * * *", timezone: "Europe/London" });

  // An hourly rhythm counted from creation, an hour and a half ago, changed to every two hours now.
  const now = Date.now();
  const hourly = await create(checkInSchedule({ every: "1h", startAt: new Date(now - 90 * 60_000).toISOString() }, 9));
  const twoHourly = await hookbus.api("PATCH", `/v1/schedules/${hourly.id}`, { every: "2h" });
  expect(twoHourly.status).toBe(200);
  const nextFireAt = Date.parse(twoHourly.body.nextFireAt);
  expect(nextFireAt).toBeGreaterThanOrEqual(now + 2 * 3_600_000);
  expect(nextFireAt).toBeLessThan(Date.now() + 2 * 3_600_000 + 1000);
  for (const id of [schedule.id, hourly.id]) await hookbus.api("DELETE", `/v1/schedules/${id}`);
});

test("a batch makes each good schedule and refuses each bad one on its own", async () => {
  const answer = await hookbus.api("POST", "/v1/schedules/batch", {
    schedules: [checkInSchedule({ cron: "0 9 * * *" }, 8), checkInSchedule({ cron: "nope" }, 9), checkInSchedule({ every: "1d" }, 10)],
  });
  expect(answer.status).toBe(201);
  const [first, second, third] = answer.body.items;
  expect(first).toMatchObject({ cron: "0 9 * * *", timezone: "UTC", status: "active" });
  expect(second).toMatchObject({ error: "invalid schedule", issues: [expect.objectContaining({ path: ["cron"] })] });
  expect(third).toMatchObject({ every: 86_400_000 });
  expect((await hookbus.api("POST", "/v1/schedules/batch", { schedules: Array(1001).fill(checkInSchedule()) })).status).toBe(422);
  const listed = await hookbus.api("GET", "/v1/schedules?limit=500");
  expect(listed.body.items.map((s: ScheduleView) => s.id)).toEqual(expect.arrayContaining([first.id, third.id]));
});

test("a project's admin sees and changes only its own project's schedules", async () => {
  const made = await hookbus.api("POST", "/v1/projects", { name: "Sleep study", id: STUDY_GUID });
  expect(made.status).toBe(201);
  const other = await hookbus.api("POST", "/v1/projects", { name: "Other study" });
  const keyOf = async (projectId: string) =>
    (await hookbus.api("POST", `/v1/projects/${projectId}/keys`, { role: "admin", name: "coordinator" })).body.key as string;
  const [studyKey, otherKey] = [await keyOf(STUDY_GUID), await keyOf(other.body.id)];

  const own = await hookbus.api("POST", "/v1/schedules", checkInSchedule({ cron: "0 9 * * *" }, 11), studyKey);
  expect(own.status).toBe(201);
  expect(own.body.projectId).toBe(STUDY_GUID);
  // Another MyDataHelps project's participants are not this key's to schedule.
  const foreign = await hookbus.api("POST", "/v1/schedules", checkInSchedule({ cron: "0 9 * * *" }, 12), otherKey);
  expect(foreign.status).toBe(403);

  const listedByOther = await hookbus.api("GET", "/v1/schedules", undefined, otherKey);
  expect(listedByOther.body.items).toEqual([]);
  const listedByStudy = await hookbus.api("GET", "/v1/schedules", undefined, studyKey);
  expect(listedByStudy.body.items.map((s: ScheduleView) => s.id)).toEqual([own.body.id]);
  for (const [method, path] of [
    ["GET", ""],
    ["PATCH", ""],
    ["POST", "/pause"],
    ["DELETE", ""],
  ] as const) {
    const answer = await hookbus.api(
      method,
      `/v1/schedules/${own.body.id}${path}`,
      method === "PATCH" ? { name: "x" } : undefined,
      otherKey,
    );
    expect(answer.status).toBe(404);
  }
  // The operator names the project to list.
  const byOperator = await hookbus.api("GET", `/v1/schedules?projectId=${STUDY_GUID}`);
  expect(byOperator.body.items.map((s: ScheduleView) => s.id)).toEqual([own.body.id]);

  // A project's schedules go with it, and only when asked: left behind, they would fire into nothing.
  const refused = await hookbus.api("DELETE", `/v1/projects/${STUDY_GUID}`);
  expect(refused.status).toBe(409);
  expect(refused.body.error).toMatch(/1 schedules/);
  expect((await hookbus.api("DELETE", `/v1/projects/${STUDY_GUID}?cascade=true`)).status).toBe(204);
  expect((await hookbus.api("GET", `/v1/schedules/${own.body.id}`)).status).toBe(404);
  expect(await hookbus.context().queues.schedule.getJobScheduler(own.body.id)).toBeUndefined();
});

test("a start in the past sets an every's rhythm, and nothing planned before the schedule was made fires", async () => {
  const startAt = Date.now() - 10_250;
  const schedule = await create(checkInSchedule({ every: "1s", startAt: new Date(startAt).toISOString(), catchUp: "all" }, 13));
  const made = Date.parse(schedule.createdAt);
  expect((Date.parse(schedule.nextFireAt!) - startAt) % 1000).toBe(0);
  const [first] = await waitFor(() => deliveredFor(schedule.id).length >= 1 && deliveredFor(schedule.id), "a first fire");
  expect(Date.parse(first!.triggeredAt!)).toBeGreaterThan(made);
  expect((Date.parse(first!.triggeredAt!) - startAt) % 1000).toBe(0);
  expect((await hookbus.client.schedules.get(schedule.id)).recentFires.every((f) => Date.parse(f.plannedAt) > made)).toBe(true);
  await hookbus.api("DELETE", `/v1/schedules/${schedule.id}`);
});
