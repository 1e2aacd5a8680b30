import { withOrderingKey } from "./publish.js";
import { bulkReplayBodyFrom } from "./replay.js";
import { subscriptionBodyFrom } from "./subscriptions.js";

test("only the flags given reach the subscription body, so the server's defaults apply", () => {
  expect(subscriptionBodyFrom({ url: "https://example.org/hook", eventTypes: ["survey.submitted"] })).toEqual({
    url: "https://example.org/hook",
    eventTypes: ["survey.submitted"],
  });
});

test("every subscription flag maps to its field in the API body", () => {
  const body = subscriptionBodyFrom({
    url: "https://example.org/hook",
    eventTypes: ["record.created", "record.updated"],
    mode: "sync",
    environment: "test",
    timeoutMs: 2000,
    retrySchedule: ["5s", "5m"],
    format: "native",
    legacyParameters: true,
    filterSurveyNames: ["Daily Symptoms"],
    filterFormIds: ["F1", "F2"],
    username: "trialkit@example.org",
    password: "pw",
    header: { "X-Team": "research" },
    description: "study A",
    ordering: "key",
  });
  expect(body).toEqual({
    url: "https://example.org/hook",
    eventTypes: ["record.created", "record.updated"],
    mode: "sync",
    environment: "test",
    timeoutMs: 2000,
    retrySchedule: ["5s", "5m"],
    format: "native",
    legacyParameters: true,
    filter: { surveyNames: ["Daily Symptoms"], formIds: ["F1", "F2"] },
    auth: { type: "basic", username: "trialkit@example.org", password: "pw" },
    headers: { "X-Team": "research" },
    description: "study A",
    ordering: "key",
  });
});

test("an empty retry schedule is sent as no retries, not left out", () => {
  expect(
    subscriptionBodyFrom({ url: "https://example.org/hook", eventTypes: ["survey.submitted"], retrySchedule: [] }).retrySchedule,
  ).toEqual([]);
});

test("bulk replay flags become the API's filter names; dry run and rate only when given", () => {
  expect(
    bulkReplayBodyFrom({
      status: "failed",
      subscription: "sub_1",
      eventType: "survey.submitted",
      since: "2025-06-01T10:00:00.000Z",
      rate: 50,
    }),
  ).toEqual({
    status: "failed",
    subscriptionId: "sub_1",
    eventType: "survey.submitted",
    since: "2025-06-01T10:00:00.000Z",
    ratePerSecond: 50,
  });
  expect(bulkReplayBodyFrom({ status: "failed", dryRun: true })).toEqual({ status: "failed", dryRun: true });
  expect(bulkReplayBodyFrom({ status: "failed", dryRun: false })).toEqual({ status: "failed" });
});

test("publish --ordering-key gives its key to the events that name none, and leaves the rest as read", () => {
  const named = { type: "record.updated", data: {}, orderingKey: "record-435" };
  expect(withOrderingKey({ type: "record.created", data: {} }, "record-1")).toEqual({
    type: "record.created",
    data: {},
    orderingKey: "record-1",
  });
  expect(withOrderingKey(named, "record-1")).toBe(named);
  expect(withOrderingKey("not an event", "record-1")).toBe("not an event");
});
