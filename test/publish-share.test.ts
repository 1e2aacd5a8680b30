import { recordReviewChanged, recordUpdated, surveySubmitted } from "./fixtures/events.js";
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

test("while another key waits, one key holds at most half of an ingest's sync waits: past it, 503; alone, it may use them all", async () => {
  // The noisy key's publishes wait a second; the other key's, eight, so it is still waiting throughout.
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"], mode: "sync", timeoutMs: 1000 });
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.review_changed"], mode: "sync", timeoutMs: 8000 });
  const noisy = hookbus.config.publisherKey;
  const other = hookbus.config.adminKey;
  // Alone, the noisy key takes three of the four waits.
  const held = [hookbus.publish(recordUpdated(), noisy), hookbus.publish(recordUpdated(), noisy), hookbus.publish(recordUpdated(), noisy)];
  await waitFor(() => hookbus.ingest.syncWaitStats().waiting === 3, "the noisy key's three publishes to wait");

  // The other key's publish is taken and waits for its receiver like any sync publish.
  const another = hookbus.publish(recordReviewChanged(), other);
  await waitFor(() => hookbus.ingest.syncWaitStats().waiting === 4, "the other key's publish to wait");
  // Its waits are over its half while the other key waits.
  await Promise.all(held);
  const kept = [hookbus.publish(recordUpdated(), noisy), hookbus.publish(recordUpdated(), noisy)];
  await waitFor(() => hookbus.ingest.syncWaitStats().waiting === 3, "two of the noisy key's publishes to wait");
  const refused = await hookbus.publish(recordUpdated(), noisy);
  expect(refused.status).toBe(503);
  expect(refused.headers.get("retry-after")).toBe("1");
  expect(refused.body).toEqual({ error: expect.stringMatching(/past its share of 2 while other keys wait/) });

  expect((await another).body.sync).toEqual([expect.objectContaining({ outcome: "timeout" })]);
  for (const publish of await Promise.all(kept)) expect(publish.status).toBe(200);
  // Alone again, it publishes.
  await waitFor(async () => (await hookbus.publish(surveySubmitted(), noisy)).status === 202, "the noisy key to publish again");
});
