import { duration, parseDuration } from "./primitives.js";

test("durations are milliseconds or a whole number with a unit, in one grammar", () => {
  expect(parseDuration(250)).toBe(250);
  expect(parseDuration("250")).toBe(250);
  expect(parseDuration("500ms")).toBe(500);
  expect(parseDuration("30s")).toBe(30_000);
  expect(parseDuration(" 5m ")).toBe(300_000);
  expect(parseDuration("2h")).toBe(7_200_000);
  expect(parseDuration("1d")).toBe(86_400_000);
  expect(parseDuration("2w")).toBe(14 * 86_400_000);
  for (const bad of ["1.5h", "5 minutes", "-1s", "1y", "1W", "", "s", "5 s"]) expect(() => parseDuration(bad)).toThrow(/is not a duration/);
});

test("the duration schema takes what the parser takes, and says what it expects", () => {
  expect(duration.safeParse("30s").success).toBe(true);
  expect(duration.safeParse(1000).success).toBe(true);
  const refused = duration.safeParse("1.5h");
  expect(refused.success).toBe(false);
  expect(JSON.stringify(refused.error?.issues)).toMatch(/a whole number with a unit/);
});
