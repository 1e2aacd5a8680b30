import { toIsoInstant } from "./relative-time.js";

const now = Date.parse("2025-06-01T12:00:00.000Z");

test("relative times count back from now in seconds, minutes, hours, days and weeks", () => {
  expect(toIsoInstant("45s", now)).toBe("2025-06-01T11:59:15.000Z");
  expect(toIsoInstant("30m", now)).toBe("2025-06-01T11:30:00.000Z");
  expect(toIsoInstant("2h", now)).toBe("2025-06-01T10:00:00.000Z");
  expect(toIsoInstant("1d", now)).toBe("2025-05-31T12:00:00.000Z");
  expect(toIsoInstant("2w", now)).toBe("2025-05-18T12:00:00.000Z");
});

test("an ISO 8601 date-time with a zone passes through unchanged", () => {
  expect(toIsoInstant("2025-05-30T08:15:00Z", now)).toBe("2025-05-30T08:15:00Z");
  expect(toIsoInstant("2025-05-30T08:15:00.250+02:00", now)).toBe("2025-05-30T08:15:00.250+02:00");
});

test("values the API would misread or refuse are rejected with the accepted forms named", () => {
  for (const value of ["2 hours", "h2", "-2h", "30", "1y", "2025-05-30", "2025-05-30T08:15:00", "2025-13-45T99:00:00Z", ""]) {
    expect(() => toIsoInstant(value, now)).toThrow(/relative time .* ISO 8601/);
  }
});
