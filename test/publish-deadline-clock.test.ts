import { Redis } from "ioredis";
import { ParticipantHasher, SecretBox, newEncryptionKey, UnavailableError } from "@hookbus/core/policy";
import { EventStore, Keys, ParticipantIndex, RedisClock } from "@hookbus/core/store";
import { startEmbeddedRedis, type EmbeddedRedis } from "@hookbus/dev-redis";
import { recordUpdated } from "./fixtures/events.js";

const SKEW_MS = 60_000;
const PUBLISH_BUDGET_MS = 5_000;

let redis: EmbeddedRedis;
let connection: Redis;
const keys = new Keys("{clock-test}");

beforeAll(async () => {
  // A Redis of its own: the test pauses it.
  redis = await startEmbeddedRedis();
  connection = new Redis(redis.url);
});

afterAll(async () => {
  connection.disconnect();
  await redis.stop();
});

/** The event store as an ingest whose clock is `skewMs` off Redis's sees it. */
function storeOnClockOff(skewMs: number) {
  const now = () => Date.now() + skewMs;
  const participants = new ParticipantIndex(connection, keys, new ParticipantHasher(SecretBox.parse(newEncryptionKey())), 60_000);
  return { now, events: new EventStore(connection, keys, 60_000, 60_000, participants, new RedisClock(now)) };
}

test("with the ingest's clock a minute behind Redis's, a publish within its deadline is stored, not refused", async () => {
  const { now, events } = storeOnClockOff(-SKEW_MS);
  for (let i = 0; i < 3; i++) {
    const stored = await events.store(recordUpdated(), now(), { deadline: now() + PUBLISH_BUDGET_MS });
    expect(stored.created).toBe(true);
  }
});

test("with the ingest's clock a minute ahead of Redis's, a store held up in Redis past its deadline is refused there, and nothing is stored", async () => {
  const { now, events } = storeOnClockOff(SKEW_MS);
  // A store in time first: the store learns where Redis's clock stands.
  expect((await events.store(recordUpdated(), now(), { deadline: now() + PUBLISH_BUDGET_MS })).created).toBe(true);

  // CLIENT PAUSE holds every command: the store reaches Redis and runs only after its deadline.
  const admin = new Redis(redis.url);
  await admin.call("client", "pause", "1500", "ALL");
  admin.disconnect();
  const late = await events.storeMany([{ ...recordUpdated(), id: "evt_held_past_its_deadline" }], now(), { deadline: now() + 300 });
  expect(late[0]).toBeInstanceOf(UnavailableError);
  expect(await connection.exists(keys.event("evt_held_past_its_deadline"))).toBe(0);
});
