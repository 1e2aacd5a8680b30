import { startEmbeddedCluster, type EmbeddedCluster } from "@hookbus/dev-redis";
import { masterServing, moveSlot, slotOf } from "../support/cluster.js";
import { TestHookbus, waitFor } from "../support/harness.js";
import { ReceiverPool } from "../support/receiver.js";
import { deliveredNames, SteadyPublisher } from "../support/steady-publisher.js";

let cluster: EmbeddedCluster;
let hookbus: TestHookbus;
const receivers = new ReceiverPool();

beforeAll(async () => {
  cluster = await startEmbeddedCluster({ masters: 3 });
});

afterAll(async () => {
  await hookbus?.stop();
  await receivers.stopAll();
  await cluster?.stop();
});

test("moving Hookbus's slot to another master while publishing loses nothing: every event answered 202 is delivered", async () => {
  hookbus = await TestHookbus.start({ env: { REDIS_CLUSTER_NODES: cluster.nodes } });
  const endpoint = await receivers.start(() => ({ status: 200 }));
  await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["survey.submitted"] });
  const slot = await slotOf(cluster.masters[0]!, hookbus.config.queuePrefix);
  const from = await masterServing(cluster.masters, slot);
  const to = cluster.masters.find((master) => master !== from)!;

  const publisher = new SteadyPublisher(hookbus);
  await waitFor(() => publisher.acknowledged.length >= 20, "publishes before the move");
  let acknowledgedDuringMove = 0;
  const before = publisher.acknowledged.length;
  await moveSlot(cluster.masters, slot, to, async () => {
    acknowledgedDuringMove = publisher.acknowledged.length - before;
  });
  await waitFor(() => publisher.acknowledged.length >= before + acknowledgedDuringMove + 20, "publishes after the move");
  const acknowledged = await publisher.stop();

  expect(await masterServing(cluster.masters, slot)).toBe(to);
  expect(acknowledgedDuringMove).toBeGreaterThan(0);
  await waitFor(
    () => acknowledged.every((name) => deliveredNames(endpoint.requests.map((r) => r.body)).has(name)),
    `all ${acknowledged.length} acknowledged events delivered`,
    30_000,
  );
});
