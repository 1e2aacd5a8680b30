import type { EventRecord, Subscription } from "./domain.js";
import { subscriptionMatches, subscriptionsReached } from "./subscription-matcher.js";

const subscription = (overrides: Partial<Subscription> = {}): Subscription => ({
  id: "sub_1",
  url: "https://example.com",
  eventTypes: ["survey.submitted", "record.updated"],
  mode: "async",
  environment: "live",
  timeoutMs: 1000,
  format: "envelope",
  legacyParameters: false,
  enabled: true,
  secrets: [],
  createdAt: 0,
  updatedAt: 0,
  ...overrides,
});
const event = (type: EventRecord["type"], data: Record<string, unknown>): EventRecord => ({
  id: "evt_1",
  type,
  data,
  occurredAt: 0,
  createdAt: 0,
});
const survey = (surveyName: string) => event("survey.submitted", { surveyName });

test("matches the subscribed types only", () => {
  expect(subscriptionMatches(subscription(), survey("A"))).toBe(true);
  expect(subscriptionMatches(subscription(), event("record.created", { formId: "1" }))).toBe(false);
});

test("test-mode and disabled subscriptions get no published events", () => {
  expect(subscriptionMatches(subscription({ environment: "test" }), survey("A"))).toBe(false);
  expect(subscriptionMatches(subscription({ enabled: false }), survey("A"))).toBe(false);
});

test("a filter narrows only the types that carry its field", () => {
  const filtered = subscription({ filter: { surveyNames: ["A"] } });
  expect(subscriptionMatches(filtered, survey("A"))).toBe(true);
  expect(subscriptionMatches(filtered, survey("B"))).toBe(false);
  // record.updated has no surveyName: the survey filter does not apply to it.
  expect(subscriptionMatches(filtered, event("record.updated", { formId: "9" }))).toBe(true);
  const byForm = subscription({ filter: { formIds: ["9"] } });
  expect(subscriptionMatches(byForm, event("record.updated", { formId: "9" }))).toBe(true);
  expect(subscriptionMatches(byForm, event("record.updated", { formId: "8" }))).toBe(false);
});

test("an optional field that is absent does not pass a filter on it", () => {
  const bySchedule = subscription({ eventTypes: ["schedule.triggered"], filter: { scheduleNames: ["Morning"] } });
  expect(subscriptionMatches(bySchedule, event("schedule.triggered", { scheduleId: "1" }))).toBe(false);
  expect(subscriptionMatches(bySchedule, event("schedule.triggered", { scheduleId: "1", scheduleName: "Morning" }))).toBe(true);
});

test("a published event reaches the matching candidates, a sample every candidate it was sent to", () => {
  const live = subscription({ id: "sub_live" });
  const testOnly = subscription({ id: "sub_test", environment: "test" });
  const paused = subscription({ id: "sub_paused", enabled: false });
  const ids = (reached: Subscription[]) => reached.map((s) => s.id);
  expect(ids(subscriptionsReached(survey("A"), [live, testOnly, paused]))).toEqual(["sub_live"]);
  expect(ids(subscriptionsReached({ ...survey("A"), sample: true }, [live, testOnly, paused]))).toEqual([
    "sub_live",
    "sub_test",
    "sub_paused",
  ]);
});
