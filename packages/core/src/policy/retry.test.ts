import { DEFAULT_RETRY_SCHEDULE, JITTER_RATIO, maxAttempts, nextRetryDelay, parseRetrySchedule } from "./retry.js";

test("the default schedule is 5s,5m,30m,2h,5h,10h,10h: 8 attempts over about 28 hours", () => {
  expect(DEFAULT_RETRY_SCHEDULE).toEqual(parseRetrySchedule(["5s", "5m", "30m", "2h", "5h", "10h", "10h"]));
  expect(maxAttempts(DEFAULT_RETRY_SCHEDULE)).toBe(8);
  const hours = DEFAULT_RETRY_SCHEDULE.reduce((a, b) => a + b, 0) / 3_600_000;
  expect(hours).toBeGreaterThan(27.5);
  expect(hours).toBeLessThan(28);
});

test("schedules parse units and plain milliseconds, and refuse nonsense", () => {
  expect(parseRetrySchedule(["500ms", "30s", 250, "1d", " 2h"])).toEqual([500, 30_000, 250, 86_400_000, 7_200_000]);
  expect(() => parseRetrySchedule(["soon"])).toThrow(/not a duration/);
  expect(() => parseRetrySchedule(["-5s"])).toThrow(/not a duration/);
});

test("the delay after the n-th failed attempt is the n-th entry, moved by at most the jitter", () => {
  const schedule = [1000, 60_000];
  expect(nextRetryDelay(schedule, 1, () => 0.5)).toBe(1000);
  expect(nextRetryDelay(schedule, 1, () => 0)).toBe(1000 * (1 - JITTER_RATIO));
  expect(nextRetryDelay(schedule, 2, () => 1)).toBe(60_000 * (1 + JITTER_RATIO));
  const samples = Array.from({ length: 200 }, () => nextRetryDelay(schedule, 2)!);
  expect(Math.min(...samples)).toBeGreaterThanOrEqual(54_000);
  expect(Math.max(...samples)).toBeLessThanOrEqual(66_000);
  expect(new Set(samples).size).toBeGreaterThan(1);
});

test("after the last scheduled retry there is none: the delivery is dead-lettered", () => {
  expect(nextRetryDelay([1000, 2000], 3)).toBeNull();
  expect(nextRetryDelay([], 1)).toBeNull();
});
