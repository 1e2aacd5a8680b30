import type { Attempt, Delivery } from "@hookbus/core/policy";
import { summariseOverview } from "./overview.js";

const MINUTE = 60_000;
const start = Date.parse("2026-11-27T10:00:00Z");

function delivery(subscriptionId: string, createdAt: number, status: Delivery["status"], attempts: Attempt[]) {
  return {
    delivery: {
      id: `dlv_${createdAt}`,
      eventId: "evt_x",
      subscriptionId,
      eventType: "survey.submitted",
      status,
      createdAt,
      attemptCount: attempts.length,
      replays: 0,
      runStartedAtAttempt: 0,
    } as Delivery,
    attempts,
  };
}

test("each delivery, attempt and dead letter counts in the minute it happened; outside the window nothing counts", () => {
  const summary = summariseOverview(
    [
      delivery("sub_a", start + 10, "delivered", [{ at: start + 20, statusCode: 200, durationMs: 10 }]),
      delivery("sub_b", start + MINUTE + 5, "failed", [
        { at: start + MINUTE + 6, error: "connection", durationMs: 2 },
        { at: start + 2 * MINUTE + 1, statusCode: 500, durationMs: 40 },
      ]),
      // An attempt after the window: not counted, though its delivery was created inside it.
      delivery("sub_a", start + 2 * MINUTE, "retrying", [{ at: start + 3 * MINUTE, statusCode: 302, durationMs: 1000 }]),
    ],
    start,
    3,
  );
  expect(
    summary.minutes.map(({ deliveries, attempts, failedAttempts, deadLetters }) => [deliveries, attempts, failedAttempts, deadLetters]),
  ).toEqual([
    [1, 1, 0, 0],
    [1, 1, 1, 0],
    [1, 1, 1, 1],
  ]);
  expect(summary.since).toBe("2026-11-27T10:00:00.000Z");
  expect(summary.until).toBe("2026-11-27T10:03:00.000Z");
  expect(summary.slowestEndpoints).toEqual([
    { subscriptionId: "sub_b", attempts: 2, averageMs: 21, maxMs: 40 },
    { subscriptionId: "sub_a", attempts: 1, averageMs: 10, maxMs: 10 },
  ]);
});
