import { recordUpdated, surveySubmitted } from "./fixtures/events.js";
import { openQueue, TestHookbus } from "./support/harness.js";
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

test("a batch's events share route jobs sized by their fan-out: about 100 deliveries a job, so a large fan-out spreads over jobs", async () => {
  hookbus = await TestHookbus.start({ worker: false });
  const receiver = await receivers.start();
  for (let i = 0; i < 30; i++) await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"] });
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  const events = [
    ...Array.from({ length: 10 }, (_, i) => recordUpdated(`form-${i}`)),
    ...Array.from({ length: 150 }, () => surveySubmitted()),
  ];
  const ids: string[] = (await batch(events)).body.items.map((item: { id: string }) => item.id);

  const queue = openQueue(hookbus.config, "route", ids[0]);
  try {
    const jobs = await queue.getWaiting(0, -1);
    const groups = jobs.map((job) => job.data.eventIds as string[]).sort((a, b) => ids.indexOf(a[0]!) - ids.indexOf(b[0]!));
    // Three events of 30 deliveries make 90, so a fourth starts a new job; the tenth (30)
    // shares its job with 70 events of one delivery each, and the other 80 make the last.
    expect(groups.map((group) => group.length)).toEqual([3, 3, 3, 71, 80]);
    expect(groups.flat()).toEqual(ids);
    expect(jobs.every((job) => job.id === job.data.eventIds[0])).toBe(true);
  } finally {
    await queue.close();
  }

  await hookbus.startWorker();
  await receiver.waitForRequests(10 * 30 + 150);
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
  // Its first three issues, of four.
  expect(invalid).toMatchObject({
    error: "invalid event (the first 3 of 4 issues)",
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
