import { Webhook } from "standardwebhooks";
import { recordReviewChanged, recordUpdated, surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();
const receiver = receivers.start;

beforeEach(async () => {
  hookbus = await TestHookbus.start();
});

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

test("a subscription filtered to one survey name gets only that survey's events", async () => {
  const filtered = await receiver();
  const everything = await receiver();
  await hookbus.createSubscription({ url: filtered.url, eventTypes: ["survey.submitted"], filter: { surveyNames: ["Daily Symptoms"] } });
  await hookbus.createSubscription({ url: everything.url, eventTypes: ["survey.submitted"] });

  await hookbus.publish(surveySubmitted("Weekly Check-in"));
  await hookbus.publish(surveySubmitted("Daily Symptoms"));
  await hookbus.publish(surveySubmitted("Exit Survey"));

  await everything.waitForRequests(3);
  const [only] = await filtered.waitForRequests(1);
  expect(JSON.parse(only!.body).data.surveyName).toBe("Daily Symptoms");
  // The filtered receiver got exactly one request, although all three were routed before it.
  expect(filtered.requests).toHaveLength(1);
});

test("a form filter narrows TrialKit events by formId", async () => {
  const target = await receiver();
  await hookbus.createSubscription({ url: target.url, eventTypes: ["record.updated"], filter: { formIds: ["12"] } });
  const other = await hookbus.publish(recordUpdated("319"));
  const wanted = await hookbus.publish(recordUpdated("12"));
  await target.waitForRequests(1);
  expect(JSON.parse(target.requests[0]!.body).data.formId).toBe("12");
  expect((await hookbus.api("GET", `/v1/events/${other.body.id}`)).body.deliveries).toEqual([]);
  expect((await hookbus.api("GET", `/v1/events/${wanted.body.id}`)).body.deliveries).toHaveLength(1);
});

test("publishing the same id twice stores one event and one delivery per subscription", async () => {
  const first = await receiver();
  const second = await receiver();
  await hookbus.createSubscription({ url: first.url, eventTypes: ["survey.submitted"] });
  await hookbus.createSubscription({ url: second.url, eventTypes: ["survey.submitted"] });

  const body = { ...surveySubmitted(), id: "mdh-result-9d8c7b6a" };
  const [a, b] = await Promise.all([hookbus.publish(body), hookbus.publish(body)]);
  const again = await hookbus.publish(body);
  expect(new Set([a.body.id, b.body.id, again.body.id]).size).toBe(1);
  expect([a.status, b.status, again.status]).toEqual([202, 202, 202]);
  expect(again.body.duplicate).toBe(true);

  const deliveries = await hookbus.deliveriesOf(a.body.id, 2);
  await Promise.all(deliveries.map((d: any) => hookbus.deliveryWithStatus(d.id, "delivered")));
  expect(deliveries).toHaveLength(2);
  expect(first.requests).toHaveLength(1);
  expect(second.requests).toHaveLength(1);
  const all = await hookbus.api("GET", "/v1/deliveries");
  expect(all.body.items).toHaveLength(2);
});

test("three subscriptions on one type get three deliveries, each signed with its own secret", async () => {
  const targets = await Promise.all([receiver(), receiver(), receiver()]);
  const subscriptions = await Promise.all(targets.map((t) => hookbus.createSubscription({ url: t.url, eventTypes: ["record.updated"] })));
  expect(new Set(subscriptions.map((s) => s.secret)).size).toBe(3);

  const published = await hookbus.publish(recordUpdated());
  const deliveries = await hookbus.deliveriesOf(published.body.id, 3);
  expect(new Set(deliveries.map((d: any) => d.subscriptionId))).toEqual(new Set(subscriptions.map((s) => s.id)));

  for (const [i, target] of targets.entries()) {
    const [request] = await target.waitForRequests(1);
    const headers = request!.headers as Record<string, string>;
    expect(() => new Webhook(subscriptions[i]!.secret).verify(request!.body, headers)).not.toThrow();
    for (const other of subscriptions.filter((_, j) => j !== i)) {
      expect(() => new Webhook(other.secret).verify(request!.body, headers)).toThrow();
    }
  }
});

test("native format: MyDataHelps and TrialKit bodies arrive byte for byte as the platforms send them", async () => {
  const mydatahelps = await receiver();
  const legacy = await receiver();
  const trialkit = await receiver();
  await hookbus.createSubscription({ url: mydatahelps.url, eventTypes: ["survey.submitted"], format: "native" });
  await hookbus.createSubscription({ url: legacy.url, eventTypes: ["survey.submitted"], format: "native", legacyParameters: true });
  await hookbus.createSubscription({ url: trialkit.url, eventTypes: ["record.updated", "record.review_changed"], format: "native" });

  await hookbus.publish(surveySubmitted());
  await hookbus.publish(recordUpdated());
  const [mdh] = await mydatahelps.waitForRequests(1);
  expect(mdh!.body).toBe(
    '{"EventType":"SurveySubmitted","ProjectID":"6f1c2a4e-0b7d-4a51-9d3e-2f8b6c1e9a10","ParticipantID":"b2e4d6f8-1a3c-4e5f-8a9b-0c1d2e3f4a5b","ParticipantIdentifier":"PT-0042","SurveyResultID":"9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a","SurveyName":"Daily Symptoms"}',
  );
  const [old] = await legacy.waitForRequests(1);
  expect(old!.body).toBe(
    '{"EventType":"SurveySubmitted","ProjectID":"6f1c2a4e-0b7d-4a51-9d3e-2f8b6c1e9a10","ParticipantID":"b2e4d6f8-1a3c-4e5f-8a9b-0c1d2e3f4a5b","ParticipantIdentifier":"PT-0042","PatientID":"b2e4d6f8-1a3c-4e5f-8a9b-0c1d2e3f4a5b","PatientIdentifier":"PT-0042","SurveyResultID":"9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a","SurveyName":"Daily Symptoms"}',
  );
  const [update] = await trialkit.waitForRequests(1);
  expect(update!.body).toBe('{"trans_id":"435","form_id":"319","form_name":"Sample Form","OnUpdate":true}');

  await hookbus.publish(recordReviewChanged());
  const review = await waitFor(() => trialkit.requests[1], "the review-level change");
  expect(review.body).toBe(
    '{"trans_id":"435","form_id":"319","form_name":"Sample Form","workflow":{"wf_id":"2","wf_name":"Monitor Review","wf_desc":"Monitor Review"}}',
  );
});

test("test subscriptions and disabled ones get no published events", async () => {
  const live = await receiver();
  const testMode = await receiver();
  const disabled = await receiver();
  await hookbus.createSubscription({ url: testMode.url, eventTypes: ["survey.submitted"], environment: "test" });
  await hookbus.createSubscription({ url: disabled.url, eventTypes: ["survey.submitted"], enabled: false });
  await hookbus.createSubscription({ url: live.url, eventTypes: ["survey.submitted"] });
  const published = await hookbus.publish(surveySubmitted());
  await live.waitForRequests(1);
  expect((await hookbus.api("GET", `/v1/events/${published.body.id}`)).body.deliveries).toHaveLength(1);
  expect(testMode.requests).toHaveLength(0);
  expect(disabled.requests).toHaveLength(0);
});

test("basic auth and custom headers reach the receiver as TrialKit builds them", async () => {
  const target = await receiver();
  await hookbus.createSubscription({
    url: target.url,
    eventTypes: ["record.updated"],
    auth: { type: "basic", username: "coordinator@site.example", password: "s3cret:pa55" },
    headers: { "X-Study": "ONC-12" },
  });
  await hookbus.publish(recordUpdated());
  const [request] = await target.waitForRequests(1);
  expect(request!.headers.authorization).toBe(`Basic ${Buffer.from("coordinator@site.example:s3cret:pa55").toString("base64")}`);
  expect(request!.headers["x-study"]).toBe("ONC-12");
});

test("a subscription changed with PATCH routes by its new event types and delivers to its new URL", async () => {
  const before = await receiver();
  const after = await receiver();
  const subscription = await hookbus.createSubscription({ url: before.url, eventTypes: ["survey.submitted"] });
  const patched = await hookbus.api("PATCH", `/v1/subscriptions/${subscription.id}`, {
    url: after.url,
    eventTypes: ["record.updated"],
    description: "moved",
  });
  expect(patched.status).toBe(200);
  expect(patched.body).toMatchObject({ url: after.url, eventTypes: ["record.updated"], description: "moved" });
  expect(patched.body.secret).toBeUndefined();

  const survey = await hookbus.publish(surveySubmitted());
  await hookbus.publish(recordUpdated());
  await after.waitForRequests(1);
  expect(JSON.parse(after.requests[0]!.body).type).toBe("record.updated");
  expect((await hookbus.api("GET", `/v1/events/${survey.body.id}`)).body.deliveries).toEqual([]);
  expect(before.requests).toHaveLength(0);

  const cleared = await hookbus.api("PATCH", `/v1/subscriptions/${subscription.id}`, { description: null });
  expect(cleared.body.description).toBeUndefined();
  expect((await hookbus.api("PATCH", `/v1/subscriptions/${subscription.id}`, {})).status).toBe(422);
  expect((await hookbus.api("DELETE", `/v1/subscriptions/${subscription.id}`)).status).toBe(204);
  expect((await hookbus.api("GET", `/v1/subscriptions/${subscription.id}`)).status).toBe(404);
});
