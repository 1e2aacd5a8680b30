import { recordUpdated, surveySubmitted } from "./fixtures/events.js";
import { TestHookbus } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

const batch = (events: unknown[], key?: string) => hookbus.api("POST", "/v1/events/batch", { events }, key ?? hookbus.config.publisherKey);

test("a batch of 200 events is answered item by item, in order, and every event is delivered", async () => {
  hookbus = await TestHookbus.start();
  const receiver = await receivers.start();
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated", "survey.submitted"] });
  const events = Array.from({ length: 200 }, (_, i) => (i % 2 ? recordUpdated(`form-${i}`) : surveySubmitted(`Survey ${i}`)));
  const response = await batch(events);
  expect(response.status).toBe(202);
  expect(response.body.items).toHaveLength(200);
  expect(response.body.items.map((item: any) => item.type)).toEqual(events.map((e) => e.type));
  expect(new Set(response.body.items.map((item: any) => item.id)).size).toBe(200);
  await receiver.waitForRequests(200);
  const formIds = receiver.requests.map((r) => JSON.parse(r.body).data.formId).filter(Boolean);
  expect(formIds.sort()).toEqual(events.flatMap((e, i) => (i % 2 ? [`form-${i}`] : [])).sort());
});

test("a bad item gets its own error without rejecting the others; ids are idempotent item by item", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  const first = await batch([{ ...surveySubmitted(), id: "r-1" }]);
  const response = await batch([
    { ...surveySubmitted(), id: "r-1" },
    { type: "survey.submitted", data: { surveyName: "no participant" } },
    { type: "no.such.type", data: {} },
    { ...surveySubmitted("Weekly"), id: "r-1" },
    recordUpdated(),
  ]);
  expect(response.status).toBe(202);
  const [repeated, invalid, unknownType, conflicting, fine] = response.body.items;
  expect(repeated).toEqual({ id: first.body.items[0].id, type: "survey.submitted", duplicate: true });
  expect(invalid).toMatchObject({
    error: "invalid event",
    issues: expect.arrayContaining([expect.objectContaining({ path: ["data", "projectId"] })]),
  });
  expect(unknownType).toMatchObject({ error: "invalid event", issues: expect.any(Array) });
  expect(conflicting).toMatchObject({ error: expect.stringMatching(/idempotency key "r-1" was used for event evt_\w+/) });
  expect(fine).toEqual({ id: expect.stringMatching(/^evt_/), type: "record.updated" });
  expect((await hookbus.api("GET", `/v1/events/${fine.id}`)).status).toBe(200);
});

test("a batch that is empty, over 1,000 events, or not a list is refused whole with 422", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  for (const events of [[], Array(1001).fill(recordUpdated()), "not a list"]) {
    const response = await batch(events as unknown[]);
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ error: "invalid batch", issues: [expect.objectContaining({ path: ["events"] })] });
  }
});
