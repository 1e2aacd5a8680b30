import { MAX_CAUGHT_UP_FIRES, planFires, SCHEDULE_GRACE_MS } from "./fire-plan.js";
import { Timetable } from "./schedule-timetable.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const created = at("2026-01-01T00:00:00Z");

/** The first `n` planned times after `from`, as ISO strings. */
function nextTimes(table: Timetable, from: string, n: number): (string | undefined)[] {
  const times: (string | undefined)[] = [];
  let after = at(from);
  for (let i = 0; i < n; i++) {
    const next = table.nextAfter(after);
    times.push(iso(next));
    if (next === undefined) break;
    after = next;
  }
  return times;
}

describe("a cron schedule in America/New_York keeps 09:00 local across daylight-saving changes", () => {
  const nineAm = new Timetable({ cron: "0 9 * * *", timezone: "America/New_York", createdAt: created });

  test("spring forward (8 March 2026): 14:00 UTC before, 13:00 UTC after", () => {
    expect(nextTimes(nineAm, "2026-03-06T20:00:00Z", 3)).toEqual([
      "2026-03-07T14:00:00.000Z",
      "2026-03-08T13:00:00.000Z",
      "2026-03-09T13:00:00.000Z",
    ]);
  });

  test("fall back (1 November 2026): 13:00 UTC before, 14:00 UTC after", () => {
    expect(nextTimes(nineAm, "2026-10-30T20:00:00Z", 3)).toEqual([
      "2026-10-31T13:00:00.000Z",
      "2026-11-01T14:00:00.000Z",
      "2026-11-02T14:00:00.000Z",
    ]);
  });
});

test("30 2 * * * on the night 02:30 does not exist in New York fires once, at 03:30 EDT, then 02:30 again", () => {
  const table = new Timetable({ cron: "30 2 * * *", timezone: "America/New_York", createdAt: created });
  expect(nextTimes(table, "2026-03-07T12:00:00Z", 3)).toEqual([
    "2026-03-08T07:30:00.000Z", // 03:30 EDT: the skipped 02:30 moves to the hour after
    "2026-03-09T06:30:00.000Z",
    "2026-03-10T06:30:00.000Z",
  ]);
  // Counted once in the window that holds the skipped night.
  expect(table.between(at("2026-03-08T00:00:00Z"), at("2026-03-08T23:59:59Z"), 10).times).toEqual([at("2026-03-08T07:30:00Z")]);
});

test("30 1 * * * on the night 01:30 happens twice in New York fires once, at the first 01:30", () => {
  const table = new Timetable({ cron: "30 1 * * *", timezone: "America/New_York", createdAt: created });
  expect(table.between(at("2026-11-01T00:00:00Z"), at("2026-11-01T23:59:59Z"), 10)).toEqual({
    times: [at("2026-11-01T05:30:00Z")],
    count: 1,
  });
});

test("a cron without a zone is read in UTC", () => {
  expect(nextTimes(new Timetable({ cron: "0 9 * * *", createdAt: created }), "2026-03-07T10:00:00Z", 1)).toEqual([
    "2026-03-08T09:00:00.000Z",
  ]);
});

test("an every counts whole periods from its start, or from when it was made", () => {
  const fromCreation = new Timetable({ every: 1000, createdAt: created + 250 });
  expect(fromCreation.nextAfter(created + 250)).toBe(created + 1250);
  expect(fromCreation.nextAfter(created + 1250)).toBe(created + 2250);
  const fromStart = new Timetable({ every: 60_000, startAt: at("2026-02-01T00:00:00Z"), createdAt: created });
  expect(iso(fromStart.nextAfter(created))).toBe("2026-02-01T00:00:00.000Z");
});

test("between gives the window's times oldest first, the newest `max` of them, and how many there are", () => {
  const table = new Timetable({ every: 1000, createdAt: created });
  expect(table.between(created, created + 5500, 2)).toEqual({ times: [created + 4000, created + 5000], count: 5 });
  const cron = new Timetable({ cron: "* * * * *", createdAt: created });
  expect(cron.between(created, created + 5 * 60_000, 2)).toEqual({ times: [created + 4 * 60_000, created + 5 * 60_000], count: 5 });
});

test("endAt and a single at bound the times", () => {
  const ending = new Timetable({ every: 1000, endAt: created + 3000, createdAt: created });
  expect(ending.between(created, created + 10_000, 10).times).toEqual([created + 1000, created + 2000, created + 3000]);
  expect(ending.nextAfter(created + 3000)).toBeUndefined();
  const once = new Timetable({ at: created + 5000, createdAt: created });
  expect(once.nextAfter(created)).toBe(created + 5000);
  expect(once.nextAfter(created + 5000)).toBeUndefined();
  expect(once.between(created, created + 4999, 10).count).toBe(0);
});

describe("planFires follows catchUp for the fires missed", () => {
  // A 1 s schedule whose workers were gone for 5 s: six times due, the newest 0.3 s ago.
  const now = created + 5300;
  const due = new Timetable({ every: 1000, createdAt: created - 1000 }).between(created - 1, now, MAX_CAUGHT_UP_FIRES + 1);

  test("none fires only the one on time", () => {
    expect(planFires(due, now, "none")).toEqual({ fire: [created + 5000], onTime: true, missed: 5 });
  });
  test("last makes up the newest missed one", () => {
    expect(planFires(due, now, "last")).toEqual({ fire: [created + 4000, created + 5000], onTime: true, missed: 5 });
  });
  test("all makes up each, in order", () => {
    expect(planFires(due, now, "all").fire).toEqual([0, 1000, 2000, 3000, 4000, 5000].map((d) => created + d));
  });
  test("a fire later than the grace is missed too", () => {
    const late = created + 5000 + SCHEDULE_GRACE_MS + 1;
    expect(planFires({ times: [created + 5000], count: 1 }, late, "none")).toEqual({ fire: [], onTime: false, missed: 1 });
    expect(planFires({ times: [created + 5000], count: 1 }, late, "last")).toEqual({ fire: [created + 5000], onTime: false, missed: 1 });
  });
  test("a limit keeps the oldest of them", () => {
    expect(planFires(due, now, "all", 2).fire).toEqual([created, created + 1000]);
  });
});
