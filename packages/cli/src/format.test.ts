import { attemptsTable, deliveriesTable, excerpt, shortTime } from "./format.js";

test("times drop their milliseconds and stay UTC", () => {
  expect(shortTime("2025-06-01T10:00:03.512Z")).toBe("2025-06-01T10:00:03Z");
  expect(shortTime(undefined)).toBeUndefined();
});

test("body excerpts are one line and cut with an ellipsis", () => {
  expect(excerpt('{\n  "ok": true\n}')).toBe('{ "ok": true }');
  expect(excerpt("x".repeat(100), 10)).toBe(`${"x".repeat(9)}…`);
});

test("the deliveries table has the documented columns, no colour codes, and blanks for what is unset", () => {
  const rendered = deliveriesTable([
    {
      id: "dlv_1",
      projectId: "default",
      eventId: "evt_1",
      subscriptionId: "sub_1",
      eventType: "survey.submitted",
      status: "failed",
      createdAt: "2025-06-01T10:00:00.000Z",
      attemptCount: 3,
      replays: 0,
    },
  ]);
  const lines = rendered.split("\n");
  for (const column of ["id", "status", "event type", "subscription", "attempts", "created", "next attempt"])
    expect(lines[1]).toContain(column);
  expect(rendered).toContain("dlv_1");
  expect(rendered).toContain("2025-06-01T10:00:00Z");
  expect(rendered).not.toMatch(/\u001b\[/);
});

test("an attempt's error shows its kind and its message", () => {
  const rendered = attemptsTable([{ at: "2025-06-01T10:00:00.000Z", error: "connection", message: "ECONNREFUSED", durationMs: 3 }]);
  expect(rendered).toContain("connection: ECONNREFUSED");
});
