import { InvalidArgumentError } from "commander";
import { commaList, headerEntry, optionParser, positiveInteger, retrySchedule } from "./arg-parsers.js";

test("comma lists drop blanks and spaces around items", () => {
  expect(commaList("survey.submitted, record.created,,")).toEqual(["survey.submitted", "record.created"]);
});

test("retry schedules keep units for the API, read bare numbers as milliseconds, and may be empty", () => {
  expect(retrySchedule("5s,5m,30m")).toEqual(["5s", "5m", "30m"]);
  expect(retrySchedule("500, 2h")).toEqual([500, "2h"]);
  expect(retrySchedule("")).toEqual([]);
  expect(() => retrySchedule("5 minutes")).toThrow(/not a duration/);
});

test("headers repeat into one record, values keep their own colons", () => {
  const first = headerEntry("X-Team: research");
  expect(headerEntry("X-Trace:a:b", first)).toEqual({ "X-Team": "research", "X-Trace": "a:b" });
  expect(() => headerEntry("no colon")).toThrow(/Name: value/);
  expect(() => headerEntry(": value")).toThrow(/Name: value/);
});

test("positive integers refuse zero, fractions and words", () => {
  expect(positiveInteger("50")).toBe(50);
  for (const value of ["0", "1.5", "-3", "fifty"]) expect(() => positiveInteger(value)).toThrow();
});

test("a parser's failure reaches commander as an invalid argument, so it exits as a usage error", () => {
  expect(() => optionParser(positiveInteger)("x", undefined)).toThrow(InvalidArgumentError);
});
