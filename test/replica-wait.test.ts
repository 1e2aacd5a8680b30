import { spawnRedisServer, startEmbeddedRedis, type EmbeddedRedis } from "@hookbus/dev-redis";
import getPort from "get-port";
import { Redis } from "ioredis";
import { surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

// HOOKBUS_REDIS_WAIT_REPLICAS on one master with one replica: a publish is answered 202 only
// once the replica holds the event, and 503 (publish again) when no replica confirms in time.
let master: EmbeddedRedis;
let replica: EmbeddedRedis;
let hookbus: TestHookbus;
const receivers = new ReceiverPool();

beforeEach(async () => {
  master = await startEmbeddedRedis();
  // Loaded from the socket, not from a dump.rdb the replica would otherwise write in the working directory.
  replica = await spawnRedisServer(await getPort({ host: "127.0.0.1" }), [
    "--replicaof",
    "127.0.0.1",
    String(master.port),
    "--save",
    "",
    "--repl-diskless-load",
    "on-empty-db",
  ]);
  const admin = new Redis(master.url);
  try {
    await waitFor(async () => /slave0:.*state=online/.test(await admin.info("replication")), "the replica to be in sync");
  } finally {
    await admin.quit();
  }
});

afterEach(async () => {
  process.kill(replica.pid, "SIGCONT");
  await hookbus?.stop();
  await receivers.stopAll();
  await replica.stop();
  await master.stop();
});

test("with HOOKBUS_REDIS_WAIT_REPLICAS=1, an event answered 202 is already on the replica", async () => {
  hookbus = await TestHookbus.start({ env: { REDIS_URL: master.url, HOOKBUS_REDIS_WAIT_REPLICAS: "1" } });
  const endpoint = await receivers.start(() => ({ status: 200 }));
  await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["survey.submitted"] });
  const onReplica = new Redis(replica.url);
  try {
    for (let i = 0; i < 20; i++) {
      const answer = await hookbus.publish(surveySubmitted());
      expect(answer.status).toBe(202);
      // Read at once, with no wait: the answer came only after the replica confirmed.
      expect(await onReplica.exists(`${hookbus.config.queuePrefix}:evt:${answer.body.id}`)).toBe(1);
    }
  } finally {
    await onReplica.quit();
  }
  await endpoint.waitForRequests(20);
});

test("when no replica confirms in time the publisher gets 503 and, publishing again with the same id, one event", async () => {
  hookbus = await TestHookbus.start({
    env: { REDIS_URL: master.url, HOOKBUS_REDIS_WAIT_REPLICAS: "1", HOOKBUS_REDIS_WAIT_TIMEOUT: "300ms" },
  });
  const endpoint = await receivers.start(() => ({ status: 200 }));
  await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["survey.submitted"] });
  const body = { ...surveySubmitted(), id: "result-unconfirmed" };
  // A stopped replica confirms nothing.
  process.kill(replica.pid, "SIGSTOP");
  const unconfirmed = await hookbus.publish(body);
  expect(unconfirmed.status).toBe(503);
  expect(unconfirmed.body.error).toMatch(/not confirmed by 1 Redis replica.*publish it again with the same id/);

  process.kill(replica.pid, "SIGCONT");
  const again = await waitFor(async () => {
    const answer = await hookbus.publish(body);
    return answer.status === 202 ? answer : undefined;
  }, "a confirmed publish");
  // The master kept the first store: the second publish finds it, and one event is delivered once.
  expect(again.body.duplicate).toBe(true);
  await hookbus.deliveriesOf(again.body.id);
  const deliveries = await hookbus.api("GET", "/v1/deliveries?limit=10");
  expect(deliveries.body.items.map((delivery: { eventId: string }) => delivery.eventId)).toEqual([again.body.id]);
  await endpoint.waitForRequests(1);
});
