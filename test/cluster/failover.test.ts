import { startEmbeddedCluster, type EmbeddedCluster } from "@hookbus/dev-redis";
import { masterServing, slotOf } from "../support/cluster.js";
import { TestHookbus, waitFor } from "../support/harness.js";
import { ReceiverPool } from "../support/receiver.js";
import { deliveredNames, SteadyPublisher } from "../support/steady-publisher.js";

let cluster: EmbeddedCluster;
let hookbus: TestHookbus;
const receivers = new ReceiverPool();

beforeAll(async () => {
  cluster = await startEmbeddedCluster({ masters: 3, replicasPerMaster: 1 });
}, 90_000);

afterAll(async () => {
  await hookbus?.stop();
  await receivers.stopAll();
  await cluster?.stop();
}, 90_000);

test("with HOOKBUS_REDIS_WAIT_REPLICAS=1, a master killed while publishing loses no event answered 202: its replica takes over and every one is delivered", async () => {
  hookbus = await TestHookbus.start({ env: { REDIS_CLUSTER_NODES: cluster.nodes, HOOKBUS_REDIS_WAIT_REPLICAS: "1" } });
  const endpoint = await receivers.start(() => ({ status: 200 }));
  await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["survey.submitted"] });
  const slot = await slotOf(cluster.masters[0]!, hookbus.config.queuePrefix);
  const doomed = await masterServing(cluster.masters, slot);

  const publisher = new SteadyPublisher(hookbus, 2, 60_000);
  await waitFor(() => publisher.acknowledged.length >= 30, "publishes before the failover");
  process.kill(doomed.pid, "SIGKILL");
  const atKill = publisher.acknowledged.length;
  // The replica that takes over has no replica of its own: publishes are refused (never
  // acknowledged unreplicated) until the killed node comes back and rejoins as its replica.
  // (It comes back only after the failover: a master without persistence that restarted
  // before would come back empty, and its replica would copy the emptiness.)
  const survivors = [...cluster.masters, ...cluster.replicas].filter((node) => node !== doomed);
  await waitFor(() => masterServing(survivors, slot).catch(() => false), "a replica to take over the slot", 30_000);
  expect(publisher.refusals).toBeGreaterThan(0);
  await cluster.restart(doomed);
  await waitFor(() => publisher.acknowledged.length >= atKill + 30, "publishes after the failover", 45_000);
  const acknowledged = await publisher.stop();

  await waitFor(
    () => acknowledged.every((name) => deliveredNames(endpoint.requests.map((r) => r.body)).has(name)),
    `all ${acknowledged.length} acknowledged events delivered`,
    60_000,
  );
}, 90_000);
