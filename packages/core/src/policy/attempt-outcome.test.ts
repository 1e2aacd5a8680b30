import { decideAttemptOutcome, MAX_RETRY_AFTER_MS, retryAfterMs } from "./attempt-outcome.js";

const now = Date.UTC(2026, 10, 26, 12, 0, 0);
const schedule = [1000, 60_000];
const noJitter = () => 0.5;
const decide = (result: { ok: boolean; statusCode?: number; retryAfter?: string }, attemptInRun = 1) =>
  decideAttemptOutcome({ result, schedule, attemptInRun, now, random: noJitter });

test("a 2xx is delivered", () => {
  expect(decide({ ok: true, statusCode: 204 })).toEqual({ status: "delivered" });
});

test("a failure is retried on the schedule, then dead-lettered after the last attempt", () => {
  expect(decide({ ok: false, statusCode: 500 }, 1)).toEqual({ status: "retrying", nextAttemptAt: now + 1000 });
  expect(decide({ ok: false }, 2)).toEqual({ status: "retrying", nextAttemptAt: now + 60_000 });
  expect(decide({ ok: false, statusCode: 500 }, 3)).toEqual({ status: "failed" });
});

test("429 and 503 with Retry-After wait at least that long, never less than the schedule", () => {
  expect(decide({ ok: false, statusCode: 429, retryAfter: "4" })).toEqual({ status: "retrying", nextAttemptAt: now + 4000 });
  expect(decide({ ok: false, statusCode: 503, retryAfter: new Date(now + 30_000).toUTCString() })).toEqual({
    status: "retrying",
    nextAttemptAt: now + 30_000,
  });
  expect(decide({ ok: false, statusCode: 429, retryAfter: "0" })).toEqual({ status: "retrying", nextAttemptAt: now + 1000 });
  // Only 429 and 503 ask for a pause; elsewhere the header is ignored.
  expect(decide({ ok: false, statusCode: 500, retryAfter: "30" })).toEqual({ status: "retrying", nextAttemptAt: now + 1000 });
  // After the last attempt a Retry-After does not keep the delivery alive.
  expect(decide({ ok: false, statusCode: 429, retryAfter: "4" }, 3)).toEqual({ status: "failed" });
});

test("Retry-After is read as seconds or an HTTP date, capped at an hour, and ignored when unreadable", () => {
  expect(retryAfterMs("120", now)).toBe(120_000);
  expect(retryAfterMs(" 7 ", now)).toBe(7000);
  expect(retryAfterMs(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
  expect(retryAfterMs(new Date(now - 90_000).toUTCString(), now)).toBe(0);
  expect(retryAfterMs("86400", now)).toBe(MAX_RETRY_AFTER_MS);
  expect(retryAfterMs("soon", now)).toBeUndefined();
  expect(retryAfterMs("-5", now)).toBeUndefined();
  expect(retryAfterMs(undefined, now)).toBeUndefined();
});

test("410 Gone disables the subscription and keeps the delivery waiting, even after its last attempt", () => {
  expect(decide({ ok: false, statusCode: 410 }, 1)).toEqual({ status: "retrying", nextAttemptAt: now + 1000, disable: "gone" });
  expect(decide({ ok: false, statusCode: 410 }, 3)).toEqual({ status: "retrying", nextAttemptAt: now, disable: "gone" });
});
