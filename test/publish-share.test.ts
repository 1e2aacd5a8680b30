import { recordUpdated, surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { TestReceiver } from "./support/receiver.js";

let hookbus: TestHookbus;
let receiver: TestReceiver;

beforeAll(async () => {
  // Four waits on this ingest: two for each key at most.
  hookbus = await TestHookbus.start({ env: { HOOKBUS_MAX_SYNC_WAITS: "4" } });
  // Never answers: every sync publish waits out its timeout.
  receiver = await TestReceiver.start(() => "hang");
});

afterAll(async () => {
  await hookbus.stop();
  await receiver.stop();
});

test("one key cannot take all of an ingest's sync waits: past its half it gets 503, and another key's sync publish still waits", async () => {
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"], mode: "sync", timeoutMs: 5000 });
  const noisy = hookbus.config.publisherKey;
  const other = hookbus.config.adminKey;
  const held = [hookbus.publish(recordUpdated(), noisy), hookbus.publish(recordUpdated(), noisy)];
  await waitFor(() => hookbus.ingest.syncWaitStats().waiting === 2, "the noisy key's two publishes to wait");

  const refused = await hookbus.publish(recordUpdated(), noisy);
  expect(refused.status).toBe(503);
  expect(refused.headers.get("retry-after")).toBe("1");
  expect(refused.body).toEqual({ error: expect.stringMatching(/this API key already has 2 publishes waiting on this ingest/) });

  // The other key's publish is taken and waits for its receiver like any sync publish.
  const another = hookbus.publish(recordUpdated(), other);
  await waitFor(() => hookbus.ingest.syncWaitStats().waiting === 3, "the other key's publish to wait");
  expect((await another).body.sync).toEqual([expect.objectContaining({ outcome: "timeout" })]);
  for (const publish of await Promise.all(held)) expect(publish.status).toBe(200);
  // Its share is free again once its publishes answered.
  await waitFor(async () => (await hookbus.publish(surveySubmitted(), noisy)).status === 202, "the noisy key to publish again");
});
