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
