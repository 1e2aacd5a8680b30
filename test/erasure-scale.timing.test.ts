import { distinctiveParticipant, recordOf, surveyOf, valuesOf } from "./fixtures/participants.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { TestReceiver } from "./support/receiver.js";

let hookbus: TestHookbus;
let receiver: TestReceiver;

afterAll(async () => {
  await hookbus?.stop();
  await receiver?.stop();
});

/** Erasing reads the participant index, not every event: a participant with 10,000 events goes in seconds. */
const ERASE_BUDGET_MS = 30_000;

test("a participant with 10,000 delivered events, among another's, is erased in seconds, not minutes", async () => {
  hookbus = await TestHookbus.start();
  receiver = await TestReceiver.start();
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted", "record.updated"] });
  const alice = distinctiveParticipant("ALICE");
  const bob = distinctiveParticipant("BOB");
  // Batches of the most a batch may carry, Bob's event among Alice's.
  for (let batch = 0; batch < 10; batch++) {
    const answer = await hookbus.publisher.publishBatch([...Array.from({ length: 1000 }, () => surveyOf(alice)), recordOf(bob)].slice(1));
    expect(answer.items.every((item) => "id" in item)).toBe(true);
  }
  await hookbus.publisher.publishBatch(Array.from({ length: 10 }, () => surveyOf(alice)));
  await waitFor(
    async () => (await hookbus.redisCommand("ZCARD", `${hookbus.config.queuePrefix}:dlvidx:status:delivered`)) === 10_010,
    "10,010 deliveries",
    120_000,
    250,
  );

  const started = Date.now();
  const receipt = await hookbus.client.erasures.run({ participantId: alice.participantId }, { pollMs: 50 });
  const elapsed = Date.now() - started;
  expect(receipt).toMatchObject({ status: "done", events: 10_000, deliveries: 10_000, attempts: 10_000 });
  expect(elapsed).toBeLessThan(ERASE_BUDGET_MS);
  // Bob's 10 events are what is left, each with its delivery.
  const { redis, keys } = hookbus.context();
  const left = (await redis.keys(keys.event("evt_*"))).filter((key) => !key.endsWith(":dlv"));
  expect(left).toHaveLength(10);
  expect((await redis.mget(left)).every((event) => event!.includes(bob.transId) && !valuesOf(alice).some((v) => event!.includes(v)))).toBe(
    true,
  );
}, 300_000);
